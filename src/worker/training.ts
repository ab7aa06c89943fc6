/**
 * The worker daemon's training tasks (src/x/poi/README.md, "Training tasks"): fetch the train-step
 * graph, the initial parameters and the training range of the x and y datasets; run the T steps with
 * onnxruntime (one thread, the protocol's batch order: src/ml/training-task.ts); commit the final hash,
 * loss trace and checkpoint root; then, while the attempt is verifying, reveal every checkpoint the
 * validators' segment requests need, before the reveal deadline.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { PoiQueryClient } from "../client/query";
import type { PoiTxClient } from "../client/tx";
import { TrainStepRunner } from "../ml/train-step-runner";
import { commitMsg, revealMsgs, runTrainingTask, type TrainingRun } from "../ml/training-task";
import { merkleRoot } from "../x/poi/commitment";
import { TRAIN_STEP_X, TRAIN_STEP_Y } from "../x/poi/onnx/train-step";
import { checkpointHash, checkpointLeaf, neededCheckpoints, segmentCount } from "../x/poi/training";
import type { Task, TrainingSpec } from "../x/poi/types";

/** DatasetItems answers at most 2 MiB a call. */
const MAX_ITEMS_QUERY_BYTES = 2 * 1024 * 1024;

/** Items [start, start + count) of a dataset whose items are `itemBytes` bytes, fetched in pages of ≤ 2 MiB. */
export async function datasetRange(query: PoiQueryClient, id: string, start: number, count: number, itemBytes: number): Promise<Buffer> {
  const perPage = Math.max(1, Math.floor(MAX_ITEMS_QUERY_BYTES / itemBytes));
  const parts: Uint8Array[] = [];
  for (let off = 0; off < count; off += perPage) parts.push(await query.datasetItems(id, start + off, Math.min(perPage, count - off)));
  const all = Buffer.concat(parts);
  if (all.length !== count * itemBytes) throw new Error(`dataset ${id} items [${start}, ${start + count}) are ${all.length} bytes, want ${count} × ${itemBytes}`);
  return all;
}

const floats = (b: Buffer) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const elems = (shape: readonly string[]) => shape.reduce((n, d) => n * Number(d), 1);

/** A training attempt this worker committed: what it must be able to reveal. */
export interface TrainingClaim {
  run: TrainingRun;
  spec: TrainingSpec;
  /** Checkpoints whose chunks were all sent. */
  revealed: Set<number>;
  /** The last height at which reveals are taken. */
  revealDeadline: bigint;
}

/** Where a worker keeps the checkpoints of an attempt (for `poi tx poi reveal` should the worker stop). */
export const checkpointsFile = (dir: string, t: Task) => path.join(dir, `task-${t.id}-attempt-${t.attempt}.ckpt`);

/**
 * The run behind a commitment, from all its checkpoints back to back (a checkpoints file); refuses a
 * file whose Merkle root is not the committed one (`root`).
 */
