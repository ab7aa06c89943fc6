/**
 * A validator's checks of a training attempt (README, "Training tasks"), off the ABCI path. Items are
 * the attempt's segments and, last, the held-out accuracy item:
 *   - segment s: re-run its c steps (batches by the protocol's order) from the revealed start checkpoint
 *     (s = 0: the initial parameters) in the re-execution child, one thread; it passes when the relative
 *     L2 distance ‖ref − claimed‖/‖ref‖ to the revealed end checkpoint is at most the chain's
 *     training_threshold_ppb / 10^9, and the committed losses of those steps match within the output
 *     tolerance;
 *   - the accuracy item: it passes when the revealed final checkpoint is the committed one (hashes to the
 *     attempt's final_hash) and the parent's graph with those parameters (the bytes the chain registers)
 *     runs over the held-out range; the accuracy it measures goes in the vote. Reaching the task's minimum
 *     is not the worker's to control (the recipe is the requester's), so it decides only whether the
 *     chain registers the model (training_outcomes.ts), never the verdict.
 * Floats are fine here: they only feed this validator's vote.
 */
import { contentId, type PoiKeeper } from "../keeper";
import { batchIndices, checkpointHash, segmentCount } from "../training";
import { TrainingKeeper } from "../training_keeper";
import { withParameters } from "../onnx/with-parameters";
import type { Context } from "../../../app/context";
import type { Params, Task, TrainingAttempt, TrainingSpec } from "../types";
import { compareItem, toFloat32, toleranceFromParams } from "./compare";
import type { ReexecRunner } from "./runner";

export interface TrainingCheck {
  /** Items that failed, ascending. */
  failing: bigint[];
  /** Held-out accuracy of the final parameters (bps), when the accuracy item was checked. */
  accuracyBps?: number;
  micros: number;
  firstFailure?: string;
}

/** Relative L2 distance ‖ref − b‖ / ‖ref‖ of two flat parameter vectors (float64 sums). */
export function flatDistance(ref: Float32Array, b: Float32Array): number {
  if (ref.length !== b.length) return Infinity;
  let diff = 0, norm = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = ref[i] - b[i];
    diff += d * d;
    norm += ref[i] * ref[i];
  }
  return diff === 0 ? 0 : Math.sqrt(diff) / Math.sqrt(norm);
}

function argmax(v: Float32Array, from: number, to: number): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (v[i] > v[best]) best = i;
  return best - from;
}

export class TrainingChecks {
  private readonly training = new TrainingKeeper();

  constructor(private readonly keeper: PoiKeeper, private readonly runner: ReexecRunner) {}

  /** The checkpoints `items` need (start and end of each segment; the final one for the accuracy item), all revealed? */
  ready(task: Task, attempt: TrainingAttempt, items: readonly bigint[]): boolean {
    const s = segmentCount(task.numItems);
    const have = new Set(attempt.revealed);
    return items.every((i) => (i === s ? have.has(Number(s)) : (i === 0n || have.has(Number(i))) && have.has(Number(i) + 1)));
  }

