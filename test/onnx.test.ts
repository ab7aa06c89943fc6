/**
 * x/poi/onnx: the graph builder (checked against onnxruntime), local MNIST training, and the
 * consensus-side static validator.
 *
 *   npx tsc -p tsconfig.json && npx mocha --no-config --timeout 600000 --exit dist/test/onnx.test.js
 */
import { strict as assert } from "assert";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import {
  attr, buildMlp, DataType, encodeModel, GraphBuilder, MLP_INPUT, MLP_OUTPUT, type MlpWeights,
} from "../src/x/poi/onnx/builder";
import {
  argmax, loadMnist, MNIST_TRAIN_COUNT, mlpForward, randomMlpWeights, shuffleInPlace, trainMnistMlp,
} from "../src/ml/train";
import { mulberry32 } from "../src/util/random";
import {
  DEFAULT_MODEL_LIMITS, ModelValidationError, validateModel, type ModelLimits, type ModelSummary,
} from "../src/x/poi/onnx/validate";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";
import { withInferredOutput } from "./helpers/onnx-shapes";


function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, SESSION_OPTIONS);
}

async function runMlp(s: ort.InferenceSession, x: Float32Array): Promise<Float32Array> {
  const out = await s.run({ [MLP_INPUT]: new ort.Tensor("float32", x, [1, x.length]) });
  return out[MLP_OUTPUT].data as Float32Array;
}

function mlpBytes(weights: MlpWeights, inputSize = 784, hidden = 64, outputs = 10): Uint8Array {
  return buildMlp({ inputSize, hidden, outputs, weights });
}

/** Decodes a model with protobufjs, lets `edit` change it (`g` is its graph), re-encodes it. */
function edited(bytes: Uint8Array, edit: (m: onnx.ModelProto, g: onnx.GraphProto) => void): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  edit(m, m.graph as onnx.GraphProto);
  return onnx.ModelProto.encode(m).finish();
}

/** The static dims of a decoded ValueInfo (for editing). */
function dimsOf(vi: onnx.IValueInfoProto): onnx.TensorShapeProto.IDimension[] {
  return vi.type!.tensorType!.shape!.dim!;
}

