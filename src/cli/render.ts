/**
 * How `poi tx poi ...` and `poi query poi ...` print: our objects as JSON (proto3 JSON names) or as
 * the YAML-like text the Cosmos SDK CLI prints by default, and tx results with their decoded response.
 */
import * as protobuf from "protobufjs";
import { POI_RESPONSE_CODECS } from "../client/poi-msgs";
import { txResultOf, type SentTx } from "../client/results";
import { MODEL_KIND_NAMES, TASK_STATUS_NAMES, poiProtoRoot } from "../x/poi/types";
import { type OutputFormat, printJson, printLines } from "./common";

export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/**
 * Our objects as JSON: the proto3 JSON field names (camelCase) in .proto order, 64-bit integers as
 * decimal strings, bytes (hashes, seeds) as hex, a task's status by its name (open, claimed, ...).
 * `typeName` (e.g. "poi.v1.Task") gives the field order and enums; without it, any value.
 */
export function toJson(v: unknown, typeName?: string): unknown {
  return typeName ? messageJson(v as Record<string, unknown>, poiProtoRoot.lookupType(typeName)) : plainJson(v);
}

function plainJson(v: unknown): unknown {
  if (v instanceof Uint8Array) return hex(v);
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(plainJson);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainJson(x)]));
  return v;
}

function messageJson(obj: Record<string, unknown>, type: protobuf.Type): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of type.fieldsArray) {
    const val = obj[f.name];
    if (val === undefined) continue;
    const one = (x: unknown): unknown => {
      if (f.resolvedType instanceof protobuf.Type) return messageJson(x as Record<string, unknown>, f.resolvedType);
      if (f.resolvedType instanceof protobuf.Enum && typeof x === "number") {
        const names = f.resolvedType.name === "TaskStatus" ? TASK_STATUS_NAMES : f.resolvedType.name === "ModelKind" ? MODEL_KIND_NAMES : undefined;
        return names ? names[x] ?? String(x) : f.resolvedType.valuesById[x] ?? x;
      }
      return plainJson(x);
    };
    out[f.name] = f.repeated && Array.isArray(val) ? val.map(one) : one(val);
  }
  return out;
}

/** A YAML-like rendering of a JSON value, as the Cosmos SDK CLI prints by default. */
export function yamlLines(v: unknown, indent = ""): string[] {
  const key = (k: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : `'${k}'`);
  const scalar = (x: unknown) => (typeof x === "string" ? (x === "" || /^[0-9]/.test(x) || /[:#]/.test(x) ? JSON.stringify(x) : x) : String(x));
  if (Array.isArray(v)) {
    if (v.length === 0) return [`${indent}[]`];
    return v.flatMap((x) => {
      if (x && typeof x === "object" && !Array.isArray(x)) {
        const inner = yamlLines(x, indent + "  ");
        return [`${indent}- ${inner[0].trimStart()}`, ...inner.slice(1)];
      }
      return [`${indent}- ${scalar(x)}`];
    });
  }
  if (v && typeof v === "object") {
    const entries = Object.entries(v);
    if (entries.length === 0) return [`${indent}{}`];
    return entries.flatMap(([k, x]) => {
      if (Array.isArray(x) && x.length === 0) return [`${indent}${key(k)}: []`];
      if (x && typeof x === "object") return [`${indent}${key(k)}:`, ...yamlLines(x, indent + "  ")];
      return [`${indent}${key(k)}: ${scalar(x)}`];
    });
  }
  return [`${indent}${scalar(v)}`];
}

export function printValue(v: unknown, output: OutputFormat): void {
  if (output === "json") printJson(v);
  else printLines(yamlLines(v));
}

/** The tx result as `poi tx` prints it: the bank commands' fields plus the decoded msg response. */
export function txJson(r: SentTx, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...txResultOf(r) };
  if (r.msgResponses.length) {
    const [first] = r.msgResponses;
    const codec = POI_RESPONSE_CODECS[first.typeUrl];
    out.response = codec ? { "@type": first.typeUrl, ...(toJson(codec.decode(first.value), first.typeUrl.slice(1)) as object) } : { "@type": first.typeUrl };
  }
  return { ...out, ...extra };
}

const TX_RESULT_FIELDS = ["txhash", "height", "code", "codespace", "raw_log", "gas_used", "gas_wanted"];

export function printTx(r: SentTx, output: OutputFormat, extra: Record<string, unknown> = {}): void {
  const j = txJson(r, extra);
  if (output === "json") return printJson(j);
  const lines = r.stage === "simulate" ? [] : [`txhash: ${r.txhash}`, `height: ${r.height}`];
  lines.push(`code: ${r.code}`);
  if (r.code) lines.push(`codespace: ${r.codespace}`, `raw_log: ${r.raw_log}`);
  else lines.push(`gas_used: ${r.gas_used}`, `gas_wanted: ${r.gas_wanted}`);
  const rest = Object.fromEntries(Object.entries(j).filter(([k]) => !TX_RESULT_FIELDS.includes(k)));
  printLines([...lines, ...yamlLines(rest)].filter((l) => l !== "{}"));
}
