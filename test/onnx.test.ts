/**
 * x/poi/onnx: the graph builder (checked against onnxruntime) and local MNIST training. The
 * consensus-side static validator's tests are in onnx-validate.test.ts.
 *
 *   npx tsc -p tsconfig.json && npx mocha --no-parallel dist/test/onnx.test.js
 */
import { strict as assert } from "assert";
import * as ort from "onnxruntime-node";
import { attr, GraphBuilder, MLP_INPUT, MLP_OUTPUT } from "../src/x/poi/onnx/builder";
import {
  argmax, loadMnist, MNIST_TRAIN_COUNT, mlpForward, randomMlpWeights, trainMnistMlp,
} from "../src/ml/train";
import { mulberry32 } from "../src/util/random";
import { validateModel } from "../src/x/poi/onnx/validate";
import { mlpBytes, mlpWorkUnits, session } from "./helpers/onnx-models";

async function runMlp(s: ort.InferenceSession, x: Float32Array): Promise<Float32Array> {
  const out = await s.run({ [MLP_INPUT]: new ort.Tensor("float32", x, [1, x.length]) });
  return out[MLP_OUTPUT].data as Float32Array;
}

describe("x/poi/onnx", function () {
  const randomWeights = randomMlpWeights(784, 64, 10, 7);
  const randomMlp = mlpBytes(randomWeights);

  describe("builder", () => {
    it("the MLP loads in onnxruntime and matches the plain-JS forward pass within 1e-5", async () => {
      const s = await session(randomMlp);
      assert.deepEqual(s.inputNames, [MLP_INPUT]);
      assert.deepEqual(s.outputNames, [MLP_OUTPUT]);
      const { images } = loadMnist();
      const inputs = [...images.slice(0, 50)];
      const rand = mulberry32(99);
      for (let i = 0; i < 10; i++) inputs.push(Float32Array.from({ length: 784 }, () => rand()));
      let maxDiff = 0;
      for (const x of inputs) {
        const got = await runMlp(s, x);
        const want = mlpForward(randomWeights, x);
        assert.equal(got.length, 10);
        for (let k = 0; k < 10; k++) maxDiff = Math.max(maxDiff, Math.abs(got[k] - want[k]));
      }
      assert.ok(maxDiff <= 1e-5, `max |onnxruntime - JS| = ${maxDiff}`);
      await s.release();
    });

    it("generic graphs (Conv, pools, Reshape, Gemm, Softmax) run in onnxruntime with the shapes validateModel computes", async () => {
      const rand = mulberry32(5);
      const f32 = (n: number): Float32Array => Float32Array.from({ length: n }, () => rand() * 2 - 1);
      const g = new GraphBuilder("cnn")
        .addInput("x", [1, 1, 28, 28])
        .addInitializer("w1", [8, 1, 3, 3], f32(72))
        .addInitializer("b1", [8], f32(8))
        .addInitializer("w2", [16, 4, 3, 3], f32(16 * 4 * 9))
        .addInitializer("shape", [2], BigInt64Array.from([1n, -1n]))
        .addInitializer("wg", [10, 576], f32(5760))
        .addInitializer("bg", [10], f32(10))
        .addNode("Conv", ["x", "w1", "b1"], ["c1"], [attr.ints("pads", [1, 1, 1, 1]), attr.ints("kernel_shape", [3, 3])])
        .addNode("Relu", ["c1"], ["r1"])
        .addNode("MaxPool", ["r1"], ["p1"], [attr.ints("kernel_shape", [2, 2]), attr.ints("strides", [2, 2])])
        .addNode("Conv", ["p1", "w2"], ["c2"], [attr.ints("strides", [2, 2]), attr.int("group", 2)])
        .addNode("AveragePool", ["c2"], ["p2"], [attr.ints("kernel_shape", [2, 2]), attr.ints("pads", [0, 0, 1, 1])])
        .addNode("Reshape", ["p2", "shape"], ["flat"])
        .addNode("Gemm", ["flat", "wg", "bg"], ["logits"], [attr.int("transB", 1), attr.float("alpha", 0.5)])
        .addNode("Softmax", ["logits"], ["probs"], [attr.int("axis", -1)])
        .addOutput("probs", [1, 10]);
      const bytes = g.toBytes();
      const summary = validateModel(bytes);
      assert.deepEqual(summary.outputs, [{ name: "probs", shape: [1, 10], dtype: "float32" }]);
      // Work, per the README formulas:
      const expected =
        1n * 8n * 784n * 1n * 9n + 8n * 784n + // Conv 1: MACs + bias, out [1,8,28,28]
        8n * 784n + //                          Relu
        8n * 196n * 4n + //                      MaxPool 2×2, out [1,8,14,14]
        16n * 36n * 4n * 9n + //                 Conv 2 (group 2: 4 channels per group), out [1,16,6,6]
        16n * 36n * 4n + //                      AveragePool 2×2 with end pads, out [1,16,6,6]
        0n + //                                  Reshape
        576n * 10n + 10n + //                    Gemm with C
        10n; //                                  Softmax
      assert.equal(summary.workUnitsPerItem, expected);
      const s = await session(bytes);
      const out = await s.run({ x: new ort.Tensor("float32", f32(784), [1, 1, 28, 28]) });
      assert.deepEqual(out.probs.dims, [1, 10]);
      const sum = (out.probs.data as Float32Array).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5);
      await s.release();

      const g2 = new GraphBuilder("misc")
        .addInput("x", [2, 3, 4])
        .addInitializer("c", [4], f32(4))
        .addInitializer("d", [12, 1], f32(12))
        .addInitializer("e", [1], Float32Array.from([2]))
        .addInitializer("f", [4, 5], f32(20))
        .addInitializer("shape", [3], BigInt64Array.from([3n, -1n, 5n]))
        .addInitializer("g", [5, 2], f32(10))
        .addNode("Transpose", ["x"], ["t"], [attr.ints("perm", [1, 0, 2])]) // [3,2,4]
        .addNode("Flatten", ["t"], ["fl"], [attr.int("axis", 2)]) //           [6,4]
        .addNode("Sigmoid", ["fl"], ["sg"])
        .addNode("Tanh", ["fl"], ["th"])
        .addNode("Concat", ["sg", "th"], ["cc"], [attr.int("axis", 0)]) //    [12,4]
        .addNode("Sub", ["cc", "c"], ["sb"])
        .addNode("Mul", ["sb", "d"], ["ml"])
        .addNode("Div", ["ml", "e"], ["dv"])
        .addNode("Identity", ["dv"], ["id"])
        .addNode("MatMul", ["id", "f"], ["mm"]) //                           [12,5]
        .addNode("Reshape", ["mm", "shape"], ["rs"], [attr.int("allowzero", 0)]) // [3,4,5]
        .addNode("MatMul", ["rs", "g"], ["bm"]) //                           [3,4,2]
        .addNode("MaxPool", ["bm"], ["y"], [attr.ints("kernel_shape", [2]), attr.string("auto_pad", "SAME_UPPER"), attr.ints("strides", [2])])
        .addOutput("y", [3, 4, 1]);
      const bytes2 = g2.toBytes({ opset: 17, irVersion: 8 });
      const summary2 = validateModel(bytes2);
      assert.equal(summary2.opset, 17);
      assert.deepEqual(summary2.outputs[0].shape, [3, 4, 1]);
      const s2 = await session(bytes2);
      const out2 = await s2.run({ x: new ort.Tensor("float32", f32(24), [2, 3, 4]) });
      assert.deepEqual(out2.y.dims, [3, 4, 1]);
      await s2.release();
    });
  });

  describe("training", () => {
    it("loadMnist gives 10,000 digits in [0,1] in a stable, mixed order", () => {
      const { images, labels } = loadMnist();
      assert.equal(images.length, 10_000);
      assert.equal(labels.length, 10_000);
      for (const img of images) {
        assert.equal(img.length, 784);
        for (const v of img) assert.ok(v >= 0 && v <= 1);
      }
      // Every digit appears in both the training and the test split.
      for (let d = 0; d < 10; d++) {
        assert.ok(labels.slice(0, MNIST_TRAIN_COUNT).includes(d));
        assert.ok(labels.slice(MNIST_TRAIN_COUNT).includes(d));
      }
      assert.equal(labels.slice(0, 20).join(""), "54448476293010234032");
    });

    it("training is deterministic for a seed", () => {
      const a = trainMnistMlp({ epochs: 1, seed: 3 });
      const b = trainMnistMlp({ epochs: 1, seed: 3 });
      assert.deepEqual(Buffer.from(a.weights.w1.buffer), Buffer.from(b.weights.w1.buffer));
      assert.deepEqual(Buffer.from(a.weights.b2.buffer), Buffer.from(b.weights.b2.buffer));
      assert.equal(a.testAccuracy, b.testAccuracy);
    });

    it("trains the MLP to ≥ 0.9 held-out accuracy; onnxruntime agrees on every digit", async () => {
      const result = trainMnistMlp();
      console.log(`      trained in ${result.trainMs} ms: held-out accuracy ${result.testAccuracy}, train ${result.trainAccuracy}`);
      assert.ok(result.testAccuracy >= 0.9, `held-out accuracy ${result.testAccuracy}`);
      const bytes = mlpBytes(result.weights);
      const summary = validateModel(bytes);
      assert.equal(summary.workUnitsPerItem, mlpWorkUnits(784, 64, 10));

      const s = await session(bytes);
      const { images, labels } = loadMnist();
      let agree = 0;
      let correct = 0;
      let maxRel = 0;
      for (let n = MNIST_TRAIN_COUNT; n < images.length; n++) {
        const got = await runMlp(s, images[n]);
        const want = mlpForward(result.weights, images[n]);
        if (argmax(got) === argmax(want)) agree++;
        if (argmax(got) === labels[n]) correct++;
        for (let k = 0; k < 10; k++) maxRel = Math.max(maxRel, Math.abs(got[k] - want[k]) / Math.max(1, Math.abs(want[k])));
      }
      const testCount = images.length - MNIST_TRAIN_COUNT;
      assert.equal(agree, testCount);
      assert.equal(correct / testCount, result.testAccuracy);
      assert.ok(maxRel < 1e-5, `max relative difference ${maxRel}`);

      // Single-item latency (figure for the report; no assertion beyond "it ran").
      const feed = { [MLP_INPUT]: new ort.Tensor("float32", images[MNIST_TRAIN_COUNT], [1, 784]) };
      for (let i = 0; i < 50; i++) await s.run(feed);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 1000; i++) await s.run(feed);
      const meanUs = Number(process.hrtime.bigint() - t0) / 1000 / 1000;
      console.log(`      model ${bytes.length} bytes, ${summary.workUnitsPerItem} work units; onnxruntime ${meanUs.toFixed(1)} µs/item (mean of 1000)`);
      await s.release();
    });
  });
});