  async check(ctx: Context, params: Params, task: Task, attempt: TrainingAttempt, items: readonly bigint[]): Promise<TrainingCheck> {
    const id = BigInt(task.id);
    const spec = (await this.training.spec(ctx, id))!;
    const segments = segmentCount(task.numItems);
    const out: TrainingCheck = { failing: [], micros: 0 };
    const fail = (item: bigint, why: string) => { out.failing.push(item); out.firstFailure ??= `item ${item}: ${why}`; };
    for (const item of [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (item === segments) {
        const final = await this.checkpoint(ctx, task, spec, segments);
        if (!Buffer.from(checkpointHash(final, BigInt(spec.checkpointChunkBytes))).equals(Buffer.from(attempt.finalHash))) {
          fail(item, "the revealed final parameters are not the committed ones (final_hash)");
          continue;
        }
        const { accuracyBps, micros } = await this.accuracy(ctx, spec, final);
        out.accuracyBps = accuracyBps;
        out.micros += micros;
        continue;
      }
      const r = await this.segment(ctx, params, task, spec, item);
      out.micros += r.micros;
      if (r.problem) fail(item, r.problem);
    }
    return out;
  }

  private async checkpoint(ctx: Context, task: Task, spec: TrainingSpec, index: bigint): Promise<Uint8Array> {
    const bytes = index === 0n ? await this.training.initialParams(ctx, this.keeper, spec) : await this.training.checkpoint(ctx, BigInt(task.id), Number(index), spec);
    if (!bytes) throw new Error(`checkpoint ${index} of task ${task.id} is not revealed`);
    return bytes;
  }

  /** Re-runs segment s; a problem when it does not reproduce the revealed end (or the committed losses). */
  private async segment(ctx: Context, params: Params, task: Task, spec: TrainingSpec, s: bigint): Promise<{ problem?: string; micros: number }> {
    const c = BigInt(spec.checkpointInterval);
    const start = toFloat32(await this.checkpoint(ctx, task, spec, s));
    const end = toFloat32(await this.checkpoint(ctx, task, spec, s + 1n));
    const xds = (await this.keeper.getDataset(ctx, spec.xDatasetId))!;
    const yds = (await this.keeper.getDataset(ctx, spec.yDatasetId))!;
    const x: Float32Array[] = [], y: Float32Array[] = [];
    for (let step = s * c; step < (s + 1n) * c; step++) {
      const rows = batchIndices(BigInt(task.id), step, BigInt(spec.trainStart), BigInt(spec.trainCount), BigInt(spec.batchSize));
      x.push(toFloat32(Buffer.concat(await this.keeper.datasetItemsAt(ctx, xds, rows))));
      y.push(toFloat32(Buffer.concat(await this.keeper.datasetItemsAt(ctx, yds, rows))));
    }
    const onnx = (await this.keeper.getModelBytes(ctx, task.modelId))!;
    const r = await this.runner.runSegment({ modelId: task.modelId, onnx, start, x, y, lr: Math.fround(Number(spec.learningRate)) });
    const threshold = Number(params.trainingThresholdPpb) / 1e9;
    const distance = flatDistance(r.params, end);
    if (!(distance <= threshold)) return { problem: `segment ${s}: the revealed end is at relative distance ${distance.toExponential(3)} from the re-execution, over ${threshold}`, micros: r.micros };
    const trace = (await this.training.lossTrace(ctx, BigInt(task.id)))!;
    const claimed = toFloat32(trace.subarray(Number(s * c) * 4, Number((s + 1n) * c) * 4));
    const losses = compareItem(r.losses, claimed, [r.losses.length], toleranceFromParams(params));
    if (!losses.pass) return { problem: `segment ${s}: committed losses differ from the re-execution (${losses.reason ?? "mismatch"})`, micros: r.micros };
    return { micros: r.micros };
  }

  /** Held-out accuracy (bps, rounded down) of the parent's graph with the final parameters. */
  private async accuracy(ctx: Context, spec: TrainingSpec, final: Uint8Array): Promise<{ accuracyBps: number; micros: number }> {
    const parent = (await this.keeper.getModel(ctx, spec.parentModelId))!;
    const onnx = withParameters((await this.keeper.getModelBytes(ctx, parent.id))!, final);
    const xds = (await this.keeper.getDataset(ctx, spec.xDatasetId))!;
    const yds = (await this.keeper.getDataset(ctx, spec.yDatasetId))!;
    const start = BigInt(spec.heldOutStart), count = BigInt(spec.heldOutCount);
    const xs = await this.keeper.datasetItems(ctx, xds, start, count);
    const ys = toFloat32(await this.keeper.datasetItems(ctx, yds, start, count));
    const n = Number(count);
    const itemLen = xs.length / 4 / n;
    const items = Array.from({ length: n }, (_, i) => toFloat32(xs.subarray(i * itemLen * 4, (i + 1) * itemLen * 4)));
    const r = await this.runner.run({
      modelId: contentId(onnx), onnx, inputName: parent.inputs[0].name, inputShape: parent.inputs[0].shape.map(Number),
      outputNames: parent.outputs.map((o) => o.name), items,
    });
    const classes = ys.length / n;
    let correct = 0;
    r.outputs.forEach((logits, i) => { if (argmax(logits, 0, logits.length) === argmax(ys, i * classes, (i + 1) * classes)) correct++; });
    return { accuracyBps: Math.floor((correct * 10000) / n), micros: r.micros };
  }
}
