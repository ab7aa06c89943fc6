/**
 * What the tx fuzzers (test/fuzz-tx.test.ts) share: the seeded PRNG every input derives from, random
 * text and protobuf, byte-level mutations of existing inputs, and the app-side helpers (a block
 * request, a checked gRPC query, a dump of the committed state).
 */
import { strict as assert } from "assert";
import { Request, RequestQuery } from "cosmjs-types/tendermint/abci/types";
import { sha256 } from "@cosmjs/crypto";
import type { PoiApp } from "../../src/app/app";
import { mulberry32 } from "../../src/util/random";

export const GENESIS_TIME = 1_700_000_000n;
export const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
export const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
/** A count map as "key:count ..." in key order. */
export const fmtCounts = (m: Map<number | string, number>) => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => `${k}:${v}`).join(" ");

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("pick from an empty list");
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** a uint64 spread over all magnitudes */
  u64(): bigint {
    const bits = this.int(65);
    if (bits === 0) return 0n;
    let v = 0n;
    for (let i = 0; i < bits; i++) v = (v << 1n) | (this.chance(0.5) ? 1n : 0n);
    return v | (1n << BigInt(bits - 1));
  }
  weighted<T>(items: ReadonlyArray<readonly [number, T]>): T {
    const total = items.reduce((s, [w]) => s + w, 0);
    let r = this.float() * total;
    for (const [w, v] of items) {
      if ((r -= w) < 0) return v;
    }
    return items[items.length - 1][1];
  }
}

export function parseSeed(text: string | undefined): number {
  if (!text) return 0x5eedf00d;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`FUZZ_SEED must be a 32-bit unsigned integer, got "${text}"`);
  return n;
}


/** The byte-level mutations of an existing input (`base()` gives one, fresh each call); undefined for another `gen`. */
export function byteMutation(r: Rng, gen: string, base: () => Uint8Array): Uint8Array | undefined {
  switch (gen) {
    case "truncate": {
      const b = base();
      return b.subarray(0, r.int(b.length + 1)).slice();
    }
    case "bit-flip": {
      const b = base().slice();
      if (b.length === 0) return b;
      for (let n = r.range(1, r.chance(0.7) ? 1 : 8); n > 0; n--) b[r.int(b.length)] ^= 1 << r.int(8);
      return b;
    }
    case "insert": {
      const b = base();
      const at = r.int(b.length + 1);
      return Buffer.concat([b.subarray(0, at), r.chance(0.5) ? r.bytes(r.range(1, 4)) : r.bytes(r.range(1, 64)), b.subarray(at)]);
    }
    case "delete": {
      const b = base();
      if (b.length === 0) return b;
      const at = r.int(b.length);
      const n = r.range(1, r.chance(0.6) ? 1 : 32);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
    }
    case "splice": {
      const a = base();
      const b = base();
      return Buffer.concat([a.subarray(0, r.int(a.length + 1)), b.subarray(r.int(b.length + 1))]);
    }
    case "overwrite": {
      const b = base().slice();
      if (b.length === 0) return b;
      const at = r.int(b.length);
      const fill = r.pick([0x00, 0xff, 0x80, 0x7f, 0x0a, 0x12]);
      for (let i = at; i < Math.min(b.length, at + r.range(1, 12)); i++) b[i] = r.chance(0.7) ? fill : r.int(256);
      return b;
    }
    default:
      return undefined;
  }
}

/** The generators byteMutation knows. */
export const BYTE_MUTATIONS = ["truncate", "bit-flip", "insert", "delete", "splice", "overwrite"] as const;

export function randomText(r: Rng, maxLen: number): string {
  const alphabet = ["a", "z", "0", "9", " ", "/", ".", "-", "_", ":", "é", "😀", "\u0000", "\uffff", "poi1", "upoi"];
  let s = "";
  const n = r.int(maxLen + 1);
  while ([...s].length < n) s += r.pick(alphabet);
  return s;
}

export function varint(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return out;
}

export function protoField(field: number, v: { varint: bigint } | { bytes: Uint8Array }): Uint8Array {
  if ("varint" in v) return Uint8Array.from([...varint(BigInt(field << 3)), ...varint(v.varint)]);
  return Uint8Array.from([...varint(BigInt((field << 3) | 2)), ...varint(BigInt(v.bytes.length)), ...v.bytes]);
}

/** A random but well-formed protobuf message (fields 1..6, varints and nested messages / bytes). */
export function randomProto(r: Rng, depth: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let n = r.int(6); n > 0; n--) {
    const field = r.chance(0.9) ? r.range(1, 6) : r.range(7, 100);
    if (r.chance(0.35)) parts.push(protoField(field, { varint: r.u64() }));
    else parts.push(protoField(field, { bytes: depth > 0 && r.chance(0.5) ? randomProto(r, depth - 1) : r.bytes(r.int(40)) }));
  }
  return Buffer.concat(parts);
}

// ---- the app under test ---------------------------------------------------------------------------------

export function blockRequest(height: bigint, txs: Uint8Array[]): Request {
  return Request.fromPartial({
    finalizeBlock: {
      txs, height, time: { seconds: GENESIS_TIME + height, nanos: 0 }, hash: sha256(Buffer.from(`block ${height}`)),
      decidedLastCommit: { round: 0, votes: [] }, misbehavior: [], nextValidatorsHash: new Uint8Array(), proposerAddress: Buffer.alloc(20, 7),
    },
  });
}

export async function grpc<T>(app: PoiApp, path: string, data: Uint8Array, decode: (b: Uint8Array) => T): Promise<T> {
  const res = await app.query(RequestQuery.fromPartial({ path, data, height: 0n, prove: false }));
  assert.equal(res.code ?? 0, 0, `query ${path}: ${res.log}`);
  return decode(res.value ?? new Uint8Array());
}

/** Committed key/value state as hex pairs: [outside blockinfo/, inside blockinfo/]. */
export async function dumpState(app: PoiApp): Promise<{ rest: Map<string, string>; blockinfo: Map<string, string> }> {
  const rest = new Map<string, string>();
  const blockinfo = new Map<string, string>();
  for (const [k, v] of await app.store.committed.iterate(new Uint8Array())) {
    (Buffer.from(k).toString("latin1").startsWith("blockinfo/") ? blockinfo : rest).set(hex(k), hex(v));
  }
  return { rest, blockinfo };
}
