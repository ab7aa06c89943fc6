/**
 * A small ONNX graph builder: writes ModelProto bytes with the onnx-proto (protobufjs) schema.
 *
 * What it writes follows the format rules of ./validate.ts: default-domain opset (13 unless asked),
 * float32 graph inputs/outputs with static shapes, initializers as little-endian raw_data, nodes in
 * topological order (the order they are added). The graph itself is the caller's: validate.ts
 * also refuses, e.g., an output that does not depend on the input (all-zero weights).
 *
 * Shapes are static on purpose, batch dimension included (batch 1): the chain prices and bounds
 * a model from its declared shapes before anyone runs it, which needs every dimension known.
 * A dynamic dimension (dim_param) would let the runner pick the size, and so the memory and the
 * work, at run time; validate.ts refuses such models.
 *
 * Generic use:
 *
 *   const g = new GraphBuilder("tiny");
 *   g.addInput("x", [1, 4]);
 *   g.addInitializer("w", [4, 2], Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
 *   g.addNode("MatMul", ["x", "w"], ["y"]);
 *   g.addOutput("y", [1, 2]);
 *   const bytes = encodeModel(g.toModelProto());
 */
import { onnx } from "onnx-proto";

/** ONNX TensorProto.DataType values we write. */
export const DataType = {
  FLOAT: 1,
  INT64: 7,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** The opset and IR version the builder writes unless told otherwise (IR 7 goes with opset 13). */
export const DEFAULT_OPSET = 13;
export const DEFAULT_IR_VERSION = 7;

/** One node attribute; build them with the `attr` helpers so INT and FLOAT are never confused. */
export type AttributeSpec =
  | { name: string; kind: "int"; value: number | bigint }
  | { name: string; kind: "float"; value: number }
  | { name: string; kind: "string"; value: string }
  | { name: string; kind: "ints"; value: readonly (number | bigint)[] }
  | { name: string; kind: "floats"; value: readonly number[] };

export const attr = {
  int: (name: string, value: number | bigint): AttributeSpec => ({ name, kind: "int", value }),
  float: (name: string, value: number): AttributeSpec => ({ name, kind: "float", value }),
  string: (name: string, value: string): AttributeSpec => ({ name, kind: "string", value }),
  ints: (name: string, value: readonly (number | bigint)[]): AttributeSpec => ({ name, kind: "ints", value }),
  floats: (name: string, value: readonly number[]): AttributeSpec => ({ name, kind: "floats", value }),
};

/** protobufjs takes int64 as number (safe integers only) or Long; we only pass safe integers. */
function int64(v: number | bigint): number {
  const n = typeof v === "bigint" ? Number(v) : v;
  if (!Number.isSafeInteger(n)) throw new Error(`int64 value ${String(v)} is not a safe integer`);
  return n;
}

function attributeProto(a: AttributeSpec): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case "int":
      return { name: a.name, type: T.INT, i: int64(a.value) };
    case "float":
      return { name: a.name, type: T.FLOAT, f: a.value };
    case "string":
      return { name: a.name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case "ints":
      return { name: a.name, type: T.INTS, ints: a.value.map(int64) };
    case "floats":
      return { name: a.name, type: T.FLOATS, floats: [...a.value] };
  }
}

/** A tensor-typed ValueInfoProto with a fully static shape. */
export function tensorValueInfo(
  name: string,
  shape: readonly number[],
  elemType: DataTypeCode = DataType.FLOAT,
): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: shape.map((d) => ({ dimValue: int64(d) })) } } },
  };
}

