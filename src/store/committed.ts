/**
 * Reads of committed state: the flat "s" copy in LevelDB, a cache of its values in memory, and
 * snapshots that pin one committed height for readers that run beside block execution (queries).
 */
import type { AbstractSnapshot } from "abstract-level";
import type { Level } from "level";
import { GenerationCache } from "../util/gen-cache";
import type { IterateOptions, KVStore } from "./store";

export type DB = Level<Buffer, Buffer>;

const STATE_PREFIX = 0x73; // "s"

/** Values above this size are not cached (model bytes, dataset chunks): they are read rarely and would crowd out accounts. */
export const VALUE_CACHE_MAX_VALUE_BYTES = 16 * 1024;
export const DEFAULT_VALUE_CACHE_ENTRIES = 200_000;
/** Range reads remembered (validator sets, task indexes: read by several ABCI calls of each height). */
export const RANGE_CACHE_MAX_RANGES = 1024;
/** Larger range results are read from LevelDB each time. */
export const RANGE_CACHE_MAX_ROWS = 256;
export const RANGE_CACHE_MAX_BYTES = 64 * 1024;

type Rows = Array<[Uint8Array, Uint8Array]>;

interface CachedRange {
  startId: string;
  /** undefined: to the end of the state */
  endId: string | undefined;
  rows: Rows;
}

/** Work counters for benchmarks and tests; reset them freely. */
export interface StoreStats {
  /** LevelDB reads of the flat state: gets and range reads. */
  dbValueReads: number;
  /** Gets answered from the value cache. */
  cachedValueReads: number;
  /**
   * Reads of committed state however they are served: one per get, one per range read plus one per
   * entry it returns. What a block or query costs in state reads, independent of caching.
   */
  stateReads: number;
}

export function stateKey(key: Uint8Array): Buffer {
  const k = Buffer.allocUnsafe(1 + key.length);
  k[0] = STATE_PREFIX;
  k.set(key, 1);
  return k;
}

/** Keys as latin1 strings: one char per byte (store.ts uses the same ids). */
function toId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

function readOnly(): never {
  throw new Error("committed state is read-only: write through a Branch or CommitStore.working");
}

/**
 * The committed values of exactly one height, `version` (absent keys as null), bounded by entries.
 * `commit` applies a block's changes and moves to the next version in one synchronous step, so at
 * any moment a hit is the value at the current committed height. A value read from LevelDB is
 * added only if no commit happened while it was being read.
 */
export class ValueCache {
  version = 0n;
  private readonly values: GenerationCache<Uint8Array | null>;
  /** Range reads of `version`, by rangeCacheKey; commit drops each one that a change falls in. */
  private readonly ranges = new Map<string, CachedRange>();

  constructor(capacity = DEFAULT_VALUE_CACHE_ENTRIES) {
    this.values = new GenerationCache(capacity);
  }

  get(id: string): Uint8Array | null | undefined {
    return this.values.get(id);
  }

  /** Adds a value read from LevelDB at `readVersion`. */
  fill(id: string, value: Uint8Array | undefined, readVersion: bigint): void {
    if (readVersion !== this.version) return;
    if (value === undefined) this.values.set(id, null);
    else if (value.length <= VALUE_CACHE_MAX_VALUE_BYTES) this.values.set(id, Uint8Array.from(value));
  }

  /** A copy of a cached range read, or undefined: Buffers, as LevelDB's rows are. */
  getRange(key: string): Rows | undefined {
    const hit = this.ranges.get(key);
    return hit && hit.rows.map(([k, v]): [Uint8Array, Uint8Array] => [Buffer.from(k), Buffer.from(v)]);
  }

  /** Adds a range read from LevelDB at `readVersion` (small results only). */
  fillRange(key: string, startId: string, endId: string | undefined, rows: Rows, readVersion: bigint): void {
    if (readVersion !== this.version || rows.length > RANGE_CACHE_MAX_ROWS) return;
    let bytes = 0;
    for (const [k, v] of rows) bytes += k.length + v.length;
    if (bytes > RANGE_CACHE_MAX_BYTES) return;
    if (this.ranges.size >= RANGE_CACHE_MAX_RANGES) this.ranges.clear();
    this.ranges.set(key, { startId, endId, rows: rows.map(([k, v]) => [Uint8Array.from(k), Uint8Array.from(v)]) });
  }

  /** The block's writes are in LevelDB: the cache now holds `version`. `changes` are in ascending key order. */
  commit(version: bigint, changes: ReadonlyArray<{ key: Uint8Array; value: Uint8Array | null }>): void {
    const ids: string[] = [];
    for (const { key, value } of changes) {
      const id = toId(key);
      ids.push(id);
      if (value !== null && value.length > VALUE_CACHE_MAX_VALUE_BYTES) this.values.delete(id);
      else this.values.set(id, value === null ? null : Uint8Array.from(value));
    }
    for (const [key, range] of this.ranges) if (anyInRange(ids, range.startId, range.endId)) this.ranges.delete(key);
    this.version = version;
  }
}

