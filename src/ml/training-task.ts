/**
 * The worker's side of a training task (src/x/poi/README.md, "Training tasks"), off-chain: run the T
 * steps with the protocol's batch order, keep a checkpoint every c steps, and build the commitment
 * (final hash, loss trace, Merkle root over the checkpoint hashes, the proofs of checkpoints 0 and T/c)
 * and the reveals of requested checkpoints. Knobs for tests model cheating workers.
 */
import { merkleProof, merkleRoot } from "../x/poi/commitment";
import {
  batchIndices, checkpointChunkHashes, checkpointHash, checkpointLeaf,
} from "../x/poi/training";
import type { MsgCommitTraining, MsgRevealCheckpoint, TrainingSpec } from "../x/poi/types";
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from "./checkpoint";
import type { TrainBatch, TrainStepRunner } from "./train-step-runner";

/** Test knobs: ways a worker cheats. All off = honest. */
export interface TrainingKnobs {
  /** Steps whose update is skipped (the parameters stay; the loss is still recorded). */
  skipSteps?: (step: number) => boolean;
  /** Replaces the protocol's batch rows (training on other data). */
  rows?: (step: number, protocolRows: bigint[]) => bigint[];
  /** Applied to the parameters after each step (e.g. roundCheckpointToBf16: reduced precision). */
  afterStep?: (params: Checkpoint, step: number) => Checkpoint;
  /** Trains only this many steps; the later checkpoints repeat the last parameters (fewer steps). */
  stopAfter?: number;
}

export interface TrainingRun {
  /** Checkpoint i (0..T/c) as float32 LE bytes in the parameter order. */
  checkpoints: Uint8Array[];
  losses: Float32Array;
  hashes: Uint8Array[];
  leaves: Uint8Array[];
  root: Uint8Array;
}

/**
 * Runs task `taskId`'s T steps from `initial` (flat bytes) with batch rows from batchIndices; `batchOf`
 * turns rows (dataset indices) into a batch.
 */
export async function runTrainingTask(
  runner: TrainStepRunner, taskId: bigint, spec: TrainingSpec, initial: Uint8Array, batchOf: (rows: bigint[]) => TrainBatch, knobs: TrainingKnobs = {},
): Promise<TrainingRun> {
  const layout = runner.params.map((p) => ({ name: p.name, dims: [...p.shape] }));
  const T = Number(spec.steps), c = Number(spec.checkpointInterval);
  const lr = Math.fround(Number(spec.learningRate));
  let params = decodeCheckpoint(initial, layout);
  const checkpoints: Uint8Array[] = [Uint8Array.from(initial)];
  const losses = new Float32Array(T);
  for (let step = 0; step < T; step++) {
    const protocolRows = batchIndices(taskId, BigInt(step), BigInt(spec.trainStart), BigInt(spec.trainCount), BigInt(spec.batchSize));
    const rows = knobs.rows ? knobs.rows(step, protocolRows) : protocolRows;
    if (knobs.stopAfter === undefined || step < knobs.stopAfter) {
      const r = await runner.step(params, batchOf(rows), lr);
      losses[step] = r.loss;
      if (!knobs.skipSteps?.(step)) params = knobs.afterStep ? knobs.afterStep(r.params, step) : r.params;
    } else {
      losses[step] = losses[step - 1] ?? 0;
    }
    if ((step + 1) % c === 0) checkpoints.push(encodeCheckpoint(params));
  }
  const chunkBytes = BigInt(spec.checkpointChunkBytes);
  const hashes = checkpoints.map((b) => checkpointHash(b, chunkBytes));
  const leaves = hashes.map((h, i) => checkpointLeaf(i, h));
  return { checkpoints, losses, hashes, leaves, root: merkleRoot(leaves) };
}

export function commitMsg(run: TrainingRun, worker: string, taskId: bigint): MsgCommitTraining {
  const last = run.checkpoints.length - 1;
  return {
    worker, taskId: taskId.toString(), finalHash: run.hashes[last], lossTrace: new Uint8Array(run.losses.buffer.slice(0)),
    checkpointRoot: run.root, initialProof: merkleProof(run.leaves, 0), finalProof: merkleProof(run.leaves, last),
  };
}

/** The MsgRevealCheckpoint of every chunk of checkpoint `index`. */
export function revealMsgs(run: TrainingRun, worker: string, taskId: bigint, index: number, chunkBytes: bigint): MsgRevealCheckpoint[] {
  const bytes = run.checkpoints[index];
  const chunkHashes = checkpointChunkHashes(bytes, chunkBytes);
  const proof = merkleProof(run.leaves, index);
  const size = Number(chunkBytes);
  return chunkHashes.map((_, chunk) => ({
    worker, taskId: taskId.toString(), index, chunk, data: bytes.subarray(chunk * size, (chunk + 1) * size), chunkHashes, proof,
  }));
}
