/**
 * Builds a gRPC request message from an HTTP request as grpc-gateway v1 does: path parameters
 * (`{address}`), then query parameters by field path (`pagination.limit=10`, proto or JSON names,
 * repeated fields by repeating the parameter), then, for `body: "*"` routes, the JSON body. Values are
 * converted by the field's protobuf type; a value that does not parse is a 400, unknown parameters are
 * ignored (as the gateway does).
 */
import * as protobuf from "protobufjs";
import { invalidArgument } from "./errors";

const INT32 = new Set(["int32", "sint32", "sfixed32", "uint32", "fixed32"]);
const INT64 = new Set(["int64", "sint64", "sfixed64", "uint64", "fixed64"]);

function findField(type: protobuf.Type, name: string): protobuf.Field | undefined {
  return type.fields[name] ?? type.fieldsArray.find((f) => protobuf.util.camelCase(f.name) === name);
}

/** Go's strconv.ParseBool. */
function parseBool(v: string, where: string): boolean {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw invalidArgument(`${where}: invalid boolean "${v.slice(0, 32)}"`);
}

function scalar(field: protobuf.Field, v: string, where: string): unknown {
  const t = field.type;
  if (field.resolvedType instanceof protobuf.Enum) {
    const e = field.resolvedType;
    if (/^-?\d+$/.test(v) && e.valuesById[Number(v)] !== undefined) return Number(v);
    if (e.values[v] !== undefined) return v;
    throw invalidArgument(`${where}: "${v.slice(0, 64)}" is not a ${e.name} (want one of ${Object.keys(e.values).join(", ")})`);
  }
  if (t === "string") return v;
  if (t === "bool") return parseBool(v, where);
  if (INT32.has(t) || INT64.has(t)) {
    const unsigned = t.startsWith("uint") || t.startsWith("fixed");
    if (!(unsigned ? /^\d+$/ : /^-?\d+$/).test(v)) throw invalidArgument(`${where}: "${v.slice(0, 32)}" is not ${unsigned ? "an unsigned" : "an"} integer`);
    const n = BigInt(v);
    const bits = INT32.has(t) ? 32n : 64n;
    const [lo, hi] = unsigned ? [0n, (1n << bits) - 1n] : [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n];
    if (n < lo || n > hi) throw invalidArgument(`${where}: ${v} is out of range for ${t}`);
    return INT32.has(t) ? Number(n) : v;
  }
  if (t === "double" || t === "float") {
    const n = Number(v);
    if (v.trim() === "" || Number.isNaN(n)) throw invalidArgument(`${where}: "${v.slice(0, 32)}" is not a number`);
    return n;
  }
  if (t === "bytes") {
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw invalidArgument(`${where}: not base64`);
    return new Uint8Array(Buffer.from(v, "base64"));
  }
  throw invalidArgument(`${where}: a ${t} message cannot be given as one value`);
}

/** Sets `dotted` (e.g. "pagination.limit") in `target`, a plain object shaped like `type`. Unknown names are ignored. */
export function setField(target: Record<string, unknown>, type: protobuf.Type, dotted: string, values: string[]): void {
  const names = dotted.split(".");
  let obj = target;
  let t = type;
  for (const [i, name] of names.entries()) {
    const field = findField(t, name);
    if (!field) return;
    field.resolve();
    const last = i === names.length - 1;
    if (!last) {
      if (!(field.resolvedType instanceof protobuf.Type) || field.repeated) return;
      obj = (obj[field.name] ??= {}) as Record<string, unknown>;
      t = field.resolvedType;
      continue;
    }
    if (field.map) return;
    const converted = values.map((v) => scalar(field, v, dotted));
    obj[field.name] = field.repeated ? converted : converted[converted.length - 1];
  }
}

/** The request object of `type` from path parameters, the query string and (for body "*") the parsed JSON body. */
export function buildRequest(type: protobuf.Type, pathParams: Record<string, string>, query: URLSearchParams, body?: unknown): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  if (body !== undefined) {
    if (body === null || typeof body !== "object" || Array.isArray(body)) throw invalidArgument("the request body must be a JSON object");
    Object.assign(obj, normaliseBody(type, body as Record<string, unknown>));
  }
  for (const name of new Set(query.keys())) setField(obj, type, name, query.getAll(name));
  for (const [name, value] of Object.entries(pathParams)) setField(obj, type, name, [value]);
  return obj;
}

/** A JSON body with JSON (camelCase) names as well as proto names: protobufjs's fromObject wants the proto names. */
function normaliseBody(type: protobuf.Type, body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    const field = findField(type, k);
    if (!field) continue;
    field.resolve();
    const sub = field.resolvedType instanceof protobuf.Type && field.resolvedType.fullName !== ".google.protobuf.Any" ? field.resolvedType : undefined;
    const norm = (x: unknown) => (sub && x && typeof x === "object" && !Array.isArray(x) ? normaliseBody(sub, x as Record<string, unknown>) : x);
    out[field.name] = Array.isArray(v) ? v.map(norm) : norm(v);
  }
  return out;
}

/**
 * The request as one canonical plain object of `type`: bytes as Uint8Array, 64-bit numbers as strings,
 * enums by name, Anys as {type_url, value}. A body that does not fit the type is a 400.
 */
export function parseRequest(type: protobuf.Type, pathParams: Record<string, string>, query: URLSearchParams, body?: unknown): Record<string, unknown> {
  const obj = buildRequest(type, pathParams, query, body);
  try {
    return type.toObject(type.fromObject(obj), { longs: String, enums: String, arrays: true });
  } catch (err) {
    throw invalidArgument(`invalid request: ${(err as Error).message}`);
  }
}

/** Encodes the request; protobufjs conversion errors (a string where an object belongs, ...) are 400s. */
export function encodeRequest(type: protobuf.Type, obj: Record<string, unknown>): Uint8Array {
  try {
    return type.encode(type.fromObject(obj)).finish();
  } catch (err) {
    throw invalidArgument(`invalid request: ${(err as Error).message}`);
  }
}
