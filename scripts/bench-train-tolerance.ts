/**
 * `npm run bench -- train-tolerance`: how far apart segment re-executions of the ONNX train-step graph
 * land, honest and cheating, to set the per-segment tolerance of training verification (README of
 * src/x/poi, "Training: tolerance"). MNIST MLP 784-64-10, SGD lr 0.1, batch 32, from the checkpoint
 * after 100 honest steps of a seeded run. Every figure is the relative L2 distance ‖a−b‖/‖a‖ with
 * a = the honest end of the segment (one onnxruntime thread) and b = the variant's end.
 * Prints figures; never fails on them.
 */
import { buildMlpTrainStep } from "../src/x/poi/onnx/train-step-builder";
import { validateModel } from "../src/x/poi/onnx/validate";
import { initMlpWeights, loadMnist, MNIST_TRAIN_COUNT } from "../src/ml/train";
import { mnistBatch, seededBatchSchedule } from "../src/ml/train-step-data";
import {
  mlpCheckpoint, perturbCheckpoint, relativeL2Distance, roundCheckpointToBf16, sameCheckpointBits, type Checkpoint,
} from "../src/ml/checkpoint";
import { TrainStepRunner, type TrainBatch } from "../src/ml/train-step-runner";

const LR = 0.1;
const BATCH = 32;
const WARMUP = 100;
const SEGMENTS = [1, 10, 50];
/** The threshold proposed in the README: a segment passes when its distance is at most this. */
export const PROPOSED_THRESHOLD = 1e-5;

interface Row {
  what: string;
  /** Distance after each segment length of SEGMENTS. */
  d: number[];
  /** Which side of the threshold it must fall on. */
  side: "honest" | "cheat" | "info";
}

const fmt = (d: number): string => (d === 0 ? "0 (bits equal)" : d.toExponential(2));

export async function runTrainToleranceBench(): Promise<void> {
  const data = loadMnist();
  const pool = Array.from({ length: MNIST_TRAIN_COUNT }, (_, i) => i);
  const schedule = seededBatchSchedule(1, 300, BATCH, pool);
  const otherSchedule = seededBatchSchedule(2, WARMUP + 50, BATCH, pool);
  const batches = (s: number[][], from: number) => (i: number): TrainBatch => mnistBatch(data, s[from + i]);
  const onnx = buildMlpTrainStep({ inputSize: 784, hidden: 64, outputs: 10, batchSize: BATCH });
  const one = await TrainStepRunner.create(onnx);

  const warm = await one.run(mlpCheckpoint(initMlpWeights(784, 64, 10, 5)), WARMUP, batches(schedule, 0), LR);
  const start = warm.params;
  const honestAt = new Map<number, Checkpoint>();
  for (const n of SEGMENTS) honestAt.set(n, (await one.run(start, n, batches(schedule, WARMUP), LR)).params);

  const rows: Row[] = [];
  /** Runs `variant` for each segment length and records its distance to the honest end. */
  const measure = async (what: string, side: Row["side"], variant: (n: number) => Promise<Checkpoint>): Promise<void> => {
    const d: number[] = [];
    for (const n of SEGMENTS) d.push(relativeL2Distance(honestAt.get(n)!, await variant(n)));
    rows.push({ what, d, side });
  };
  const honest = (runner: TrainStepRunner, from = start) => async (n: number) => (await runner.run(from, n, batches(schedule, WARMUP), LR)).params;

  await measure("honest movement (segment start vs end)", "info", async () => start);
  await measure("honest re-run, same CPU, 1 thread", "honest", honest(one));
  for (const threads of [2, 4]) {
    const r = await TrainStepRunner.create(onnx, { intraOpNumThreads: threads });
    await measure(`honest re-run, same CPU, ${threads} threads`, "honest", honest(r));
    await r.release();
  }
  const noisy = perturbCheckpoint(start, 1e-6, 42);
  await measure(`start perturbed by relative 1e-6 (noise at the start: ${fmt(relativeL2Distance(start, noisy))})`, "honest", honest(one, noisy));
  await measure("one step skipped (the middle one)", "cheat", async (n) => {
    const skip = Math.floor(n / 2);
    return (await one.run(start, n - 1, (i) => batches(schedule, WARMUP)(i < skip ? i : i + 1), LR)).params;
  });
  await measure("other data (another batch order)", "cheat", async (n) => (await one.run(start, n, batches(otherSchedule, WARMUP), LR)).params);
  await measure("lr 0.09 instead of 0.1", "cheat", async (n) => (await one.run(start, n, batches(schedule, WARMUP), 0.09)).params);
  await measure("parameters rounded to bf16 after each step", "cheat", async (n) =>
    (await one.run(start, n, batches(schedule, WARMUP), LR, { afterStep: roundCheckpointToBf16 })).params);

  console.log(`train-step graph, MNIST MLP 784-64-10, SGD lr ${LR}, batch ${BATCH}; segments from the checkpoint after ${WARMUP} honest steps`);
  console.log(`relative L2 distance ‖honest − variant‖ / ‖honest‖ after a segment of ${SEGMENTS.join(", ")} steps:`);
  for (const r of rows) console.log(`  ${r.what.padEnd(72)} ${r.d.map(fmt).map((s) => s.padStart(15)).join("")}`);
  const honestMax = Math.max(...rows.filter((r) => r.side === "honest").flatMap((r) => r.d));
  const cheatMin = Math.min(...rows.filter((r) => r.side === "cheat").flatMap((r) => r.d));
  console.log(`proposed threshold ${PROPOSED_THRESHOLD.toExponential(0)}: largest honest distance ${fmt(honestMax)} (margin ${(PROPOSED_THRESHOLD / honestMax).toFixed(1)}×), ` +
    `smallest cheat ${fmt(cheatMin)} (margin ${(cheatMin / PROPOSED_THRESHOLD).toFixed(0)}×)`);

  // A whole run from the random init: 300 steps, 1 thread vs 4.
  const four = await TrainStepRunner.create(onnx, { intraOpNumThreads: 4 });
  const init = mlpCheckpoint(initMlpWeights(784, 64, 10, 5));
  const a = await one.run(init, 300, batches(schedule, 0), LR);
  const b = await four.run(init, 300, batches(schedule, 0), LR);
  await four.release();
  console.log(`whole run of 300 steps from the random init, 1 thread vs 4: ${sameCheckpointBits(a.params, b.params) ? "bit-identical" : fmt(relativeL2Distance(a.params, b.params))}`);

  // Cost of one step (one thread, as validators re-execute), against one inference item.
  const times: number[] = [];
  let params = start;
  for (let i = 0; i < 300; i++) {
    const batch = batches(schedule, 0)(i % 200);
    const t0 = process.hrtime.bigint();
    params = (await one.step(params, batch, LR)).params;
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((x, y) => x - y);
  const work = validateModel(onnx).workUnitsPerItem;
  console.log(`one train step (batch ${BATCH}, 1 thread): median ${times[150].toFixed(3)} ms, p90 ${times[270].toFixed(3)} ms; ${work} work units ` +
    `(${(Number(work) / 50_954).toFixed(0)}× one inference item of the MLP)`);
  await one.release();
}
