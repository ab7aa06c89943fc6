import { strict as assert } from "assert";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  decodeProof, EMPTY_HASH, encodeProof, internalHash, keyPath, leafHash, pathBit, verifyProof,
} from "../src/store/proof";
import { decodeNode, encodeNode, nodeDbKey, SparseMerkleTree, type Change, type NodeSource, type TreeNode } from "../src/store/smt";

/** In-memory node storage: what the store's LevelDB does, without LevelDB. */
class MemSource implements NodeSource {
  readonly nodes = new Map<string, Buffer>();
  async get(dbKey: Buffer): Promise<Buffer | undefined> {
    return this.nodes.get(dbKey.toString("hex"));
  }
  persist(newNodes: TreeNode[]): void {
    for (const n of newNodes) this.nodes.set(nodeDbKey(n.hash).toString("hex"), encodeNode(n));
  }
}

/** Tree + storage; `apply` persists the new nodes like a commit would. */
class MemTree {
  readonly source = new MemSource();
  readonly tree: SparseMerkleTree;
  root: Uint8Array = EMPTY_HASH;
  constructor(cacheSize = 0) {
    this.tree = new SparseMerkleTree(this.source, cacheSize);
  }
  async apply(changes: Change[]): Promise<Uint8Array> {
    const { root, newNodes } = await this.tree.applyBatch(this.root, changes);
    this.source.persist(newNodes);
    this.root = root;
    return root;
  }
}

/** Independent reference: the tree definition of smt.ts, computed naively with the portable hashes. */
function referenceRoot(entries: Array<[Uint8Array, Uint8Array]>): Uint8Array {
  const leaves = entries.map(([k, v]) => ({ path: keyPath(k), valueHash: sha256(v) }));
  const rec = (set: typeof leaves, depth: number): Uint8Array => {
    if (set.length === 0) return EMPTY_HASH;
    if (set.length === 1) return leafHash(set[0].path, set[0].valueHash);
    return internalHash(rec(set.filter((l) => pathBit(l.path, depth) === 0), depth + 1), rec(set.filter((l) => pathBit(l.path, depth) === 1), depth + 1));
  };
  return rec(leaves, 0);
}

const enc = (s: string) => new Uint8Array(Buffer.from(s));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Walks the whole tree checking the canonical-shape rules; returns leaf count and max leaf depth. */
async function inspect(tree: SparseMerkleTree, root: Uint8Array): Promise<{ leaves: number; maxDepth: number }> {
  let leaves = 0;
  let maxDepth = 0;
  const visit = async (hash: Uint8Array, depth: number, prefix: number[]): Promise<"empty" | "leaf" | "internal"> => {
    if (hex(hash) === hex(EMPTY_HASH)) return "empty";
    const node = await tree.node(hash);
    if (node.kind === "leaf") {
      prefix.forEach((b, i) => assert.equal(pathBit(node.path, i), b, "leaf is off its path"));
      leaves++;
      maxDepth = Math.max(maxDepth, depth);
      return "leaf";
    }
    const l = await visit(node.left, depth + 1, [...prefix, 0]);
    const r = await visit(node.right, depth + 1, [...prefix, 1]);
    assert.ok(!(l === "empty" && r === "empty"), "internal node with two empty children");
    assert.ok(!(l === "empty" && r === "leaf") && !(l === "leaf" && r === "empty"), "internal node with an empty and a leaf child");
    return "internal";
  };
  await visit(root, 0, []);
  return { leaves, maxDepth };
}