export function runFromCheckpoints(bytes: Uint8Array, spec: TrainingSpec, root: Uint8Array): TrainingRun {
  const size = Number(spec.paramBytes), count = Number(spec.steps) / Number(spec.checkpointInterval) + 1;
  if (bytes.length !== size * count) throw new Error(`the checkpoints are ${bytes.length} bytes; the task has ${count} checkpoints of ${size} bytes (${size * count})`);
  const checkpoints = Array.from({ length: count }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  const hashes = checkpoints.map((b) => checkpointHash(b, BigInt(spec.checkpointChunkBytes)));
  const leaves = hashes.map((h, i) => checkpointLeaf(i, h));
  const run = { checkpoints, losses: new Float32Array(), hashes, leaves, root: merkleRoot(leaves) };
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
  if (hex(run.root) !== hex(root)) throw new Error(`these checkpoints have Merkle root ${hex(run.root)}, not the committed checkpoint root ${hex(root)}`);
  return run;
}

/**
 * Runs task `t` (claimed by this worker) and commits it; logs step, loss and the commitment. With
 * `checkpointDir`, the checkpoints are also written to checkpointsFile(dir, t).
 */
export async function trainAndCommit(tx: PoiTxClient, t: Task, log: (line: string) => void, checkpointDir?: string): Promise<TrainingClaim> {
  const q = tx.query;
  const { spec } = await q.training(t.id);
  const [stepModel, onnx] = await Promise.all([q.model(t.modelId), q.modelBytes(t.modelId)]);
  const xSpec = stepModel.inputs.find((i) => i.name === TRAIN_STEP_X)!, ySpec = stepModel.inputs.find((i) => i.name === TRAIN_STEP_Y)!;
  const xElems = elems(xSpec.shape.slice(1)), yElems = elems(ySpec.shape.slice(1));
  const initialDs = await q.dataset(spec.initialParamsDatasetId);
  const initial = await datasetRange(q, initialDs.id, 0, Number(initialDs.numItems), elems(initialDs.item!.shape) * 4);
  const start = Number(spec.trainStart), count = Number(spec.trainCount);
  const x = floats(await datasetRange(q, spec.xDatasetId, start, count, xElems * 4));
  const y = floats(await datasetRange(q, spec.yDatasetId, start, count, yElems * 4));
  const batchOf = (rows: bigint[]) => {
    const bx = new Float32Array(rows.length * xElems), by = new Float32Array(rows.length * yElems);
    rows.forEach((r, i) => {
      const at = Number(r) - start;
      bx.set(x.subarray(at * xElems, (at + 1) * xElems), i * xElems);
      by.set(y.subarray(at * yElems, (at + 1) * yElems), i * yElems);
    });
    return { x: bx, y: by };
  };

  const T = Number(spec.steps), c = Number(spec.checkpointInterval);
  log(`task ${t.id}: training ${T} steps of batch ${spec.batchSize}, lr ${spec.learningRate}, a checkpoint every ${c} steps (${T / c + 1} checkpoints)`);
  const runner = await TrainStepRunner.create(onnx, { intraOpNumThreads: 1 });
  const t0 = Date.now();
  let run: TrainingRun;
  try {
    run = await runTrainingTask(runner, BigInt(t.id), spec, new Uint8Array(initial), batchOf);
  } finally {
    await runner.release();
  }
  // About ten progress lines, at checkpoint boundaries.
  const every = Math.max(c, Math.ceil(T / 10 / c) * c);
  for (let s = every; s <= T; s += every) log(`task ${t.id}: step ${s}/${T} loss ${run.losses[s - 1].toFixed(4)}`);
  log(`task ${t.id}: trained ${T} steps in ${Date.now() - t0} ms; final loss ${run.losses[T - 1].toFixed(4)}`);

  if (checkpointDir) {
    fs.mkdirSync(checkpointDir, { recursive: true });
    fs.writeFileSync(checkpointsFile(checkpointDir, t), Buffer.concat(run.checkpoints));
  }
  const msg = commitMsg(run, tx.address, BigInt(t.id));
  const { tx: sent, requestEndHeight, revealDeadlineHeight } = await tx.commitTraining(msg);
  log(`task ${t.id}: ${run.checkpoints.length} checkpoints committed at height ${sent.height} (root ${Buffer.from(run.root).toString("hex").slice(0, 16)}…); ` +
    `segment requests until height ${requestEndHeight}, reveals until ${revealDeadlineHeight}`);
  return { run, spec, revealed: new Set(), revealDeadline: BigInt(revealDeadlineHeight) };
}

/**
 * Reveals the checkpoints the segment requests so far need that this worker has not sent; logs them.
 * Returns the checkpoints it revealed now.
 */
export async function revealRequested(tx: PoiTxClient, t: Task, claim: TrainingClaim, log: (line: string) => void): Promise<number[]> {
  const { attempt } = await tx.query.training(t.id);
  if (!attempt || attempt.attempt !== t.attempt) return [];
  const needed = neededCheckpoints(attempt.requests.flatMap((r) => r.segments), segmentCount(t.numItems));
  const missing = needed.filter((i) => !claim.revealed.has(i) && !attempt.revealed.includes(i));
  if (missing.length === 0) return [];
  const height = BigInt(await tx.query.height());
  if (height + 1n > BigInt(t.revealDeadlineHeight ?? "0")) {
    log(`task ${t.id}: checkpoints ${missing.join(",")} requested, but the reveal deadline (height ${t.revealDeadlineHeight}) has passed`);
    return [];
  }
  const chunkBytes = BigInt(claim.spec.checkpointChunkBytes);
  const msgs = missing.flatMap((i) => revealMsgs(claim.run, tx.address, BigInt(t.id), i, chunkBytes));
  const results = await tx.revealCheckpoint(msgs);
  for (const i of missing) claim.revealed.add(i);
  const last = results.filter((r) => r).pop();
  log(`task ${t.id}: revealed checkpoints ${missing.join(",")} (${msgs.length} chunks in ${results.length} txs${last ? `, by height ${last.height}` : ""}); ` +
    `${claim.revealed.size + attempt.revealed.filter((i) => !claim.revealed.has(i)).length} of the ${needed.length} requested so far`);
  return missing;
}
