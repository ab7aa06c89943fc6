/** A node's attributes: each checked against its op's spec, then read through `Attrs`. */
import { AttrField, type ParsedAttribute, type ParsedNode } from "./model-parse";
import type { AttrKind, OpSpec } from "./ops";

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

function attrKindType(kind: AttrKind): bigint {
  switch (kind) {
    case "int": return AT.INT;
    case "float": return AT.FLOAT;
    case "string": return AT.STRING;
    case "ints": return AT.INTS;
  }
}

/** Parsed attributes of a node, checked against the op's spec. */
export class Attrs {
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

  /** Whether a FLOAT attribute is given as +0.0 or -0.0 (read as bits, never as a number). */
  floatIsZero(name: string): boolean {
    const f = this.byName.get(name)?.f;
    return f === 0 || f === 0x80000000;
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

export function checkAttributes(node: ParsedNode, spec: OpSpec, opset: number, fail: (m: string) => never): Attrs {
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
