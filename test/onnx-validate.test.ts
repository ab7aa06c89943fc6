/**
 * x/poi/onnx validateModel: the consensus-side static validator of submitted ONNX models (what it
 * accepts, what it refuses and why, and a differential check against onnxruntime).
 *
 *   npx tsc -p tsconfig.json && npx mocha --no-parallel dist/test/onnx-validate.test.js
 */
import { strict as assert } from "assert";
import * as ort from "onnxruntime-node";
import { onnx } from "onnx-proto";
import { attr, buildMlp, DataType, encodeModel, GraphBuilder, MLP_INPUT } from "../src/x/poi/onnx/builder";
import { randomMlpWeights, shuffleInPlace } from "../src/ml/train";
import { mulberry32 } from "../src/util/random";
import {
  DEFAULT_MODEL_LIMITS, ModelValidationError, validateModel, type ModelLimits, type ModelSummary,
} from "../src/x/poi/onnx/validate";
import { mlpBytes, mlpWorkUnits, session } from "./helpers/onnx-models";
import { withInferredOutput } from "./helpers/onnx-shapes";

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

describe("x/poi/onnx validateModel", () => {
  const randomMlp = mlpBytes(randomMlpWeights(784, 64, 10, 7));

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
