/**
 * What the REST tests share: HTTP calls to a node's gateway that check what every answer must have
 * (the CORS header, never a 500), and a checker of gateway JSON shapes (field names and JSON types).
 */
import { strict as assert } from "assert";

export interface RestAnswer { status: number; body: any; headers: Headers }

/** GET (or POST with a JSON body) `path` on `base`; every answer is checked for CORS and for no 500. */
export async function rest(base: string, path: string, post?: unknown): Promise<RestAnswer> {
  const res = await fetch(base + path, {
    method: post === undefined ? "GET" : "POST", signal: AbortSignal.timeout(15_000),
    ...(post === undefined ? {} : { body: JSON.stringify(post), headers: { "content-type": "application/json" } }),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    assert.fail(`${path}: not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
  assert.notEqual(res.status, 500, `${path} answered 500: ${text.slice(0, 300)}`);
  assert.equal(res.headers.get("access-control-allow-origin"), "*", `${path}: CORS header`);
  return { status: res.status, body, headers: res.headers };
}

/** An error answer: the HTTP status and google.rpc.Status `{code, message, details}` with that gRPC code. */
export function assertGrpcError(a: RestAnswer, http: number, grpc: number, message?: RegExp): void {
  assert.equal(a.status, http, JSON.stringify(a.body));
  assert.deepEqual(Object.keys(a.body).sort(), ["code", "details", "message"]);
  assert.equal(a.body.code, grpc);
  assert.equal(typeof a.body.message, "string");
  assert.ok(Array.isArray(a.body.details));
  if (message) assert.match(a.body.message, message);
}

/**
 * A JSON shape: "uint" (an integer as a string: int64/uint64), "int" (a JSON number), "dec" (LegacyDec
 * text, 18 decimals), "b64", "hex", "time" (RFC 3339), "string", "boolean", "null", "array" (any list),
 * a RegExp (a string matching it), a literal in `{ eq: value }`, an object (its keys checked, others
 * allowed), or `[shape]` (a non-empty list, each item of that shape). "b64?" and such allow null.
 */
export type Shape = string | RegExp | { eq: unknown } | Shape[] | { [key: string]: Shape };

const SCALARS: Record<string, (v: unknown) => boolean> = {
  uint: (v) => typeof v === "string" && /^\d+$/.test(v),
  int: (v) => typeof v === "number" && Number.isInteger(v),
  dec: (v) => typeof v === "string" && /^-?\d+\.\d{18}$/.test(v),
  b64: (v) => typeof v === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(v),
  hex: (v) => typeof v === "string" && /^[0-9A-F]*$/.test(v),
  time: (v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v),
  string: (v) => typeof v === "string",
  boolean: (v) => typeof v === "boolean",
  null: (v) => v === null,
  array: (v) => Array.isArray(v),
  object: (v) => typeof v === "object" && v !== null && !Array.isArray(v),
};

export function assertShape(value: unknown, shape: Shape, at = "$"): void {
  if (typeof shape === "string") {
    const optional = shape.endsWith("?");
    const check = SCALARS[optional ? shape.slice(0, -1) : shape];
    assert.ok(check, `unknown shape "${shape}"`);
    if (optional && value === null) return;
    assert.ok(check(value), `${at}: want ${shape}, got ${JSON.stringify(value)?.slice(0, 120)}`);
    return;
  }
  if (shape instanceof RegExp) {
    assert.ok(typeof value === "string" && shape.test(value), `${at}: want a string matching ${shape}, got ${JSON.stringify(value)?.slice(0, 120)}`);
    return;
  }
  if (Array.isArray(shape)) {
    assert.ok(Array.isArray(value) && value.length > 0, `${at}: want a non-empty list, got ${JSON.stringify(value)?.slice(0, 120)}`);
    value.forEach((v, i) => assertShape(v, shape[0], `${at}[${i}]`));
    return;
  }
  if ("eq" in shape && Object.keys(shape).length === 1) {
    assert.deepEqual(value, shape.eq, at);
    return;
  }
  assert.ok(typeof value === "object" && value !== null && !Array.isArray(value), `${at}: want an object, got ${JSON.stringify(value)?.slice(0, 120)}`);
  for (const [key, sub] of Object.entries(shape as Record<string, Shape>)) {
    assert.ok(key in (value as object), `${at}: no field "${key}" (has ${Object.keys(value as object).join(", ")})`);
    assertShape((value as Record<string, unknown>)[key], sub, `${at}.${key}`);
  }
}

/** The SDK's PageResponse. */
export const PAGE: Shape = { next_key: "b64?", total: "uint" };
export const COIN: Shape = { denom: "string", amount: "uint" };
export const DEC_COIN: Shape = { denom: "string", amount: "dec" };

/** Prometheus text: the value of the series `name{labels}` (labels as written, e.g. `method="commit"`), or undefined. */
export function metricValue(text: string, name: string, labels = ""): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (labels && !(m[2] ?? "").includes(labels)) continue;
    return Number(m[3]);
  }
  return undefined;
}