function assertRejected(bytes: Uint8Array, pattern: RegExp, limits: Partial<ModelLimits> = {}): string {
  let message = "";
  assert.throws(
    () => validateModel(bytes, limits),
    (e: unknown) => {
      assert.ok(e instanceof ModelValidationError, `expected ModelValidationError, got ${String(e)}`);
      message = e.message;
      assert.match(e.message, pattern);
      return true;
    },
  );
  return message;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

function randomBytes(n: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/** Work units of the MLP as documented in src/x/poi/onnx/README.md. */
function mlpWorkUnits(inputSize: number, hidden: number, outputs: number): bigint {
  const matmuls = inputSize * hidden + hidden * outputs; // multiply-accumulates
  const elementwise = hidden /* Add b1 */ + hidden /* Relu */ + outputs; /* Add b2 */
  return BigInt(matmuls + elementwise);
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

  describe("validateModel", () => {
    it("accepts the MLP: shapes, opset and work units = 784·64 + 64·10 (MACs) + 64 + 64 + 10 (element-wise)", () => {
      const summary = validateModel(randomMlp);
      assert.deepEqual(summary.inputs, [{ name: "input", shape: [1, 784], dtype: "float32" }]);
      assert.deepEqual(summary.outputs, [{ name: "logits", shape: [1, 10], dtype: "float32" }]);
      assert.equal(summary.opset, 13);
      assert.equal(summary.irVersion, 7);
      assert.equal(summary.workUnitsPerItem, 784n * 64n + 64n * 10n + 64n + 64n + 10n);
      assert.equal(summary.workUnitsPerItem, mlpWorkUnits(784, 64, 10));
      assert.equal(summary.workUnitsPerItem, 50_954n);
      assert.equal(summary.initializerBytes, (784 * 64 + 64 + 64 * 10 + 10) * 4);
      // Other sizes follow the same formula.
      const small = mlpBytes(randomMlpWeights(20, 7, 3, 1), 20, 7, 3);
      assert.equal(validateModel(small).workUnitsPerItem, mlpWorkUnits(20, 7, 3));
    });

    it("is deterministic: same bytes, same result (and same error message)", () => {
      const a = validateModel(randomMlp);
      const b = validateModel(Uint8Array.from(randomMlp));
      assert.deepEqual(a, b);
      const bad = randomMlp.subarray(0, 5000);
      const m1 = assertRejected(bad, /./);
      const m2 = assertRejected(Uint8Array.from(bad), /./);
      assert.equal(m1, m2);
    });

    it("rejects random bytes", () => {
      for (let seed = 1; seed <= 200; seed++) {
        assertRejected(randomBytes(1 + (seed * 37) % 3000, seed), /not a valid ONNX model|no ir_version|no graph|no opset/);
      }
      console.log(`      e.g. ${assertRejected(randomBytes(1000, 1), /./)}`);
    });

    it("rejects an empty or truncated model", () => {
      assertRejected(new Uint8Array(0), /empty/);
      const msg = assertRejected(randomMlp.subarray(0, Math.floor(randomMlp.length / 2)), /truncated/);
      console.log(`      ${msg}`);
      assertRejected(randomMlp.subarray(0, randomMlp.length - 1), /not a valid ONNX model/);
    });

    it("rejects disallowed ops: Loop (with a subgraph body) and ConstantOfShape", () => {
      const body: onnx.IGraphProto = {
        name: "body",
        node: [{ opType: "Identity", input: ["v_in"], output: ["v_out"] }],
        input: [{ name: "i" }, { name: "cond" }, { name: "v_in" }],
        output: [{ name: "cond_out" }, { name: "v_out" }],
      };
      const loop = encodeModel({
        irVersion: 7,
        opsetImport: [{ domain: "", version: 13 }],
        graph: {
          name: "loop",
          node: [{
            opType: "Loop", input: ["", "", "x"], output: ["y"],
            attribute: [{ name: "body", type: onnx.AttributeProto.AttributeType.GRAPH, g: body }],
          }],
          input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } } }],
          output: [{ name: "y", type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } } }],
        },
      });
      assertRejected(loop, /node 0 \(Loop\): operator "Loop" is not allowed/);
      // A whitelisted op carrying a subgraph attribute is refused too.
      const reluWithGraph = edited(randomMlp, (_m, g) => {
        g.node[2].attribute = [onnx.AttributeProto.create({ name: "body", type: onnx.AttributeProto.AttributeType.GRAPH, g: body })];
      });
      assertRejected(reluWithGraph, /subgraph attributes are not allowed/);
    });

    it("rejects the ConstantOfShape memory bomb (a tiny model that would allocate ~287 MB)", () => {
      const count = 71_750_000; // float32 elements: 287 MB
      const bomb = new GraphBuilder("bomb")
        .addInput("x", [1])
        .addInitializer("shape", [1], BigInt64Array.from([BigInt(count)]))
        .addNode("ConstantOfShape", ["shape"], ["big"])
        .addNode("Add", ["big", "x"], ["y"])
        .addOutput("y", [count])
        .toBytes();
      assert.ok(bomb.length < 200, `bomb is ${bomb.length} bytes`);
      assertRejected(bomb, /operator "ConstantOfShape" is not allowed/);
      // Even with only whitelisted ops, huge intermediates are refused by static shape inference:
      // a [1,8192]·... broadcast Add of two small inputs makes a 67M-element tensor.
      const broadcastBomb = new GraphBuilder("bcast")
        .addInput("a", [8192, 1])
        .addInput("b", [1, 8192])
        .addNode("Add", ["a", "b"], ["y"])
        .addOutput("y", [8192, 8192])
        .toBytes();
      assertRejected(broadcastBomb, /\[8192,8192\] has 67108864 elements, over the limit of 1048576/);
    });

    it("rejects an initializer with external data", () => {
      const external = edited(randomMlp, (_m, g) => {
        const w1 = g.initializer[0];
        w1.rawData = new Uint8Array(0);
        w1.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
        w1.externalData = [{ key: "location", value: "../../../etc/passwd" }, { key: "length", value: "200704" }];
      });
      assertRejected(external, /initializer 0 "w1" uses external data/);
      // external_data entries alone (data_location left DEFAULT) are refused as well
      const entriesOnly = edited(randomMlp, (_m, g) => {
        g.initializer[1].externalData = [{ key: "location", value: "weights.bin" }];
      });
      assertRejected(entriesOnly, /initializer 1 "b1" uses external data/);
    });

    it("rejects a dynamic (dim_param) or unknown input dimension", () => {
      const dynamic = edited(randomMlp, (_m, g) => {
        dimsOf(g.input[0])[0] = { dimParam: "batch" };
      });
      assertRejected(dynamic, /graph input 0 "input" dimension 0 is dynamic \("batch"\)/);
      const unknown = edited(randomMlp, (_m, g) => {
        dimsOf(g.input[0])[0] = {};
      });
      assertRejected(unknown, /dimension 0 is unknown/);
      const noShape = edited(randomMlp, (_m, g) => {
        g.input[0].type!.tensorType!.shape = null;
      });
      assertRejected(noShape, /has no shape/);
    });

    it("refuses dimensions beyond int64 on the wire, never wrapping them: over 64 bits, 2^63 and up, and the encoder's wrap", () => {
      // A Relu model [1, D] -> [1, D] written byte by byte, so D can be any varint.
      const varint = (v: bigint) => { const o: number[] = []; while (v >= 128n) { o.push(Number(v & 127n) | 128); v >>= 7n; } o.push(Number(v)); return Buffer.from(o); };
      const len = (field: number, b: Buffer) => Buffer.concat([varint(BigInt(field * 8 + 2)), varint(BigInt(b.length)), b]);
      const int = (field: number, raw: Buffer) => Buffer.concat([varint(BigInt(field * 8)), raw]);
      const str = (field: number, text: string) => len(field, Buffer.from(text));
      const model = (dim: Buffer) => {
        const type = len(2, len(1, Buffer.concat([int(1, varint(1n)), len(2, Buffer.concat([len(1, int(1, varint(1n))), len(1, int(1, dim))]))])));
        const graph = Buffer.concat([len(1, Buffer.concat([str(1, "x"), str(2, "y"), str(4, "Relu")])), str(2, "g"), len(11, Buffer.concat([str(1, "x"), type])), len(12, Buffer.concat([str(1, "y"), type]))]);
        return Buffer.concat([int(1, varint(7n)), len(7, graph), len(8, int(2, varint(13n)))]);
      };
      assert.deepEqual(validateModel(model(varint(4n))).inputs[0].shape, [1, 4], "the hand-written model is valid");
      assertRejected(model(varint(99999999999999999999n)), /graph\.input\[0\]\.type\.tensor_type\.shape\.dim\[1\]: varint overflows 64 bits/);
      assertRejected(model(varint(1n << 64n)), /varint overflows 64 bits/);
      assertRejected(model(varint(1n << 63n)), /dimension 1 is -9223372036854775808; dimensions must be at least 1/);
      assertRejected(model(varint((1n << 64n) - 1n)), /dimension 1 is -1; dimensions must be at least 1/);
      assertRejected(model(varint((1n << 63n) - 1n)), /dimension 1 is 9223372036854775807, over the element limit/);
      // onnx-proto (protobufjs) wraps a decimal string beyond 64 bits when it encodes: 99999999999999999999
      // becomes 7766279631452241919. Our builder takes safe integers only, so it cannot write one.
      assert.throws(() => new GraphBuilder("g").addInput("x", [1, 99999999999999999999]), /int64 value 100000000000000000000 is not a safe integer/);
    });

    it("rejects a model over maxModelBytes", () => {
      assertRejected(randomMlp, /model is 203914 bytes, over the limit of 100000 bytes/, { maxModelBytes: 100_000 });
      // Over the default 4 MiB: a 784 → 1400 → 10 MLP is ~4.4 MB.
      const big = mlpBytes(randomMlpWeights(784, 1400, 10, 2), 784, 1400, 10);
      assert.ok(big.length > DEFAULT_MODEL_LIMITS.maxModelBytes);
      assertRejected(big, /over the limit of 4194304 bytes/);
    });

    it("rejects an initializer whose raw_data length mismatches its dims", () => {
      const short = edited(randomMlp, (_m, g) => {
        g.initializer[0].rawData = g.initializer[0].rawData!.subarray(4);
      });
      assertRejected(short, /initializer 0 "w1" raw_data is 200700 bytes but dims \[784,64\] of float32 need 200704/);
      const wrongDims = edited(randomMlp, (_m, g) => {
        g.initializer[1].dims = [65];
      });
      assertRejected(wrongDims, /initializer 1 "b1" raw_data is 256 bytes but dims \[65\] of float32 need 260/);
      const typed = edited(randomMlp, (_m, g) => {
        const b2 = g.initializer[3];
        b2.rawData = new Uint8Array(0);
        b2.floatData = new Array(10).fill(0.5);
      });
      assertRejected(typed, /only raw_data/);
    });

    it("rejects an undefined node input, out-of-order nodes, duplicate names", () => {
      const undef = edited(randomMlp, (_m, g) => {
        g.node[1].input = ["hidden_mm", "b_missing"];
      });
      assertRejected(undef, /node 1 "fc1_bias" \(Add\): input "b_missing" is not defined/);
      const swapped = edited(randomMlp, (_m, g) => {
        const [a, b] = [g.node[1], g.node[2]];
        g.node[1] = b;
        g.node[2] = a;
      });
      assertRejected(swapped, /produced by node 2, which does not come earlier \(nodes must be in topological order/);
      const cycle = edited(randomMlp, (_m, g) => {
        g.node[0].input = [MLP_INPUT, "hidden"]; // MatMul reads the Relu's output
      });
      assertRejected(cycle, /cycles are not allowed/);
      const dupNodeOutput = edited(randomMlp, (_m, g) => {
        g.node[2].output = ["hidden_mm"];
      });
      assertRejected(dupNodeOutput, /the name "hidden_mm" is already defined/);
      const dupGraphOutput = edited(randomMlp, (_m, g) => {
        g.output.push(g.output[0]);
      });
      assertRejected(dupGraphOutput, /duplicate output name/);
      const dupInitializer = edited(randomMlp, (_m, g) => {
        g.initializer[1].name = "w1";
      });
      assertRejected(dupInitializer, /the name "w1" is already defined/);
    });

    it("rejects other unsafe or unsupported constructs with clear messages", () => {
      const cases: [string, Uint8Array, RegExp, Partial<ModelLimits>?][] = [
        ["opset too new", edited(randomMlp, (m) => { m.opsetImport[0].version = 18; }), /opset version 18 is outside the accepted range 13..17/],
        ["opset too old", edited(randomMlp, (m) => { m.opsetImport[0].version = 11; }), /opset version 11 is outside/],
        ["ir_version", edited(randomMlp, (m) => { m.irVersion = 3; }), /ir_version 3 is outside the accepted range 7..10/],
        ["custom domain import", edited(randomMlp, (m) => { m.opsetImport.push({ domain: "com.microsoft", version: 1 }); }), /domain "com.microsoft"/],
        ["custom domain node", edited(randomMlp, (_m, g) => { g.node[2].domain = "com.example"; }), /domain "com.example" is not allowed/],
        ["functions", edited(randomMlp, (m) => { m.functions = [{ name: "f", domain: "x" }]; }), /model-local functions are not allowed/],
        ["training info", edited(randomMlp, (m) => { m.trainingInfo = [{}]; }), /training_info is not allowed/],
        ["overridable initializer", edited(randomMlp, (_m, g) => {
          g.input.push({ name: "w2", type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 64 }, { dimValue: 10 }] } } } });
        }), /graph input 1 "w2" has the name of an initializer/],
        ["int input", edited(randomMlp, (_m, g) => { g.input[0].type!.tensorType!.elemType = DataType.INT64; }), /element type 7; only float32/],
        ["wrong output shape", edited(randomMlp, (_m, g) => { dimsOf(g.output[0])[1] = { dimValue: 11 }; }),
          /graph output 0 "logits" declares shape \[1,11\] but the graph computes \[1,10\]/],
        ["mismatched MatMul", edited(randomMlp, (_m, g) => { dimsOf(g.input[0])[1] = { dimValue: 785 }; }),
          /inner dims 785 and 784/],
        ["unknown attribute", edited(randomMlp, (_m, g) => { g.node[2].attribute = [{ name: "alpha", type: 1, f: 0.1 }]; }),
          /attribute "alpha" is not supported for Relu/],
        ["value_info disagrees", edited(randomMlp, (_m, g) => {
          g.valueInfo = [{ name: "hidden", type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 63 }] } } } }];
        }), /value_info 0 "hidden" declares shape \[1,63\] but the graph computes \[1,64\]/],
        ["duplicate node names", edited(randomMlp, (_m, g) => { g.node[3].name = "fc1_matmul"; }), /node 3 "fc1_matmul" \(MatMul\): another node has the same name/],
        ["dilated SAME conv", new GraphBuilder("c").addInput("x", [1, 1, 8, 8]).addInitializer("w", [1, 1, 3, 3], new Float32Array(9))
          .addNode("Conv", ["x", "w"], ["y"], [attr.string("auto_pad", "SAME_UPPER"), attr.ints("dilations", [2, 2])]).addOutput("y", [1, 1, 8, 8]).toBytes(),
          /auto_pad SAME_UPPER cannot be combined with dilations other than 1/],
        ["pool pad ≥ kernel", new GraphBuilder("p").addInput("x", [1, 1, 8, 8])
          .addNode("MaxPool", ["x"], ["y"], [attr.ints("kernel_shape", [2, 2]), attr.ints("pads", [2, 0, 0, 0])]).addOutput("y", [1, 1, 9, 7]).toBytes(),
          /pads along spatial axis 0 must be smaller than 2/],
        ["ceil_mode", new GraphBuilder("p").addInput("x", [1, 1, 8, 8])
          .addNode("AveragePool", ["x"], ["y"], [attr.ints("kernel_shape", [3, 3]), attr.int("ceil_mode", 1)]).addOutput("y", [1, 1, 6, 6]).toBytes(),
          /attribute ceil_mode = 1 is outside 0..0/],
        ["Reshape from a graph input", new GraphBuilder("r").addInput("x", [2, 3]).addInput("s", [2])
          .addNode("Reshape", ["x", "s"], ["y"]).addOutput("y", [3, 2]).toBytes(),
          /input 1 \("s"\) must be an int64 initializer \(a constant shape\)/],
        ["int64 data into Add", new GraphBuilder("a").addInput("x", [2]).addInitializer("k", [2], BigInt64Array.from([1n, 2n]))
          .addNode("Add", ["x", "k"], ["y"]).addOutput("y", [2]).toBytes(),
          /input 1 \("k"\) is int64; float32 is required/],
        ["work over the limit", randomMlp, /work per item exceeds the limit of 50000 units/, { maxWorkUnitsPerItem: 50_000n }],
        ["unknown field", Uint8Array.from([...randomMlp, 0xf8, 0x01, 0x01]), /unknown or unsupported field number 31/],
        ["graph given twice", Uint8Array.from([...randomMlp, 0x3a, 0x00]), /field graph \(7\) appears more than once/],
      ];
      for (const [what, bytes, pattern, limits] of cases) {
        try {
          assertRejected(bytes, pattern, limits);
        } catch (e) {
          throw new Error(`case "${what}": ${(e as Error).message}`);
        }
      }
    });

    it("differential check against onnxruntime: random single-op graphs it accepts run with exactly the inferred shapes", async () => {
      const rand = mulberry32(77);
      const ri = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
      const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
      const f32 = (n: number): Float32Array => Float32Array.from({ length: n }, () => rand() * 2 - 1);
      const prod = (s: number[]): number => s.reduce((a, b) => a * b, 1);
      let accepted = 0;
      for (let trial = 0; trial < 600; trial++) {
        const op = pick(["Conv", "MaxPool", "AveragePool", "Gemm", "MatMul", "Add", "Reshape", "Concat", "Flatten", "Transpose", "Softmax"]);
        const g = new GraphBuilder("t");
        const attrs = [];
        const inputs = ["x"];
        let xs: number[];
        if (op === "Conv" || op === "MaxPool" || op === "AveragePool") {
          const c = ri(1, 4);
          xs = [ri(1, 2), c, ...Array.from({ length: ri(1, 3) }, () => ri(1, 7))];
          const ks = xs.slice(2).map(() => ri(1, 4));
          if (op === "Conv") {
            const group = pick([1, 1, c]);
            const m = group * ri(1, 3);
            g.addInitializer("w", [m, c / group, ...ks], f32((m * c / group) * prod(ks)));
            inputs.push("w");
            if (rand() < 0.5) { g.addInitializer("b", [m], f32(m)); inputs.push("b"); }
            if (group !== 1) attrs.push(attr.int("group", group));
          } else {
            attrs.push(attr.ints("kernel_shape", ks));
          }
          if (rand() < 0.5) attrs.push(attr.ints("strides", ks.map(() => ri(1, 3))));
          if (op !== "AveragePool" && rand() < 0.4) attrs.push(attr.ints("dilations", ks.map(() => ri(1, 2))));
          const autoPad = pick(["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER", ""]);
          if (autoPad !== "") attrs.push(attr.string("auto_pad", autoPad));
          if ((autoPad === "" || autoPad === "NOTSET") && rand() < 0.7) attrs.push(attr.ints("pads", [...ks, ...ks].map(() => ri(0, 3))));
          if (op === "AveragePool" && rand() < 0.5) attrs.push(attr.int("count_include_pad", ri(0, 1)));
        } else if (op === "Gemm") {
          const [m, k, n, ta, tb] = [ri(1, 4), ri(1, 4), ri(1, 4), ri(0, 1), ri(0, 1)];
          xs = ta ? [k, m] : [m, k];
          g.addInitializer("B", tb ? [n, k] : [k, n], f32(k * n));
          inputs.push("B");
          if (rand() < 0.6) {
            const cs = pick([[n], [1], [m, n], [1, n], [m, 1], [1, 1], [ri(1, 4)], [ri(1, 4), ri(1, 4)]]);
            g.addInitializer("C", cs, f32(prod(cs)));
            inputs.push("C");
          }
          attrs.push(attr.int("transA", ta), attr.int("transB", tb));
        } else if (op === "MatMul" || op === "Add") {
          xs = Array.from({ length: ri(1, 4) }, () => ri(1, 3));
          const bs = Array.from({ length: ri(1, 4) }, () => pick([1, ri(1, 3)]));
          if (op === "MatMul" && rand() < 0.7) {
            if (bs.length === 1) bs[0] = xs[xs.length - 1]; else bs[bs.length - 2] = xs[xs.length - 1];
          }
          g.addInitializer("B", bs, f32(prod(bs)));
          inputs.push("B");
        } else if (op === "Reshape") {
          xs = Array.from({ length: ri(1, 4) }, () => ri(1, 4));
          const target = Array.from({ length: ri(1, 4) }, () => pick([-1, 0, 1, 2, 3, 4, prod(xs)]));
          g.addInitializer("s", [target.length], BigInt64Array.from(target.map(BigInt)));
          inputs.push("s");
        } else if (op === "Concat") {
          xs = Array.from({ length: ri(1, 4) }, () => ri(1, 3));
          const axis = ri(-xs.length, xs.length - 1);
          for (let i = 0; i < ri(1, 3); i++) {
            const sh = [...xs];
            sh[(axis + xs.length) % xs.length] = ri(1, 3);
            g.addInitializer(`c${i}`, sh, f32(prod(sh)));
            inputs.push(`c${i}`);
          }
          attrs.push(attr.int("axis", axis));
        } else {
          xs = Array.from({ length: ri(0, 4) }, () => ri(1, 3));
          if (op === "Transpose" && rand() < 0.7) attrs.push(attr.ints("perm", shuffleInPlace(xs.map((_, i) => i), rand)));
          if (op !== "Transpose" && rand() < 0.7) attrs.push(attr.int("axis", ri(-xs.length - 1, xs.length)));
        }
        g.addInput("x", xs).addNode(op, inputs, ["y"], attrs);
        const inferred = withInferredOutput(g.toModelProto({ opset: 17, irVersion: 8 }));
        if (inferred === undefined) continue; // refused for another reason
        const { bytes, shape } = inferred;
        accepted++;
        const s = await session(bytes);
        const out = await s.run({ x: new ort.Tensor("float32", f32(prod(xs)), xs) });
        assert.deepEqual(out.y.dims, shape, `trial ${trial}: ${op} on ${fmt(xs)}`);
        await s.release();
      }
      console.log(`      ${accepted} of 600 random graphs accepted; onnxruntime agreed on every output shape`);
      assert.ok(accepted > 300);
    });

    it("random mutations of a small model either validate or throw ModelValidationError; accepted ones run in onnxruntime with the computed shapes", async () => {
      const small = buildMlp({ inputSize: 6, hidden: 5, outputs: 3, weights: randomMlpWeights(6, 5, 3, 4) });
      const rand = mulberry32(2024);
      let accepted = 0;
      let rejected = 0;
      const seen = new Set<string>();
      for (let trial = 0; trial < 3000; trial++) {
        const m = Uint8Array.from(small);
        const edits = 1 + Math.floor(rand() * 3);
        for (let e = 0; e < edits; e++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
        let summary: ModelSummary | undefined;
        try {
          summary = validateModel(m);
        } catch (err) {
          assert.ok(err instanceof ModelValidationError, `trial ${trial}: ${String(err)}`);
          rejected++;
          continue;
        }
        accepted++;
        const key = Buffer.from(m).toString("hex");
        if (seen.has(key)) continue;
        seen.add(key);
        // What we accept, onnxruntime must load and run with exactly the shapes we computed.
        const s = await session(m);
        const feeds: Record<string, ort.Tensor> = {};
        for (const inp of summary.inputs) {
          const n = inp.shape.reduce((a, b) => a * b, 1);
          feeds[inp.name] = new ort.Tensor("float32", new Float32Array(n).fill(0.5), inp.shape);
        }
        const out = await s.run(feeds);
        for (const o of summary.outputs) assert.deepEqual(out[o.name].dims, o.shape, `trial ${trial}`);
        await s.release();
      }
      console.log(`      ${accepted} accepted (${seen.size} distinct, all run in onnxruntime), ${rejected} rejected`);
      assert.ok(rejected > 0 && accepted > 0);
    });
  });
});
