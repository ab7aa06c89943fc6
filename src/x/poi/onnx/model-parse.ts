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
 */
import { ModelValidationError } from "./errors";
import { asInt64, readRepeatedVarint, WireFormatError, WireReader, WireType, wireTypeName } from "./wire";

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

/** Rejects a second occurrence of a singular field. */
function singularFields(r: WireReader): (field: number, name: string) => void {
  const seen = new Set<number>();
  return (field, name) => {
    if (seen.has(field)) r.fail(`field ${name} (${field}) appears more than once`);
    seen.add(field);
  };
}

function expectWire(r: WireReader, wireType: number, expected: number, name: string): void {
  if (wireType !== expected) {
    r.fail(`field ${name} has wire type ${wireTypeName(wireType)}, expected ${wireTypeName(expected)}`);
  }
}

function unknownField(r: WireReader, field: number, wireType: number): never {
  return r.fail(`unknown or unsupported field number ${field} (wire type ${wireTypeName(wireType)})`);
}

/** Decodes ModelProto bytes; throws ModelValidationError on anything malformed or unsupported. */
export function parseModel(bytes: Uint8Array, limits: ParseLimits): ParsedModel {
  try {
    return parseModelProto(bytes, limits);
  } catch (e) {
    if (e instanceof WireFormatError) throw new ModelValidationError(`not a valid ONNX model: ${e.message}`);
    throw e;
  }
}

/** ModelProto's free-text fields, by field number (indexed by a number, never by input text). */
const MODEL_STRING_FIELDS: readonly string[] = ["", "", "producer_name", "producer_version", "domain", "", "doc_string"];

function parseModelProto(bytes: Uint8Array, limits: ParseLimits): ParsedModel {
  const r = new WireReader(bytes, "ModelProto");
  const once = singularFields(r);
  const model: ParsedModel = { irVersion: undefined, opsetImports: [], graph: undefined };
  while (!r.done) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1: // ir_version
        once(field, "ir_version");
        expectWire(r, wireType, WireType.VARINT, "ir_version");
        model.irVersion = asInt64(r.varint());
        break;
      case 2:
      case 3:
      case 4:
      case 6: {
        const name = MODEL_STRING_FIELDS[field];
        once(field, name);
        expectWire(r, wireType, WireType.LEN, name);
        r.string(name);
        break;
      }
      case 5: // model_version
        once(field, "model_version");
        expectWire(r, wireType, WireType.VARINT, "model_version");
        r.varint();
        break;
      case 7: // graph
        once(field, "graph");
        expectWire(r, wireType, WireType.LEN, "graph");
        model.graph = parseGraph(r.bytes(), "graph", limits);
        break;
      case 8: // opset_import
        expectWire(r, wireType, WireType.LEN, "opset_import");
        if (model.opsetImports.length >= MAX_OPSET_IMPORTS) r.fail(`more than ${MAX_OPSET_IMPORTS} opset imports`);
        model.opsetImports.push(parseOpsetImport(r.bytes(), `opset_import[${model.opsetImports.length}]`));
        break;
      case 14: // metadata_props: free-form strings, not used by the runtime
        expectWire(r, wireType, WireType.LEN, "metadata_props");
        parseStringStringEntry(r.bytes(), `${r.where}.metadata_props`);
        break;
      case 20:
        r.fail("training_info is not allowed");
        break;
      case 25:
        r.fail("model-local functions are not allowed");
        break;
      default:
        unknownField(r, field, wireType);
    }
  }
  return model;
}

/** StringStringEntryProto {key, value}: parsed (not just skipped) so malformed bytes are refused here too. */
function parseStringStringEntry(bytes: Uint8Array, where: string): void {
  const r = new WireReader(bytes, where);
  const once = singularFields(r);
  while (!r.done) {
    const { field, wireType } = r.tag();
    if (field !== 1 && field !== 2) unknownField(r, field, wireType);
    const name = field === 1 ? "key" : "value";
    once(field, name);
    expectWire(r, wireType, WireType.LEN, name);
    r.string(name);
  }
}

function parseOpsetImport(bytes: Uint8Array, where: string): ParsedOpsetImport {
  const r = new WireReader(bytes, where);
  const once = singularFields(r);
  const out: ParsedOpsetImport = { domain: "", version: undefined };
  while (!r.done) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        once(field, "domain");
        expectWire(r, wireType, WireType.LEN, "domain");
        out.domain = r.string("domain");
        break;
      case 2:
        once(field, "version");
        expectWire(r, wireType, WireType.VARINT, "version");
        out.version = asInt64(r.varint());
        break;
      default:
        unknownField(r, field, wireType);
    }
  }
  return out;
}

