/**
 * x/poi/onnx work units that mean real work: only input-dependent, needed nodes are credited, and a
 * model with an output that does not depend on the input is refused (src/x/poi/onnx/dependence.ts).
 * Every claim "the same for every item" is checked against onnxruntime with several random inputs.
 *
 *   npx tsc -p tsconfig.json && npx mocha dist/test/onnx-work.test.js
 */
import { strict as assert } from "assert";
import * as ort from "onnxruntime-node";
import { attr, buildMlp, GraphBuilder } from "../src/x/poi/onnx/builder";
import { randomMlpWeights } from "../src/ml/train";
import { mulberry32 } from "../src/util/random";
import { ModelValidationError, validateModel } from "../src/x/poi/onnx/validate";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";

type Shapes = Record<string, number[]>;

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Non-zero float32 values (never ±0), seeded. */
function weights(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => (rand() < 0.5 ? -1 : 1) * (0.25 + rand()));
}

/** All zeros, half of them stored as -0.0 (bytes 00 00 00 80). */
function zeros(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 0 : -0));
}

/** Runs the model on each item (a value for every input); returns each item's outputs by name. */
async function runFeeds(bytes: Uint8Array, inputs: Shapes, items: Record<string, Float32Array>[]): Promise<Record<string, Float32Array>[]> {
  // Errors only: the random graphs leave initializers unused, which onnxruntime warns about.
  const s = await ort.InferenceSession.create(bytes, { ...SESSION_OPTIONS, logSeverityLevel: 3 });
  const results: Record<string, Float32Array>[] = [];
  for (const item of items) {
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of Object.keys(inputs)) feeds[name] = new ort.Tensor("float32", item[name], inputs[name]);
    const out = await s.run(feeds);
    const got: Record<string, Float32Array> = {};
    for (const name of s.outputNames) got[name] = out[name].data as Float32Array;
    results.push(got);
  }
  await s.release();
  return results;
}

/** Runs the model on `items` random items. */
function runItems(bytes: Uint8Array, inputs: Shapes, items: number, seed: number): Promise<Record<string, Float32Array>[]> {
  const rand = mulberry32(seed);
  const feeds = Array.from({ length: items }, () => {
    const item: Record<string, Float32Array> = {};
    for (const name of Object.keys(inputs)) item[name] = Float32Array.from({ length: prod(inputs[name]) }, () => rand() * 4 - 2);
    return item;
  });
  return runFeeds(bytes, inputs, feeds);
}

/** Same number (±0 equal, NaN equal to NaN). */
const same = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

/** onnxruntime gives `output` the same value for every one of a few random items. */
async function assertSameForEveryItem(bytes: Uint8Array, inputs: Shapes, output: string, seed = 1): Promise<void> {
  const items = await runItems(bytes, inputs, 4, seed);
  for (const item of items.slice(1)) {
    const a = items[0][output];
    const b = item[output];
    assert.equal(a.length, b.length);
    for (let k = 0; k < a.length; k++) assert.ok(same(a[k], b[k]), `output "${output}"[${k}]: ${a[k]} vs ${b[k]}`);
  }
}

/** onnxruntime gives `output` different values for two items (random unless given). */
async function assertVaries(bytes: Uint8Array, inputs: Shapes, output: string, items?: Record<string, Float32Array>[]): Promise<void> {
  const [a, b] = items === undefined ? await runItems(bytes, inputs, 2, 7) : await runFeeds(bytes, inputs, items);
  assert.ok(a[output].some((v, k) => !same(v, b[output][k])), `output "${output}" is the same for two items`);
}

/** validateModel refuses `bytes` with exactly `message`. */
function assertRefused(bytes: Uint8Array, message: string): void {
  assert.throws(() => validateModel(bytes), (e: unknown) => {
    assert.ok(e instanceof ModelValidationError, `expected ModelValidationError, got ${String(e)}`);
    assert.equal(e.message, message);
    return true;
  });
}

