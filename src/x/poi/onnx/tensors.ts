/** Checks of tensors the model declares: initializers, graph inputs and outputs, value_info. */
import { initializerFlow, type Flow } from "./dependence";
import type { ModelLimits } from "./limits";
import type { ParsedDim, ParsedTensor, ParsedValueInfo } from "./model-parse";

// ONNX TensorProto.DataType codes we accept.
const DT_FLOAT = 1n;
const DT_INT64 = 7n;
// TensorProto.DataLocation
const DATA_LOCATION_DEFAULT = 0n;

export type Shape = number[];

/** What the validator knows about a named value. */
export interface Value {
  dtype: "float32" | "int64";
  shape: Shape;
  origin: "input" | "initializer" | "node";
  /** Whether it depends on a graph input, or is known to be zeros (dependence.ts). */
  flow: Flow;
  /** For int64 initializers: their values (Reshape targets, ReduceSum axes). */
  int64Values?: bigint[];
}

export function fmtShape(s: readonly number[]): string {
  return `[${s.join(",")}]`;
}

export function product(dims: readonly number[]): bigint {
  let n = 1n;
  for (const d of dims) n *= BigInt(d);
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Rank and element bounds for any tensor shape we computed or read. */
export function checkShape(shape: Shape, lim: ModelLimits, fail: (m: string) => never, what: string): void {
  if (shape.length > lim.maxRank) fail(`${what} rank ${shape.length} is over the limit of ${lim.maxRank}`);
  for (const d of shape) if (!(d >= 1)) fail(`${what} shape ${fmtShape(shape)} has a dimension below 1`);
  const n = product(shape);
  if (n > BigInt(lim.maxIntermediateElements)) {
    fail(`${what} shape ${fmtShape(shape)} has ${n} elements, over the limit of ${lim.maxIntermediateElements}`);
  }
}

/** A ValueInfo that must be a float32 tensor with a fully static, positive shape. */
export function staticFloatTensorType(vi: ParsedValueInfo, where: string, lim: ModelLimits, fail: (m: string) => never): Shape {
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

export function checkInitializer(
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
  const value: Value = { dtype, shape, origin: "initializer", flow: initializerFlow(dtype, t.rawData) };
  if (dtype === "int64") {
    // int64 tensors exist only as Reshape targets and ReduceSum axes: a short 1-D list.
    if (shape.length !== 1 || shape[0] > lim.maxRank) {
      fail(`${where}: int64 initializers must be 1-D with at most ${lim.maxRank} values (Reshape shapes, ReduceSum axes)`);
    }
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    value.int64Values = [];
    for (let k = 0; k < shape[0]; k++) value.int64Values.push(view.getBigInt64(k * 8, true));
  }
  return { value, bytes };
}
