/**
 * Static validation of ONNX models, run inside consensus code (deterministic; see README.md).
 *
 * validateModel(bytes, limits) either returns the model's interface (inputs, outputs, opset) and
 * its integer work cost per item, or throws ModelValidationError naming the first problem found.
 *
 * Determinism rules kept here: no onnxruntime, no floating point in any decision (shapes, sizes
 * and costs are integers; attribute floats are never read as numbers), no clock or randomness,
 * Maps/Sets only for lookups (never iterated), opType dispatch by `switch` (never by object key,
 * so a name like "__proto__" or "constructor" cannot reach a prototype property). Checks run in
 * a fixed order, so the same bytes always give the same result and the same message.
 *
 * Check order: size → protobuf structure (model-parse.ts) → ir_version → opset imports → every
 * node's domain and op against the whitelist → initializers → graph inputs → nodes in order
 * (inputs defined, attributes, shape inference, size and cost bounds) → value_info → outputs.
 */
import { ModelValidationError } from "./errors";
import {
  AttrField, parseModel, type ParsedAttribute, type ParsedDim, type ParsedNode, type ParsedTensor,
  type ParsedValueInfo,
} from "./model-parse";

export { ModelValidationError } from "./errors";

export interface ModelLimits {
  /** Largest model file accepted (bytes). */
  maxModelBytes: number;
  irVersionMin: number;
  irVersionMax: number;
  /** Accepted range of the default-domain opset version. */
  opsetMin: number;
  opsetMax: number;
  maxNodes: number;
  /** Largest tensor rank anywhere in the graph. */
  maxRank: number;
  /** Sum of all initializers' data sizes (bytes). */
  maxInitializerBytes: number;
  /** One initializer's data size (bytes). */
  maxInitializerTensorBytes: number;
  /** Elements of any one tensor: graph input, node output, or a Conv's im2col scratch buffer. */
  maxIntermediateElements: number;
  /** Sum of the elements of all node outputs (a bound on the runtime's activation memory). */
  maxTotalIntermediateElements: number;
  /** Work units of one run (see README.md for how they are counted). */
  maxWorkUnitsPerItem: bigint;
}

const MiB = 1024 * 1024;

export const DEFAULT_MODEL_LIMITS: Readonly<ModelLimits> = Object.freeze({
  maxModelBytes: 4 * MiB,
  irVersionMin: 7,
  irVersionMax: 10,
  opsetMin: 13,
  opsetMax: 17,
  maxNodes: 512,
  maxRank: 8,
  maxInitializerBytes: 4 * MiB,
  maxInitializerTensorBytes: 4 * MiB,
  maxIntermediateElements: 1 << 20,
  maxTotalIntermediateElements: 1 << 23,
  maxWorkUnitsPerItem: 1_000_000_000n,
});

/** Graph inputs and outputs are float32 only for now: every PoI task feeds and reads float tensors. */
export type TensorDType = "float32";

export interface TensorInfo {
  name: string;
  shape: number[];
  dtype: TensorDType;
}

export interface ModelSummary {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Integer cost of one run of the graph (one item: shapes are static, batch included). */
  workUnitsPerItem: bigint;
  /** Default-domain opset version the model imports. */
  opset: number;
  irVersion: number;
  nodeCount: number;
  /** Sum of initializer data sizes (bytes). */
  initializerBytes: number;
  /** Sum of the elements of all node outputs. */
  intermediateElements: number;
}

// ONNX TensorProto.DataType codes we accept.
const DT_FLOAT = 1n;
const DT_INT64 = 7n;
// TensorProto.DataLocation
const DATA_LOCATION_DEFAULT = 0n;

// AttributeProto.AttributeType codes.
const AT = {
  FLOAT: 1n, INT: 2n, STRING: 3n, TENSOR: 4n, GRAPH: 5n, FLOATS: 6n, INTS: 7n, STRINGS: 8n, TENSORS: 9n,
  GRAPHS: 10n, SPARSE_TENSOR: 11n, SPARSE_TENSORS: 12n, TYPE_PROTO: 13n, TYPE_PROTOS: 14n,
} as const;

/** The value field that each attribute type uses, and its name for messages. */
function attributeTypeInfo(type: bigint): { field: number; name: string } | undefined {
  switch (type) {
    case AT.FLOAT: return { field: AttrField.F, name: "FLOAT" };
    case AT.INT: return { field: AttrField.I, name: "INT" };
    case AT.STRING: return { field: AttrField.S, name: "STRING" };
    case AT.TENSOR: return { field: AttrField.T, name: "TENSOR" };
    case AT.GRAPH: return { field: AttrField.G, name: "GRAPH" };
    case AT.FLOATS: return { field: AttrField.FLOATS, name: "FLOATS" };
    case AT.INTS: return { field: AttrField.INTS, name: "INTS" };
    case AT.STRINGS: return { field: AttrField.STRINGS, name: "STRINGS" };
    case AT.TENSORS: return { field: AttrField.TENSORS, name: "TENSORS" };
    case AT.GRAPHS: return { field: AttrField.GRAPHS, name: "GRAPHS" };
    case AT.SPARSE_TENSOR: return { field: AttrField.SPARSE_TENSOR, name: "SPARSE_TENSOR" };
    case AT.SPARSE_TENSORS: return { field: AttrField.SPARSE_TENSORS, name: "SPARSE_TENSORS" };
    case AT.TYPE_PROTO: return { field: AttrField.TP, name: "TYPE_PROTO" };
    case AT.TYPE_PROTOS: return { field: AttrField.TYPE_PROTOS, name: "TYPE_PROTOS" };
    default: return undefined;
  }
}

