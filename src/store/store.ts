/**
 * Versioned, Merkleized key/value state on LevelDB (see README.md in this folder).
 *
 * Database layout (one LevelDB, single-byte prefixes):
 *   "n" || hash(32)        -> tree node (smt.ts encoding), content-addressed, never deleted
 *   "s" || key             -> value: flat copy of the latest committed state (fast reads/iteration)
 *   "r" || height(u64 BE)  -> root hash (app hash) after that height
 *   "m"                    -> meta: 0x01 || height(u64 BE) || appHash(32)
 * Everything a block changes is written by one `db.batch`, so a crash leaves the previous commit.
 */
import { Level } from "level";
import { encodeProof, EMPTY_HASH, HASH_LENGTH } from "./proof";
import { encodeNode, nodeDbKey, SparseMerkleTree, type TreeNode } from "./smt";
import {
  type CommittedSnapshot, CommittedView, type DB, DEFAULT_VALUE_CACHE_ENTRIES, SnapshotHandle, SnapshotView, stateKey, type StoreStats, ValueCache,
} from "./committed";

export type { CommittedSnapshot, StoreStats } from "./committed";

export interface KVStore {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** `value` may be empty (distinct from deleted). The value is copied. */
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
  /**
   * Entries with start <= key < end (end undefined = no bound), in ascending byte order (descending
   * with `reverse`), pending writes merged over committed, deletions hidden; with `limit`, only the
   * first `limit` of them in that order (the rest is never read).
   */
  iterate(start: Uint8Array, end?: Uint8Array, opts?: IterateOptions): Promise<Array<[Uint8Array, Uint8Array]>>;
}

export interface IterateOptions {
  /** At most this many entries (a non-negative integer). */
  limit?: number;
  /** Descending key order: the `limit` greatest keys of the range. */
  reverse?: boolean;
}

const ROOT_PREFIX = 0x72; // "r"
const META_KEY = Buffer.from("m");
const META_VERSION = 0x01;

/**
 * Keys are held in maps as latin1 strings: one char per byte, so JS string order (UTF-16 code
 * units) is exactly byte-lexicographic order.
 */
function toId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

function fromId(id: string): Buffer {
  return Buffer.from(id, "latin1");
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A write waiting in a branch: null = deleted. */
type Pending = Uint8Array | null;

/**
 * Cache-wrap over a parent store: reads fall through to the parent, writes stay here until
 * `write()` flushes them into the parent. Dropping a branch (never calling write) discards them.
 */
export class Branch implements KVStore {
  protected readonly writes = new Map<string, Pending>();

  constructor(private readonly parent: KVStore) {}

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.getById(toId(key), key);
  }

  /** get, with the key's id made once for the whole chain of branches (a tx reads through three or four). */
  protected getById(id: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    const w = this.writes.get(id);
    if (w !== undefined) return Promise.resolve(w === null ? undefined : Uint8Array.from(w)); // a copy: callers cannot edit state in place
    return this.parent instanceof Branch ? this.parent.getById(id, key) : this.parent.get(key);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.putById(toId(key), Uint8Array.from(value));
  }

  /** A write by id; `value` is this branch's own (a copy, or handed over by a child branch's write()). */
  protected putById(id: string, value: Pending): void {
    this.writes.set(id, value);
  }

  delete(key: Uint8Array): void {
    this.putById(toId(key), null);
  }

  async iterate(start: Uint8Array, end?: Uint8Array, opts: IterateOptions = {}): Promise<Array<[Uint8Array, Uint8Array]>> {
    const overlay = this.sortedWrites(toId(start), end && toId(end));
    if (opts.reverse) overlay.reverse();
    // Each overlay entry hides or replaces at most one parent entry, so `limit + overlay.length`
    // parent entries always hold the first `limit` merged ones.
    const base = await this.parent.iterate(start, end, opts.limit === undefined ? opts : { ...opts, limit: opts.limit + overlay.length });
    if (overlay.length === 0) return base;
    // Merge two lists in iteration order; on equal keys the branch's write wins (a deletion hides the key).
    const sign = opts.reverse ? -1 : 1;
    const limit = opts.limit ?? Infinity;
    const out: Array<[Uint8Array, Uint8Array]> = [];
    let i = 0;
    let j = 0;
    while ((i < base.length || j < overlay.length) && out.length < limit) {
      const cmp = i === base.length ? 1 : j === overlay.length ? -1 : sign * compareIds(toId(base[i][0]), overlay[j][0]);
      if (cmp < 0) {
        out.push(base[i++]);
      } else {
        const [id, value] = overlay[j++];
        if (cmp === 0) i++;
        if (value !== null) out.push([fromId(id), Uint8Array.from(value)]);
      }
    }
    return out;
  }

  /** Flushes this branch's writes into the parent (in key order) and empties the branch. */
  write(): void {
    const parent = this.parent;
    for (const [id, value] of this.sortedWrites()) {
      // Into a parent branch by id, handing over the value (this branch forgets it below).
      if (parent instanceof Branch) parent.putById(id, value);
      else if (value === null) parent.delete(fromId(id));
      else parent.set(fromId(id), value);
    }
    this.writes.clear();
  }

  /** This branch's writes with start <= key < end, ascending. */
  protected sortedWrites(start?: string, end?: string): Array<[string, Pending]> {
    const out: Array<[string, Pending]> = [];
    for (const entry of this.writes) {
      if ((start === undefined || entry[0] >= start) && (end === undefined || entry[0] < end)) out.push(entry);
    }
    return out.sort((a, b) => compareIds(a[0], b[0]));
  }
}

