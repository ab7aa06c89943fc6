/**
 * Local training of the MNIST MLP (784 → 64 ReLU → 10) with our own code: no downloaded weights.
 *
 * Plain minibatch SGD on softmax cross-entropy, in Float32Array loops. Initialisation and shuffling
 * use a seeded PRNG (mulberry32), so a run is reproducible: same options, same Node version → the
 * same weights bit for bit (the math is IEEE double in JS; only Math.exp could in principle differ
 * between JS engines).
 *
 * Data: the `mnist` package's 10,000 digits. It stores them grouped by digit (all 0s, then all 1s,
 * ...), so loadMnist() puts them in one fixed interleaved order (a mulberry32 permutation with a
 * constant seed); the first 8,000 are the training set, the last 2,000 the held-out test set.
 */
import { mulberry32 } from "../util/random";
import { checkMlpWeights, type MlpWeights } from "../x/poi/onnx/builder";

export const MNIST_PIXELS = 784;
export const MNIST_CLASSES = 10;
export const MNIST_TOTAL = 10_000;
export const MNIST_TRAIN_COUNT = 8_000;
/** Seed of the fixed permutation that interleaves the package's per-digit lists. Never change it. */
export const MNIST_ORDER_SEED = 0x4d4e4953; // "MNIS"

/** In-place Fisher–Yates shuffle driven by `rand`. */
export function shuffleInPlace<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

export interface MnistData {
  /** 784 pixels each, row-major 28×28, scaled to [0, 1]. */
  images: Float32Array[];
  labels: number[];
}

let cachedMnist: MnistData | undefined;