/** Attribute kinds the whitelisted ops take. */
type AttrKind = "int" | "float" | "string" | "ints";

function attrKindType(kind: AttrKind): bigint {
  switch (kind) {
    case "int": return AT.INT;
    case "float": return AT.FLOAT;
    case "string": return AT.STRING;
    case "ints": return AT.INTS;
  }
}

interface OpSpec {
  minInputs: number;
  maxInputs: number;
  /** Allowed attributes; anything else is refused. */
  attrs: readonly (readonly [string, AttrKind])[];
}

const SPATIAL_ATTRS = [["auto_pad", "string"], ["kernel_shape", "ints"], ["pads", "ints"], ["strides", "ints"]] as const;
const UNARY: OpSpec = { minInputs: 1, maxInputs: 1, attrs: [] };
const BINARY: OpSpec = { minInputs: 2, maxInputs: 2, attrs: [] };

/**
 * The op whitelist (default domain only). A `switch`, not an object lookup: see the file comment.
 * Keep it in sync with README.md and with inferNode below.
 */
function opSpec(opType: string): OpSpec | undefined {
  switch (opType) {
    case "Add": case "Sub": case "Mul": case "Div": case "MatMul":
      return BINARY;
    case "Relu": case "Sigmoid": case "Tanh": case "Identity":
      return UNARY;
    case "Softmax": case "Flatten":
      return { minInputs: 1, maxInputs: 1, attrs: [["axis", "int"]] };
    case "Transpose":
      return { minInputs: 1, maxInputs: 1, attrs: [["perm", "ints"]] };
    case "Concat":
      return { minInputs: 1, maxInputs: Number.MAX_SAFE_INTEGER, attrs: [["axis", "int"]] };
    case "Reshape":
      return { minInputs: 2, maxInputs: 2, attrs: [["allowzero", "int"]] };
    case "Gemm":
      return { minInputs: 2, maxInputs: 3, attrs: [["alpha", "float"], ["beta", "float"], ["transA", "int"], ["transB", "int"]] };
    case "Conv":
      return { minInputs: 2, maxInputs: 3, attrs: [...SPATIAL_ATTRS, ["dilations", "ints"], ["group", "int"]] };
    case "MaxPool":
      return { minInputs: 1, maxInputs: 1, attrs: [...SPATIAL_ATTRS, ["dilations", "ints"], ["ceil_mode", "int"], ["storage_order", "int"]] };
    case "AveragePool":
      return { minInputs: 1, maxInputs: 1, attrs: [...SPATIAL_ATTRS, ["ceil_mode", "int"], ["count_include_pad", "int"]] };
    default:
      return undefined;
  }
}

/** The whitelist, for documentation and tests. */
export const ALLOWED_OPS: readonly string[] = Object.freeze([
  "Add", "AveragePool", "Concat", "Conv", "Div", "Flatten", "Gemm", "Identity", "MatMul", "MaxPool", "Mul",
  "Relu", "Reshape", "Sigmoid", "Softmax", "Sub", "Tanh", "Transpose",
]);

type Shape = number[];

/** What the validator knows about a named value. */
interface Value {
  dtype: "float32" | "int64";
  shape: Shape;
  origin: "input" | "initializer" | "node";
  /** For int64 initializers: their values (used as Reshape targets). */
  int64Values?: bigint[];
}

function fmtShape(s: readonly number[]): string {
  return `[${s.join(",")}]`;
}

function product(dims: readonly number[]): bigint {
  let n = 1n;
  for (const d of dims) n *= BigInt(d);
  return n;
}

