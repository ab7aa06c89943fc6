/**
 * Strict decoding of ONNX ModelProto bytes into plain structures, for validate.ts.
 *
 * Only the fields the validator needs are decoded; harmless ones (names, doc strings, metadata)
 * are skipped without descending into them. Everything else is refused here or recorded so that
 * validate.ts can refuse it with a precise message:
 *  - unknown field numbers (a field we do not know could change what onnxruntime runs);
 *  - a singular field given twice (protobuf C++ would merge the two, protobufjs keep the last);
 *  - training_info, functions, sparse initializers, quantization annotations, tensor segments;
 *  - the wrong wire type for a field, truncation, invalid UTF-8 in strings.
 * Subgraph-carrying attribute fields (g, graphs, t, tensors, ...) are only recorded as present,
 * never parsed, so nesting depth is bounded by this code (model → graph → node → attribute).
 *
 * Each message is a table of field specs (field number → name, kind, how it is stored) read by
 * field-table.ts's generic reader; the tables are at the end of this file.
 */
import { ModelValidationError } from "./errors";
import { type FieldSpec, type FieldTable, fieldTable, readFields } from "./field-table";
import { WireFormatError, WireReader } from "./wire";

export interface ParseLimits {
  maxNodes: number;
  maxRank: number;
}

/** Caps that keep parsing itself cheap; they are far above anything a whitelisted op needs. */
export const MAX_NODE_INPUTS = 256;
export const MAX_NODE_OUTPUTS = 16;
export const MAX_NODE_ATTRIBUTES = 32;
export const MAX_ATTRIBUTE_INTS = 64;
export const MAX_GRAPH_VALUES = 4096; // graph inputs, outputs, value_info, initializers (each)
export const MAX_OPSET_IMPORTS = 16;

export interface ParsedModel {
  irVersion: bigint | undefined;
  opsetImports: ParsedOpsetImport[];
  graph: ParsedGraph | undefined;
}

export interface ParsedOpsetImport {
  domain: string;
  version: bigint | undefined;
}

export interface ParsedGraph {
  nodes: ParsedNode[];
  initializers: ParsedTensor[];
  inputs: ParsedValueInfo[];
  outputs: ParsedValueInfo[];
  valueInfo: ParsedValueInfo[];
}

export interface ParsedNode {
  name: string;
  opType: string;
  domain: string;
  overload: string;
  inputs: string[];
  outputs: string[];
  attributes: ParsedAttribute[];
}

export interface ParsedAttribute {
  name: string;
  /** AttributeProto.type (AttributeType enum), undefined if absent. */
  type: bigint | undefined;
  /** Float bits of `f` (never interpreted as a number). */
  f: number | undefined;
  i: bigint | undefined;
  s: Uint8Array | undefined;
  ints: bigint[];
  /** AttributeProto field numbers of the value fields present (each at most once, in first-seen order). */
  valueFields: number[];
  refAttrName: string;
}

export interface ParsedTensor {
  name: string;
  dataType: bigint | undefined;
  dims: bigint[];
  rawData: Uint8Array | undefined;
  /** Field numbers of typed data fields present (float_data, int32_data, ...). */
  typedDataFields: number[];
  dataLocation: bigint;
  externalDataEntries: number;
}

export type ParsedDim =
  | { kind: "value"; value: bigint }
  | { kind: "param"; param: string }
  | { kind: "unknown" };

export type ParsedType =
  | { kind: "tensor"; elemType: bigint | undefined; shape: ParsedDim[] | undefined }
  /** sequence, map, optional or sparse tensor: recorded, not parsed. */
  | { kind: "other"; what: string };

export interface ParsedValueInfo {
  name: string;
  type: ParsedType | undefined;
}

