/**
 * x/poi genesis: the module's whole state, every key under "poi/", exported and imported through
 * one table with one row per key prefix of the keeper's layout (keeper.ts). A new prefix is one new
 * row; export refuses a key that no row covers, so a forgotten row cannot lose state silently.
 *
 * JSON shape of the "poi" section: a row without key parts is a single record (`"next_task_id":
 * "12"`); a row with key parts is a list, one object per key, holding the key parts as named fields
 * and the value under "value" (omitted for empty values), in key order:
 *   "tasks": [{ "id": "1", "value": { ...Task } }], "chunks": [{ "dataset_id": "ab..", "index": 0, "value": "<base64>" }]
 * Protobuf values are protobufjs JSON objects (64-bit integers and enums as strings, bytes as
 * base64) holding exactly the fields that were stored, so a value imports to the very same bytes.
 */
import type { Context } from "../../app/context";
import { ErrInvalidRequest } from "../../app/errors";
import { formatAddress, parseAddress } from "../../app/address";
import { u64 } from "../../util/bigint";
import { DEFAULT_PARAMS, POI_MODULE, idBytes, isContentId } from "./keeper";
import { ParamsCodec, poiProtoRoot, type Params } from "./types";

/**
 * One part of a key after its prefix byte: a model or dataset id (32 bytes, JSON lowercase hex), a
 * u32 (JSON number), a u64 (JSON decimal string), a validator's consensus address (20 bytes, JSON
 * uppercase hex), an account address (JSON bech32), or raw bytes (JSON lowercase hex; the indexes).
 * The last two take the rest of the key, so they come last.
 */
type KeyPart = "id32" | "u32" | "u64" | "validator" | "address" | "bytes";

const PART_BYTES: Record<Exclude<KeyPart, "address" | "bytes">, number> = { id32: 32, u32: 4, u64: 8, validator: 20 };

interface ValueCodec {
  toJson(value: Uint8Array): unknown;
  /** Throws a readable message on bad input; `where` names the entry. */
  fromJson(json: unknown, where: string): Uint8Array;
}

export interface GenesisRow {
  /** The field of the "poi" genesis section. */
  name: string;
  /** The first byte of the key inside "poi/". */
  prefix: number;
  /** The key parts after the prefix, each a JSON field; none = a single record. */
  key: ReadonlyArray<readonly [field: string, part: KeyPart]>;
  value: ValueCodec;
}

const fail = (msg: string): never => {
  throw ErrInvalidRequest(`poi genesis: ${msg}`);
};

// ---- value codecs --------------------------------------------------------------------------------

const base64: ValueCodec = {
  toJson: (v) => Buffer.from(v).toString("base64"),
  fromJson: (j, where) => {
    if (typeof j !== "string") return fail(`${where}: want base64 bytes`);
    const b = Buffer.from(j, "base64");
    if (b.toString("base64") !== j) fail(`${where}: not canonical base64`);
    return b;
  },
};

const hex: ValueCodec = {
  toJson: (v) => Buffer.from(v).toString("hex"),
  fromJson: (j, where) => (typeof j === "string" && /^([0-9a-f]{2})*$/.test(j) ? Buffer.from(j, "hex") : fail(`${where}: want lowercase hex bytes`)),
};

const u64Value: ValueCodec = {
  toJson: (v) => Buffer.from(v).readBigUInt64BE(0).toString(),
  fromJson: (j, where) => u64(parseU64(j, where)),
};

const empty: ValueCodec = {
  toJson: () => undefined,
  fromJson: (j, where) => (j === undefined ? new Uint8Array() : fail(`${where}: this record holds no value`)),
};