function parseGraph(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedGraph {
  const r = new WireReader(bytes, where);
  const once = singularFields(r);
  const g: ParsedGraph = { nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
  const capped = (list: unknown[], name: string, max: number): void => {
    if (list.length >= max) r.fail(`more than ${max} ${name} entries`);
  };
  while (!r.done) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1: // node
        expectWire(r, wireType, WireType.LEN, "node");
        capped(g.nodes, "node", limits.maxNodes);
        g.nodes.push(parseNode(r.bytes(), `${where}.node[${g.nodes.length}]`));
        break;
      case 2:
      case 10: {
        const name = field === 2 ? "name" : "doc_string";
        once(field, name);
        expectWire(r, wireType, WireType.LEN, name);
        r.string(name);
        break;
      }
      case 5: // initializer
        expectWire(r, wireType, WireType.LEN, "initializer");
        capped(g.initializers, "initializer", MAX_GRAPH_VALUES);
        g.initializers.push(parseTensor(r.bytes(), `${where}.initializer[${g.initializers.length}]`, limits));
        break;
      case 11: // input
        expectWire(r, wireType, WireType.LEN, "input");
        capped(g.inputs, "input", MAX_GRAPH_VALUES);
        g.inputs.push(parseValueInfo(r.bytes(), `${where}.input[${g.inputs.length}]`, limits));
        break;
      case 12: // output
        expectWire(r, wireType, WireType.LEN, "output");
        capped(g.outputs, "output", MAX_GRAPH_VALUES);
        g.outputs.push(parseValueInfo(r.bytes(), `${where}.output[${g.outputs.length}]`, limits));
        break;
      case 13: // value_info
        expectWire(r, wireType, WireType.LEN, "value_info");
        capped(g.valueInfo, "value_info", MAX_GRAPH_VALUES);
        g.valueInfo.push(parseValueInfo(r.bytes(), `${where}.value_info[${g.valueInfo.length}]`, limits));
        break;
      case 14:
        r.fail("quantization_annotation is not allowed");
        break;
      case 15:
        r.fail("sparse_initializer is not allowed");
        break;
      case 16: // metadata_props
        expectWire(r, wireType, WireType.LEN, "metadata_props");
        parseStringStringEntry(r.bytes(), `${r.where}.metadata_props`);
        break;
      default:
        unknownField(r, field, wireType);
    }
  }
  return g;
}

function parseNode(bytes: Uint8Array, where: string): ParsedNode {
  const r = new WireReader(bytes, where);
  const once = singularFields(r);
  const n: ParsedNode = { name: "", opType: "", domain: "", overload: "", inputs: [], outputs: [], attributes: [] };
  while (!r.done) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        expectWire(r, wireType, WireType.LEN, "input");
        if (n.inputs.length >= MAX_NODE_INPUTS) r.fail(`more than ${MAX_NODE_INPUTS} inputs`);
        n.inputs.push(r.string("input name"));
        break;
      case 2:
        expectWire(r, wireType, WireType.LEN, "output");
        if (n.outputs.length >= MAX_NODE_OUTPUTS) r.fail(`more than ${MAX_NODE_OUTPUTS} outputs`);
        n.outputs.push(r.string("output name"));
        break;
      case 3:
        once(field, "name");
        expectWire(r, wireType, WireType.LEN, "name");
        n.name = r.string("name");
        break;
      case 4:
        once(field, "op_type");
        expectWire(r, wireType, WireType.LEN, "op_type");
        n.opType = r.string("op_type");
        break;
      case 5:
        expectWire(r, wireType, WireType.LEN, "attribute");
        if (n.attributes.length >= MAX_NODE_ATTRIBUTES) r.fail(`more than ${MAX_NODE_ATTRIBUTES} attributes`);
        n.attributes.push(parseAttribute(r.bytes(), `${where}.attribute[${n.attributes.length}]`));
        break;
      case 6: // doc_string
        once(field, "doc_string");
        expectWire(r, wireType, WireType.LEN, "doc_string");
        r.string("doc_string");
        break;
      case 7:
        once(field, "domain");
        expectWire(r, wireType, WireType.LEN, "domain");
        n.domain = r.string("domain");
        break;
      case 8: // overload (selects a model-local function overload)
        once(field, "overload");
        expectWire(r, wireType, WireType.LEN, "overload");
        n.overload = r.string("overload");
        break;
      case 9: // metadata_props
        expectWire(r, wireType, WireType.LEN, "metadata_props");
        parseStringStringEntry(r.bytes(), `${r.where}.metadata_props`);
        break;
      default:
        unknownField(r, field, wireType);
    }
  }
  return n;
}

