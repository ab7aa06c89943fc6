/**
 * Range checks for the integers of our protobufjs codecs (types.ts), which otherwise wrap silently:
 * decoding, a varint longer than 64 bits loses its high bits and a uint32 or int32 field keeps the
 * low 32 bits of any varint; encoding, a decimal string beyond 64 bits wraps (Long.fromString turns
 * "99999999999999999999" into 7766279631452241919) and a uint32 number is taken modulo 2^32.
 * These checks refuse such values instead, naming the field. Decoding also refuses a known field with
 * the wrong wire type and a string that is not UTF-8 (as Go's protobuf does); unknown fields are skipped.
 */
import type * as protobuf from "protobufjs";
import { WireFormatError, WireReader, WireType, wireTypeName } from "./onnx/wire";

const MAX_DEPTH = 16;
const U32_MAX = 0xffffffffn;
const I32_MIN = -(1n << 31n);
const I32_MAX = (1n << 31n) - 1n;
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

const VARINT_TYPES = new Set(["int32", "uint32", "sint32", "int64", "uint64", "sint64", "bool"]);
const I64_TYPES = new Set(["fixed64", "sfixed64", "double"]);
const I32_TYPES = new Set(["fixed32", "sfixed32", "float"]);

/** The range of an integer field type, or undefined for other types. */
function intRange(type: string): [bigint, bigint] | undefined {
  switch (type) {
    case "uint32": case "fixed32": return [0n, U32_MAX];
    case "int32": case "sint32": case "sfixed32": return [I32_MIN, I32_MAX];
    case "uint64": case "fixed64": return [0n, U64_MAX];
    case "int64": case "sint64": case "sfixed64": return [I64_MIN, I64_MAX];
    default: return undefined;
  }
}

function wireTypeOf(field: protobuf.Field): number {
  if (field.resolvedType && "fields" in field.resolvedType) return WireType.LEN;
  if (field.resolvedType) return WireType.VARINT; // enum
  if (VARINT_TYPES.has(field.type)) return WireType.VARINT;
  if (I64_TYPES.has(field.type)) return WireType.I64;
  if (I32_TYPES.has(field.type)) return WireType.I32;
  return WireType.LEN; // string, bytes
}

/** A varint of a 32-bit field: uint32 up to 2^32-1; int32 and enums as int32 (negatives sign-extended to 64 bits). */
function checkVarint32(r: WireReader, field: protobuf.Field, v: bigint): void {
  const type = field.resolvedType ? "enum" : field.type;
  if (type === "uint32" && v > U32_MAX) r.fail(`${field.name}: ${v} is out of range for uint32`);
  if (type === "sint32" && v > U32_MAX) r.fail(`${field.name}: zigzag value ${v} is out of range for sint32`);
  if ((type === "int32" || type === "enum") && v > I32_MAX && BigInt.asIntN(64, v) < I32_MIN) {
    r.fail(`${field.name}: ${v} is out of range for ${type === "enum" ? "an enum (int32)" : "int32"}`);
  }
}

function checkScalar(r: WireReader, field: protobuf.Field, wireType: number): void {
  try {
    if (wireType === WireType.VARINT) checkVarint32(r, field, r.varint()); // varint() refuses more than 64 bits
    else if (field.type === "string") r.string(field.name);
    else r.skip(wireType);
  } catch (err) {
    if (err instanceof WireFormatError && !err.problem.startsWith(field.name)) r.fail(`${field.name}: ${err.problem}`);
    throw err;
  }
}

/** Walks `bytes` as a `type` message and throws a WireFormatError at the first out-of-range or ill-typed field. */
export function checkWire(type: protobuf.Type, bytes: Uint8Array, where = type.name, depth = 0): void {
  if (depth > MAX_DEPTH) throw new WireReader(bytes, where).fail(`messages nested deeper than ${MAX_DEPTH}`);
  const r = new WireReader(bytes, where);
  while (!r.done) {
    const { field: id, wireType } = r.tag();
    const field = type.fieldsById[id];
    if (!field) {
      r.skip(wireType);
      continue;
    }
    const want = wireTypeOf(field);
    const packed = field.repeated && want !== WireType.LEN && wireType === WireType.LEN;
    if (wireType !== want && !packed) r.fail(`${field.name} has wire type ${wireTypeName(wireType)}, want ${wireTypeName(want)}`);
    if (field.resolvedType && "fields" in field.resolvedType) {
      checkWire(field.resolvedType as protobuf.Type, r.bytes(), `${where}.${field.name}`, depth + 1);
    } else if (packed) {
      const values = new WireReader(r.bytes(), `${where}.${field.name}`);
      while (!values.done) checkScalar(values, field, want);
    } else {
      checkScalar(r, field, wireType);
    }
  }
}

function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (typeof v === "string") return /^-?[0-9]+$/.test(v) ? BigInt(v) : undefined;
  return undefined;
}

/**
 * Checks the integer fields of a plain object about to be encoded as `type` (what fromObject would
 * otherwise wrap); throws a RangeError naming the field.
 */
export function checkObject(type: protobuf.Type, obj: unknown, where = type.name, depth = 0): void {
  if (obj === null || typeof obj !== "object" || depth > MAX_DEPTH) return;
  for (const field of type.fieldsArray) {
    const value = (obj as Record<string, unknown>)[field.name];
    if (value === undefined || value === null) continue;
    const values = field.repeated && Array.isArray(value) ? value : [value];
    for (const [i, v] of values.entries()) {
      const at = `${where}.${field.name}${field.repeated ? `[${i}]` : ""}`;
      if (field.resolvedType && "fields" in field.resolvedType) {
        checkObject(field.resolvedType as protobuf.Type, v, at, depth + 1);
        continue;
      }
      const range = intRange(field.type);
      if (!range || (typeof v === "object" && v !== null)) continue; // not an integer field, or a Long (already 64 bits)
      const n = toBigInt(v);
      const shown = String(v).length > 40 ? `${String(v).slice(0, 40)}…` : String(v);
      if (n === undefined) throw new RangeError(`${at}: ${shown} is not an integer`);
      if (n < range[0] || n > range[1]) throw new RangeError(`${at}: ${shown} is out of range for ${field.type}`);
    }
  }
}
