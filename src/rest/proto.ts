/**
 * The protobuf definitions the REST gateway speaks: the Cosmos SDK v0.50 and CometBFT v0.38 .proto files
 * vendored under proto/ (scripts/vendor-protos.sh) and our own proto/poi/v1, loaded with protobufjs and
 * field names kept as written (snake_case, as the SDK's gateway prints them with OrigName).
 *
 * JSON follows proto3 JSON as the SDK's gateway writes it (gogoproto jsonpb, EmitDefaults): int64/uint64
 * as strings, bytes as base64, enums by name, Any as {"@type", ...fields} (protobufjs's own Any
 * wrapper), unset messages as null, every scalar present. protobufjs has no JSON form for Timestamp
 * and Duration, so both get wrappers through its `wrappers` extension point (RFC 3339 and "1.5s").
 */
import * as path from "node:path";
import * as protobuf from "protobufjs";
import { PROTO_DIR } from "../x/poi/types";

/** The files whose import closure the gateway loads (every type the REST API names). */
const FILES = [
  "cosmos/auth/v1beta1/query.proto", "cosmos/bank/v1beta1/query.proto", "cosmos/bank/v1beta1/tx.proto",
  "cosmos/tx/v1beta1/service.proto", "cosmos/base/tendermint/v1beta1/query.proto",
  "cosmos/crypto/secp256k1/keys.proto", "cosmos/crypto/ed25519/keys.proto", "cosmos/crypto/multisig/keys.proto",
  "cosmos/staking/v1beta1/query.proto", "cosmos/distribution/v1beta1/query.proto",
  "cosmos/mint/v1beta1/query.proto", "cosmos/slashing/v1beta1/query.proto", "google/rpc/status.proto",
  // Messages of txs that blocks and tx queries show, as Any.
  "cosmos/staking/v1beta1/tx.proto", "cosmos/distribution/v1beta1/tx.proto", "cosmos/slashing/v1beta1/tx.proto",
  "poi/v1/types.proto", "poi/v1/tx.proto", "poi/v1/query.proto",
];

