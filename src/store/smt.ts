/**
 * Canonical compact sparse Merkle tree over sha256(key) paths, with nodes stored content-addressed.
 *
 * The tree for a set S of (key, value) pairs at depth d is defined as
 *   |S| = 0  -> the empty subtree (hash = 32 zero bytes)
 *   |S| = 1  -> the single leaf, whatever d is (one-leaf subtrees collapse)
 *   |S| >= 2 -> internal(tree(S with bit d of the path = 0, d+1), tree(S with bit d = 1, d+1))
 * so the shape depends only on the set, never on the order of writes. Consequently an internal node
 * never has one empty child and one leaf child; it may have an empty child and an internal child
 * (when all its leaves share the next path bit).
 *
 * Hash definitions are in proof.ts; here they are recomputed with node:crypto, which is faster
 * than the portable implementation the verifier uses (the tests check that both agree).
 */
import { createHash } from "node:crypto";
import { decodeUvarint, encodeUvarint } from "../util/varint";
import { GenerationCache } from "../util/gen-cache";
import { EMPTY_HASH, HASH_LENGTH, INTERNAL_TAG, LEAF_TAG, pathBit, type Proof, type ProofTerminal } from "./proof";

export interface LeafNode {
  readonly kind: "leaf";
  readonly hash: Buffer;
  /** sha256(key): not stored, recomputed when the node is decoded. */
  readonly path: Buffer;
  readonly key: Buffer;
  readonly value: Buffer;
}

export interface InternalNode {
  readonly kind: "internal";
  readonly hash: Buffer;
  /** Child hashes; EMPTY_HASH for an empty child. */
  readonly left: Buffer;
  readonly right: Buffer;
}

export type TreeNode = LeafNode | InternalNode;

/** One write of a batch: `value` null deletes the key. */
export interface Change {
  key: Uint8Array;
  value: Uint8Array | null;
}

/** Where persisted nodes are read from: LevelDB in the store, a Map in unit tests. */
export interface NodeSource {
  get(dbKey: Buffer): Promise<Buffer | undefined>;
}

/** Counters for the benchmark and tests; reset them freely. */
export interface TreeStats {
  /** Node lookups by hash (cache hits included). */
  nodesRead: number;
  /** Lookups that missed the cache and went to the NodeSource. */
  nodesFromDb: number;
  /** New nodes built and hashed by applyBatch. */
  nodesCreated: number;
}

/** Database key of a node: "n" || hash. */
export const NODE_PREFIX = 0x6e;
export const DEFAULT_NODE_CACHE_SIZE = 200_000;

const EMPTY = Buffer.from(EMPTY_HASH);

export function nodeDbKey(hash: Uint8Array): Buffer {
  const k = Buffer.allocUnsafe(1 + HASH_LENGTH);
  k[0] = NODE_PREFIX;
  k.set(hash, 1);
  return k;
}

function sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

function hashNode(tag: number, a: Uint8Array, b: Uint8Array): Buffer {
  return createHash("sha256").update(Uint8Array.of(tag)).update(a).update(b).digest();
}

function isEmpty(hash: Uint8Array): boolean {
  return EMPTY.equals(hash);
}

function makeLeaf(path: Buffer, key: Buffer, value: Buffer): LeafNode {
  return { kind: "leaf", hash: hashNode(LEAF_TAG, path, sha256(value)), path, key, value };
}

/**
 * Leaf:     0x00 || uvarint(key length) || key || value
 * Internal: 0x01 || left(32) || right(32)
 */
export function encodeNode(node: TreeNode): Buffer {
  if (node.kind === "internal") return Buffer.concat([Uint8Array.of(INTERNAL_TAG), node.left, node.right]);
  return Buffer.concat([Uint8Array.of(LEAF_TAG), encodeUvarint(node.key.length), node.key, node.value]);
}

/** Decodes a stored node; `hash` is the key it was found under (not re-verified). */
export function decodeNode(hash: Buffer, bytes: Buffer): TreeNode {
  if (bytes[0] === INTERNAL_TAG) {
    if (bytes.length !== 1 + 2 * HASH_LENGTH) throw new Error("corrupt internal node");
    return { kind: "internal", hash, left: bytes.subarray(1, 1 + HASH_LENGTH), right: bytes.subarray(1 + HASH_LENGTH) };
  }
  if (bytes[0] !== LEAF_TAG) throw new Error(`corrupt tree node: tag ${bytes[0]}`);
  const len = decodeUvarint(bytes, 1, 5);
  if (!len.ok || 1 + len.length + len.value > bytes.length) throw new Error("corrupt leaf node");
  const keyLen = len.value;
  const off = 1 + len.length;
  const key = bytes.subarray(off, off + keyLen);
  return { kind: "leaf", hash, path: sha256(key), key, value: bytes.subarray(off + keyLen) };
}