/** A protobuf message of proto/poi/v1, as protobufjs JSON with only the stored fields. */
function proto(name: string): ValueCodec {
  const type = poiProtoRoot.lookupType(`poi.v1.${name}`);
  return {
    toJson: (v) => type.toObject(type.decode(v), { longs: String, enums: String, bytes: String, defaults: false, arrays: false }),
    fromJson: (j, where) => {
      if (typeof j !== "object" || j === null || Array.isArray(j)) return fail(`${where}: want a ${name} object`);
      try {
        return type.encode(type.fromObject(j as Record<string, unknown>)).finish();
      } catch (err) {
        return fail(`${where}: not a ${name}: ${(err as Error).message}`);
      }
    },
  };
}

/** Checks between params beyond "a positive integer string". */
function checkParams(p: Params): void {
  for (const k of ["catchBountyBps", "bondFactorBps", "workScoreAlphaBps", "auditRateBps", "auditSlashBps"] as const) {
    if (BigInt(p[k]) > 10000n) fail(`params.${k} ${p[k]} is more than 10000`);
  }
  if (BigInt(p.revealBlocks) <= BigInt(p.segmentRequestBlocks)) fail(`params.revealBlocks ${p.revealBlocks} must be more than segmentRequestBlocks ${p.segmentRequestBlocks}: the worker reveals after the requests`);
  if (BigInt(p.deadlineMarginBlocks) + BigInt(p.claimBlocks) + BigInt(p.verifyTimeoutBlocks) > BigInt(p.maxDeadlineBlocks)) {
    fail("claimBlocks + verifyTimeoutBlocks + deadlineMarginBlocks exceed maxDeadlineBlocks: no task could be submitted");
  }
}

/** Params that may be 0: no protocol fee (and then no work credit), no audits, no audit slash. */
const ZERO_ALLOWED = new Set(["protocolFeePerMegaUnit", "auditRateBps", "auditSlashBps"]);

/** Params: fields left out take their defaults; every value is a positive integer string (or "0" where ZERO_ALLOWED). */
const params: ValueCodec = {
  toJson: (v) => ParamsCodec.decode(v),
  fromJson: (j, where) => {
    if (typeof j !== "object" || j === null || Array.isArray(j)) return fail(`${where}: want an object`);
    const given = j as Record<string, unknown>;
    const out: Params = { ...DEFAULT_PARAMS };
    for (const k of Object.keys(given).sort()) {
      if (!(k in DEFAULT_PARAMS)) fail(`params.${k} is not a parameter`);
      const v = given[k];
      if (typeof v !== "string" || !(/^[1-9][0-9]{0,15}$/.test(v) || (v === "0" && ZERO_ALLOWED.has(k)))) {
        fail(`params.${k} must be a positive integer string${ZERO_ALLOWED.has(k) ? ' or "0"' : ""}, got ${JSON.stringify(v)}`);
      }
      out[k as keyof Params] = v as string;
    }
    checkParams(out);
    return ParamsCodec.encode(out).finish();
  },
};

// ---- the table: one row per prefix of keeper.ts's layout ------------------------------------------