/** Go's jsonpb keeps 0, 3, 6 or 9 fractional digits. */
function fraction(nanos: number): string {
  let f = String(nanos).padStart(9, "0");
  for (let i = 0; i < 2 && f.endsWith("000"); i++) f = f.slice(0, -3);
  return f === "000" ? "" : `.${f}`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Timestamp{seconds, nanos} as RFC 3339 in UTC, as jsonpb writes it. */
export function formatTimestamp(seconds: bigint, nanos: number): string {
  const iso = new Date(Number(seconds) * 1000).toISOString(); // "YYYY-MM-DDTHH:MM:SS.000Z"
  return iso.slice(0, 19) + fraction(nanos) + "Z";
}

export function parseTimestamp(text: string): { seconds: bigint; nanos: number } {
  const m = RFC3339.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new TypeError(`invalid RFC 3339 timestamp ${JSON.stringify(text.slice(0, 64))}`);
  return { seconds: BigInt(ms / 1000), nanos: Number((m[2] ?? "").padEnd(9, "0")) };
}

const bigintOf = (v: unknown) => BigInt(String(v ?? 0));

protobuf.wrappers[".google.protobuf.Timestamp"] = {
  fromObject(this: protobuf.Type, object: Record<string, unknown>) {
    if (typeof object !== "string") return this.fromObject(object);
    const t = parseTimestamp(object);
    return this.fromObject({ seconds: t.seconds.toString(), nanos: t.nanos });
  },
  toObject(this: protobuf.Type, message: protobuf.Message, options?: protobuf.IConversionOptions) {
    const m = message as unknown as { seconds?: unknown; nanos?: number };
    if (!options?.json) return this.toObject(message, options);
    return formatTimestamp(bigintOf(m.seconds), m.nanos ?? 0) as unknown as Record<string, unknown>;
  },
} as protobuf.IWrapper;

protobuf.wrappers[".google.protobuf.Duration"] = {
  fromObject(this: protobuf.Type, object: Record<string, unknown>) {
    if (typeof object !== "string") return this.fromObject(object);
    const m = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(object);
    if (!m) throw new TypeError(`invalid duration ${JSON.stringify(String(object).slice(0, 32))}`);
    const sign = m[1] ? -1 : 1;
    return this.fromObject({ seconds: String(sign * Number(m[2])), nanos: sign * Number((m[3] ?? "").padEnd(9, "0")) });
  },
  toObject(this: protobuf.Type, message: protobuf.Message, options?: protobuf.IConversionOptions) {
    const m = message as unknown as { seconds?: unknown; nanos?: number };
    if (!options?.json) return this.toObject(message, options);
    const s = bigintOf(m.seconds);
    const n = m.nanos ?? 0;
    const neg = s < 0n || n < 0;
    const abs = (x: bigint) => (x < 0n ? -x : x);
    return `${neg ? "-" : ""}${abs(s)}${fraction(Math.abs(n))}s` as unknown as Record<string, unknown>;
  },
} as protobuf.IWrapper;

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
root.loadSync(FILES, { keepCase: true });
root.resolveAll();

/** Every type the gateway knows, by full name (e.g. "cosmos.bank.v1beta1.QueryAllBalancesResponse"). */
export const gatewayRoot: protobuf.Root = root;

/** How the gateway writes JSON (jsonpb with OrigName and EmitDefaults). */
export const GATEWAY_JSON: protobuf.IConversionOptions = { json: true, longs: String, enums: String, bytes: String, defaults: true, arrays: true };

export function messageType(name: string): protobuf.Type {
  return root.lookupType(name.replace(/^\./, ""));
}

export function service(name: string): protobuf.Service {
  return root.lookupService(name);
}

/** LegacyDec wire text (the integer of 18 implied decimals) as its JSON text, "0.130000000000000000". */
export function legacyDecText(atomics: string): string {
  const m = /^(-?)0*(\d*)$/.exec(atomics);
  if (!m) return atomics; // not a LegacyDec: leave it as the app wrote it
  const digits = m[2].padStart(19, "0");
  return `${m[1]}${digits.slice(0, -18)}.${digits.slice(-18)}`;
}

/**
 * gogoproto customtypes print through their own MarshalJSON in the SDK's gateway: a `cosmos.Dec`
 * scalar (LegacyDec) as a decimal with 18 places whether its field is string or bytes, a bytes
 * `cosmos.Int` as its digits. protobufjs knows nothing of them, so this rewrites those fields of the
 * JSON it made, walking nested messages, lists, maps and Any values.
 */
function customTypes(type: protobuf.Type, json: Record<string, unknown>): void {
  for (const field of type.fieldsArray) {
    const value = json[field.name];
    if (value === null || value === undefined) continue;
    const scalar = field.options?.["(cosmos_proto.scalar)"];
    if (scalar === "cosmos.Dec" || (scalar === "cosmos.Int" && field.type === "bytes")) {
      const text = (v: unknown) => (field.type === "bytes" ? Buffer.from(String(v), "base64").toString("ascii") : String(v));
      const convert = (v: unknown) => (scalar === "cosmos.Dec" ? legacyDecText(text(v)) : text(v));
      json[field.name] = Array.isArray(value) ? value.map(convert) : convert(value);
      continue;
    }
    if (!(field.resolvedType instanceof protobuf.Type)) continue;
    const nested = field.resolvedType;
    const items = field.map ? Object.values(value as object) : Array.isArray(value) ? value : [value];
    for (const item of items) if (item && typeof item === "object") customTypesOf(nested, item as Record<string, unknown>);
  }
}

function customTypesOf(type: protobuf.Type, json: Record<string, unknown>): void {
  if (type.fullName !== ".google.protobuf.Any") return customTypes(type, json);
  const url = json["@type"];
  if (typeof url !== "string") return;
  let inner: protobuf.Type;
  try {
    inner = root.lookupType(url.slice(url.lastIndexOf("/") + 1));
  } catch {
    return; // an Any of a type we do not know is printed as protobufjs printed it
  }
  customTypes(inner, json);
}

/** Protobuf bytes (or a plain object with snake_case fields) of `typeName` as gateway JSON. */
export function toGatewayJson(typeName: string, value: Uint8Array | Record<string, unknown>): Record<string, unknown> {
  const type = messageType(typeName);
  const message = value instanceof Uint8Array ? type.decode(value) : type.fromObject(value);
  const json = type.toObject(message, GATEWAY_JSON);
  customTypesOf(type, json);
  return json;
}

/** Encodes a plain object (snake_case fields; strings for 64-bit numbers, base64 for bytes) as `typeName`. */
export function encodeMessage(typeName: string, object: Record<string, unknown>): Uint8Array {
  const type = messageType(typeName);
  return type.encode(type.fromObject(object)).finish();
}