function parseAttribute(bytes: Uint8Array, where: string): ParsedAttribute {
  const r = new WireReader(bytes, where);
  const once = singularFields(r);
  const a: ParsedAttribute = {
    name: "", type: undefined, f: undefined, i: undefined, s: undefined, ints: [], valueFields: [], refAttrName: "",
  };
  const sawValue = (field: number): void => {
    if (!a.valueFields.includes(field)) a.valueFields.push(field);
  };
  while (!r.done) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        once(field, "name");
        expectWire(r, wireType, WireType.LEN, "name");
        a.name = r.string("name");
        break;
      case 13: // doc_string
        once(field, "doc_string");
        expectWire(r, wireType, WireType.LEN, "doc_string");
        r.string("doc_string");
        break;
      case 20:
        once(field, "type");
        expectWire(r, wireType, WireType.VARINT, "type");
        a.type = asInt64(r.varint());
        break;
      case 21:
        once(field, "ref_attr_name");
        expectWire(r, wireType, WireType.LEN, "ref_attr_name");
        a.refAttrName = r.string("ref_attr_name");
        break;
      case AttrField.F:
        once(field, "f");
        expectWire(r, wireType, WireType.I32, "f");
        a.f = r.fixed32();
        sawValue(field);
        break;
      case AttrField.I:
        once(field, "i");
        expectWire(r, wireType, WireType.VARINT, "i");
        a.i = asInt64(r.varint());
        sawValue(field);
        break;
      case AttrField.S:
        once(field, "s");
        expectWire(r, wireType, WireType.LEN, "s");
        a.s = r.bytes();
        sawValue(field);
        break;
      case AttrField.INTS:
        readRepeatedVarint(r, wireType, a.ints, MAX_ATTRIBUTE_INTS, "ints");
        sawValue(field);
        break;
      case AttrField.FLOATS:
        // packed (LEN, multiple of 4 bytes) or one I32 per value; values are never needed
        if (wireType === WireType.LEN) {
          if (r.bytes().length % 4 !== 0) r.fail("packed floats length is not a multiple of 4");
        } else {
          expectWire(r, wireType, WireType.I32, "floats");
          r.fixed32();
        }
        sawValue(field);
        break;
      case AttrField.T:
      case AttrField.G:
      case AttrField.STRINGS:
      case AttrField.TENSORS:
      case AttrField.GRAPHS:
      case AttrField.TP:
      case AttrField.TYPE_PROTOS:
      case AttrField.SPARSE_TENSOR:
      case AttrField.SPARSE_TENSORS:
        // Recorded, never descended into: no whitelisted op takes these, validate.ts refuses them.
        expectWire(r, wireType, WireType.LEN, `value field ${field}`);
        r.bytes();
        sawValue(field);
        break;
      default:
        unknownField(r, field, wireType);
    }
  }
  return a;
}

function parseTensor(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedTensor {
  const r = new WireReader(bytes, where);
  const once = singularFields(r);
  const t: ParsedTensor = {
    name: "", dataType: undefined, dims: [], rawData: undefined, typedDataFields: [], dataLocation: 0n, externalDataEntries: 0,
  };
  while (!r.done) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        readRepeatedVarint(r, wireType, t.dims, limits.maxRank, "dims");
        break;
      case 2:
        once(field, "data_type");
        expectWire(r, wireType, WireType.VARINT, "data_type");
        t.dataType = asInt64(r.varint());
        break;
      case 3:
        r.fail("tensor segments are not allowed");
        break;
      case 4: // float_data
      case 5: // int32_data
      case 6: // string_data
      case 7: // int64_data
      case 10: // double_data
      case 11: // uint64_data
        r.skip(wireType);
        if (!t.typedDataFields.includes(field)) t.typedDataFields.push(field);
        break;
      case 8:
        once(field, "name");
        expectWire(r, wireType, WireType.LEN, "name");
        t.name = r.string("name");
        break;
      case 9:
        once(field, "raw_data");
        expectWire(r, wireType, WireType.LEN, "raw_data");
        t.rawData = r.bytes();
        break;
      case 12: // doc_string
        once(field, "doc_string");
        expectWire(r, wireType, WireType.LEN, "doc_string");
        r.string("doc_string");
        break;
      case 13: // external_data: key/value pairs pointing at a file; counted, never followed
        expectWire(r, wireType, WireType.LEN, "external_data");
        parseStringStringEntry(r.bytes(), `${r.where}.external_data`);
        t.externalDataEntries++;
        break;
      case 14:
        once(field, "data_location");
        expectWire(r, wireType, WireType.VARINT, "data_location");
        t.dataLocation = asInt64(r.varint());
        break;
      case 16: // metadata_props
        expectWire(r, wireType, WireType.LEN, "metadata_props");
        parseStringStringEntry(r.bytes(), `${r.where}.metadata_props`);
        break;
      default:
        unknownField(r, field, wireType);
    }
  }
  return t;
}