/** All 10,000 digits of the `mnist` package in a stable interleaved order (see the file comment). */
export function loadMnist(): MnistData {
  if (cachedMnist) return cachedMnist;
  const all: { image: Float32Array; label: number }[] = [];
  for (let digit = 0; digit < MNIST_CLASSES; digit++) {
    // The package's raw per-digit data: 784 numbers per image, already in [0, 1].
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const raw = (require(`mnist/src/digits/${digit}.json`) as { data: number[] }).data;
    if (raw.length % MNIST_PIXELS !== 0) throw new Error(`mnist digit ${digit}: data length ${raw.length} is not a multiple of 784`);
    for (let start = 0; start < raw.length; start += MNIST_PIXELS) {
      const image = new Float32Array(MNIST_PIXELS);
      for (let p = 0; p < MNIST_PIXELS; p++) {
        const v = raw[start + p];
        // Already scaled by the package; clamp anyway so the contract holds whatever it ships.
        image[p] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
      all.push({ image, label: digit });
    }
  }
  if (all.length !== MNIST_TOTAL) throw new Error(`mnist package has ${all.length} digits, expected ${MNIST_TOTAL}`);
  shuffleInPlace(all, mulberry32(MNIST_ORDER_SEED));
  cachedMnist = { images: all.map((e) => e.image), labels: all.map((e) => e.label) };
  return cachedMnist;
}

/**
 * Plain-JS forward pass of the MLP for one image: logits = relu(x·W1 + b1)·W2 + b2.
 * Accumulates in double precision, returns float32 logits. `hiddenOut` receives the activations.
 */
export function mlpForward(
  weights: MlpWeights,
  x: Float32Array,
  hiddenOut?: Float32Array,
): Float32Array {
  const inputSize = x.length;
  const hidden = weights.b1.length;
  const outputs = weights.b2.length;
  const h = new Float64Array(hidden);
  for (let j = 0; j < hidden; j++) h[j] = weights.b1[j];
  for (let i = 0; i < inputSize; i++) {
    const xi = x[i];
    if (xi === 0) continue; // MNIST is ~80% zeros; skipping them changes no sum
    const row = i * hidden;
    for (let j = 0; j < hidden; j++) h[j] += xi * weights.w1[row + j];
  }
  const hAct = hiddenOut ?? new Float32Array(hidden);
  for (let j = 0; j < hidden; j++) hAct[j] = h[j] > 0 ? h[j] : 0;
  const logits = new Float32Array(outputs);
  for (let k = 0; k < outputs; k++) {
    let s = weights.b2[k];
    for (let j = 0; j < hidden; j++) s += hAct[j] * weights.w2[j * outputs + k];
    logits[k] = s;
  }
  return logits;
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Fraction of images whose argmax logit is the label. */
export function accuracy(weights: MlpWeights, images: Float32Array[], labels: number[]): number {
  let correct = 0;
  for (let n = 0; n < images.length; n++) if (argmax(mlpForward(weights, images[n])) === labels[n]) correct++;
  return images.length === 0 ? 0 : correct / images.length;
}

export interface TrainOptions {
  /** Hidden units (default 64). */
  hidden?: number;
  /** Passes over the training set (default 15). */
  epochs?: number;
  /** Minibatch size (default 32). */
  batchSize?: number;
  /** SGD step size (default 0.2), decayed linearly to 10% of it over the run. */
  learningRate?: number;
  /** Seed of the init and shuffling PRNG (default 1). */
  seed?: number;
  /** How many of loadMnist()'s digits to train on; the rest are the test set (default 8,000). */
  trainCount?: number;
  /** Called after each epoch (progress output). */
  onEpoch?: (info: { epoch: number; meanLoss: number; ms: number }) => void;
}

export interface TrainResult {
  weights: MlpWeights;
  inputSize: number;
  hidden: number;
  outputs: number;
  /** Accuracy on the held-out digits (loadMnist() order, after trainCount). */
  testAccuracy: number;
  trainAccuracy: number;
  testCount: number;
  /** Mean cross-entropy of each epoch. */
  epochLosses: number[];
  trainMs: number;
}

/** Trains the 784 → hidden (ReLU) → 10 MLP on the first `trainCount` digits. */
export function trainMnistMlp(opts: TrainOptions = {}): TrainResult {
  const hidden = opts.hidden ?? 64;
  const epochs = opts.epochs ?? 15;
  const batchSize = opts.batchSize ?? 32;
  const lr0 = opts.learningRate ?? 0.2;
  const trainCount = opts.trainCount ?? MNIST_TRAIN_COUNT;
  const rand = mulberry32(opts.seed ?? 1);
  const inputSize = MNIST_PIXELS;
  const outputs = MNIST_CLASSES;

  const { images, labels } = loadMnist();
  if (!(trainCount > 0 && trainCount < images.length)) throw new Error(`trainCount must be in 1..${images.length - 1}`);

  const weights = initMlpWeights(inputSize, hidden, outputs, rand);
  const { w1, b1, w2, b2 } = weights;

  // Gradient accumulators for one minibatch.
  const gw1 = new Float32Array(w1.length);
  const gb1 = new Float32Array(hidden);
  const gw2 = new Float32Array(w2.length);
  const gb2 = new Float32Array(outputs);
  const hAct = new Float32Array(hidden);
  const dLogits = new Float64Array(outputs);
  const dHidden = new Float64Array(hidden);
  // Nonzero pixel indices of the current image: the first layer's work is proportional to them.
  const nz = new Int32Array(inputSize);

  const order: number[] = [];
  for (let n = 0; n < trainCount; n++) order.push(n);
  const epochLosses: number[] = [];
  const totalSteps = epochs * Math.ceil(trainCount / batchSize);
  let step = 0;
  const t0 = Date.now();

  for (let epoch = 0; epoch < epochs; epoch++) {
    const te = Date.now();
    shuffleInPlace(order, rand);
    let lossSum = 0;
    for (let start = 0; start < trainCount; start += batchSize) {
      const end = Math.min(start + batchSize, trainCount);
      gw1.fill(0); gb1.fill(0); gw2.fill(0); gb2.fill(0);
      for (let b = start; b < end; b++) {
        const n = order[b];
        const x = images[n];
        const logits = mlpForward(weights, x, hAct);
        // Softmax cross-entropy; d loss / d logit = softmax - onehot.
        let max = logits[0];
        for (let k = 1; k < outputs; k++) if (logits[k] > max) max = logits[k];
        let z = 0;
        for (let k = 0; k < outputs; k++) { dLogits[k] = Math.exp(logits[k] - max); z += dLogits[k]; }
        for (let k = 0; k < outputs; k++) dLogits[k] /= z;
        lossSum += -Math.log(Math.max(dLogits[labels[n]], 1e-12));
        dLogits[labels[n]] -= 1;
        // Output layer gradients and backprop into the hidden layer (through the ReLU).
        for (let k = 0; k < outputs; k++) gb2[k] += dLogits[k];
        for (let j = 0; j < hidden; j++) {
          const hj = hAct[j];
          let back = 0;
          const row = j * outputs;
          for (let k = 0; k < outputs; k++) {
            if (hj !== 0) gw2[row + k] += hj * dLogits[k];
            back += w2[row + k] * dLogits[k];
          }
          dHidden[j] = hj > 0 ? back : 0;
        }
        for (let j = 0; j < hidden; j++) gb1[j] += dHidden[j];
        let nnz = 0;
        for (let i = 0; i < inputSize; i++) if (x[i] !== 0) nz[nnz++] = i;
        for (let q = 0; q < nnz; q++) {
          const i = nz[q];
          const xi = x[i];
          const row = i * hidden;
          for (let j = 0; j < hidden; j++) gw1[row + j] += xi * dHidden[j];
        }
      }
      // SGD step on the batch mean, learning rate decayed linearly to 10%.
      const lr = lr0 * (1 - 0.9 * (step / totalSteps));
      step++;
      const scale = lr / (end - start);
      for (let i = 0; i < w1.length; i++) w1[i] -= scale * gw1[i];
      for (let j = 0; j < hidden; j++) b1[j] -= scale * gb1[j];
      for (let i = 0; i < w2.length; i++) w2[i] -= scale * gw2[i];
      for (let k = 0; k < outputs; k++) b2[k] -= scale * gb2[k];
    }
    const meanLoss = lossSum / trainCount;
    epochLosses.push(meanLoss);
    opts.onEpoch?.({ epoch: epoch + 1, meanLoss, ms: Date.now() - te });
  }
  const trainMs = Date.now() - t0;

  checkMlpWeights({ inputSize, hidden, outputs, weights });
  const testImages = images.slice(trainCount);
  const testLabels = labels.slice(trainCount);
  return {
    weights,
    inputSize,
    hidden,
    outputs,
    testAccuracy: accuracy(weights, testImages, testLabels),
    trainAccuracy: accuracy(weights, images.slice(0, trainCount), labels.slice(0, trainCount)),
    testCount: testImages.length,
    epochLosses,
    trainMs,
  };
}

/**
 * Seeded initial MLP weights: He-uniform for the ReLU layer, Glorot-uniform for the output layer,
 * zero biases. `seed` is a mulberry32 seed, or the PRNG itself (then it is advanced).
 */
export function initMlpWeights(inputSize: number, hidden: number, outputs: number, seed: number | (() => number)): MlpWeights {
  const rand = typeof seed === "number" ? mulberry32(seed) : seed;
  const w1 = new Float32Array(inputSize * hidden);
  const w2 = new Float32Array(hidden * outputs);
  const lim1 = Math.sqrt(6 / inputSize);
  for (let i = 0; i < w1.length; i++) w1[i] = (rand() * 2 - 1) * lim1;
  const lim2 = Math.sqrt(6 / (hidden + outputs));
  for (let i = 0; i < w2.length; i++) w2[i] = (rand() * 2 - 1) * lim2;
  return { w1, b1: new Float32Array(hidden), w2, b2: new Float32Array(outputs) };
}

/** Random MLP weights (for tests): uniform in [-scale, scale], from mulberry32(seed). */
export function randomMlpWeights(
  inputSize: number, hidden: number, outputs: number, seed: number, scale = 0.1,
): MlpWeights {
  const rand = mulberry32(seed);
  const fill = (n: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
    return a;
  };
  return { w1: fill(inputSize * hidden), b1: fill(hidden), w2: fill(hidden * outputs), b2: fill(outputs) };
}
