/**
 * The ops back-propagation needs, added to the validator's whitelist: Sign (the ReLU mask),
 * LogSoftmax (the cross-entropy) and ReduceSum (bias gradients, the mean loss). Each is checked
 * against onnxruntime: shapes the validator infers, values against plain JS, and refusals.
 *
 *   npx tsc -p tsconfig.json && npx mocha dist/test/onnx-train-ops.test.js
 */
import { strict as assert } from "assert";
import * as ort from "onnxruntime-node";
import { attr, GraphBuilder, type AttributeSpec } from "../src/x/poi/onnx/builder";
import { mulberry32 } from "../src/util/random";
import { ModelValidationError, validateModel } from "../src/x/poi/onnx/validate";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";
import { withInferredOutput } from "./helpers/onnx-shapes";

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

async function runOne(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  const out = await s.run({ x: new ort.Tensor("float32", x, dims) });
  await s.release();
  return out.y;
}

function refused(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => validateModel(bytes), (e: unknown) => e instanceof ModelValidationError && pattern.test(e.message));
}

/** A one-node graph x → op → y, the axes (if any) an int64 initializer. */
function oneNode(op: string, xs: number[], ys: number[], attrs: AttributeSpec[] = [], axes?: bigint[]): Uint8Array {
  const g = new GraphBuilder(op).addInput("x", xs);
  if (axes) g.addInitializer("axes", [axes.length], BigInt64Array.from(axes));
  return g.addNode(op, axes ? ["x", "axes"] : ["x"], ["y"], attrs).addOutput("y", ys).toBytes();
}

describe("x/poi/onnx: Sign, LogSoftmax and ReduceSum", () => {
  it("compute what plain JS computes, with the shapes and work the validator gives", async () => {
    const x = Float32Array.from([-2, -0, 0, 0.5, 3, -1e-30]);
    const sign = oneNode("Sign", [2, 3], [2, 3]);
    assert.equal(validateModel(sign).workUnitsPerItem, 6n);
    assert.deepEqual(Array.from((await runOne(sign, x, [2, 3])).data as Float32Array), [-1, 0, 0, 1, 1, -1]);

    const logSoftmax = oneNode("LogSoftmax", [2, 3], [2, 3], [attr.int("axis", 1)]);
    assert.equal(validateModel(logSoftmax).workUnitsPerItem, 6n);
    const got = (await runOne(logSoftmax, x, [2, 3])).data as Float32Array;
    for (let r = 0; r < 2; r++) {
      const row = Array.from(x.subarray(3 * r, 3 * r + 3));
      const logZ = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
      row.forEach((v, k) => assert.ok(Math.abs(got[3 * r + k] - (v - logZ)) < 1e-6));
    }

    const rows = oneNode("ReduceSum", [2, 3], [3], [attr.int("keepdims", 0)], [0n]);
    assert.equal(validateModel(rows).workUnitsPerItem, 6n);
    const colSums = (await runOne(rows, x, [2, 3]));
    assert.deepEqual(colSums.dims, [3]);
    assert.deepEqual(Array.from(colSums.data as Float32Array), [-2 + 0.5, 3, -1e-30].map(Math.fround));
    const all = oneNode("ReduceSum", [2, 3], [], [attr.int("keepdims", 0)]);
    const total = await runOne(all, x, [2, 3]);
    assert.deepEqual(total.dims, []);
    assert.equal((total.data as Float32Array)[0], Math.fround(-2 + 0.5 + 3));
  });

  it("refuses ReduceSum axes that are not constant, out of range or repeated, and bad attributes", () => {
    refused(oneNode("ReduceSum", [2, 3], [3], [], [2n]), /axis 2 is out of range for rank 2/);
    refused(oneNode("ReduceSum", [2, 3], [1, 1], [], [0n, -2n]), /axis -2 is given twice/);
    refused(oneNode("ReduceSum", [2, 3], [1, 3], [attr.int("keepdims", 2)], [0n]), /keepdims = 2 is outside 0\.\.1/);
    refused(oneNode("ReduceSum", [2, 3], [1, 3], [attr.ints("axes", [0])]), /attribute "axes" is not supported for ReduceSum/);
    const axesFromInput = new GraphBuilder("r").addInput("x", [2, 3]).addInput("a", [1])
      .addNode("ReduceSum", ["x", "a"], ["y"]).addOutput("y", [1, 3]).toBytes();
    refused(axesFromInput, /input 1 \("a"\) must be an int64 initializer \(constant axes\)/);
    refused(oneNode("LogSoftmax", [2, 3], [2, 3], [attr.int("axis", 2)]), /attribute axis = 2 is outside -2..1/);
  });

  it("differential check against onnxruntime: random ReduceSum, LogSoftmax and Sign graphs run with exactly the inferred shapes", async () => {
    const rand = mulberry32(1313);
    const ri = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
    let accepted = 0;
    let refusedCount = 0;
    for (let trial = 0; trial < 300; trial++) {
      const op = ["ReduceSum", "ReduceSum", "LogSoftmax", "Sign"][ri(0, 3)];
      const xs = Array.from({ length: ri(op === "Sign" ? 0 : 1, 4) }, () => ri(1, 3));
      const attrs: AttributeSpec[] = [];
      let axes: bigint[] | undefined;
      if (op === "ReduceSum") {
        if (rand() < 0.7) axes = Array.from({ length: ri(1, xs.length) }, () => BigInt(ri(-xs.length - 1, xs.length)));
        if (rand() < 0.6) attrs.push(attr.int("keepdims", ri(0, 1)));
        if (rand() < 0.3) attrs.push(attr.int("noop_with_empty_axes", ri(0, 1)));
      } else if (op === "LogSoftmax" && rand() < 0.7) {
        attrs.push(attr.int("axis", ri(-xs.length - 1, xs.length)));
      }
      const g = new GraphBuilder("t").addInput("x", xs);
      if (axes) g.addInitializer("axes", [axes.length], BigInt64Array.from(axes));
      const inferred = withInferredOutput(g.addNode(op, axes ? ["x", "axes"] : ["x"], ["y"], attrs).toModelProto({ opset: 13 + ri(0, 4) }));
      if (inferred === undefined) {
        refusedCount++;
        continue;
      }
      const { bytes, shape } = inferred;
      accepted++;
      const y = await runOne(bytes, Float32Array.from({ length: prod(xs) }, () => rand() * 2 - 1), xs);
      assert.deepEqual(y.dims, shape, `trial ${trial}: ${op} on [${xs.join(",")}] axes [${axes?.join(",") ?? ""}]`);
    }
    console.log(`      ${accepted} of 300 accepted, onnxruntime agreed on every output shape; ${refusedCount} refused`);
    assert.ok(accepted > 150 && refusedCount > 10);
  });
});
