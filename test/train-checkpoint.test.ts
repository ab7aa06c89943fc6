/**
 * Checkpoint helpers of src/ml/checkpoint.ts: bytes, relative L2 distance, bf16 rounding and the
 * deterministic relative perturbation (the knobs the training tests and measurements use).
 */
import { strict as assert } from "assert";
import {
  cloneCheckpoint, decodeCheckpoint, encodeCheckpoint, mlpCheckpoint, perturbCheckpoint, relativeL2Distance,
  roundCheckpointToBf16, roundToBf16, sameCheckpointBits,
} from "../src/ml/checkpoint";
import { initMlpWeights } from "../src/ml/train";

describe("training checkpoints", () => {
  const cp = mlpCheckpoint(initMlpWeights(20, 5, 3, 9));

  it("encode/decode round-trips exactly, in parameter order, little-endian", () => {
    const bytes = encodeCheckpoint(cp);
    assert.equal(bytes.length, (100 + 5 + 15 + 3) * 4);
    assert.equal(new DataView(bytes.buffer).getFloat32(0, true), cp[0].data[0]);
    const back = decodeCheckpoint(bytes, cp);
    assert.deepEqual(back.map((p) => [p.name, p.dims]), [["w1", [20, 5]], ["b1", [5]], ["w2", [5, 3]], ["b2", [3]]]);
    assert.ok(sameCheckpointBits(back, cp));
    assert.throws(() => decodeCheckpoint(bytes.subarray(4), cp), /checkpoint is 488 bytes; the layout needs 492/);
  });

  it("relative L2 distance ‖a−b‖/‖a‖ over all parameters", () => {
    assert.equal(relativeL2Distance(cp, cloneCheckpoint(cp)), 0);
    const b = cloneCheckpoint(cp);
    b[3].data[0] += 1; // b2 starts at zero
    let norm = 0;
    for (const p of cp) for (const v of p.data) norm += v * v;
    assert.ok(Math.abs(relativeL2Distance(cp, b) - 1 / Math.sqrt(norm)) < 1e-12);
    assert.throws(() => relativeL2Distance(cp, cp.slice(1)), /have 4 and 3 parameters/);
  });

  it("bf16 rounding keeps the top 16 bits, to nearest with ties to even", () => {
    const ulp = 2 ** -7; // bf16 has 8 significant bits: the spacing just above 1
    const got = roundToBf16(Float32Array.from([1, 1 + ulp / 2, 1 + (3 * ulp) / 2, 1 + ulp / 2 + 2 ** -20, -3.4e38, 3.39e38, -0, NaN, Infinity]));
    assert.deepEqual(Array.from(got.subarray(0, 7)), [1, 1, 1 + 2 * ulp, 1 + ulp, -Infinity, Math.fround(3.3895313892515355e38), -0]);
    assert.ok(Number.isNaN(got[7]));
    assert.equal(got[8], Infinity);
    const r = roundCheckpointToBf16(cp);
    const d = relativeL2Distance(cp, r);
    assert.ok(d > 1e-4 && d < 4e-3, `bf16 rounding moved the parameters by ${d}`);
    for (const p of r) for (const v of p.data) assert.equal(new Uint32Array(Float32Array.of(v).buffer)[0] & 0xffff, 0);
  });

  it("a relative perturbation of 1e-6 moves the parameters by about 1e-6, the same for the same seed", () => {
    const a = perturbCheckpoint(cp, 1e-6, 7);
    const d = relativeL2Distance(cp, a);
    assert.ok(d > 5e-7 && d < 2e-6, `distance ${d}`);
    assert.ok(sameCheckpointBits(a, perturbCheckpoint(cp, 1e-6, 7)));
    assert.ok(!sameCheckpointBits(a, perturbCheckpoint(cp, 1e-6, 8)));
  });
});