/** Float32 values as little-endian bytes (explicitly, whatever the host's byte order). */
export function float32ToLeBytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/** Int64 values as little-endian bytes. */
export function int64ToLeBytes(data: BigInt64Array | readonly bigint[]): Uint8Array {
  const out = new Uint8Array(data.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setBigInt64(i * 8, data[i], true);
  return out;
}

function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A TensorProto (initializer) whose data is in raw_data, little-endian. */
export function tensorProto(
  name: string,
  dims: readonly number[],
  data: Float32Array | BigInt64Array,
): onnx.ITensorProto {
  if (elementCount(dims) !== data.length) {
    throw new Error(`initializer ${name}: dims [${dims.join(",")}] hold ${elementCount(dims)} values, got ${data.length}`);
  }
  const isFloat = data instanceof Float32Array;
  return {
    name,
    dims: dims.map(int64),
    dataType: isFloat ? DataType.FLOAT : DataType.INT64,
    rawData: isFloat ? float32ToLeBytes(data) : int64ToLeBytes(data),
  };
}

/** Collects a graph; nodes must be added in topological order (ONNX requires it). */
export class GraphBuilder {
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly nodes: onnx.INodeProto[] = [];

  constructor(readonly name = "graph") {}

  addInput(name: string, shape: readonly number[], elemType: DataTypeCode = DataType.FLOAT): this {
    this.inputs.push(tensorValueInfo(name, shape, elemType));
    return this;
  }

  addOutput(name: string, shape: readonly number[], elemType: DataTypeCode = DataType.FLOAT): this {
    this.outputs.push(tensorValueInfo(name, shape, elemType));
    return this;
  }

  /** A constant tensor: Float32Array for weights, BigInt64Array for e.g. a Reshape target shape. */
  addInitializer(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): this {
    this.initializers.push(tensorProto(name, dims, data));
    return this;
  }

  addNode(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attributes: readonly AttributeSpec[] = [],
    name = `${opType.toLowerCase()}_${this.nodes.length}`,
  ): this {
    this.nodes.push({
      name,
      opType,
      input: [...inputs],
      output: [...outputs],
      attribute: attributes.map(attributeProto),
    });
    return this;
  }

  toGraphProto(): onnx.IGraphProto {
    return {
      name: this.name,
      node: [...this.nodes],
      initializer: [...this.initializers],
      input: [...this.inputs],
      output: [...this.outputs],
    };
  }

  toModelProto(opts: ModelOptions = {}): onnx.IModelProto {
    return modelProto(this.toGraphProto(), opts);
  }

  toBytes(opts: ModelOptions = {}): Uint8Array {
    return encodeModel(this.toModelProto(opts));
  }
}

export interface ModelOptions {
  opset?: number;
  irVersion?: number;
  producerName?: string;
}

/** Wraps a graph in a ModelProto that imports only the default ONNX domain. */
export function modelProto(graph: onnx.IGraphProto, opts: ModelOptions = {}): onnx.IModelProto {
  return {
    irVersion: opts.irVersion ?? DEFAULT_IR_VERSION,
    producerName: opts.producerName ?? "poi-chain",
    opsetImport: [{ domain: "", version: opts.opset ?? DEFAULT_OPSET }],
    graph,
  };
}

/** ModelProto message → bytes. */
export function encodeModel(model: onnx.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export interface MlpWeights {
  /** [inputSize, hidden], row-major (input index major), as ONNX MatMul(input, w1) expects. */
  w1: Float32Array;
  b1: Float32Array;
  /** [hidden, outputs], row-major. */
  w2: Float32Array;
  b2: Float32Array;
}

export interface MlpSpec {
  inputSize: number;
  hidden: number;
  outputs: number;
  weights: MlpWeights;
}

/** Tensor names of the MLP graph (the chain's task specs refer to them). */
export const MLP_INPUT = "input";
export const MLP_OUTPUT = "logits";
/** The MLP's parameters: its initializers, in this order (the keys of MlpWeights). */
export const MLP_PARAMS = ["w1", "b1", "w2", "b2"] as const satisfies readonly (keyof MlpWeights)[];

/** The shape of each MLP parameter, in MLP_PARAMS order. */
export function mlpParamShapes(inputSize: number, hidden: number, outputs: number): Record<keyof MlpWeights, number[]> {
  return { w1: [inputSize, hidden], b1: [hidden], w2: [hidden, outputs], b2: [outputs] };
}

/** Checks an MLP's weight arrays against its sizes. */
export function checkMlpWeights(spec: MlpSpec): void {
  const { inputSize, hidden, outputs, weights } = spec;
  for (const [k, v] of [["inputSize", inputSize], ["hidden", hidden], ["outputs", outputs]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`MLP ${k} must be a positive integer, got ${v}`);
  }
  const want: [keyof MlpWeights, number][] = [
    ["w1", inputSize * hidden], ["b1", hidden], ["w2", hidden * outputs], ["b2", outputs],
  ];
  for (const [k, n] of want) {
    if (weights[k].length !== n) throw new Error(`MLP weights.${k} must have ${n} values, got ${weights[k].length}`);
  }
}

/**
 * Graph of a one-hidden-layer MLP with batch 1:
 *   input [1,inputSize] → MatMul w1 → Add b1 → Relu → MatMul w2 → Add b2 → logits [1,outputs]
 */
export function buildMlpGraph(spec: MlpSpec): GraphBuilder {
  checkMlpWeights(spec);
  const { inputSize, hidden, outputs, weights } = spec;
  const g = new GraphBuilder("mlp").addInput(MLP_INPUT, [1, inputSize]);
  const shapes = mlpParamShapes(inputSize, hidden, outputs);
  for (const p of MLP_PARAMS) g.addInitializer(p, shapes[p], weights[p]);
  return g
    .addNode("MatMul", [MLP_INPUT, "w1"], ["hidden_mm"], [], "fc1_matmul")
    .addNode("Add", ["hidden_mm", "b1"], ["hidden_pre"], [], "fc1_bias")
    .addNode("Relu", ["hidden_pre"], ["hidden"], [], "fc1_relu")
    .addNode("MatMul", ["hidden", "w2"], ["logits_mm"], [], "fc2_matmul")
    .addNode("Add", ["logits_mm", "b2"], [MLP_OUTPUT], [], "fc2_bias")
    .addOutput(MLP_OUTPUT, [1, outputs]);
}

/** ModelProto bytes of the MLP (see buildMlpGraph). */
export function buildMlp(spec: MlpSpec, opts: ModelOptions = {}): Uint8Array {
  return buildMlpGraph(spec).toBytes(opts);
}
