/**
 * Batches for train-step graphs: MNIST digits as x [B,784] and one-hot y [B,10], and a seeded batch
 * schedule for tests and benchmarks (a training task's own batch order is fixed by the protocol).
 */
import { mulberry32 } from "../util/random";
import { MNIST_CLASSES, MNIST_PIXELS, shuffleInPlace, type MnistData } from "./train";
import type { TrainBatch } from "./train-step-runner";

/** Labels as one-hot float32 rows [labels.length, classes]. */
export function oneHot(labels: readonly number[], classes: number): Float32Array {
  const y = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => {
    if (!Number.isInteger(l) || l < 0 || l >= classes) throw new Error(`label ${l} is not in 0..${classes - 1}`);
    y[i * classes + l] = 1;
  });
  return y;
}

/** The digits at `indices` (loadMnist() order) as one batch. */
export function mnistBatch(data: MnistData, indices: readonly number[]): TrainBatch {
  const x = new Float32Array(indices.length * MNIST_PIXELS);
  indices.forEach((n, i) => x.set(data.images[n], i * MNIST_PIXELS));
  return { x, y: oneHot(indices.map((n) => data.labels[n]), MNIST_CLASSES) };
}

/**
 * `steps` batches of `batchSize` indices from `pool`: epochs of a mulberry32(seed) shuffle of the
 * pool, a batch never spanning two epochs (the pool's tail that does not fill a batch is skipped).
 */
export function seededBatchSchedule(seed: number, steps: number, batchSize: number, pool: readonly number[]): number[][] {
  if (batchSize < 1 || batchSize > pool.length) throw new Error(`batch size ${batchSize} does not fit a pool of ${pool.length}`);
  const rand = mulberry32(seed);
  const order = [...pool];
  const out: number[][] = [];
  let at = order.length;
  while (out.length < steps) {
    if (at + batchSize > order.length) {
      shuffleInPlace(order, rand);
      at = 0;
    }
    out.push(order.slice(at, at + batchSize));
    at += batchSize;
  }
  return out;
}