function parseValueInfo(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedValueInfo {
  const r = new WireReader(bytes, where);
  const once = singularFields(r);
  const v: ParsedValueInfo = { name: "", type: undefined };
  while (!r.done) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        once(field, "name");
        expectWire(r, wireType, WireType.LEN, "name");
        v.name = r.string("name");
        break;
      case 2:
        once(field, "type");
        expectWire(r, wireType, WireType.LEN, "type");
        v.type = parseType(r.bytes(), `${where}.type`, limits);
        break;
      case 3: // doc_string
        once(field, "doc_string");
        expectWire(r, wireType, WireType.LEN, "doc_string");
        r.string("doc_string");
        break;
      case 4: // metadata_props
        expectWire(r, wireType, WireType.LEN, "metadata_props");
        parseStringStringEntry(r.bytes(), `${r.where}.metadata_props`);
        break;
      default:
        unknownField(r, field, wireType);
    }
  }
  return v;
}

function parseType(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedType {
  const r = new WireReader(bytes, where);
  const once = singularFields(r);
  let type: ParsedType | undefined;
  const setType = (t: ParsedType): void => {
    // TypeProto.value is a oneof: two members set is malformed
    if (type !== undefined) r.fail("more than one type kind set");
    type = t;
  };
  while (!r.done) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1: // tensor_type
        expectWire(r, wireType, WireType.LEN, "tensor_type");
        setType(parseTensorType(r.bytes(), `${where}.tensor_type`, limits));
        break;
      case 4:
      case 5:
      case 8:
      case 9: {
        const what = field === 4 ? "sequence" : field === 5 ? "map" : field === 8 ? "sparse tensor" : "optional";
        expectWire(r, wireType, WireType.LEN, what);
        r.bytes();
        setType({ kind: "other", what });
        break;
      }
      case 6: // denotation
        once(field, "denotation");
        expectWire(r, wireType, WireType.LEN, "denotation");
        r.string("denotation");
        break;
      default:
        unknownField(r, field, wireType);
    }
  }
  return type ?? r.fail("type has no kind (tensor, sequence, ...)");
}

function parseTensorType(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedType {
  const r = new WireReader(bytes, where);
  const once = singularFields(r);
  let elemType: bigint | undefined;
  let shape: ParsedDim[] | undefined;
  while (!r.done) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
        once(field, "elem_type");
        expectWire(r, wireType, WireType.VARINT, "elem_type");
        elemType = asInt64(r.varint());
        break;
      case 2:
        once(field, "shape");
        expectWire(r, wireType, WireType.LEN, "shape");
        shape = parseShape(r.bytes(), `${where}.shape`, limits);
        break;
      default:
        unknownField(r, field, wireType);
    }
  }
  return { kind: "tensor", elemType, shape };
}

function parseShape(bytes: Uint8Array, where: string, limits: ParseLimits): ParsedDim[] {
  const r = new WireReader(bytes, where);
  const dims: ParsedDim[] = [];
  while (!r.done) {
    const { field, wireType } = r.tag();
    if (field !== 1) unknownField(r, field, wireType);
    expectWire(r, wireType, WireType.LEN, "dim");
    if (dims.length >= limits.maxRank) r.fail(`rank above the limit of ${limits.maxRank}`);
    dims.push(parseDim(r.bytes(), `${where}.dim[${dims.length}]`));
  }
  return dims;
}

function parseDim(bytes: Uint8Array, where: string): ParsedDim {
  const r = new WireReader(bytes, where);
  const once = singularFields(r);
  let dim: ParsedDim = { kind: "unknown" };
  let valueSet = false;
  while (!r.done) {
    const { field, wireType } = r.tag();
    switch (field) {
      case 1:
      case 2:
        // dim_value and dim_param are a oneof
        if (valueSet) r.fail("both dim_value and dim_param set (or one twice)");
        valueSet = true;
        if (field === 1) {
          expectWire(r, wireType, WireType.VARINT, "dim_value");
          dim = { kind: "value", value: asInt64(r.varint()) };
        } else {
          expectWire(r, wireType, WireType.LEN, "dim_param");
          dim = { kind: "param", param: r.string("dim_param") };
        }
        break;
      case 3: // denotation
        once(field, "denotation");
        expectWire(r, wireType, WireType.LEN, "denotation");
        r.string("denotation");
        break;
      default:
        unknownField(r, field, wireType);
    }
  }
  return dim;
}