/**
 * The writes of the block being executed, over committed state. `writeCount` counts sets, deletes
 * and clears, so a hash computed at one count is stale at another.
 */
class PendingState extends Branch {
  writeCount = 0;

  protected override putById(id: string, value: Pending): void {
    this.writeCount++;
    super.putById(id, value);
  }

  override write(): void {
    throw new Error("the block's pending state is persisted by CommitStore.commit, not write()");
  }

  changes(): Array<{ key: Buffer; value: Pending }> {
    return this.sortedWrites().map(([id, value]) => ({ key: fromId(id), value }));
  }

  clear(): void {
    this.writeCount++;
    this.writes.clear();
  }
}

function rootKey(height: bigint): Buffer {
  const k = Buffer.allocUnsafe(9);
  k[0] = ROOT_PREFIX;
  k.writeBigUInt64BE(height, 1);
  return k;
}

function encodeMeta(height: bigint, appHash: Uint8Array): Buffer {
  const m = Buffer.alloc(1 + 8 + HASH_LENGTH);
  m[0] = META_VERSION;
  m.writeBigUInt64BE(height, 1);
  m.set(appHash, 9);
  return m;
}

/** Result of computeHash, reused by commit if the pending state has not changed since. */
interface Computed {
  writeCount: number;
  changes: Array<{ key: Buffer; value: Pending }>;
  root: Uint8Array;
  newNodes: TreeNode[];
}

export interface StoreOptions {
  /** Decoded tree nodes kept in memory (default 200,000). */
  nodeCacheSize?: number;
  /** Committed values kept in memory (default 200,000 entries; values over 16 KiB are never kept). */
  valueCacheSize?: number;
}

export class CommitStore {
  /** The state tree; exposed for benchmarks and diagnostics (its `stats` count node reads and hashes). */
  readonly tree: SparseMerkleTree;
  readonly stats: StoreStats = { dbValueReads: 0, cachedValueReads: 0, stateReads: 0 };
  /** The latest committed state (whatever height is latest when each read runs); read-only. */
  readonly committed: KVStore;
  private readonly pending: PendingState;
  private readonly values: ValueCache;
  /** LevelDB snapshot of the last committed height, for readers beside block execution (snapshot()). */
  private latest: SnapshotHandle;
  private computed: Computed | undefined;

  private constructor(
    private readonly db: DB,
    private height: bigint,
    private appHash: Uint8Array,
    opts: StoreOptions,
  ) {
    this.tree = new SparseMerkleTree(db, opts.nodeCacheSize);
    this.values = new ValueCache(opts.valueCacheSize ?? DEFAULT_VALUE_CACHE_ENTRIES);
    this.values.version = height;
    this.committed = new CommittedView(db, this.values, this.stats);
    this.pending = new PendingState(this.committed);
    this.latest = new SnapshotHandle(height, appHash, db.snapshot());
  }