/**
 * A subtree reference produced while rebuilding. `leaf` is true/false when known, undefined for an
 * untouched subtree whose kind we have not loaded (only needed if its sibling becomes empty).
 */
interface Ref {
  hash: Buffer;
  leaf: boolean | undefined;
}

const EMPTY_REF: Ref = { hash: EMPTY, leaf: false };

/** An entry to place in a rebuilt subtree: a write of the batch, or an existing leaf kept as is. */
interface Item {
  path: Buffer;
  key: Buffer;
  value: Buffer | null;
  existing?: LeafNode;
}

/** First index in items[lo, hi) (sorted by path, sharing bits 0..depth-1) whose bit `depth` is 1. */
function splitIndex(items: Item[], lo: number, hi: number, depth: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pathBit(items[mid].path, depth) === 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SparseMerkleTree {
  readonly stats: TreeStats = { nodesRead: 0, nodesFromDb: 0, nodesCreated: 0 };
  /** Decoded nodes, bounded (see GenerationCache). */
  private readonly cache: GenerationCache<TreeNode>;

  constructor(private readonly source: NodeSource, cacheSize = DEFAULT_NODE_CACHE_SIZE) {
    this.cache = new GenerationCache<TreeNode>(cacheSize);
  }

  resetStats(): void {
    this.stats.nodesRead = this.stats.nodesFromDb = this.stats.nodesCreated = 0;
  }

  /** The node stored under `hash` (must not be the empty hash); throws if it is missing. */
  async node(hash: Uint8Array): Promise<TreeNode> {
    this.stats.nodesRead++;
    const id = Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString("latin1");
    const cached = this.cache.get(id);
    if (cached) return cached;
    this.stats.nodesFromDb++;
    const bytes = await this.source.get(nodeDbKey(hash));
    if (bytes === undefined) throw new Error(`missing tree node ${Buffer.from(hash).toString("hex")}`);
    const node = decodeNode(Buffer.from(hash), bytes);
    this.cache.set(id, node);
    return node;
  }

  /** Puts nodes into the cache once they are persisted (they are likely to be read by the next block). */
  cacheNodes(nodes: Iterable<TreeNode>): void {
    for (const n of nodes) this.cache.set(n.hash.toString("latin1"), n);
  }

  /**
   * Applies writes to the tree with root `root` and returns the new root plus the nodes that must be
   * persisted for it (nothing is written here). Changes are sorted by path and pushed down together,
   * so only the paths to changed keys are visited: O(changes × depth) node reads and hashes.
   * If a key appears several times, its last change wins.
   */
  async applyBatch(root: Uint8Array, changes: Change[]): Promise<{ root: Uint8Array; newNodes: TreeNode[] }> {
    const sorted: Item[] = changes
      .map((c) => ({ path: sha256(c.key), key: Buffer.from(c.key), value: c.value === null ? null : Buffer.from(c.value) }))
      .sort((a, b) => Buffer.compare(a.path, b.path)); // stable: equal paths keep input order
    const items: Item[] = [];
    for (const it of sorted) {
      if (items.length > 0 && items[items.length - 1].path.equals(it.path)) items[items.length - 1] = it;
      else items.push(it);
    }
    const staged = new Map<string, TreeNode>();
    const ref = await this.update(Buffer.from(root), 0, items, 0, items.length, staged);
    return { root: ref.hash, newNodes: [...staged.values()] };
  }

  /** Value of `key` in the tree with root `root`, undefined if absent. */
  async get(root: Uint8Array, key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.walk(root, key)).value;
  }

  /** Value of `key` (or undefined) and the proof of it, to be checked with verifyProof(root, ...). */
  async prove(root: Uint8Array, key: Uint8Array): Promise<{ value?: Uint8Array; proof: Proof }> {
    const { value, siblings, terminal } = await this.walk(root, key);
    return { value, proof: { siblings, terminal } };
  }

  private async walk(root: Uint8Array, key: Uint8Array): Promise<{ value?: Uint8Array; siblings: Uint8Array[]; terminal: ProofTerminal }> {
    const path = sha256(key);
    const siblings: Uint8Array[] = [];
    let hash: Uint8Array = root;
    for (let depth = 0; ; depth++) {
      if (isEmpty(hash)) return { siblings, terminal: { kind: "empty" } };
      const node = await this.node(hash);
      if (node.kind === "leaf") {
        // The value is copied: the node itself stays shared in the cache.
        if (node.path.equals(path)) return { value: Uint8Array.from(node.value), siblings, terminal: { kind: "leaf" } };
        return { siblings, terminal: { kind: "other", path: node.path, valueHash: sha256(node.value) } };
      }
      if (pathBit(path, depth) === 0) {
        siblings.push(node.right);
        hash = node.left;
      } else {
        siblings.push(node.left);
        hash = node.right;
      }
    }
  }

  /** Rebuilds the subtree `hash` at `depth` with items[lo, hi), which all lie under it. */
  private async update(hash: Buffer, depth: number, items: Item[], lo: number, hi: number, staged: Map<string, TreeNode>): Promise<Ref> {
    if (lo === hi) return { hash, leaf: undefined };
    if (isEmpty(hash)) {
      const inserts = items.slice(lo, hi).filter((it) => it.value !== null);
      return this.build(depth, inserts, 0, inserts.length, staged);
    }
    const node = await this.node(hash);
    if (node.kind === "leaf") {
      // Merge the existing leaf with the writes below it, then build that (small) set afresh.
      const merged: Item[] = [];
      let placed = false;
      const keep: Item = { path: node.path, key: node.key, value: node.value, existing: node };
      for (let i = lo; i < hi; i++) {
        const it = items[i];
        const cmp = Buffer.compare(it.path, node.path);
        if (!placed && cmp >= 0) {
          placed = true;
          if (cmp === 0) {
            // Rewriting the same value keeps the stored leaf rather than staging an identical copy.
            if (it.value !== null) merged.push(it.value.equals(node.value) ? keep : it);
            continue;
          }
          merged.push(keep);
        }
        if (it.value !== null) merged.push(it);
      }
      if (!placed) merged.push(keep);
      return this.build(depth, merged, 0, merged.length, staged);
    }
    const mid = splitIndex(items, lo, hi, depth);
    const [left, right] = await Promise.all([
      this.update(node.left, depth + 1, items, lo, mid, staged),
      this.update(node.right, depth + 1, items, mid, hi, staged),
    ]);
    // A lone leaf beside an empty subtree moves up (recursively, as each level returns).
    const leftEmpty = isEmpty(left.hash);
    const rightEmpty = isEmpty(right.hash);
    if (leftEmpty && rightEmpty) return EMPTY_REF;
    if (leftEmpty || rightEmpty) {
      const only = leftEmpty ? right : left;
      const isLeaf = only.leaf ?? (await this.node(only.hash)).kind === "leaf";
      if (isLeaf) return { hash: only.hash, leaf: true };
    }
    return this.internal(left.hash, right.hash, staged);
  }

  /** Builds the canonical subtree at `depth` for items[lo, hi) (sorted, no deletions). */
  private build(depth: number, items: Item[], lo: number, hi: number, staged: Map<string, TreeNode>): Ref {
    if (lo === hi) return EMPTY_REF;
    if (hi - lo === 1) {
      const it = items[lo];
      if (it.existing) return { hash: it.existing.hash, leaf: true };
      const leaf = makeLeaf(it.path, it.key, it.value as Buffer);
      this.stats.nodesCreated++;
      staged.set(leaf.hash.toString("latin1"), leaf);
      return { hash: leaf.hash, leaf: true };
    }
    const mid = splitIndex(items, lo, hi, depth);
    const left = this.build(depth + 1, items, lo, mid, staged);
    const right = this.build(depth + 1, items, mid, hi, staged);
    return this.internal(left.hash, right.hash, staged);
  }

  private internal(left: Buffer, right: Buffer, staged: Map<string, TreeNode>): Ref {
    const node: InternalNode = { kind: "internal", hash: hashNode(INTERNAL_TAG, left, right), left, right };
    this.stats.nodesCreated++;
    staged.set(node.hash.toString("latin1"), node);
    return { hash: node.hash, leaf: false };
  }
}