export const POI_GENESIS_TABLE: readonly GenesisRow[] = [
  { name: "params", prefix: 0x00, key: [], value: params },
  { name: "models", prefix: 0x01, key: [["id", "id32"]], value: proto("Model") },
  { name: "model_bytes", prefix: 0x02, key: [["id", "id32"]], value: base64 },
  { name: "datasets", prefix: 0x03, key: [["id", "id32"]], value: proto("Dataset") },
  { name: "chunk_hashes", prefix: 0x04, key: [["dataset_id", "id32"], ["index", "u32"]], value: hex },
  { name: "chunks", prefix: 0x05, key: [["dataset_id", "id32"], ["index", "u32"]], value: base64 },
  { name: "next_task_id", prefix: 0x06, key: [], value: u64Value },
  { name: "tasks", prefix: 0x07, key: [["id", "u64"]], value: proto("Task") },
  { name: "task_inputs", prefix: 0x08, key: [["task_id", "u64"]], value: base64 },
  { name: "task_outputs", prefix: 0x09, key: [["task_id", "u64"]], value: base64 },
  { name: "workers", prefix: 0x0b, key: [["address", "address"]], value: proto("WorkerStats") },
  { name: "block_work", prefix: 0x0c, key: [["height", "u64"], ["worker", "address"]], value: u64Value },
  { name: "vote_extensions_enable_height", prefix: 0x0e, key: [], value: u64Value },
  { name: "due_tasks", prefix: 0x0f, key: [["height", "u64"], ["task_id", "u64"]], value: empty },
  // verification_keeper.ts
  { name: "seed_records", prefix: 0x10, key: [["epoch", "u64"], ["validator", "validator"]], value: proto("SeedRecord") },
  { name: "held_income", prefix: 0x11, key: [["epoch", "u64"], ["validator", "validator"]], value: u64Value },
  { name: "reports", prefix: 0x12, key: [["epoch", "u64"], ["validator", "validator"], ["task_id", "u64"], ["attempt", "u32"]], value: proto("ReportRecord") },
  { name: "validator_stats", prefix: 0x13, key: [["validator", "validator"]], value: proto("ValidatorStats") },
  { name: "ended_attempts", prefix: 0x14, key: [["height", "u64"], ["task_id", "u64"]], value: proto("EndedAttempt") },
  // work_keeper.ts
  { name: "worker_links", prefix: 0x30, key: [["worker", "address"]], value: proto("WorkerLink") },
  { name: "workers_by_operator", prefix: 0x31, key: [["key", "bytes"]], value: empty },
  { name: "worker_link_offers", prefix: 0x32, key: [["key", "bytes"]], value: proto("WorkerLink") },
  { name: "epoch_work", prefix: 0x33, key: [["epoch", "u64"], ["worker", "address"]], value: u64Value },
  { name: "work_scores", prefix: 0x34, key: [["operator", "address"]], value: proto("WorkScore") },
  // training_keeper.ts
  { name: "training_specs", prefix: 0x40, key: [["task_id", "u64"]], value: proto("TrainingSpec") },
  { name: "training_attempts", prefix: 0x41, key: [["task_id", "u64"]], value: proto("TrainingAttempt") },
  { name: "loss_traces", prefix: 0x42, key: [["task_id", "u64"]], value: base64 },
  { name: "checkpoint_chunks", prefix: 0x43, key: [["task_id", "u64"], ["index", "u32"], ["chunk", "u32"]], value: base64 },
  // indexes.ts: derived from the tasks, exported as they are so an import is byte for byte
  { name: "tasks_written", prefix: 0x20, key: [["task_id", "u64"]], value: empty },
  { name: "task_index_entries", prefix: 0x21, key: [["task_id", "u64"]], value: hex },
  { name: "tasks_by_status", prefix: 0x22, key: [["key", "bytes"]], value: empty },
  { name: "tasks_by_requester", prefix: 0x23, key: [["key", "bytes"]], value: empty },
  { name: "tasks_by_worker", prefix: 0x24, key: [["key", "bytes"]], value: empty },
  { name: "open_tasks", prefix: 0x25, key: [["key", "bytes"]], value: empty },
  { name: "counts", prefix: 0x26, key: [["key", "bytes"]], value: u64Value },
];

// ---- keys ------------------------------------------------------------------------------------------

function parseU64(j: unknown, where: string): bigint {
  if (typeof j !== "string" || !/^(0|[1-9][0-9]{0,19})$/.test(j) || BigInt(j) >= 1n << 64n) return fail(`${where}: want a decimal u64 string, got ${JSON.stringify(j)}`);
  return BigInt(j);
}