  static async open(dir: string, opts: StoreOptions = {}): Promise<CommitStore> {
    const db: DB = new Level<Buffer, Buffer>(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
    await db.open();
    const meta = await db.get(META_KEY);
    if (meta === undefined) return new CommitStore(db, 0n, EMPTY_HASH, opts);
    if (meta.length !== 1 + 8 + HASH_LENGTH || meta[0] !== META_VERSION) {
      await db.close();
      throw new Error(`store at ${dir}: unrecognised meta record`);
    }
    return new CommitStore(db, meta.readBigUInt64BE(1), Uint8Array.from(meta.subarray(9)), opts);
  }

  /**
   * The last committed height, pinned: what it returns stays that height's state even if later
   * heights are committed meanwhile. For readers that run beside block execution (ABCI queries).
   * Release it when done.
   */
  snapshot(): CommittedSnapshot {
    const handle = this.latest;
    handle.acquire();
    let released = false;
    return {
      height: handle.height,
      appHash: handle.appHash,
      kv: new SnapshotView(this.db, handle, this.values, this.stats),
      release: () => {
        if (!released) handle.release();
        released = true;
      },
    };
  }

  /** Height of the last commit; 0n for a fresh store. */
  get lastHeight(): bigint {
    return this.height;
  }

  /** Root after lastHeight; EMPTY_HASH (32 zero bytes) for a fresh store. */
  get lastAppHash(): Uint8Array {
    return this.appHash;
  }

  /** The pending ("working") state of the block being executed: committed state + pending writes. */
  get working(): KVStore {
    return this.pending;
  }

  /**
   * Root over committed state + all pending writes, without persisting anything. Cost: O(pending
   * keys × log n). May be called again after more writes (e.g. genesis, then the first block): each
   * call applies the whole pending set to the last committed root.
   */
  async computeHash(): Promise<Uint8Array> {
    const writeCount = this.pending.writeCount;
    const changes = this.pending.changes();
    const { root, newNodes } = await this.tree.applyBatch(this.appHash, changes);
    this.computed = { writeCount, changes, root, newNodes };
    return root;
  }

  /**
   * Persists the pending writes, their tree nodes, the root for `height` and the meta record in one
   * LevelDB batch, then clears the pending state. Heights must follow each other (the first commit
   * of a fresh store may start above 1, for chains with a later initial height).
   */
  async commit(height: bigint): Promise<void> {
    if (height <= this.height || (this.height > 0n && height !== this.height + 1n)) {
      throw new Error(`cannot commit height ${height} after height ${this.height}`);
    }
    if (this.computed === undefined || this.computed.writeCount !== this.pending.writeCount) await this.computeHash();
    const { changes, root, newNodes } = this.computed as Computed;
    const ops: Array<{ type: "put"; key: Buffer; value: Buffer } | { type: "del"; key: Buffer }> = [];
    for (const { key, value } of changes) {
      ops.push(value === null ? { type: "del", key: stateKey(key) } : { type: "put", key: stateKey(key), value: Buffer.from(value) });
    }
    for (const node of newNodes) ops.push({ type: "put", key: nodeDbKey(node.hash), value: encodeNode(node) });
    ops.push({ type: "put", key: rootKey(height), value: Buffer.from(root) });
    ops.push({ type: "put", key: META_KEY, value: encodeMeta(height, root) });
    await this.db.batch(ops);
    // From here to the end nothing awaits: readers see the old height or the new one, never a mix.
    this.tree.cacheNodes(newNodes);
    this.values.commit(height, changes);
    this.height = height;
    this.appHash = root;
    const previous = this.latest;
    this.latest = new SnapshotHandle(height, root, this.db.snapshot());
    previous.release();
    this.discardPending();
  }

  /** Drops the uncommitted block writes (e.g. a block executed but never committed). */
  discardPending(): void {
    this.pending.clear();
    this.computed = undefined;
  }

  /**
   * Reads `key` at a committed height (latest if height is 0n/undefined). With `prove`, also returns
   * a proof (proof.ts encoding) that verifies against `root`, the app hash of that height.
   * Throws for a height above lastHeight or one this store has no root for.
   */
  async query(key: Uint8Array, opts: { height?: bigint; prove?: boolean } = {}): Promise<{ height: bigint; value?: Uint8Array; proof?: Uint8Array; root: Uint8Array }> {
    const snap = this.snapshot();
    try {
      const height = opts.height === undefined || opts.height === 0n ? snap.height : opts.height;
      if (height > snap.height) throw new Error(`height ${height} is not committed yet (last height ${snap.height})`);
      const latest = height === snap.height;
      const root = latest ? snap.appHash : await this.rootAt(height);
      if (root === undefined) throw new Error(`no state stored for height ${height}`);
      if (opts.prove) {
        const { value, proof } = await this.tree.prove(root, key);
        return { height, value, proof: encodeProof(proof), root };
      }
      const value = latest ? await snap.kv.get(key) : await this.tree.get(root, key);
      return { height, value, root };
    } finally {
      snap.release();
    }
  }

  /** App hash after `height`, undefined if that height was never committed here. */
  async rootAt(height: bigint): Promise<Uint8Array | undefined> {
    if (height < 1n || height > this.height) return undefined;
    return this.db.get(rootKey(height));
  }

  async close(): Promise<void> {
    this.latest.release();
    await this.db.close();
  }
}
