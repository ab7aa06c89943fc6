/**
 * Training checkpoints: a model's parameters as named float32 tensors, in the order of the
 * inference model's initializers (the order of a train-step graph's parameter inputs, see
 * src/x/poi/onnx/train-step.ts). Off-chain helpers: byte encoding, the relative L2 distance used to
 * compare checkpoints, bf16 rounding and a deterministic relative perturbation (test knobs).
 */
import { mulberry32 } from "../util/random";
import { MLP_PARAMS, type MlpWeights } from "../x/poi/onnx/builder";

export interface ParamTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

/** Parameters in the inference model's initializer order. */
export type Checkpoint = ParamTensor[];

/** The MLP's weights as a checkpoint (w1 b1 w2 b2; the arrays are shared, not copied). */
export function mlpCheckpoint(w: MlpWeights): Checkpoint {
  const hidden = w.b1.length;
  const outputs = w.b2.length;
  const dims: Record<keyof MlpWeights, number[]> = { w1: [w.w1.length / hidden, hidden], b1: [hidden], w2: [hidden, outputs], b2: [outputs] };
  return MLP_PARAMS.map((name) => ({ name, dims: dims[name], data: w[name] }));
}

/** A checkpoint of the MLP back as MlpWeights (arrays shared). */
export function checkpointToMlp(cp: Checkpoint): MlpWeights {
  const get = (name: string): Float32Array => {
    const t = cp.find((p) => p.name === name);
    if (!t) throw new Error(`checkpoint has no parameter "${name}"`);
    return t.data;
  };
  return { w1: get("w1"), b1: get("b1"), w2: get("w2"), b2: get("b2") };
}

export function cloneCheckpoint(cp: Checkpoint): Checkpoint {
  return cp.map((p) => ({ name: p.name, dims: [...p.dims], data: Float32Array.from(p.data) }));
}

function checkSameLayout(a: Checkpoint, b: Checkpoint): void {
  if (a.length !== b.length) throw new Error(`checkpoints have ${a.length} and ${b.length} parameters`);
  a.forEach((p, i) => {
    const q = b[i];
    if (p.name !== q.name || p.data.length !== q.data.length) {
      throw new Error(`checkpoint parameter ${i}: "${p.name}" (${p.data.length} values) vs "${q.name}" (${q.data.length} values)`);
    }
  });
}

/** Number of float32 values in a checkpoint. */
export function checkpointSize(cp: Checkpoint): number {
  return cp.reduce((n, p) => n + p.data.length, 0);
}

/**
 * Relative L2 distance ‖a − b‖ / ‖a‖ over all parameters together (float64 sums); 0 when a and b
 * are equal, Infinity when a is all zeros and b is not.
 */
export function relativeL2Distance(a: Checkpoint, b: Checkpoint): number {
  checkSameLayout(a, b);
  let diff = 0;
  let norm = 0;
  a.forEach((p, i) => {
    const q = b[i].data;
    for (let k = 0; k < p.data.length; k++) {
      const d = p.data[k] - q[k];
      diff += d * d;
      norm += p.data[k] * p.data[k];
    }
  });
  if (diff === 0) return 0;
  return Math.sqrt(diff) / Math.sqrt(norm);
}

/** Whether two checkpoints are bit-identical (every float32's bits, so -0 ≠ +0 and NaN = same NaN). */
export function sameCheckpointBits(a: Checkpoint, b: Checkpoint): boolean {
  checkSameLayout(a, b);
  return a.every((p, i) => Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength)
    .equals(Buffer.from(b[i].data.buffer, b[i].data.byteOffset, b[i].data.byteLength)));
}

/**
 * Rounds float32 values to bfloat16 (the top 16 bits, round to nearest, ties to even) and back to
 * float32. NaN stays NaN; values too large for bf16 become ±Infinity, as a bf16 cast does.
 */
export function roundToBf16(values: Float32Array): Float32Array {
  const out = Float32Array.from(values);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x007fffff) !== 0) {
      bits[i] = (b | 0x00400000) & 0xffff0000; // NaN: keep it a (quiet) NaN
      continue;
    }
    bits[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 0) & 0xffff0000;
  }
  return out;
}

/** Every parameter rounded to bf16 (see roundToBf16); a new checkpoint. */
export function roundCheckpointToBf16(cp: Checkpoint): Checkpoint {
  return cp.map((p) => ({ name: p.name, dims: [...p.dims], data: roundToBf16(p.data) }));
}

/**
 * Each value v becomes v·(1 + rel·g), g a Gaussian-like deterministic draw (Irwin–Hall: the sum
 * of 12 mulberry32(seed) uniforms minus 6, mean 0, variance 1): relative noise of size `rel`, as
 * different hardware would leave. A new checkpoint.
 */
export function perturbCheckpoint(cp: Checkpoint, rel: number, seed: number): Checkpoint {
  const rand = mulberry32(seed);
  return cp.map((p) => {
    const data = new Float32Array(p.data.length);
    for (let i = 0; i < data.length; i++) {
      let g = -6;
      for (let k = 0; k < 12; k++) g += rand();
      data[i] = p.data[i] * (1 + rel * g);
    }
    return { name: p.name, dims: [...p.dims], data };
  });
}

/** The checkpoint's values as bytes: each parameter's float32s little-endian, in order (for hashing and upload). */
export function encodeCheckpoint(cp: Checkpoint): Uint8Array {
  const out = new Uint8Array(checkpointSize(cp) * 4);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of cp) {
    for (let i = 0; i < p.data.length; i++, at += 4) view.setFloat32(at, p.data[i], true);
  }
  return out;
}

/** encodeCheckpoint's bytes back, given the layout (names and dims) they were written with. */
export function decodeCheckpoint(bytes: Uint8Array, layout: readonly { name: string; dims: readonly number[] }[]): Checkpoint {
  const sizes = layout.map((l) => l.dims.reduce((a, b) => a * b, 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (bytes.length !== total * 4) throw new Error(`checkpoint is ${bytes.length} bytes; the layout needs ${total * 4}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  return layout.map((l, k) => {
    const data = new Float32Array(sizes[k]);
    for (let i = 0; i < data.length; i++, at += 4) data[i] = view.getFloat32(at, true);
    return { name: l.name, dims: [...l.dims], data };
  });
}