function encodePart(part: KeyPart, j: unknown, where: string): Uint8Array {
  switch (part) {
    case "id32":
      return typeof j === "string" && isContentId(j) ? idBytes(j) : fail(`${where}: want 64 lowercase hex characters`);
    case "u32": {
      if (!Number.isInteger(j) || (j as number) < 0 || (j as number) > 0xffffffff) fail(`${where}: want an integer in [0, 2^32)`);
      const b = Buffer.alloc(4);
      b.writeUInt32BE(j as number);
      return b;
    }
    case "u64":
      return u64(parseU64(j, where));
    case "validator":
      return typeof j === "string" && /^[0-9A-F]{40}$/.test(j) ? Buffer.from(j, "hex") : fail(`${where}: want 40 uppercase hex characters`);
    case "address":
      try {
        return parseAddress(String(j), where);
      } catch (err) {
        return fail((err as Error).message);
      }
    case "bytes":
      return typeof j === "string" && /^([0-9a-f]{2})+$/.test(j) ? Buffer.from(j, "hex") : fail(`${where}: want lowercase hex bytes`);
  }
}

/** Splits a key (without its prefix byte) into the row's named parts; undefined if it does not fit. */
function decodeKey(row: GenesisRow, rest: Buffer): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let at = 0;
  for (const [field, part] of row.key) {
    const len = part === "address" || part === "bytes" ? rest.length - at : PART_BYTES[part];
    if (len <= 0 || at + len > rest.length) return undefined;
    const b = rest.subarray(at, at + len);
    out[field] = part === "id32" || part === "bytes" ? b.toString("hex") : part === "u32" ? b.readUInt32BE(0) : part === "u64" ? b.readBigUInt64BE(0).toString()
      : part === "validator" ? b.toString("hex").toUpperCase() : formatAddress(b);
    at += len;
  }
  return at === rest.length ? out : undefined;
}

// ---- export and import ------------------------------------------------------------------------------

export type PoiGenesis = Record<string, unknown>;

export async function exportPoiGenesis(ctx: Context): Promise<PoiGenesis> {
  const byPrefix = new Map(POI_GENESIS_TABLE.map((r) => [r.prefix, r]));
  const out: PoiGenesis = {};
  for (const [k, v] of await ctx.store(POI_MODULE).iterate(new Uint8Array())) {
    const key = Buffer.from(k);
    const row = byPrefix.get(key[0]);
    const parts = row && decodeKey(row, key.subarray(1));
    if (!row || !parts) throw new Error(`poi genesis export: no row of POI_GENESIS_TABLE (src/x/poi/genesis.ts) covers key ${key.toString("hex")}`);
    const value = row.value.toJson(v);
    if (row.key.length === 0) {
      out[row.name] = value;
      continue;
    }
    const list = (out[row.name] ??= []) as unknown[];
    list.push(value === undefined ? parts : { ...parts, value });
  }
  return out;
}

/** Writes every record of `state` (see the shape above); params take their defaults when absent. */
export async function initPoiGenesis(ctx: Context, state: unknown): Promise<void> {
  const g = (state ?? {}) as PoiGenesis;
  if (typeof g !== "object" || g === null || Array.isArray(g)) fail("the poi section must be an object");
  const known = new Set(POI_GENESIS_TABLE.map((r) => r.name));
  for (const name of Object.keys(g).sort()) if (!known.has(name)) fail(`unknown field "${name}" (known: ${[...known].join(", ")})`);
  const store = ctx.store(POI_MODULE);
  for (const row of POI_GENESIS_TABLE) {
    const json = row.name === "params" ? g.params ?? {} : g[row.name];
    if (json === undefined) continue;
    if (row.key.length === 0) {
      store.set(Buffer.from([row.prefix]), row.value.fromJson(json, row.name));
      continue;
    }
    if (!Array.isArray(json)) fail(`${row.name} must be an array`);
    for (const [i, entry] of (json as unknown[]).entries()) {
      const where = `${row.name}[${i}]`;
      if (typeof entry !== "object" || entry === null) fail(`${where} must be an object`);
      const e = entry as Record<string, unknown>;
      const key = Buffer.concat([Buffer.from([row.prefix]), ...row.key.map(([field, part]) => encodePart(part, e[field], `${where}.${field}`))]);
      store.set(key, row.value.fromJson(e.value, `${where}.value`));
    }
  }
}