describe("merkle: sparse Merkle tree (smt.ts) and proofs (proof.ts)", () => {
  it("empty tree has the zero hash; one key is a single leaf at the root", async () => {
    const t = new MemTree();
    assert.equal(hex(await t.apply([])), hex(EMPTY_HASH));
    const root = await t.apply([{ key: enc("a"), value: enc("1") }]);
    assert.equal(hex(root), hex(leafHash(keyPath(enc("a")), sha256(enc("1")))));
    assert.equal(hex(root), hex(referenceRoot([[enc("a"), enc("1")]])));
  });

  it("matches the naive reference definition and stays canonical through inserts and deletes", async () => {
    const t = new MemTree();
    const model = new Map<string, Uint8Array>();
    for (let round = 0; round < 6; round++) {
      const changes: Change[] = [];
      for (let i = 0; i < 300; i++) {
        const k = `k${(i * 7 + round * 131) % 700}`;
        if ((i + round) % 3 === 0) {
          changes.push({ key: enc(k), value: null });
          model.delete(k);
        } else {
          const v = enc(`v${round}.${i}`);
          changes.push({ key: enc(k), value: v });
          model.set(k, v);
        }
      }
      await t.apply(changes);
      const entries = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]): [Uint8Array, Uint8Array] => [enc(k), v]);
      assert.equal(hex(t.root), hex(referenceRoot(entries)), `round ${round}`);
      const { leaves, maxDepth } = await inspect(t.tree, t.root);
      assert.equal(leaves, model.size);
      // Random 256-bit paths: depth ≈ log2(n) (+ a few levels), far from 256.
      assert.ok(maxDepth <= 2 * Math.log2(model.size) + 8, `max depth ${maxDepth} for ${model.size} leaves`);
      for (const k of ["k0", "k1", "k5", "k699", "nope"]) {
        const v = await t.tree.get(t.root, enc(k));
        assert.equal(v === undefined ? undefined : hex(v), model.has(k) ? hex(model.get(k)!) : undefined, k);
      }
    }
    // Deleting everything collapses back to the empty tree.
    await t.apply([...model.keys()].map((k) => ({ key: enc(k), value: null })));
    assert.equal(hex(t.root), hex(EMPTY_HASH));
  });

  it("a batch costs O(changes × depth) node reads, not O(n)", async () => {
    const t = new MemTree();
    const n = 20000;
    const all: Change[] = [];
    for (let i = 0; i < n; i++) all.push({ key: enc(`key-${i}`), value: enc(`${i}`) });
    await t.apply(all);
    t.tree.resetStats();
    await t.apply([{ key: enc("key-17"), value: enc("changed") }]);
    // One path: ~log2(20000) ≈ 15 internal nodes read and rebuilt.
    assert.ok(t.tree.stats.nodesRead <= 40, `read ${t.tree.stats.nodesRead}`);
    assert.ok(t.tree.stats.nodesCreated <= 40, `created ${t.tree.stats.nodesCreated}`);
  });

  it("last write of a key in one batch wins; later batches see earlier ones", async () => {
    const t = new MemTree();
    await t.apply([{ key: enc("x"), value: enc("1") }, { key: enc("x"), value: enc("2") }, { key: enc("y"), value: enc("3") }, { key: enc("y"), value: null }]);
    assert.equal(hex(t.root), hex(referenceRoot([[enc("x"), enc("2")]])));
  });

  it("node encoding round-trips (leaf with empty value, long key, internal)", async () => {
    const t = new MemTree();
    const longKey = new Uint8Array(300).fill(9);
    await t.apply([{ key: longKey, value: new Uint8Array() }, { key: enc("b"), value: enc("bee") }]);
    for (const [id, bytes] of t.source.nodes) {
      const hash = Buffer.from(id, "hex").subarray(1);
      const node = decodeNode(hash, bytes);
      assert.equal(hex(encodeNode(node)), hex(bytes));
    }
    assert.equal(hex((await t.tree.get(t.root, longKey))!), "");
    // Two leaves under a chain of internal nodes, one per shared leading path bit, plus the split.
    const [pa, pb] = [keyPath(longKey), keyPath(enc("b"))];
    let shared = 0;
    while (pathBit(pa, shared) === pathBit(pb, shared)) shared++;
    assert.equal(t.source.nodes.size, 2 + shared + 1);
  });

  describe("proofs", () => {
    let t: MemTree;
    const keys = Array.from({ length: 200 }, (_, i) => `acct/${i}`);
    before(async () => {
      t = new MemTree();
      await t.apply(keys.map((k) => ({ key: enc(k), value: enc(`bal-${k}`) })));
    });

    it("existence proofs verify, and fail for a wrong value, another key or another root", async () => {
      for (const k of keys.slice(0, 50)) {
        const { value, proof } = await t.tree.prove(t.root, enc(k));
        assert.equal(Buffer.from(value!).toString(), `bal-${k}`);
        const bytes = encodeProof(proof);
        assert.ok(verifyProof(t.root, enc(k), value, bytes));
        assert.ok(!verifyProof(t.root, enc(k), enc("forged"), bytes));
        assert.ok(!verifyProof(t.root, enc(k), undefined, bytes), "existence proof accepted as absence");
        assert.ok(!verifyProof(t.root, enc(k + "x"), value, bytes));
        assert.ok(!verifyProof(sha256(enc("other root")), enc(k), value, bytes));
      }
    });

    it("non-existence proofs cover both terminals: an empty subtree and another key's leaf", async () => {
      const kinds = new Set<string>();
      for (let i = 0; i < 300; i++) {
        const k = enc(`missing/${i}`);
        const { value, proof } = await t.tree.prove(t.root, k);
        assert.equal(value, undefined);
        kinds.add(proof.terminal.kind);
        const bytes = encodeProof(proof);
        assert.ok(verifyProof(t.root, k, undefined, bytes));
        assert.ok(!verifyProof(t.root, k, new Uint8Array(), bytes), "absence proof accepted as existence");
        assert.ok(!verifyProof(sha256(enc("other root")), k, undefined, bytes));
      }
      assert.deepEqual([...kinds].sort(), ["empty", "other"]);
    });

    it("a non-existence proof cannot be replayed for a key that exists", async () => {
      // Find an absent key whose terminal is another key's leaf, then try to deny that other key.
      for (let i = 0; ; i++) {
        const { proof } = await t.tree.prove(t.root, enc(`missing/${i}`));
        if (proof.terminal.kind !== "other") continue;
        const present = keys.find((k) => hex(keyPath(enc(k))) === hex((proof.terminal as { path: Uint8Array }).path))!;
        assert.ok(present);
        assert.ok(!verifyProof(t.root, enc(present), undefined, encodeProof(proof)));
        break;
      }
    });

    it("every single-byte tampering or truncation of a proof is rejected", async () => {
      for (const k of [enc("acct/3"), enc("missing/1"), enc("missing/2")]) {
        const { value, proof } = await t.tree.prove(t.root, k);
        const bytes = encodeProof(proof);
        assert.deepEqual(encodeProof(decodeProof(bytes)), bytes);
        for (let i = 0; i < bytes.length; i++) {
          for (const flip of [0x01, 0x80]) {
            const bad = Uint8Array.from(bytes);
            bad[i] ^= flip;
            assert.ok(!verifyProof(t.root, k, value, bad), `byte ${i} ^ ${flip}`);
          }
        }
        assert.ok(!verifyProof(t.root, k, value, bytes.subarray(0, bytes.length - 1)));
        assert.ok(!verifyProof(t.root, k, value, Buffer.concat([bytes, Uint8Array.of(0)])));
      }
    });

    it("proofs in the empty tree and in a one-leaf tree", async () => {
      const e = new MemTree();
      const p0 = encodeProof((await e.tree.prove(e.root, enc("a"))).proof);
      assert.ok(verifyProof(EMPTY_HASH, enc("a"), undefined, p0));
      assert.equal(p0.length, 3);
      await e.apply([{ key: enc("a"), value: enc("1") }]);
      const p1 = await e.tree.prove(e.root, enc("a"));
      assert.ok(verifyProof(e.root, enc("a"), enc("1"), encodeProof(p1.proof)));
      const p2 = await e.tree.prove(e.root, enc("b"));
      assert.equal(p2.proof.terminal.kind, "other");
      assert.ok(verifyProof(e.root, enc("b"), undefined, encodeProof(p2.proof)));
    });
  });
});