/** Attribute value field numbers (AttributeProto). */
export const AttrField = {
  F: 2, I: 3, S: 4, T: 5, G: 6, FLOATS: 7, INTS: 8, STRINGS: 9, TENSORS: 10, GRAPHS: 11,
  TP: 14, TYPE_PROTOS: 15, SPARSE_TENSOR: 22, SPARSE_TENSORS: 23,
} as const;

/** Decodes ModelProto bytes; throws ModelValidationError on anything malformed or unsupported. */
export function parseModel(bytes: Uint8Array, limits: ParseLimits): ParsedModel {
  try {
    return readMessage(bytes, "ModelProto", MODEL, { irVersion: undefined, opsetImports: [], graph: undefined }, limits);
  } catch (e) {
    if (e instanceof WireFormatError) throw new ModelValidationError(`not a valid ONNX model: ${e.message}`);
    throw e;
  }
}

type Spec<M> = FieldSpec<M, ParseLimits>;
type Table<M> = FieldTable<M, ParseLimits>;

function readMessage<M>(bytes: Uint8Array, where: string, table: Table<M>, m: M, limits: ParseLimits): M {
  return readFields(new WireReader(bytes, where), table, m, limits);
}

function parseGraph(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedGraph {
  return readMessage(bytes, where, GRAPH, { nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] }, limits);
}