const notDependent = (i: number, out: string, input: string, why: string): string =>
  `graph output ${i} "${out}" does not depend on the input "${input}": its value is the same for every item (${why})`;

describe("x/poi/onnx work units", function () {
  describe("credited work", () => {
    it("the MNIST MLP is unchanged: 784·64 + 64·10 + 64 + 64 + 10 = 50,954, all of it input-dependent", () => {
      const s = validateModel(buildMlp({ inputSize: 784, hidden: 64, outputs: 10, weights: randomMlpWeights(784, 64, 10, 7) }));
      assert.equal(s.workUnitsPerItem, 50_954n);
      assert.equal(s.totalWorkUnits, 50_954n);
    });

    it("a subgraph of initializers only (folded by onnxruntime at load) counts 0", async () => {
      // y = x·W [1,8] + Relu(W1·W2) [1,8]: only x·W (16·8 = 128) and the Add (8) depend on x.
      const bytes = new GraphBuilder("fold")
        .addInput("x", [1, 16])
        .addInitializer("W", [16, 8], weights(128, 1))
        .addInitializer("W1", [1, 32], weights(32, 2))
        .addInitializer("W2", [32, 8], weights(256, 3))
        .addNode("MatMul", ["x", "W"], ["a"])
        .addNode("MatMul", ["W1", "W2"], ["c"]) // 256 MACs, constant
        .addNode("Relu", ["c"], ["rc"]) //          8, constant
        .addNode("Add", ["a", "rc"], ["y"])
        .addOutput("y", [1, 8])
        .toBytes();
      const s = validateModel(bytes);
      assert.equal(s.workUnitsPerItem, 136n);
      assert.equal(s.totalWorkUnits, 128n + 256n + 8n + 8n);
      await assertVaries(bytes, { x: [1, 16] }, "y");
    });

    it("a branch multiplied by zeros, or read by no output, earns nothing", async () => {
      // y = x·W + (x·W2)·0; the unused x·W3 feeds nothing. Credited: x·W (128) + Add (8).
      const bytes = new GraphBuilder("dead")
        .addInput("x", [1, 16])
        .addInitializer("W", [16, 8], weights(128, 1))
        .addInitializer("W2", [16, 8], weights(128, 2))
        .addInitializer("W3", [16, 8], weights(128, 3))
        .addInitializer("z", [8], zeros(8))
        .addNode("MatMul", ["x", "W"], ["a"])
        .addNode("MatMul", ["x", "W2"], ["b"])
        .addNode("Relu", ["b"], ["rb"])
        .addNode("Mul", ["rb", "z"], ["bz"])
        .addNode("MatMul", ["x", "W3"], ["unused"])
        .addNode("Add", ["a", "bz"], ["y"])
        .addOutput("y", [1, 8])
        .toBytes();
      const s = validateModel(bytes);
      assert.equal(s.workUnitsPerItem, 136n);
      assert.equal(s.totalWorkUnits, 128n * 3n + 8n + 8n + 8n);
      await assertVaries(bytes, { x: [1, 16] }, "y");
    });

    it("Gemm with a zero B (or alpha = 0) and C from the input is credited beta·C only: M·N", async () => {
      // y = A·0 + x = x: [2,3], credited 2·3 = 6 instead of 2·5·3 + 6 = 36.
      for (const [B, alpha] of [[zeros(15), 1], [weights(15, 4), 0]] as const) {
        const bytes = new GraphBuilder("gemm-c")
          .addInput("x", [2, 3])
          .addInitializer("A", [2, 5], weights(10, 5))
          .addInitializer("B", [5, 3], B)
          .addNode("Gemm", ["A", "B", "x"], ["y"], [attr.float("alpha", alpha)])
          .addOutput("y", [2, 3])
          .toBytes();
        const s = validateModel(bytes);
        assert.equal(s.workUnitsPerItem, 6n);
        assert.equal(s.totalWorkUnits, 36n);
        const [item] = await runItems(bytes, { x: [2, 3] }, 1, 3);
        const [x] = await runItems(new GraphBuilder("id").addInput("x", [2, 3]).addNode("Identity", ["x"], ["y"])
          .addOutput("y", [2, 3]).toBytes(), { x: [2, 3] }, 1, 3);
        assert.deepEqual(item.y, x.y); // onnxruntime agrees: the result is C itself
      }
    });

    it("Conv with zero weights and the bias from the input is credited the bias add only: N·M·out", async () => {
      // y[0,m,:,:] = b[m]: [1,3,2,2], credited 12 instead of 12·2·9 + 12 = 228.
      const bytes = new GraphBuilder("conv-b")
        .addInput("b", [3])
        .addInitializer("X", [1, 2, 4, 4], weights(32, 6))
        .addInitializer("w", [3, 2, 3, 3], zeros(54))
        .addNode("Conv", ["X", "w", "b"], ["y"])
        .addOutput("y", [1, 3, 2, 2])
        .toBytes();
      const s = validateModel(bytes);
      assert.equal(s.workUnitsPerItem, 12n);
      assert.equal(s.totalWorkUnits, 228n);
      await assertVaries(bytes, { b: [3] }, "y");
    });

    it("an initializer with one non-zero bit is not zero: its product is credited", () => {
      const tiny = zeros(8);
      new Uint8Array(tiny.buffer)[4] = 1; // element 1 becomes the smallest denormal
      const bytes = new GraphBuilder("tiny")
        .addInput("x", [1, 16])
        .addInitializer("W", [16, 8], weights(128, 1))
        .addInitializer("t", [8], tiny)
        .addNode("MatMul", ["x", "W"], ["a"])
        .addNode("Mul", ["a", "t"], ["y"])
        .addOutput("y", [1, 8])
        .toBytes();
      assert.equal(validateModel(bytes).workUnitsPerItem, 136n);
    });
  });

  describe("refusal of outputs that do not depend on the input", () => {
    it("MatMul(x, W) then Mul by an all-zero initializer (+0 and -0)", async () => {
      const bytes = new GraphBuilder("mulzero")
        .addInput("x", [1, 4])
        .addInitializer("W", [4, 3], weights(12, 1))
        .addInitializer("z", [3], zeros(3))
        .addNode("MatMul", ["x", "W"], ["h"])
        .addNode("Mul", ["h", "z"], ["y"])
        .addOutput("y", [1, 3])
        .toBytes();
      assertRefused(bytes, notDependent(0, "y", "x", `node 1 "mul_1" (Mul) multiplies by "z", which is all zeros`));
      await assertSameForEveryItem(bytes, { x: [1, 4] }, "y");
    });

    it("an output computed from initializers only", async () => {
      const bytes = new GraphBuilder("const")
        .addInput("x", [1, 4])
        .addInitializer("W1", [1, 4], weights(4, 1))
        .addInitializer("W2", [4, 4], weights(16, 2))
        .addNode("Relu", ["x"], ["r"])
        .addNode("MatMul", ["W1", "W2"], ["c"])
        .addNode("Add", ["c", "W1"], ["k"])
        .addOutput("r", [1, 4])
        .addOutput("k", [1, 4])
        .toBytes();
      assertRefused(bytes, notDependent(1, "k", "x", "it is computed from initializers only"));
      await assertSameForEveryItem(bytes, { x: [1, 4] }, "k");
    });

    it("Sub(x, x), also through Identity, and what is computed from it", async () => {
      const direct = new GraphBuilder("subxx").addInput("x", [2, 3]).addNode("Sub", ["x", "x"], ["y"]).addOutput("y", [2, 3]).toBytes();
      assertRefused(direct, notDependent(0, "y", "x", `node 0 "sub_0" (Sub) subtracts "x" from "x", the same value`));
      await assertSameForEveryItem(direct, { x: [2, 3] }, "y");
      const viaIdentity = new GraphBuilder("subxi")
        .addInput("x", [2, 3])
        .addInitializer("W", [3, 4], weights(12, 1))
        .addNode("Identity", ["x"], ["xi"])
        .addNode("Identity", ["xi"], ["xii"])
        .addNode("Sub", ["xii", "x"], ["d"])
        .addNode("Relu", ["d"], ["r"])
        .addNode("MatMul", ["r", "W"], ["y"])
        .addOutput("y", [2, 4])
        .toBytes();
      assertRefused(viaIdentity, notDependent(0, "y", "x", `node 2 "sub_2" (Sub) subtracts "x" from "xii", the same value`));
      await assertSameForEveryItem(viaIdentity, { x: [2, 3] }, "y");
    });

    it("Gemm with a zero B, with alpha = 0, and with beta = 0 when only C depends on the input", async () => {
      const gemm = (B: Float32Array, attrs: ReturnType<typeof attr.float>[]): Uint8Array =>
        new GraphBuilder("gemm")
          .addInput("x", [2, 5])
          .addInitializer("B", [5, 3], B)
          .addInitializer("C", [3], weights(3, 2))
          .addNode("Gemm", ["x", "B", "C"], ["y"], attrs)
          .addOutput("y", [2, 3])
          .toBytes();
      const cases: [Uint8Array, string][] = [
        [gemm(zeros(15), []), `node 0 "gemm_0" (Gemm) multiplies by "B", which is all zeros`],
        [gemm(weights(15, 3), [attr.float("alpha", -0)]), `node 0 "gemm_0" (Gemm) has alpha = 0`],
      ];
      for (const [bytes, why] of cases) {
        assertRefused(bytes, notDependent(0, "y", "x", why));
        await assertSameForEveryItem(bytes, { x: [2, 5] }, "y");
      }
      const betaZero = new GraphBuilder("beta0")
        .addInput("x", [2, 3])
        .addInitializer("A", [2, 5], weights(10, 1))
        .addInitializer("B", [5, 3], weights(15, 2))
        .addNode("Gemm", ["A", "B", "x"], ["y"], [attr.float("beta", 0)])
        .addOutput("y", [2, 3])
        .toBytes();
      assertRefused(betaZero, notDependent(0, "y", "x", `node 0 "gemm_0" (Gemm) has beta = 0`));
      await assertSameForEveryItem(betaZero, { x: [2, 3] }, "y");
    });

    it("Conv with zero weights (the result is the bias)", async () => {
      const bytes = new GraphBuilder("conv0")
        .addInput("x", [1, 2, 5, 5])
        .addInitializer("w", [4, 2, 3, 3], zeros(72))
        .addInitializer("b", [4], weights(4, 1))
        .addNode("Conv", ["x", "w", "b"], ["c"], [attr.ints("pads", [1, 1, 1, 1])])
        .addNode("Relu", ["c"], ["y"])
        .addOutput("y", [1, 4, 5, 5])
        .toBytes();
      assertRefused(bytes, notDependent(0, "y", "x", `node 0 "conv_0" (Conv) multiplies by "w", which is all zeros`));
      await assertSameForEveryItem(bytes, { x: [1, 2, 5, 5] }, "y");
    });

    it("zeros stay zeros through Relu, Tanh, Sign, Identity, Transpose, Reshape, Flatten, pools, ReduceSum, Add, Sub and Concat", async () => {
      // z [1,2,4] of zeros → op → [1,2,4]-broadcastable zeros → Mul with MatMul(x, W).
      // Each op's output shape, then the shape of y = h [1,4] · k (broadcast).
      const ops: [string, (g: GraphBuilder) => GraphBuilder, number[]][] = [
        ["Relu", (g) => g.addNode("Relu", ["z"], ["k"]), [1, 2, 4]],
        ["Tanh", (g) => g.addNode("Tanh", ["z"], ["k"]), [1, 2, 4]],
        ["Sign", (g) => g.addNode("Sign", ["z"], ["k"]), [1, 2, 4]],
        ["ReduceSum", (g) => g.addInitializer("axes", [1], BigInt64Array.of(1n)).addNode("ReduceSum", ["z", "axes"], ["k"]), [1, 1, 4]],
        ["Identity", (g) => g.addNode("Identity", ["z"], ["k"]), [1, 2, 4]],
        ["Transpose", (g) => g.addNode("Transpose", ["z"], ["k"], [attr.ints("perm", [1, 0, 2])]), [2, 1, 4]],
        ["Reshape", (g) => g.addInitializer("s", [2], BigInt64Array.from([2n, 4n])).addNode("Reshape", ["z", "s"], ["k"]), [2, 4]],
        ["Flatten", (g) => g.addNode("Flatten", ["z"], ["k"], [attr.int("axis", 2)]), [2, 4]],
        ["MaxPool", (g) => g.addNode("MaxPool", ["z"], ["k"], [attr.ints("kernel_shape", [2]), attr.ints("pads", [1, 0])]), [1, 2, 4]],
        ["AveragePool", (g) => g.addNode("AveragePool", ["z"], ["k"], [attr.ints("kernel_shape", [3]), attr.ints("pads", [2, 0])]), [1, 2, 4]],
        ["Add", (g) => g.addNode("Add", ["z", "z"], ["k"]), [1, 2, 4]],
        ["Sub", (g) => g.addInitializer("z2", [4], zeros(4)).addNode("Sub", ["z", "z2"], ["k"]), [1, 2, 4]],
        ["Concat", (g) => g.addNode("Concat", ["z", "z"], ["k"], [attr.int("axis", 0)]), [2, 2, 4]],
      ];
      for (const [op, build, outShape] of ops) {
        const g = build(new GraphBuilder(op).addInput("x", [1, 3]).addInitializer("z", [1, 2, 4], zeros(8))
          .addInitializer("W", [3, 4], weights(12, 1)).addNode("MatMul", ["x", "W"], ["h"]));
        const bytes = g.addNode("Mul", ["h", "k"], ["y"], [], "scale").addOutput("y", outShape).toBytes();
        try {
          assertRefused(bytes, notDependent(0, "y", "x", `node 2 "scale" (Mul) multiplies by "k", which is all zeros`));
          await assertSameForEveryItem(bytes, { x: [1, 3] }, "y");
        } catch (e) {
          throw new Error(`${op}: ${(e as Error).message}`);
        }
      }
    });

    it("names every input when there are several", () => {
      const bytes = new GraphBuilder("two").addInput("a", [2]).addInput("b", [2]).addInitializer("z", [2], zeros(2))
        .addNode("Add", ["a", "b"], ["s"]).addNode("Mul", ["z", "s"], ["y"]).addOutput("y", [2]).toBytes();
      assertRefused(bytes, `graph output 0 "y" does not depend on any graph input ("a", "b"): its value is the same for every item ` +
        `(node 1 "mul_1" (Mul) multiplies by "z", which is all zeros)`);
    });
  });

  describe("what is not forced is not cut", () => {
    it("Sigmoid(0), Softmax(0), LogSoftmax(0), 0/x and a dilated MaxPool of zeros (windows of padding only) are not zero", async () => {
      const ops: [string, (g: GraphBuilder) => GraphBuilder, number[]][] = [
        ["Sigmoid", (g) => g.addNode("Sigmoid", ["z"], ["k"]), [1, 1, 2]],
        ["Softmax", (g) => g.addNode("Softmax", ["z"], ["k"]), [1, 1, 2]],
        ["LogSoftmax", (g) => g.addNode("LogSoftmax", ["z"], ["k"]), [1, 1, 2]],
        ["Div", (g) => g.addNode("Div", ["z", "x"], ["k"]), [1, 1, 2]],
        // Output size 1 whose window reads positions -1 and 2 of a length-2 input: padding only.
        ["MaxPool", (g) => g.addNode("MaxPool", ["z"], ["k"], [attr.ints("kernel_shape", [2]), attr.ints("dilations", [3]), attr.ints("pads", [1, 1])]), [1, 1, 2]],
      ];
      for (const [op, build, outShape] of ops) {
        const bytes = build(new GraphBuilder(op).addInput("x", [1, 1, 2]).addInitializer("z", [1, 1, 2], zeros(2)))
          .addNode("Mul", ["x", "k"], ["y"]).addOutput("y", outShape).toBytes();
        try {
          assert.equal(validateModel(bytes).workUnitsPerItem, op === "Div" ? 4n : 2n);
          // x · (0 / x) is 0 for x ≠ 0 but NaN for x = 0: not the same for every item.
          const items = op === "Div" ? [{ x: Float32Array.from([1, 2]) }, { x: Float32Array.from([0, 2]) }] : undefined;
          await assertVaries(bytes, { x: [1, 1, 2] }, "y", items);
        } catch (e) {
          throw new Error(`${op}: ${(e as Error).message}`);
        }
      }
    });
  });

  it("random graphs with zero initializers: every output refused as input-independent is constant in onnxruntime", async () => {
    // Values are all [2,3]; Div divides by a non-zero constant only, so every value stays finite
    // (the rules assume finite values: NaN or ±Inf times zero is NaN).
    const rand = mulberry32(909);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
    let refused = 0;
    let accepted = 0;
    for (let trial = 0; trial < 400; trial++) {
      const g = new GraphBuilder("r").addInput("x", [2, 3])
        .addInitializer("z", [2, 3], zeros(6)).addInitializer("z3", [3], zeros(3)).addInitializer("w", [2, 3], weights(6, trial))
        .addInitializer("m", [3, 3], weights(9, trial + 1)).addInitializer("mz", [3, 3], zeros(9))
        .addInitializer("shape", [2], BigInt64Array.from([2n, -1n]));
      const pool = ["x", "x", "z", "w"];
      const operand = (): string => (rand() < 0.5 ? pool[pool.length - 1] : pick(pool));
      const nodes = 2 + Math.floor(rand() * 5);
      for (let i = 0; i < nodes; i++) {
        const out = `v${i}`;
        const op = pick(["Add", "Sub", "Mul", "Div", "Relu", "Tanh", "Sigmoid", "Identity", "Softmax", "MatMul", "Gemm", "Reshape"]);
        if (op === "Add" || op === "Sub" || op === "Mul") g.addNode(op, [operand(), operand()], [out]);
        else if (op === "Div") g.addNode(op, [operand(), "w"], [out]);
        else if (op === "MatMul") g.addNode(op, [operand(), pick(["m", "mz"])], [out]);
        else if (op === "Reshape") g.addNode(op, [operand(), "shape"], [out]);
        else if (op === "Gemm") {
          const c = pick(["", "z3", "w", operand()]);
          g.addNode(op, [operand(), pick(["m", "mz"]), ...(c === "" ? [] : [c])], [out],
            [attr.float("alpha", pick([1, 0.5, 0])), attr.float("beta", pick([1, 0.5, 0]))]);
        } else g.addNode(op, [operand()], [out]);
        pool.push(out);
      }
      const bytes = g.addOutput(`v${nodes - 1}`, [2, 3]).toBytes();
      try {
        const s = validateModel(bytes);
        assert.ok(s.workUnitsPerItem <= s.totalWorkUnits);
        accepted++;
      } catch (e) {
        assert.ok(e instanceof ModelValidationError, String(e));
        assert.match(e.message, /^graph output 0 "v\d+" does not depend on the input "x": its value is the same for every item \(.+\)$/);
        refused++;
        await assertSameForEveryItem(bytes, { x: [2, 3] }, `v${nodes - 1}`, trial);
      }
    }
    console.log(`      ${refused} refused (all constant in onnxruntime), ${accepted} accepted`);
    assert.ok(refused > 50 && accepted > 50);
  });
});