/** The cache key of a range read: start's length first, so that no two ranges share one. */
function rangeCacheKey(startId: string, endId: string | undefined, opts: IterateOptions): string {
  return `${startId.length}:${startId}:${endId ?? "\u0100"}:${opts.reverse === true ? "r" : "f"}${opts.limit ?? -1}`;
}

/** Whether some id of the ascending `ids` lies in [start, end). */
function anyInRange(ids: readonly string[], start: string, end: string | undefined): boolean {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] < start) lo = mid + 1;
    else hi = mid;
  }
  return lo < ids.length && (end === undefined || ids[lo] < end);
}

async function readRange(db: DB, start: Uint8Array, end: Uint8Array | undefined, opts: IterateOptions, snapshot?: AbstractSnapshot): Promise<Array<[Uint8Array, Uint8Array]>> {
  const range = { gte: stateKey(start), lt: end ? stateKey(end) : Buffer.of(STATE_PREFIX + 1) };
  const rows = await db.iterator({ ...range, reverse: opts.reverse === true, limit: opts.limit ?? -1, snapshot }).all();
  return rows.map(([k, v]): [Uint8Array, Uint8Array] => [k.subarray(1), v]);
}

/**
 * Reads of committed state, read-only. Gets are served from the value cache when it holds the
 * height being read (no LevelDB round trip, no wait on the thread pool).
 */
abstract class CommittedReader implements KVStore {
  constructor(protected readonly db: DB, protected readonly cache: ValueCache, private readonly stats: StoreStats) {}

  /** The LevelDB snapshot to read, if pinned to one height. */
  protected abstract get snapshot(): AbstractSnapshot | undefined;
  /** The height the value cache must be at for its entries to answer this reader. */
  protected abstract get height(): bigint;

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.stats.stateReads++;
    const id = toId(key);
    const height = this.height;
    if (this.cache.version === height) {
      const hit = this.cache.get(id);
      if (hit !== undefined) {
        this.stats.cachedValueReads++;
        return hit === null ? undefined : Uint8Array.from(hit); // a copy: callers cannot edit the cache
      }
    }
    this.stats.dbValueReads++;
    const value = await this.db.get(stateKey(key), { snapshot: this.snapshot });
    this.cache.fill(id, value, height);
    return value;
  }

  set(): void {
    readOnly();
  }

  delete(): void {
    readOnly();
  }

  async iterate(start: Uint8Array, end?: Uint8Array, opts: IterateOptions = {}): Promise<Array<[Uint8Array, Uint8Array]>> {
    const startId = toId(start);
    const endId = end && toId(end);
    const key = rangeCacheKey(startId, endId, opts);
    const height = this.height;
    const hit = this.cache.version === height ? this.cache.getRange(key) : undefined;
    if (hit !== undefined) {
      this.stats.cachedValueReads++;
      this.stats.stateReads += 1 + hit.length;
      return hit;
    }
    this.stats.dbValueReads++;
    const rows = await readRange(this.db, start, end, opts, this.snapshot);
    this.stats.stateReads += 1 + rows.length;
    this.cache.fillRange(key, startId, endId, rows, height);
    return rows;
  }
}

/** The latest committed state, whatever height that is when each read runs. */
export class CommittedView extends CommittedReader {
  protected get snapshot(): undefined {
    return undefined;
  }

  protected get height(): bigint {
    return this.cache.version;
  }
}

/**
 * A LevelDB snapshot of one committed height, shared by the readers that use it: closed once the
 * store has moved on to a later height and the last reader has released it.
 */
export class SnapshotHandle {
  private refs = 1; // the store's own reference, dropped when a later height is committed

  constructor(readonly height: bigint, readonly appHash: Uint8Array, readonly snapshot: AbstractSnapshot) {}

  acquire(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0) void this.snapshot.close().catch(() => undefined);
  }
}

/** What a reader of one committed height gets: its state, read-only, and the release of it. */
export interface CommittedSnapshot {
  readonly height: bigint;
  readonly appHash: Uint8Array;
  readonly kv: KVStore;
  /** Call once when done; the snapshot must not be read afterwards. */
  release(): void;
}

/**
 * Committed state pinned at `handle.height`: a commit that lands while it is being read cannot
 * change what it returns (no torn reads across heights). The value cache is used only while it
 * still holds this height.
 */
export class SnapshotView extends CommittedReader {
  constructor(db: DB, private readonly handle: SnapshotHandle, cache: ValueCache, stats: StoreStats) {
    super(db, cache, stats);
  }

  protected get snapshot(): AbstractSnapshot {
    return this.handle.snapshot;
  }

  protected get height(): bigint {
    return this.handle.height;
  }
}