function parseNode(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedNode {
  const n: ParsedNode = { name: "", opType: "", domain: "", overload: "", inputs: [], outputs: [], attributes: [] };
  return readMessage(bytes, where, NODE, n, limits);
}

function parseAttribute(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedAttribute {
  const a: ParsedAttribute = {
    name: "", type: undefined, f: undefined, i: undefined, s: undefined, ints: [], valueFields: [], refAttrName: "",
  };
  return readMessage(bytes, where, ATTRIBUTE, a, limits);
}

function parseTensor(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedTensor {
  const t: ParsedTensor = {
    name: "", dataType: undefined, dims: [], rawData: undefined, typedDataFields: [], dataLocation: 0n, externalDataEntries: 0,
  };
  return readMessage(bytes, where, TENSOR, t, limits);
}

function parseValueInfo(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedValueInfo {
  return readMessage(bytes, where, VALUE_INFO, { name: "", type: undefined }, limits);
}

/** TypeProto: `value` is a oneof (tensor_type, sequence_type, ...); exactly one must be set. */
interface TypeState { type: ParsedType | undefined }

function setType(m: TypeState, r: WireReader, t: ParsedType): void {
  if (m.type !== undefined) r.fail("more than one type kind set");
  m.type = t;
}

function parseType(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedType {
  const r = new WireReader(bytes, where);
  const { type } = readFields<TypeState, ParseLimits>(r, TYPE, { type: undefined }, limits);
  return type ?? r.fail("type has no kind (tensor, sequence, ...)");
}

interface TensorTypeState { elemType: bigint | undefined; shape: ParsedDim[] | undefined }

function parseTensorType(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedType {
  const t = readMessage<TensorTypeState>(bytes, where, TENSOR_TYPE, { elemType: undefined, shape: undefined }, limits);
  return { kind: "tensor", elemType: t.elemType, shape: t.shape };
}

/** Dimension: dim_value and dim_param are a oneof. */
interface DimState { dim: ParsedDim; valueSet: boolean }

function parseDim(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedDim {
  return readMessage<DimState>(bytes, where, DIM, { dim: { kind: "unknown" }, valueSet: false }, limits).dim;
}

// ---- field tables ---------------------------------------------------------------------------

/** A free-text field that may appear once and is checked (UTF-8) but not kept. */
function text<M>(field: number, name: string): Spec<M> {
  return { field, name, kind: "string", once: true };
}

/** A field that is refused wherever it appears. */
function refused<M>(field: number, name: string, message: string): Spec<M> {
  return { field, name, kind: "refused", message };
}

/** StringStringEntryProto {key, value}: parsed (not just skipped) so malformed bytes are refused here too. */
const STRING_STRING_ENTRY: Table<object> = fieldTable([text(1, "key"), text(2, "value")]);

function readStringStringEntry(bytes: Uint8Array, where: string, limits: ParseLimits): void {
  readMessage(bytes, where, STRING_STRING_ENTRY, {}, limits);
}

/** metadata_props: free-form strings, not used by the runtime. */
function metadata<M>(field: number): Spec<M> {
  return { field, name: "metadata_props", kind: "message", read: (_m, b, w, l) => readStringStringEntry(b, w, l) };
}

/** A repeated message field of the graph: at most `max` entries, each read at `where.name[i]`. */
function graphList<T>(
  field: number, name: string, list: (g: ParsedGraph) => T[], max: (l: ParseLimits) => number,
  parse: (bytes: Uint8Array, where: string, l: ParseLimits) => T,
): Spec<ParsedGraph> {
  return {
    field, name, kind: "message",
    cap: { count: (g) => list(g).length, max, tooMany: (n) => `more than ${n} ${name} entries` },
    read: (g, b, w, l) => { list(g).push(parse(b, w, l)); },
  };
}

const MODEL: Table<ParsedModel> = fieldTable<ParsedModel, ParseLimits>([
  { field: 1, name: "ir_version", kind: "int64", once: true, set: (m, v) => { m.irVersion = v; } },
  text(2, "producer_name"),
  text(3, "producer_version"),
  text(4, "domain"),
  { field: 5, name: "model_version", kind: "int64", once: true },
  text(6, "doc_string"),
  {
    field: 7, name: "graph", kind: "message", once: true, whereAt: () => "graph",
    read: (m, b, w, l) => { m.graph = parseGraph(b, w, l); },
  },
  {
    field: 8, name: "opset_import", kind: "message", whereAt: (_parent, i) => `opset_import[${i}]`,
    cap: { count: (m) => m.opsetImports.length, max: () => MAX_OPSET_IMPORTS, tooMany: (n) => `more than ${n} opset imports` },
    read: (m, b, w, l) => { m.opsetImports.push(readMessage(b, w, OPSET_IMPORT, { domain: "", version: undefined }, l)); },
  },
  metadata(14),
  refused(20, "training_info", "training_info is not allowed"),
  refused(25, "functions", "model-local functions are not allowed"),
]);

const OPSET_IMPORT: Table<ParsedOpsetImport> = fieldTable<ParsedOpsetImport, ParseLimits>([
  { field: 1, name: "domain", kind: "string", once: true, set: (m, v) => { m.domain = v; } },
  { field: 2, name: "version", kind: "int64", once: true, set: (m, v) => { m.version = v; } },
]);

const GRAPH: Table<ParsedGraph> = fieldTable<ParsedGraph, ParseLimits>([
  graphList(1, "node", (g) => g.nodes, (l) => l.maxNodes, parseNode),
  text(2, "name"),
  graphList(5, "initializer", (g) => g.initializers, () => MAX_GRAPH_VALUES, parseTensor),
  text(10, "doc_string"),
  graphList(11, "input", (g) => g.inputs, () => MAX_GRAPH_VALUES, parseValueInfo),
  graphList(12, "output", (g) => g.outputs, () => MAX_GRAPH_VALUES, parseValueInfo),
  graphList(13, "value_info", (g) => g.valueInfo, () => MAX_GRAPH_VALUES, parseValueInfo),
  refused(14, "quantization_annotation", "quantization_annotation is not allowed"),
  refused(15, "sparse_initializer", "sparse_initializer is not allowed"),
  metadata(16),
]);

const NODE: Table<ParsedNode> = fieldTable<ParsedNode, ParseLimits>([
  {
    field: 1, name: "input", kind: "string", utf8Name: "input name", set: (n, v) => { n.inputs.push(v); },
    cap: { count: (n) => n.inputs.length, max: () => MAX_NODE_INPUTS, tooMany: (max) => `more than ${max} inputs` },
  },
  {
    field: 2, name: "output", kind: "string", utf8Name: "output name", set: (n, v) => { n.outputs.push(v); },
    cap: { count: (n) => n.outputs.length, max: () => MAX_NODE_OUTPUTS, tooMany: (max) => `more than ${max} outputs` },
  },
  { field: 3, name: "name", kind: "string", once: true, set: (n, v) => { n.name = v; } },
  { field: 4, name: "op_type", kind: "string", once: true, set: (n, v) => { n.opType = v; } },
  {
    field: 5, name: "attribute", kind: "message", read: (n, b, w, l) => { n.attributes.push(parseAttribute(b, w, l)); },
    cap: { count: (n) => n.attributes.length, max: () => MAX_NODE_ATTRIBUTES, tooMany: (max) => `more than ${max} attributes` },
  },
  text(6, "doc_string"),
  { field: 7, name: "domain", kind: "string", once: true, set: (n, v) => { n.domain = v; } },
  // overload selects a model-local function overload
  { field: 8, name: "overload", kind: "string", once: true, set: (n, v) => { n.overload = v; } },
  metadata(9),
]);

/** Records that an attribute sets value field `field` (each field listed once, in first-seen order). */
function sawValue(a: ParsedAttribute, field: number): void {
  if (!a.valueFields.includes(field)) a.valueFields.push(field);
}

/** Value fields recorded as present, never descended into: no whitelisted op takes them, validate.ts refuses them. */
function opaqueValue(field: number): Spec<ParsedAttribute> {
  return { field, name: `value field ${field}`, kind: "bytes", set: (a) => sawValue(a, field) };
}

const ATTRIBUTE: Table<ParsedAttribute> = fieldTable<ParsedAttribute, ParseLimits>([
  { field: 1, name: "name", kind: "string", once: true, set: (a, v) => { a.name = v; } },
  text(13, "doc_string"),
  { field: 20, name: "type", kind: "int64", once: true, set: (a, v) => { a.type = v; } },
  { field: 21, name: "ref_attr_name", kind: "string", once: true, set: (a, v) => { a.refAttrName = v; } },
  { field: AttrField.F, name: "f", kind: "fixed32", once: true, set: (a, v) => { a.f = v; sawValue(a, AttrField.F); } },
  { field: AttrField.I, name: "i", kind: "int64", once: true, set: (a, v) => { a.i = v; sawValue(a, AttrField.I); } },
  { field: AttrField.S, name: "s", kind: "bytes", once: true, set: (a, v) => { a.s = v; sawValue(a, AttrField.S); } },
  {
    field: AttrField.INTS, name: "ints", kind: "packed-int64", list: (a) => a.ints, max: () => MAX_ATTRIBUTE_INTS,
    set: (a) => sawValue(a, AttrField.INTS),
  },
  // packed (a multiple of 4 bytes) or one 32-bit field per value; the values are never needed
  { field: AttrField.FLOATS, name: "floats", kind: "packed-fixed32", set: (a) => sawValue(a, AttrField.FLOATS) },
  opaqueValue(AttrField.T),
  opaqueValue(AttrField.G),
  opaqueValue(AttrField.STRINGS),
  opaqueValue(AttrField.TENSORS),
  opaqueValue(AttrField.GRAPHS),
  opaqueValue(AttrField.TP),
  opaqueValue(AttrField.TYPE_PROTOS),
  opaqueValue(AttrField.SPARSE_TENSOR),
  opaqueValue(AttrField.SPARSE_TENSORS),
]);

/** A typed data field (float_data, int32_data, ...): skipped, recorded so validate.ts can refuse it. */
function typedData(field: number, name: string): Spec<ParsedTensor> {
  return {
    field, name, kind: "skipped",
    set: (t) => { if (!t.typedDataFields.includes(field)) t.typedDataFields.push(field); },
  };
}

const TENSOR: Table<ParsedTensor> = fieldTable<ParsedTensor, ParseLimits>([
  { field: 1, name: "dims", kind: "packed-int64", list: (t) => t.dims, max: (l) => l.maxRank },
  { field: 2, name: "data_type", kind: "int64", once: true, set: (t, v) => { t.dataType = v; } },
  refused(3, "segment", "tensor segments are not allowed"),
  typedData(4, "float_data"),
  typedData(5, "int32_data"),
  typedData(6, "string_data"),
  typedData(7, "int64_data"),
  { field: 8, name: "name", kind: "string", once: true, set: (t, v) => { t.name = v; } },
  { field: 9, name: "raw_data", kind: "bytes", once: true, set: (t, v) => { t.rawData = v; } },
  typedData(10, "double_data"),
  typedData(11, "uint64_data"),
  text(12, "doc_string"),
  {
    // external_data: key/value pairs pointing at a file; counted, never followed
    field: 13, name: "external_data", kind: "message",
    read: (t, b, w, l) => { readStringStringEntry(b, w, l); t.externalDataEntries++; },
  },
  { field: 14, name: "data_location", kind: "int64", once: true, set: (t, v) => { t.dataLocation = v; } },
  metadata(16),
]);

const VALUE_INFO: Table<ParsedValueInfo> = fieldTable<ParsedValueInfo, ParseLimits>([
  { field: 1, name: "name", kind: "string", once: true, set: (v, s) => { v.name = s; } },
  { field: 2, name: "type", kind: "message", once: true, read: (v, b, w, l) => { v.type = parseType(b, w, l); } },
  text(3, "doc_string"),
  metadata(4),
]);

/** sequence, map, sparse tensor, optional: recorded as present, not parsed. */
function otherType(field: number, what: string): Spec<TypeState> {
  return { field, name: what, kind: "bytes", set: (m, _v, r) => setType(m, r, { kind: "other", what }) };
}

const TYPE: Table<TypeState> = fieldTable<TypeState, ParseLimits>([
  {
    field: 1, name: "tensor_type", kind: "message",
    read: (m, b, w, l, r) => setType(m, r, parseTensorType(b, w, l)),
  },
  otherType(4, "sequence"),
  otherType(5, "map"),
  text(6, "denotation"),
  otherType(8, "sparse tensor"),
  otherType(9, "optional"),
]);

const TENSOR_TYPE: Table<TensorTypeState> = fieldTable<TensorTypeState, ParseLimits>([
  { field: 1, name: "elem_type", kind: "int64", once: true, set: (t, v) => { t.elemType = v; } },
  {
    field: 2, name: "shape", kind: "message", once: true,
    read: (t, b, w, l) => { t.shape = readMessage<{ dims: ParsedDim[] }>(b, w, SHAPE, { dims: [] }, l).dims; },
  },
]);

const SHAPE: Table<{ dims: ParsedDim[] }> = fieldTable<{ dims: ParsedDim[] }, ParseLimits>([
  {
    field: 1, name: "dim", kind: "message", read: (s, b, w, l) => { s.dims.push(parseDim(b, w, l)); },
    cap: { count: (s) => s.dims.length, max: (l) => l.maxRank, tooMany: (max) => `rank above the limit of ${max}` },
  },
]);

function dimOneof(m: DimState, r: WireReader): void {
  if (m.valueSet) r.fail("both dim_value and dim_param set (or one twice)");
  m.valueSet = true;
}

const DIM: Table<DimState> = fieldTable<DimState, ParseLimits>([
  { field: 1, name: "dim_value", kind: "int64", before: dimOneof, set: (m, v) => { m.dim = { kind: "value", value: v }; } },
  { field: 2, name: "dim_param", kind: "string", before: dimOneof, set: (m, v) => { m.dim = { kind: "param", param: v }; } },
  text(3, "denotation"),
]);