/** `limits` merged over the defaults and checked (a bad limit is a caller bug, not a bad model). */
export function resolveLimits(limits: Partial<ModelLimits> = {}): ModelLimits {
  const l: ModelLimits = { ...DEFAULT_MODEL_LIMITS };
  // Only limits actually given override the defaults (an explicit `undefined` keeps the default).
  for (const k of Object.keys(DEFAULT_MODEL_LIMITS) as (keyof ModelLimits)[]) {
    if (limits[k] !== undefined) (l as unknown as Record<string, unknown>)[k] = limits[k];
  }
  const ints: (keyof ModelLimits)[] = [
    "maxModelBytes", "irVersionMin", "irVersionMax", "opsetMin", "opsetMax", "maxNodes", "maxRank",
    "maxInitializerBytes", "maxInitializerTensorBytes", "maxIntermediateElements", "maxTotalIntermediateElements",
  ];
  for (const k of ints) {
    const v = l[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new TypeError(`model limit ${k} must be a non-negative safe integer`);
  }
  if (typeof l.maxWorkUnitsPerItem !== "bigint" || l.maxWorkUnitsPerItem < 0n) {
    throw new TypeError("model limit maxWorkUnitsPerItem must be a non-negative bigint");
  }
  return l;
}

/**
 * Validates ONNX ModelProto bytes against the chain's rules and limits.
 * Returns the model's interface and work cost, or throws ModelValidationError.
 */
export function validateModel(bytes: Uint8Array, limits: Partial<ModelLimits> = {}): ModelSummary {
  const lim = resolveLimits(limits);
  if (!(bytes instanceof Uint8Array)) throw new ModelValidationError("model must be given as bytes");
  if (bytes.length === 0) throw new ModelValidationError("model is empty");
  if (bytes.length > lim.maxModelBytes) {
    throw new ModelValidationError(`model is ${bytes.length} bytes, over the limit of ${lim.maxModelBytes} bytes`);
  }

  const model = parseModel(bytes, { maxNodes: lim.maxNodes, maxRank: lim.maxRank });
  const fail = (msg: string): never => {
    throw new ModelValidationError(msg);
  };

  // IR version
  if (model.irVersion === undefined) fail("model has no ir_version");
  const irVersion = model.irVersion as bigint;
  if (irVersion < BigInt(lim.irVersionMin) || irVersion > BigInt(lim.irVersionMax)) {
    fail(`ir_version ${irVersion} is outside the accepted range ${lim.irVersionMin}..${lim.irVersionMax}`);
  }

  // Opset imports: exactly one, the default ONNX domain.
  if (model.opsetImports.length === 0) fail("model has no opset_import");
  let opsetBig: bigint | undefined;
  for (const imp of model.opsetImports) {
    if (imp.domain !== "" && imp.domain !== "ai.onnx") {
      fail(`model imports operator set domain "${imp.domain}"; only the default ONNX domain is allowed`);
    }
    if (opsetBig !== undefined) fail("model imports the default ONNX domain more than once");
    if (imp.version === undefined) fail("opset_import has no version");
    opsetBig = imp.version as bigint;
  }
  const opsetV = opsetBig as bigint;
  if (opsetV < BigInt(lim.opsetMin) || opsetV > BigInt(lim.opsetMax)) {
    fail(`opset version ${opsetV} is outside the accepted range ${lim.opsetMin}..${lim.opsetMax}`);
  }
  const opset = Number(opsetV);

  if (model.graph === undefined) fail("model has no graph");
  const graph = model.graph!;
  if (graph.nodes.length === 0) fail("graph has no nodes");

  // Every node's domain and op first, so an unsupported model is named for its op.
  const nodeNames = new Set<string>();
  graph.nodes.forEach((node, i) => {
    const where = nodeLabel(node, i);
    // onnxruntime refuses two nodes with the same (non-empty) name.
    if (node.name !== "" && nodeNames.has(node.name)) fail(`${where}: another node has the same name`);
    nodeNames.add(node.name);
    if (node.domain !== "" && node.domain !== "ai.onnx") fail(`${where}: domain "${node.domain}" is not allowed; only the default ONNX domain`);
    if (node.overload !== "") fail(`${where}: function overloads are not allowed`);
    if (opSpec(node.opType) === undefined) {
      fail(`${where}: operator "${node.opType}" is not allowed (allowed: ${ALLOWED_OPS.join(", ")})`);
    }
  });

  const values = new Map<string, Value>();
  const defineName = (name: string, what: string, v: Value): void => {
    if (name === "") fail(`${what} has an empty name`);
    if (values.has(name)) fail(`${what}: the name "${name}" is already defined (names must be unique)`);
    values.set(name, v);
  };

  // Initializers
  let initializerBytes = 0;
  graph.initializers.forEach((t, i) => {
    const v = checkInitializer(t, `initializer ${i} "${t.name}"`, lim, fail);
    initializerBytes += v.bytes;
    if (initializerBytes > lim.maxInitializerBytes) {
      fail(`initializers total over ${lim.maxInitializerBytes} bytes (at initializer ${i} "${t.name}")`);
    }
    defineName(t.name, `initializer ${i}`, v.value);
  });

  // Graph inputs: float32, static positive dims, not initializers (an initializer listed as an
  // input is an overridable default since IR 4: the runner could replace the weights).
  if (graph.inputs.length === 0) fail("graph has no inputs");
  const inputs: TensorInfo[] = [];
  graph.inputs.forEach((vi, i) => {
    const where = `graph input ${i} "${vi.name}"`;
    if (vi.name !== "" && values.has(vi.name)) {
      fail(`${where} has the name of an initializer; overridable initializers are not allowed`);
    }
    const shape = staticFloatTensorType(vi, where, lim, fail);
    defineName(vi.name, `graph input ${i}`, { dtype: "float32", shape, origin: "input" });
    inputs.push({ name: vi.name, shape, dtype: "float32" });
  });

  // Index of the node that produces each name, only to explain an input used before its definition.
  const producer = new Map<string, number>();
  graph.nodes.forEach((node, i) => node.outputs.forEach((o) => { if (!producer.has(o)) producer.set(o, i); }));

  // Nodes, in file order: that order must be topological.
  let work = 0n;
  let totalElements = 0n;
  graph.nodes.forEach((node, index) => {
    const where = nodeLabel(node, index);
    const spec = opSpec(node.opType)!;
    const nfail = (msg: string): never => fail(`${where}: ${msg}`);

    // Inputs: arity, then each non-empty name must already be defined.
    if (node.inputs.length < spec.minInputs || node.inputs.length > spec.maxInputs) {
      nfail(spec.minInputs === spec.maxInputs
        ? `takes ${spec.minInputs} input(s), has ${node.inputs.length}`
        : `takes ${spec.minInputs} to ${spec.maxInputs} inputs, has ${node.inputs.length}`);
    }
    const ins: (Value | undefined)[] = node.inputs.map((name, k) => {
      if (name === "") {
        // An empty name means "optional input omitted"; only optional (trailing) inputs may be.
        if (k < spec.minInputs) nfail(`input ${k} is required but empty`);
        return undefined;
      }
      const v = values.get(name);
      if (v === undefined) {
        const p = producer.get(name);
        if (p !== undefined) {
          nfail(p >= index
            ? `input "${name}" is produced by node ${p}, which does not come earlier (nodes must be in topological order; cycles are not allowed)`
            : `input "${name}" is not defined`);
        }
        nfail(`input "${name}" is not defined (not a graph input, an initializer, or an output of an earlier node)`);
      }
      return v;
    });

    // Outputs: one, named, new.
    if (node.outputs.length !== 1) nfail(`must have exactly 1 output, has ${node.outputs.length}`);
    const outName = node.outputs[0];

    const attrs = checkAttributes(node, spec, opset, nfail);
    const ctx: NodeContext = { node, opset, ins, attrs, lim, fail: nfail };
    const res = inferNode(ctx);
    checkShape(res.shape, lim, nfail, "output");
    if (res.scratchElements !== undefined && res.scratchElements > BigInt(lim.maxIntermediateElements)) {
      nfail(`needs a scratch buffer of ${res.scratchElements} elements, over the limit of ${lim.maxIntermediateElements}`);
    }
    totalElements += product(res.shape);
    if (totalElements > BigInt(lim.maxTotalIntermediateElements)) {
      nfail(`intermediate tensors total over ${lim.maxTotalIntermediateElements} elements`);
    }
    work += res.work;
    if (work > lim.maxWorkUnitsPerItem) nfail(`work per item exceeds the limit of ${lim.maxWorkUnitsPerItem} units`);
    if (outName === "") nfail("output name is empty");
    defineName(outName, where, { dtype: "float32", shape: res.shape, origin: "node" });
  });

  // value_info: optional shape annotations of intermediate values; they must agree with ours.
  const annotated = new Set<string>();
  graph.valueInfo.forEach((vi, i) => {
    const where = `value_info ${i} "${vi.name}"`;
    const v = values.get(vi.name);
    if (v === undefined || v.origin !== "node") fail(`${where} does not name a node output`);
    if (annotated.has(vi.name)) fail(`${where} annotates "${vi.name}" twice`);
    annotated.add(vi.name);
    const shape = staticFloatTensorType(vi, where, lim, fail);
    if (!sameShape(shape, v!.shape)) fail(`${where} declares shape ${fmtShape(shape)} but the graph computes ${fmtShape(v!.shape)}`);
  });

  // Graph outputs: produced by nodes, float32, declared shapes equal to the computed ones.
  if (graph.outputs.length === 0) fail("graph has no outputs");
  const outputs: TensorInfo[] = [];
  const outputNames = new Set<string>();
  graph.outputs.forEach((vi, i) => {
    const where = `graph output ${i} "${vi.name}"`;
    if (vi.name === "") fail(`graph output ${i} has an empty name`);
    if (outputNames.has(vi.name)) fail(`${where} is listed twice (duplicate output name)`);
    outputNames.add(vi.name);
    const v = values.get(vi.name);
    if (v === undefined) fail(`${where} is not produced by any node`);
    if (v!.origin !== "node") fail(`${where} must be produced by a node (it is a graph ${v!.origin})`);
    const shape = staticFloatTensorType(vi, where, lim, fail);
    if (!sameShape(shape, v!.shape)) fail(`${where} declares shape ${fmtShape(shape)} but the graph computes ${fmtShape(v!.shape)}`);
    outputs.push({ name: vi.name, shape, dtype: "float32" });
  });

  return {
    inputs,
    outputs,
    workUnitsPerItem: work,
    opset,
    irVersion: Number(irVersion),
    nodeCount: graph.nodes.length,
    initializerBytes,
    intermediateElements: Number(totalElements),
  };
}

function nodeLabel(node: ParsedNode, index: number): string {
  return node.name !== "" ? `node ${index} "${node.name}" (${node.opType})` : `node ${index} (${node.opType})`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Rank and element bounds for any tensor shape we computed or read. */
function checkShape(shape: Shape, lim: ModelLimits, fail: (m: string) => never, what: string): void {
  if (shape.length > lim.maxRank) fail(`${what} rank ${shape.length} is over the limit of ${lim.maxRank}`);
  for (const d of shape) if (!(d >= 1)) fail(`${what} shape ${fmtShape(shape)} has a dimension below 1`);
  const n = product(shape);
  if (n > BigInt(lim.maxIntermediateElements)) {
    fail(`${what} shape ${fmtShape(shape)} has ${n} elements, over the limit of ${lim.maxIntermediateElements}`);
  }
}

/** A ValueInfo that must be a float32 tensor with a fully static, positive shape. */
function staticFloatTensorType(vi: ParsedValueInfo, where: string, lim: ModelLimits, fail: (m: string) => never): Shape {
  const t = vi.type;
  if (t === undefined) return fail(`${where} has no type`);
  if (t.kind !== "tensor") return fail(`${where} is a ${t.what}; only tensors are allowed`);
  if (t.elemType !== DT_FLOAT) {
    return fail(`${where} has element type ${t.elemType ?? "unset"}; only float32 (1) is allowed`);
  }
  if (t.shape === undefined) return fail(`${where} has no shape (unknown rank); static shapes are required`);
  const shape: Shape = t.shape.map((d: ParsedDim, k) => {
    if (d.kind === "param") return fail(`${where} dimension ${k} is dynamic ("${d.param}"); static shapes are required`);
    if (d.kind === "unknown") return fail(`${where} dimension ${k} is unknown; static shapes are required`);
    if (d.value < 1n) return fail(`${where} dimension ${k} is ${d.value}; dimensions must be at least 1`);
    if (d.value > BigInt(lim.maxIntermediateElements)) {
      return fail(`${where} dimension ${k} is ${d.value}, over the element limit of ${lim.maxIntermediateElements}`);
    }
    return Number(d.value);
  });
  checkShape(shape, lim, (m) => fail(`${where}: ${m}`), "tensor");
  return shape;
}

function checkInitializer(
  t: ParsedTensor, where: string, lim: ModelLimits, fail: (m: string) => never,
): { value: Value; bytes: number } {
  if (t.dataLocation !== DATA_LOCATION_DEFAULT || t.externalDataEntries > 0) {
    fail(`${where} uses external data; all data must be inside the model`);
  }
  let elemSize: number;
  let dtype: "float32" | "int64";
  if (t.dataType === DT_FLOAT) {
    elemSize = 4;
    dtype = "float32";
  } else if (t.dataType === DT_INT64) {
    elemSize = 8;
    dtype = "int64";
  } else {
    return fail(`${where} has data type ${t.dataType ?? "unset"}; only float32 (1) and int64 (7) are allowed`);
  }
  for (let k = 0; k < t.dims.length; k++) {
    if (t.dims[k] < 1n) fail(`${where} dimension ${k} is ${t.dims[k]}; dimensions must be at least 1`);
  }
  let count = 1n;
  for (const d of t.dims) {
    count *= d;
    // Stop before the product grows large: it is bounded by the byte limit anyway.
    if (count * BigInt(elemSize) > BigInt(lim.maxInitializerTensorBytes)) {
      fail(`${where} declares more than ${lim.maxInitializerTensorBytes} bytes of data (limit per initializer)`);
    }
  }
  const bytes = Number(count) * elemSize;
  if (t.typedDataFields.length > 0) {
    fail(`${where} stores its values in typed fields; only raw_data (little-endian) is allowed`);
  }
  if (t.rawData === undefined) return fail(`${where} has no raw_data`);
  if (t.rawData.length !== bytes) {
    fail(`${where} raw_data is ${t.rawData.length} bytes but dims ${fmtShape(t.dims.map(Number))} of ${dtype} need ${bytes}`);
  }
  const shape = t.dims.map(Number);
  const value: Value = { dtype, shape, origin: "initializer" };
  if (dtype === "int64") {
    // int64 tensors exist only as Reshape targets: a short 1-D list.
    if (shape.length !== 1 || shape[0] > lim.maxRank) {
      fail(`${where}: int64 initializers must be 1-D with at most ${lim.maxRank} values (Reshape shapes)`);
    }
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    value.int64Values = [];
    for (let k = 0; k < shape[0]; k++) value.int64Values.push(view.getBigInt64(k * 8, true));
  }
  return { value, bytes };
}

/** Parsed attributes of a node, checked against the op's spec. */
class Attrs {
  constructor(
    private readonly byName: Map<string, ParsedAttribute>,
    private readonly fail: (m: string) => never,
  ) {}

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** INT attribute in [min, max], or the default. */
  int(name: string, def: number, min: number, max: number): number {
    const a = this.byName.get(name);
    if (a === undefined) return def;
    const v = a.i as bigint;
    if (v < BigInt(min) || v > BigInt(max)) this.fail(`attribute ${name} = ${v} is outside ${min}..${max}`);
    return Number(v);
  }

  /** INTS attribute (bigints, unchecked), or undefined when absent. */
  ints(name: string): bigint[] | undefined {
    return this.byName.get(name)?.ints;
  }

  /** STRING attribute as text, or the default. */
  string(name: string, def: string): string {
    const a = this.byName.get(name);
    if (a === undefined) return def;
    const s = a.s as Uint8Array;
    let out = "";
    // Attribute strings we accept are short ASCII keywords; anything else cannot match them.
    for (const b of s) {
      if (b < 0x20 || b > 0x7e || out.length > 32) this.fail(`attribute ${name} is not a known keyword`);
      out += String.fromCharCode(b);
    }
    return out;
  }
}

function checkAttributes(node: ParsedNode, spec: OpSpec, opset: number, fail: (m: string) => never): Attrs {
  const byName = new Map<string, ParsedAttribute>();
  for (const a of node.attributes) {
    const label = `attribute "${a.name}"`;
    if (a.name === "") fail("an attribute has no name");
    if (byName.has(a.name)) fail(`${label} is given twice`);
    if (a.refAttrName !== "") fail(`${label} refers to a function attribute (ref_attr_name); functions are not allowed`);
    if (a.valueFields.includes(AttrField.G) || a.valueFields.includes(AttrField.GRAPHS) || a.type === AT.GRAPH || a.type === AT.GRAPHS) {
      fail(`${label} holds a subgraph; subgraph attributes are not allowed`);
    }
    if (a.type === undefined) fail(`${label} has no type`);
    const info = attributeTypeInfo(a.type as bigint);
    if (info === undefined) fail(`${label} has unknown type ${a.type}`);
    const allowed = spec.attrs.find(([n]) => n === a.name);
    if (allowed === undefined) {
      fail(`${label} is not supported for ${node.opType}` +
        (spec.attrs.length ? ` (supported: ${spec.attrs.map(([n]) => n).join(", ")})` : " (it takes none)"));
    }
    const [, kind] = allowed!;
    if (a.type !== attrKindType(kind)) fail(`${label} has type ${info!.name}, expected ${kind.toUpperCase()}`);
    // Exactly the value field of its type (a list may be empty, i.e. absent), and no other.
    for (const f of a.valueFields) {
      if (f !== info!.field) fail(`${label} of type ${info!.name} also sets another value field (#${f})`);
    }
    if (kind !== "ints" && a.valueFields.length !== 1) fail(`${label} of type ${info!.name} has no value`);
    if (node.opType === "Reshape" && a.name === "allowzero" && opset < 14) fail(`${label} needs opset 14 or later`);
    byName.set(a.name, a);
  }
  return new Attrs(byName, fail);
}

interface NodeContext {
  node: ParsedNode;
  opset: number;
  /** Input values by position; undefined for an omitted optional input. */
  ins: (Value | undefined)[];
  attrs: Attrs;
  lim: ModelLimits;
  fail: (m: string) => never;
}

interface Inferred {
  shape: Shape;
  work: bigint;
  /** Elements of a temporary buffer the runtime allocates (Conv's im2col), to bound it too. */
  scratchElements?: bigint;
}

/** Input k as a float32 tensor (required). */
function floatInput(ctx: NodeContext, k: number): Shape {
  const v = ctx.ins[k];
  if (v === undefined) return ctx.fail(`input ${k} is required`);
  if (v.dtype !== "float32") ctx.fail(`input ${k} ("${ctx.node.inputs[k]}") is ${v.dtype}; float32 is required`);
  return v.shape;
}

function optionalFloatInput(ctx: NodeContext, k: number): Shape | undefined {
  return ctx.ins[k] === undefined ? undefined : floatInput(ctx, k);
}

/** An axis attribute (or its default) in [-rank, rank-1], or [-rank, rank] if allowRank; returns it made non-negative. */
function axisAttr(ctx: NodeContext, name: string, def: number | undefined, rank: number, allowRank: boolean): number {
  if (def === undefined && !ctx.attrs.has(name)) ctx.fail(`attribute ${name} is required`);
  const hi = allowRank ? rank : rank - 1;
  const a = ctx.attrs.int(name, def ?? 0, -rank, hi);
  if (a < -rank || a > hi) ctx.fail(`${name} ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
}

/** Multidirectional (numpy) broadcasting of two shapes. */
function broadcastShapes(ctx: NodeContext, a: Shape, b: Shape): Shape {
  const r = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < r; i++) {
    const da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
    const db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else ctx.fail(`shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast`);
  }
  return out;
}

/** Shape inference and work count of one node; see README.md for the work formulas. */
function inferNode(ctx: NodeContext): Inferred {
  const op = ctx.node.opType;
  switch (op) {
    case "Add": case "Sub": case "Mul": case "Div": {
      const shape = broadcastShapes(ctx, floatInput(ctx, 0), floatInput(ctx, 1));
      return { shape, work: product(shape) };
    }
    case "Relu": case "Sigmoid": case "Tanh": case "Identity": {
      const shape = [...floatInput(ctx, 0)];
      return { shape, work: product(shape) };
    }
    case "Softmax": {
      const shape = [...floatInput(ctx, 0)];
      if (shape.length === 0) ctx.fail("input must have rank 1 or more");
      axisAttr(ctx, "axis", -1, shape.length, false);
      return { shape, work: product(shape) };
    }
    case "Flatten": {
      const x = floatInput(ctx, 0);
      const axis = axisAttr(ctx, "axis", 1, x.length, true);
      const shape = [Number(product(x.slice(0, axis))), Number(product(x.slice(axis)))];
      return { shape, work: 0n }; // a view: no data moves
    }
    case "Transpose": {
      const x = floatInput(ctx, 0);
      const permAttr = ctx.attrs.ints("perm");
      const perm: number[] = permAttr === undefined ? x.map((_, i) => x.length - 1 - i) : [];
      if (permAttr !== undefined) {
        if (permAttr.length !== x.length) ctx.fail(`perm has ${permAttr.length} entries for rank ${x.length}`);
        const used = new Array<boolean>(x.length).fill(false);
        for (const p of permAttr) {
          if (p < 0n || p >= BigInt(x.length) || used[Number(p)]) ctx.fail(`perm [${permAttr.join(",")}] is not a permutation of 0..${x.length - 1}`);
          used[Number(p)] = true;
          perm.push(Number(p));
        }
      }
      const shape = perm.map((p) => x[p]);
      return { shape, work: product(shape) };
    }
    case "Concat": {
      const first = floatInput(ctx, 0);
      if (first.length === 0) ctx.fail("inputs must have rank 1 or more");
      const axis = axisAttr(ctx, "axis", undefined, first.length, false);
      const shape = [...first];
      for (let k = 1; k < ctx.ins.length; k++) {
        const s = floatInput(ctx, k);
        if (s.length !== first.length) ctx.fail(`input ${k} has rank ${s.length}, input 0 has rank ${first.length}`);
        for (let d = 0; d < s.length; d++) {
          if (d !== axis && s[d] !== first[d]) ctx.fail(`input ${k} shape ${fmtShape(s)} does not match ${fmtShape(first)} outside axis ${axis}`);
        }
        shape[axis] += s[axis];
        if (shape[axis] > ctx.lim.maxIntermediateElements) ctx.fail("output too large");
      }
      return { shape, work: product(shape) };
    }
    case "Reshape":
      return inferReshape(ctx);
    case "MatMul":
      return inferMatMul(ctx);
    case "Gemm":
      return inferGemm(ctx);
    case "Conv":
      return inferConv(ctx);
    case "MaxPool": case "AveragePool":
      return inferPool(ctx, op);
    default:
      // opSpec() and this switch must list the same ops.
      throw new Error(`validator bug: no shape inference for whitelisted op ${op}`);
  }
}

function inferReshape(ctx: NodeContext): Inferred {
  const x = floatInput(ctx, 0);
  const target = ctx.ins[1]!;
  if (target.origin !== "initializer" || target.dtype !== "int64" || target.int64Values === undefined) {
    ctx.fail(`input 1 ("${ctx.node.inputs[1]}") must be an int64 initializer (a constant shape)`);
  }
  const allowZero = ctx.attrs.int("allowzero", 0, 0, 1) === 1;
  const spec = target.int64Values!;
  const shape: Shape = [];
  let inferAt = -1;
  for (let i = 0; i < spec.length; i++) {
    const v = spec[i];
    if (v === -1n) {
      if (inferAt >= 0) ctx.fail("shape has more than one -1");
      inferAt = i;
      shape.push(1);
    } else if (v === 0n) {
      if (allowZero) ctx.fail("shape has a 0 with allowzero=1 (empty tensors are not allowed)");
      if (i >= x.length) ctx.fail(`shape entry ${i} is 0 (copy) but the input has rank ${x.length}`);
      shape.push(x[i]);
    } else if (v >= 1n && v <= BigInt(ctx.lim.maxIntermediateElements)) {
      shape.push(Number(v));
    } else {
      ctx.fail(`shape entry ${i} is ${v}; entries must be -1, 0 or 1..${ctx.lim.maxIntermediateElements}`);
    }
  }
  const inCount = product(x);
  const known = product(shape);
  if (inferAt >= 0) {
    if (inCount % known !== 0n) ctx.fail(`cannot reshape ${fmtShape(x)} to [${spec.join(",")}]`);
    shape[inferAt] = Number(inCount / known);
  } else if (known !== inCount) {
    ctx.fail(`cannot reshape ${fmtShape(x)} (${inCount} elements) to ${fmtShape(shape)} (${known} elements)`);
  }
  return { shape, work: 0n }; // a view: no data moves
}

function inferMatMul(ctx: NodeContext): Inferred {
  const a = floatInput(ctx, 0);
  const b = floatInput(ctx, 1);
  if (a.length === 0 || b.length === 0) ctx.fail("inputs must have rank 1 or more");
  // numpy matmul: a 1-D operand is a row (A) or a column (B) vector whose extra dim is dropped.
  const A = a.length === 1 ? [1, a[0]] : a;
  const B = b.length === 1 ? [b[0], 1] : b;
  const m = A[A.length - 2];
  const k = A[A.length - 1];
  const k2 = B[B.length - 2];
  const n = B[B.length - 1];
  if (k !== k2) ctx.fail(`shapes ${fmtShape(a)} and ${fmtShape(b)} do not multiply (inner dims ${k} and ${k2})`);
  const batch = broadcastShapes(ctx, A.slice(0, -2), B.slice(0, -2));
  const shape = [...batch, ...(a.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [n])];
  return { shape, work: product(batch) * BigInt(m) * BigInt(k) * BigInt(n) };
}

function inferGemm(ctx: NodeContext): Inferred {
  const a = floatInput(ctx, 0);
  const b = floatInput(ctx, 1);
  const c = optionalFloatInput(ctx, 2);
  if (a.length !== 2 || b.length !== 2) ctx.fail(`A and B must be 2-D, got ${fmtShape(a)} and ${fmtShape(b)}`);
  const transA = ctx.attrs.int("transA", 0, 0, 1) === 1;
  const transB = ctx.attrs.int("transB", 0, 0, 1) === 1;
  const [m, k] = transA ? [a[1], a[0]] : [a[0], a[1]];
  const [k2, n] = transB ? [b[1], b[0]] : [b[0], b[1]];
  if (k !== k2) ctx.fail(`A ${fmtShape(a)} and B ${fmtShape(b)} do not multiply (transA=${+transA}, transB=${+transB})`);
  const shape = [m, n];
  if (c !== undefined) {
    // C is broadcast one way, to [M, N].
    if (c.length > 2) ctx.fail(`C ${fmtShape(c)} has rank over 2`);
    for (let i = 0; i < c.length; i++) {
      const d = c[c.length - 1 - i];
      const want = shape[1 - i];
      if (d !== want && d !== 1) ctx.fail(`C ${fmtShape(c)} does not broadcast to ${fmtShape(shape)}`);
    }
  }
  const mac = BigInt(m) * BigInt(k) * BigInt(n);
  return { shape, work: c === undefined ? mac : mac + BigInt(m) * BigInt(n) };
}

/** An INTS attribute with exactly `len` entries each in [min, max], or the default. */
function intsAttr(ctx: NodeContext, name: string, len: number, min: bigint, max: bigint, def: bigint): bigint[] {
  const v = ctx.attrs.ints(name);
  if (v === undefined) return new Array<bigint>(len).fill(def);
  if (v.length !== len) ctx.fail(`attribute ${name} has ${v.length} entries, expected ${len}`);
  for (const x of v) if (x < min || x > max) ctx.fail(`attribute ${name} entry ${x} is outside ${min}..${max}`);
  return v;
}

const MAX_ATTR_VALUE = 1n << 31n;

/**
 * Output spatial sizes of Conv/pooling (ONNX formulas, floor mode), in bigint, checked ≥ 1.
 * `padLimit(i)` is the exclusive upper bound of each pad along axis i.
 */
function spatialOutput(
  ctx: NodeContext, inSpatial: Shape, kernel: bigint[], dilations: bigint[], padLimit: (i: number) => bigint,
): { out: Shape } {
  const s = inSpatial.length;
  const strides = intsAttr(ctx, "strides", s, 1n, MAX_ATTR_VALUE, 1n);
  const autoPad = ctx.attrs.string("auto_pad", "NOTSET");
  if (autoPad !== "NOTSET" && autoPad !== "VALID" && autoPad !== "SAME_UPPER" && autoPad !== "SAME_LOWER") {
    ctx.fail(`attribute auto_pad "${autoPad}" is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
  }
  if (autoPad !== "NOTSET" && ctx.attrs.has("pads")) ctx.fail(`attribute pads cannot be combined with auto_pad ${autoPad}`);
  const same = autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER";
  // onnxruntime refuses dilated SAME convolutions and sizes dilated SAME pools differently from ONNX.
  if (same && dilations.some((d) => d !== 1n)) ctx.fail(`auto_pad ${autoPad} cannot be combined with dilations other than 1`);
  const pads = intsAttr(ctx, "pads", 2 * s, 0n, MAX_ATTR_VALUE, 0n);
  for (let i = 0; i < s; i++) {
    if (pads[i] >= padLimit(i) || pads[i + s] >= padLimit(i)) {
      ctx.fail(`pads along spatial axis ${i} must be smaller than ${padLimit(i)}`);
    }
  }
  const out: Shape = [];
  for (let i = 0; i < s; i++) {
    const size = BigInt(inSpatial[i]);
    const effKernel = (kernel[i] - 1n) * dilations[i] + 1n;
    let o: bigint;
    if (same) {
      o = (size + strides[i] - 1n) / strides[i];
      // The padding SAME implies, (o-1)·stride + kernel - size, must not be negative (onnxruntime's
      // AveragePool fails on it): a stride larger than the kernel would skip input.
      if ((o - 1n) * strides[i] + effKernel < size) {
        ctx.fail(`auto_pad ${autoPad} with stride ${strides[i]} over kernel ${effKernel} implies negative padding along spatial axis ${i}`);
      }
    } else {
      const span = autoPad === "VALID" ? size : size + pads[i] + pads[i + s];
      if (span < effKernel) ctx.fail(`kernel (${effKernel} with dilation) is larger than the padded input (${span}) along spatial axis ${i}`);
      o = (span - effKernel) / strides[i] + 1n;
    }
    if (o < 1n || o > BigInt(ctx.lim.maxIntermediateElements)) ctx.fail(`output size ${o} along spatial axis ${i} is out of range`);
    out.push(Number(o));
  }
  return { out };
}

function inferConv(ctx: NodeContext): Inferred {
  const x = floatInput(ctx, 0);
  const w = floatInput(ctx, 1);
  const bias = optionalFloatInput(ctx, 2);
  if (x.length < 3 || x.length > 5) ctx.fail(`X ${fmtShape(x)} must have rank 3 to 5 (N, C, 1 to 3 spatial dims)`);
  if (w.length !== x.length) ctx.fail(`W ${fmtShape(w)} must have the rank of X ${fmtShape(x)}`);
  const s = x.length - 2;
  const [n, c] = x;
  const [m, cPerGroup] = w;
  const group = ctx.attrs.int("group", 1, 1, c);
  if (c % group !== 0 || m % group !== 0) ctx.fail(`group ${group} does not divide channels ${c} and feature maps ${m}`);
  if (cPerGroup !== c / group) ctx.fail(`W ${fmtShape(w)} needs ${c / group} input channels per group, has ${cPerGroup}`);
  if (bias !== undefined && (bias.length !== 1 || bias[0] !== m)) ctx.fail(`B ${fmtShape(bias)} must be [${m}]`);
  const kernel = w.slice(2).map(BigInt);
  const ks = ctx.attrs.ints("kernel_shape");
  if (ks !== undefined && (ks.length !== s || ks.some((v, i) => v !== kernel[i]))) {
    ctx.fail(`kernel_shape [${ks.join(",")}] does not match W ${fmtShape(w)}`);
  }
  const dilations = intsAttr(ctx, "dilations", s, 1n, MAX_ATTR_VALUE, 1n);
  const { out } = spatialOutput(ctx, x.slice(2), kernel, dilations, (i) => (kernel[i] - 1n) * dilations[i] + 1n);
  const outSpatial = product(out);
  const kernelSize = product(w.slice(2));
  const shape = [n, m, ...out];
  const outElements = BigInt(n) * BigInt(m) * outSpatial;
  const mac = outElements * BigInt(cPerGroup) * kernelSize;
  return {
    shape,
    work: bias === undefined ? mac : mac + outElements,
    // im2col buffer of one image and group: (C/group · kernel) × output positions.
    scratchElements: BigInt(cPerGroup) * kernelSize * outSpatial,
  };
}

function inferPool(ctx: NodeContext, op: "MaxPool" | "AveragePool"): Inferred {
  const x = floatInput(ctx, 0);
  if (x.length < 3 || x.length > 5) ctx.fail(`X ${fmtShape(x)} must have rank 3 to 5 (N, C, 1 to 3 spatial dims)`);
  const s = x.length - 2;
  if (!ctx.attrs.has("kernel_shape")) ctx.fail("attribute kernel_shape is required");
  const kernel = intsAttr(ctx, "kernel_shape", s, 1n, MAX_ATTR_VALUE, 1n);
  // ceil_mode changes the output size by a rule with runtime-specific edge cases: floor mode only.
  ctx.attrs.int("ceil_mode", 0, 0, 0);
  let dilations = new Array<bigint>(s).fill(1n);
  if (op === "MaxPool") {
    ctx.attrs.int("storage_order", 0, 0, 0); // only affects the Indices output, which is refused
    dilations = intsAttr(ctx, "dilations", s, 1n, MAX_ATTR_VALUE, 1n);
  } else {
    ctx.attrs.int("count_include_pad", 0, 0, 1);
  }
  // onnxruntime requires each pad to be smaller than the kernel.
  const { out } = spatialOutput(ctx, x.slice(2), kernel, dilations, (i) => kernel[i]);
  const shape = [x[0], x[1], ...out];
  return { shape, work: product(shape) * product(kernel.map(Number)) };
}
