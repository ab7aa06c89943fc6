/**
 * A plain float64 reference of one SGD step of the MLP (784 → H ReLU → 10 or any sizes) on the mean
 * softmax cross-entropy: what the train-step graph (src/x/poi/onnx/train-step-builder.ts) computes
 * in float32. For tests (gradient checks); loops, no tricks.
 */
import type { MlpWeights } from "../x/poi/onnx/builder";

/** MLP parameters in float64 (or float32 read as numbers). */
export interface MlpParams64 {
  w1: ArrayLike<number>;
  b1: ArrayLike<number>;
  w2: ArrayLike<number>;
  b2: ArrayLike<number>;
}

export interface ReferenceStep {
  loss: number;
  grads: Record<keyof MlpWeights, Float64Array>;
  next: Record<keyof MlpWeights, Float64Array>;
}

function sizes(w: MlpParams64, x: ArrayLike<number>): { n: number; h: number; c: number; b: number } {
  const h = w.b1.length;
  const c = w.b2.length;
  const n = w.w1.length / h;
  const b = x.length / n;
  if (!Number.isInteger(n) || !Number.isInteger(b) || w.w2.length !== h * c) throw new Error("MLP parameter sizes do not fit together");
  return { n, h, c, b };
}

/** Mean cross-entropy of the batch (x [B,n], y [B,c] rows of target probabilities). */
export function referenceLoss(w: MlpParams64, x: ArrayLike<number>, y: ArrayLike<number>): number {
  return referenceStep(w, x, y, 0).loss;
}

/** One SGD step at learning rate lr: the loss before it, the gradients and the parameters after. */
export function referenceStep(w: MlpParams64, x: ArrayLike<number>, y: ArrayLike<number>, lr: number): ReferenceStep {
  const { n, h, c, b } = sizes(w, x);
  const g = { w1: new Float64Array(n * h), b1: new Float64Array(h), w2: new Float64Array(h * c), b2: new Float64Array(c) };
  let loss = 0;
  const hid = new Float64Array(h);
  const dz = new Float64Array(c);
  for (let r = 0; r < b; r++) {
    for (let j = 0; j < h; j++) {
      let s = w.b1[j];
      for (let i = 0; i < n; i++) s += x[r * n + i] * w.w1[i * h + j];
      hid[j] = s > 0 ? s : 0;
    }
    let max = -Infinity;
    for (let k = 0; k < c; k++) {
      let s = w.b2[k];
      for (let j = 0; j < h; j++) s += hid[j] * w.w2[j * c + k];
      dz[k] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let k = 0; k < c; k++) sum += Math.exp(dz[k] - max);
    const logZ = max + Math.log(sum);
    for (let k = 0; k < c; k++) {
      const t = y[r * c + k];
      loss -= (t * (dz[k] - logZ)) / b;
      dz[k] = (Math.exp(dz[k] - logZ) - t) / b;
    }
    for (let k = 0; k < c; k++) g.b2[k] += dz[k];
    for (let j = 0; j < h; j++) {
      let back = 0;
      for (let k = 0; k < c; k++) {
        g.w2[j * c + k] += hid[j] * dz[k];
        back += w.w2[j * c + k] * dz[k];
      }
      if (hid[j] <= 0) continue; // the ReLU passes no gradient where it was 0
      g.b1[j] += back;
      for (let i = 0; i < n; i++) g.w1[i * h + j] += x[r * n + i] * back;
    }
  }
  const step = (p: ArrayLike<number>, d: Float64Array): Float64Array => Float64Array.from(d, (v, i) => p[i] - lr * v);
  return { loss, grads: g, next: { w1: step(w.w1, g.w1), b1: step(w.b1, g.b1), w2: step(w.w2, g.w2), b2: step(w.b2, g.b2) } };
}
