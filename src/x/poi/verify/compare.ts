/**
 * Tolerance comparison of a worker's claimed output against the validator's own re-execution.
 *
 * Pure TypeScript, no onnxruntime. The floats compared here only feed one validator's verdict (its
 * vote on a result); they are never written to consensus state, so validators whose CPUs give
 * slightly different onnxruntime results may compute slightly different numbers here, and the
 * chain only ever sees each validator's pass/fail vote.
 *
 * Layout: `reference` (the validator's onnxruntime output for one item) and `claimed` (the
 * worker's output for that item) are all model outputs concatenated in model output order;
 * `outputSizes[i]` is the element count of output i (their sum is the length).
 *
 * Rules (an item passes when all hold):
 *  1. Lengths: claimed.length === reference.length === sum(outputSizes), else fail.
 *  2. Every element of output o: |claimed − ref| ≤ scale·M_o + rtol·|ref|, where M_o is the largest
 *     finite |ref| of that output (of that item). The absolute part scales with the output, so tiny
 *     outputs are still checked (a fixed atol of 1e-4 accepted zeros for any output below 1e-4).
 *     NaN must meet NaN: both NaN is fine, NaN on one side only fails.
 *     ±Infinity must be equal on both sides (the formula above would accept any finite claim
 *     against an infinite reference, so infinities are compared exactly).
 *  3. Argmax agreement, for each output with more than one element (classifiers): the claimed
 *     argmax k must be a near-maximum of the reference,
 *         ref[k] ≥ max(ref) − (scale·M_o + rtol·|max(ref)|)
 *     (argmax and max over non-NaN elements; first index on ties). Plain "argmax equal" would let
 *     two near-tied logits split honest validators running on different CPUs; this form only
 *     fails if the combined error on the two logits involved exceeds one tolerance, while honest
 *     cross-CPU noise is orders of magnitude below it (~1e-6 relative vs rtol 1e-3). Note that
 *     rule 2 alone already bounds the gap by two tolerances; rule 3 tightens it to one and makes
 *     "the predicted class is right" an explicit, separately reported check.
 */

export interface Tolerance { scale: number; rtol: number }
/** The chain's defaults (params tolerance_scale_ppb, tolerance_rel_ppb); margins: README, "Tolerance". */
export const DEFAULT_TOLERANCE: Tolerance = { scale: 1e-4, rtol: 1e-3 };

/** The tolerance a chain's params set (parts per 10^9). */
export function toleranceFromParams(p: { toleranceScalePpb: string; toleranceRelPpb: string }): Tolerance {
  return { scale: Number(p.toleranceScalePpb) / 1e9, rtol: Number(p.toleranceRelPpb) / 1e9 };
}

/** Largest finite |v| over v[start, end) (0 when there is none). */
function maxAbs(v: Float32Array, start: number, end: number): number {
  let m = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(v[i]);
    if (a > m && a !== Infinity) m = a;
  }
  return m;
}

export interface ItemComparison {
  pass: boolean;
  /** Largest |claimed − ref| over element pairs (Infinity if a NaN/Infinity pair mismatched). */
  maxAbsDiff: number;
  /** Rule 3 for every multi-element output (true when there is none). */
  argmaxOk: boolean;
  /** First failure, human readable; absent when pass. */
  reason?: string;
}

/** Index of the largest non-NaN element of v[start, end); -1 if all are NaN. */
function argmaxRange(v: Float32Array, start: number, end: number): number {
  let best = -1;
  for (let i = start; i < end; i++) {
    const x = v[i];
    if (x !== x) continue; // NaN
    if (best < 0 || x > v[best]) best = i;
  }
  return best;
}

export function compareItem(
  reference: Float32Array,
  claimed: Float32Array,
  outputSizes: readonly number[],
  tol: Tolerance = DEFAULT_TOLERANCE,
): ItemComparison {
  if (!(tol.scale >= 0 && tol.rtol >= 0 && Number.isFinite(tol.scale) && Number.isFinite(tol.rtol))) {
    throw new RangeError(`tolerance must be finite and ≥ 0, got scale ${tol.scale}, rtol ${tol.rtol}`);
  }
  let total = 0;
  for (const n of outputSizes) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`output size must be a non-negative integer, got ${n}`);
    total += n;
  }
  if (reference.length !== total) {
    throw new RangeError(`reference has ${reference.length} elements but outputSizes sum to ${total}`);
  }
  if (claimed.length !== reference.length) {
    return { pass: false, maxAbsDiff: Infinity, argmaxOk: false, reason: `length ${claimed.length}, expected ${reference.length}` };
  }

  // Rule 2: element-wise, with each output's absolute tolerance.
  const atolAt = new Float64Array(reference.length);
  for (let o = 0, start = 0; o < outputSizes.length; start += outputSizes[o], o++) {
    atolAt.fill(tol.scale * maxAbs(reference, start, start + outputSizes[o]), start, start + outputSizes[o]);
  }
  let maxAbsDiff = 0;
  let reason: string | undefined;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i];
    const c = claimed[i];
    let ok: boolean;
    if (r !== r || c !== c) {
      ok = r !== r && c !== c; // NaN only matches NaN
      if (!ok) maxAbsDiff = Infinity;
    } else if (!Number.isFinite(r) || !Number.isFinite(c)) {
      ok = r === c; // infinities compared exactly
      if (!ok) maxAbsDiff = Infinity;
    } else {
      const d = Math.abs(c - r);
      if (d > maxAbsDiff) maxAbsDiff = d;
      ok = d <= atolAt[i] + tol.rtol * Math.abs(r);
    }
    if (!ok && reason === undefined) {
      reason = `element ${i}: claimed ${c}, reference ${r}, allowed |diff| ≤ ${atolAt[i]} + ${tol.rtol}·|ref|`;
    }
  }

  // Rule 3: argmax agreement per multi-element output.
  let argmaxOk = true;
  let argmaxReason: string | undefined;
  let start = 0;
  for (let o = 0; o < outputSizes.length; o++) {
    const end = start + outputSizes[o];
    if (end - start > 1) {
      const k = argmaxRange(claimed, start, end);
      const m = argmaxRange(reference, start, end);
      let ok: boolean;
      if (k < 0 || m < 0) {
        ok = k < 0 && m < 0; // all-NaN on both sides: nothing to rank
      } else {
        const refMax = reference[m];
        const floor = refMax === Infinity ? Infinity : refMax - (atolAt[m] + tol.rtol * Math.abs(refMax));
        ok = reference[k] >= floor;
      }
      if (!ok && argmaxOk) {
        argmaxOk = false;
        argmaxReason = `output ${o}: claimed argmax ${k < 0 ? "none" : k - start} ` +
          `(reference value ${k < 0 ? "NaN" : reference[k]}) is not a near-maximum of the reference ` +
          `(argmax ${m < 0 ? "none" : m - start}, value ${m < 0 ? "NaN" : reference[m]})`;
      }
    }
    start = end;
  }

  const pass = reason === undefined && argmaxOk;
  return pass ? { pass, maxAbsDiff, argmaxOk } : { pass, maxAbsDiff, argmaxOk, reason: reason ?? argmaxReason };
}

/** A Float32Array over a copy (state bytes need not be 4-byte aligned). */
export function toFloat32(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, copy.length / 4);
}
