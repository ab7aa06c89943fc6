import { strict as assert } from "assert";
import { fork } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sha256 } from "@noble/hashes/sha2.js";
import { EMPTY_HASH, internalHash, keyPath, leafHash, pathBit, verifyProof } from "../src/store/proof";
import { Branch, CommitStore, type KVStore } from "../src/store/store";
import { blockWrites, type ChildMessage } from "./fixtures/store-crash-child";

const b = (s: string) => new Uint8Array(Buffer.from(s));
const hex = (x: Uint8Array | undefined) => (x === undefined ? undefined : Buffer.from(x).toString("hex"));
const str = (x: Uint8Array | undefined) => (x === undefined ? undefined : Buffer.from(x).toString());
const rows = (r: Array<[Uint8Array, Uint8Array]>) => r.map(([k, v]) => `${str(k)}=${str(v)}`);

/** Naive reference for the app hash, from the tree definition (README.md), with the portable hashes. */
function referenceRoot(entries: Iterable<[Uint8Array, Uint8Array]>): Uint8Array {
  const leaves = [...entries].map(([k, v]) => ({ path: keyPath(k), valueHash: sha256(v) }));
  const rec = (set: typeof leaves, depth: number): Uint8Array => {
    if (set.length === 0) return EMPTY_HASH;
    if (set.length === 1) return leafHash(set[0].path, set[0].valueHash);
    return internalHash(rec(set.filter((l) => pathBit(l.path, depth) === 0), depth + 1), rec(set.filter((l) => pathBit(l.path, depth) === 1), depth + 1));
  };
  return rec(leaves, 0);
}

/** xorshift32: a seeded deterministic PRNG for the randomized tests. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

describe("store: versioned Merkle commit store", () => {
  const dirs: string[] = [];
  const open: CommitStore[] = [];
  const newDir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "poi-store-test-"));
    dirs.push(d);
    return d;
  };
  const openStore = async (dir = newDir()) => {
    const s = await CommitStore.open(dir);
    open.push(s);
    return s;
  };
  const closeStore = async (s: CommitStore) => {
    open.splice(open.indexOf(s), 1);
    await s.close();
  };
  after(async () => {
    for (const s of open) await s.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  describe("app hash", () => {
    const entries: Array<[string, string]> = Array.from({ length: 50 }, (_, i) => [`acct/${i}`, `balance-${i * 3}`]);

    it("a fresh store is at height 0 with the empty hash", async () => {
      const s = await openStore();
      assert.equal(s.lastHeight, 0n);
      assert.equal(hex(s.lastAppHash), hex(EMPTY_HASH));
      assert.equal(hex(await s.computeHash()), hex(EMPTY_HASH));
    });

    it("depends only on the final contents, not on write order or how writes are split into blocks", async () => {
      const one = await openStore();
      for (const [k, v] of entries) one.working.set(b(k), b(v));
      const computed = await one.computeHash();
      await one.commit(1n);
      assert.equal(hex(one.lastAppHash), hex(computed));

      // Reverse order, over three blocks, with overwritten values and a key created then deleted.
      const two = await openStore();
      const rev = [...entries].reverse();
      for (const [k] of rev.slice(0, 20)) two.working.set(b(k), b("stale"));
      two.working.set(b("temp"), b("x"));
      await two.commit(1n);
      assert.notEqual(hex(two.lastAppHash), hex(one.lastAppHash));
      for (const [k, v] of rev.slice(0, 30)) two.working.set(b(k), b(v));
      await two.commit(2n);
      for (const [k, v] of rev.slice(30)) two.working.set(b(k), b(v));
      two.working.delete(b("temp"));
      await two.commit(3n);
      assert.equal(hex(two.lastAppHash), hex(one.lastAppHash));
      assert.equal(hex(one.lastAppHash), hex(referenceRoot(entries.map(([k, v]) => [b(k), b(v)]))));
    });

    it("changes when any one value changes, a key is added or deleted, or a value becomes empty", async () => {
      const s = await openStore();
      for (const [k, v] of entries) s.working.set(b(k), b(v));
      await s.commit(1n);
      const base = hex(s.lastAppHash);
      const seen = new Set([base]);
      const variants: Array<(w: KVStore) => void> = [
        ...entries.map(([k, v]) => (w: KVStore) => w.set(b(k), b(v + "!"))),
        (w) => w.set(b("new-key"), b("v")),
        (w) => w.set(b("new-key"), new Uint8Array()), // empty value: present, distinct from absent
        (w) => w.delete(b("acct/0")),
        (w) => w.delete(b("acct/49")),
        (w) => w.set(b("acct/7"), new Uint8Array()),
      ];
      for (const change of variants) {
        change(s.working);
        const h = hex(await s.computeHash());
        assert.ok(!seen.has(h), "two different states share an app hash");
        seen.add(h);
        s.discardPending();
        assert.equal(hex(await s.computeHash()), base, "discardPending must drop the change");
      }
    });

    it("deleting every key returns to the empty hash", async () => {
      const s = await openStore();
      for (const [k, v] of entries) s.working.set(b(k), b(v));
      await s.commit(1n);
      for (const [k] of entries.slice(0, 25)) s.working.delete(b(k));
      await s.commit(2n);
      for (const [k] of entries.slice(25)) s.working.delete(b(k));
      await s.commit(3n);
      assert.equal(hex(s.lastAppHash), hex(EMPTY_HASH));
      assert.deepEqual(await s.committed.iterate(new Uint8Array()), []);
    });

    it("computeHash may be called again after more writes (genesis, then the first block)", async () => {
      const s = await openStore();
      s.working.set(b("genesis"), b("g"));
      const genesisHash = await s.computeHash();
      s.working.set(b("block1"), b("1"));
      const blockHash = await s.computeHash();
      assert.notEqual(hex(genesisHash), hex(blockHash));
      s.working.set(b("late"), b("write after computeHash")); // commit must not persist a stale hash
      await s.commit(1n);
      assert.equal(hex(s.lastAppHash), hex(referenceRoot([[b("genesis"), b("g")], [b("block1"), b("1")], [b("late"), b("write after computeHash")]])));
    });
  });

  describe("branches", () => {
    let s: CommitStore;
    beforeEach(async () => {
      s = await openStore();
      for (const k of ["a", "b", "c", "d", "e"]) s.working.set(b(k), b(k.toUpperCase()));
      await s.commit(1n);
    });

    it("writes of a branch that is never written (a failed tx) leave the parent unchanged", async () => {
      const before = hex(await s.computeHash());
      const tx = new Branch(s.working);
      tx.set(b("a"), b("changed"));
      tx.delete(b("b"));
      tx.set(b("z"), b("new"));
      assert.equal(str(await tx.get(b("a"))), "changed");
      assert.equal(await tx.get(b("b")), undefined);
      // dropped: no write()
      assert.equal(str(await s.working.get(b("a"))), "A");
      assert.equal(str(await s.working.get(b("b"))), "B");
      assert.equal(await s.working.get(b("z")), undefined);
      assert.equal(hex(await s.computeHash()), before);
      await s.commit(2n);
      assert.equal(hex(s.lastAppHash), before);
    });

    it("write() flushes into the parent; nested branches flush one level at a time", async () => {
      const block = s.working;
      const tx = new Branch(block);
      const inner = new Branch(tx);
      inner.set(b("a"), b("inner"));
      inner.delete(b("c"));
      assert.equal(str(await tx.get(b("a"))), "A");
      inner.write();
      assert.equal(str(await tx.get(b("a"))), "inner");
      assert.equal(await tx.get(b("c")), undefined);
      assert.equal(str(await block.get(b("a"))), "A");

      const dropped = new Branch(tx); // a failed inner call: its writes never reach tx
      dropped.set(b("d"), b("dropped"));
      assert.equal(str(await tx.get(b("d"))), "D");

      tx.write();
      assert.equal(str(await block.get(b("a"))), "inner");
      assert.equal(await block.get(b("c")), undefined);
      assert.equal(str(await block.get(b("d"))), "D");
      assert.equal(str(await s.committed.get(b("a"))), "A", "committed view must not see pending writes");

      block.set(b("c"), b("later"));
      tx.write(); // write() empties the branch: writing it again must not replay its old deletion of c
      assert.equal(str(await block.get(b("c"))), "later");
      await s.commit(2n);
      assert.equal(str(await s.committed.get(b("a"))), "inner");
      assert.equal(str(await s.committed.get(b("c"))), "later");
    });

    it("values are copied in and out: mutating a set or returned array changes nothing", async () => {
      const tx = new Branch(s.working);
      const v = b("orig");
      tx.set(b("k"), v);
      v.fill(0);
      (await tx.get(b("k")))!.fill(0);
      (await tx.iterate(b("k")))[0][1].fill(0);
      assert.equal(str(await tx.get(b("k"))), "orig");
      (await s.query(b("a"), { height: 1n, prove: true })).value!.fill(0);
      assert.equal(str((await s.query(b("a"), { height: 1n, prove: true })).value), "A");
    });

    it("iterate merges every level in byte order, hides deletions, keeps empty values, honours bounds", async () => {
      s.working.delete(b("b"));
      s.working.set(b("c"), b("c2"));
      s.working.set(b("bb"), new Uint8Array());
      const tx = new Branch(s.working);
      tx.delete(b("d"));
      tx.set(b("a0"), b("x"));
      tx.set(b("b"), b("back")); // re-created above a pending deletion
      tx.set(Uint8Array.of(0xff), b("high"));
      const inner = new Branch(tx);
      inner.delete(b("a"));
      inner.set(b("e"), b("E2"));

      assert.deepEqual(rows(await s.committed.iterate(new Uint8Array())), ["a=A", "b=B", "c=C", "d=D", "e=E"]);
      assert.deepEqual(rows(await s.working.iterate(new Uint8Array())), ["a=A", "bb=", "c=c2", "d=D", "e=E"]);
      assert.deepEqual(rows(await tx.iterate(new Uint8Array())), ["a=A", "a0=x", "b=back", "bb=", "c=c2", "e=E", "\uFFFD=high"]);
      assert.deepEqual(rows(await inner.iterate(new Uint8Array())), ["a0=x", "b=back", "bb=", "c=c2", "e=E2", "\uFFFD=high"]);
      assert.deepEqual(rows(await inner.iterate(b("a0"), b("c"))), ["a0=x", "b=back", "bb="]);
      assert.deepEqual(rows(await inner.iterate(b("b"), b("bb"))), ["b=back"]);
      assert.deepEqual(rows(await inner.iterate(b("c0"))), ["e=E2", "\uFFFD=high"]);
      assert.deepEqual(rows(await inner.iterate(b("x"), b("a"))), []);

      inner.write();
      tx.write();
      await s.commit(2n);
      assert.deepEqual(rows(await s.committed.iterate(new Uint8Array())), ["a0=x", "b=back", "bb=", "c=c2", "e=E2", "\uFFFD=high"]);
    });

    it("iterate with limit and reverse returns exactly the first entries of the full range, in either order, at every level", async () => {
      const rnd = xorshift(77);
      const key = () => b(String.fromCharCode(97 + (rnd() % 8)) + (rnd() % 2 ? String.fromCharCode(97 + (rnd() % 8)) : ""));
      for (let i = 0; i < 30; i++) (rnd() % 3 ? s.working.set(key(), b(`w${i}`)) : s.working.delete(key()));
      const tx = new Branch(s.working);
      for (let i = 0; i < 30; i++) (rnd() % 3 ? tx.set(key(), b(`t${i}`)) : tx.delete(key()));
      const inner = new Branch(tx);
      for (let i = 0; i < 15; i++) (rnd() % 2 ? inner.set(key(), b(`i${i}`)) : inner.delete(key()));
      let checked = 0;
      for (const store of [s.committed, s.working, tx, inner]) {
        for (let n = 0; n < 60; n++) {
          const [lo, hi] = [key(), rnd() % 4 ? key() : undefined];
          const reverse = rnd() % 2 === 1;
          const limit = rnd() % 7;
          const all = await store.iterate(lo, hi);
          const want = (reverse ? all.reverse() : all).slice(0, limit);
          assert.deepEqual(rows(await store.iterate(lo, hi, { limit, reverse })), rows(want), `[${str(lo)}, ${str(hi)}) limit ${limit} reverse ${reverse}`);
          if (!reverse) assert.deepEqual(rows(await store.iterate(lo, hi, { reverse: true })), rows(all.slice().reverse()));
          checked += want.length;
        }
      }
      assert.ok(checked > 200, `the ranges held entries (${checked})`);
    });

    it("the committed view is read-only, and a branch over it never touches the block state", async () => {
      assert.throws(() => s.committed.set(b("a"), b("x")), /read-only/);
      const check = new Branch(s.committed);
      check.set(b("a"), b("check"));
      s.working.set(b("b"), b("block"));
      assert.equal(str(await check.get(b("b"))), "B");
      assert.equal(str(await s.working.get(b("a"))), "A");
    });
  });

  describe("persistence and heights", () => {
    it("reopening restores height, app hash, values and every height's root", async () => {
      const dir = newDir();
      let s = await openStore(dir);
      const roots: string[] = [];
      for (let h = 1; h <= 4; h++) {
        s.working.set(b(`k${h}`), b(`v${h}`));
        s.working.set(b("shared"), b(`at ${h}`));
        await s.commit(BigInt(h));
        roots.push(hex(s.lastAppHash)!);
      }
      s.working.set(b("uncommitted"), b("x"));
      await closeStore(s);
      s = await openStore(dir);
      assert.equal(s.lastHeight, 4n);
      assert.equal(hex(s.lastAppHash), roots[3]);
      assert.equal(str(await s.committed.get(b("shared"))), "at 4");
      assert.equal(await s.working.get(b("uncommitted")), undefined);
      for (let h = 1; h <= 4; h++) assert.equal(hex(await s.rootAt(BigInt(h))), roots[h - 1]);
      assert.equal(await s.rootAt(0n), undefined);
      assert.equal(await s.rootAt(5n), undefined);
    });

    it("heights must follow each other; a fresh store may start above 1", async () => {
      const s = await openStore();
      await s.commit(5n);
      await assert.rejects(s.commit(5n), /cannot commit height 5/);
      await assert.rejects(s.commit(7n), /cannot commit height 7/);
      await s.commit(6n);
      assert.equal(s.lastHeight, 6n);
    });
  });

  describe("crash safety (child process killed with SIGKILL)", () => {
    const childScript = path.join(__dirname, "fixtures", "store-crash-child.js");

    /** Runs the child until `stop` says so, SIGKILLs it, and waits for it to be gone. */
    async function runAndKill(mode: string, dir: string, stop: (m: ChildMessage) => boolean): Promise<ChildMessage[]> {
      const child = fork(childScript, [mode, dir], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
      const messages: ChildMessage[] = [];
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
      await new Promise<void>((resolve, reject) => {
        child.on("message", (m: ChildMessage) => {
          messages.push(m);
          if (stop(m)) {
            child.kill("SIGKILL");
            resolve();
          }
        });
        child.on("exit", (code) => reject(new Error(`child exited early with code ${code}`)));
      });
      assert.equal(await exited, "SIGKILL");
      return messages;
    }

    /** State after replaying the fixture's deterministic blocks 1..height. */
    function expectedState(height: number): Map<string, string> {
      const m = new Map<string, string>();
      for (let h = 1; h <= height; h++) for (const w of blockWrites(h)) w.value === null ? m.delete(w.key) : m.set(w.key, w.value);
      return m;
    }

    async function assertState(s: CommitStore, expected: Map<string, string>): Promise<void> {
      const all = rows(await s.committed.iterate(new Uint8Array()));
      assert.deepEqual(all, [...expected.entries()].sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${k}=${v}`));
      // The tree agrees with the flat copy: the root of these contents is the stored app hash.
      assert.equal(hex(s.lastAppHash), hex(referenceRoot([...expected].map(([k, v]) => [b(k), b(v)]))));
    }

    it("killed with block 4 pending: reopens at height 3 with height 3's hash and values", async () => {
      const dir = newDir();
      const msgs = await runAndKill("pending", dir, (m) => m.type === "ready");
      const committed = msgs.filter((m): m is Extract<ChildMessage, { type: "committed" }> => m.type === "committed");
      assert.deepEqual(committed.map((m) => m.height), [1, 2, 3]);
      const s = await openStore(dir);
      assert.equal(s.lastHeight, 3n);
      assert.equal(hex(s.lastAppHash), committed[2].appHash);
      await assertState(s, expectedState(3));
      assert.equal(await s.committed.get(b("only-in-block-4")), undefined);
      // The chain goes on from there: re-executing block 4 gives the hash the child had computed.
      for (const w of blockWrites(4)) w.value === null ? s.working.delete(b(w.key)) : s.working.set(b(w.key), b(w.value));
      s.working.set(b("only-in-block-4"), b("x"));
      assert.equal(hex(await s.computeHash()), (msgs[msgs.length - 1] as Extract<ChildMessage, { type: "ready" }>).pendingHash);
      await s.commit(4n);
      assert.equal(s.lastHeight, 4n);
    });

    it("killed while committing blocks back to back: reopens at a whole commit, never a partial one", async () => {
      const dir = newDir();
      const msgs = await runAndKill("loop", dir, (m) => m.type === "committed" && m.height >= 40);
      const acked = msgs.length; // the child reports each height after its batch is written
      const s = await openStore(dir);
      const h = Number(s.lastHeight);
      assert.ok(h === acked || h === acked + 1, `reopened at ${h}, child had acknowledged ${acked}`);
      if (h === acked) assert.equal(hex(s.lastAppHash), (msgs[acked - 1] as { appHash: string }).appHash);
      await assertState(s, expectedState(h));
      for (let i = 1; i <= h; i++) assert.ok(await s.rootAt(BigInt(i)), `root of height ${i}`);
    });
  });

  describe("queries and proofs", () => {
    let s: CommitStore;
    before(async () => {
      s = await openStore();
      for (let i = 0; i < 100; i++) s.working.set(b(`acct/${i}`), b(`v1-${i}`));
      await s.commit(1n);
      s.working.set(b("acct/5"), b("v2-5"));
      s.working.delete(b("acct/6"));
      s.working.set(b("acct/new"), b("v2-new"));
      await s.commit(2n);
    });

    it("existence proof at the latest height verifies against the app hash only", async () => {
      const r = await s.query(b("acct/5"), { prove: true });
      assert.equal(r.height, 2n);
      assert.equal(str(r.value), "v2-5");
      assert.equal(hex(r.root), hex(s.lastAppHash));
      assert.ok(verifyProof(s.lastAppHash, b("acct/5"), r.value, r.proof!));
      assert.ok(!verifyProof((await s.rootAt(1n))!, b("acct/5"), r.value, r.proof!), "valid against a different root");
      assert.ok(!verifyProof(s.lastAppHash, b("acct/5"), b("v1-5"), r.proof!), "valid for a wrong value");
      assert.ok(!verifyProof(s.lastAppHash, b("acct/5"), undefined, r.proof!), "valid as absence");
      const tampered = Uint8Array.from(r.proof!);
      tampered[tampered.length - 1] ^= 1;
      assert.ok(!verifyProof(s.lastAppHash, b("acct/5"), r.value, tampered), "tampered proof accepted");
    });

    it("non-existence proofs (deleted and never-set keys) verify and cannot prove a value", async () => {
      for (const key of ["acct/6", "never", "acct/1000", ""]) {
        const r = await s.query(b(key), { prove: true });
        assert.equal(r.value, undefined, key);
        assert.ok(verifyProof(s.lastAppHash, b(key), undefined, r.proof!), key);
        assert.ok(!verifyProof(s.lastAppHash, b(key), b("v1-6"), r.proof!), key);
        if (key === "acct/6") assert.ok(!verifyProof((await s.rootAt(1n))!, b(key), undefined, r.proof!), "acct/6 existed at height 1");
      }
    });

    it("a query at an older height returns that height's value with a proof against that height's root", async () => {
      const root1 = (await s.rootAt(1n))!;
      for (const [key, v1] of [["acct/5", "v1-5"], ["acct/6", "v1-6"], ["acct/new", undefined]] as const) {
        const r = await s.query(b(key), { height: 1n, prove: true });
        assert.equal(r.height, 1n);
        assert.equal(hex(r.root), hex(root1));
        assert.equal(str(r.value), v1, key);
        assert.ok(verifyProof(root1, b(key), r.value, r.proof!), key);
        assert.ok(!verifyProof(s.lastAppHash, b(key), r.value, r.proof!), `${key}: old proof valid at the new root`);
        assert.equal(str((await s.query(b(key), { height: 1n })).value), v1, `${key} without proof`);
      }
      assert.equal(str((await s.query(b("acct/5"))).value), "v2-5");
      assert.equal(str((await s.query(b("acct/5"), { height: 0n })).value), "v2-5");
      await assert.rejects(s.query(b("acct/5"), { height: 3n }), /not committed/);
    });
  });

  describe("randomized differential test against an in-memory model", () => {
    it("thousands of random writes over many blocks: same root as a fresh build, all reads agree", async () => {
      const rand = xorshift(0xc0ffee);
      const pick = (n: number) => rand() % n;
      // A small key space (so writes hit existing keys), including the empty key and prefix-related keys.
      const keySpace: Uint8Array[] = [new Uint8Array(), Uint8Array.of(0), Uint8Array.of(0, 0), Uint8Array.of(0xff), Uint8Array.of(0xff, 0)];
      while (keySpace.length < 400) keySpace.push(Uint8Array.from({ length: 1 + pick(12) }, () => pick(4) === 0 ? 0xff : pick(256)));
      const randomValue = () => Uint8Array.from({ length: pick(4) === 0 ? 0 : pick(40) }, () => pick(256));

      const dir = newDir();
      let s = await openStore(dir);
      const model = new Map<string, Uint8Array>(); // committed
      const snapshots: Array<Map<string, Uint8Array>> = [new Map()];
      const sortedModel = (m: Map<string, Uint8Array>) => [...m.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
      const id = (k: Uint8Array) => Buffer.from(k).toString("latin1");
      let ops = 0;

      for (let height = 1; height <= 12; height++) {
        const block = new Map(model); // model of the working state
        for (let n = 0; n < 500; n++) {
          const r = pick(10);
          const key = keySpace[pick(keySpace.length)];
          if (r < 5) {
            const v = randomValue();
            s.working.set(key, v);
            block.set(id(key), v);
          } else if (r < 7) {
            s.working.delete(key);
            block.delete(id(key));
          } else if (r < 9) {
            // A tx in a branch (sometimes with a nested branch) that succeeds or fails.
            const tx = new Branch(s.working);
            const txModel = new Map(block);
            const nested = pick(2) === 0 ? new Branch(tx) : undefined;
            const nestedWrites = new Map<string, Uint8Array | null>();
            for (let j = 0; j < 1 + pick(6); j++) {
              const k = keySpace[pick(keySpace.length)];
              const v = pick(3) === 0 ? null : randomValue();
              if (nested && pick(2) === 0) {
                v === null ? nested.delete(k) : nested.set(k, v);
                nestedWrites.set(id(k), v);
              } else {
                v === null ? tx.delete(k) : tx.set(k, v);
                v === null ? txModel.delete(id(k)) : txModel.set(id(k), v);
              }
              const probe = keySpace[pick(keySpace.length)];
              assert.equal(hex(await tx.get(probe)), hex(txModel.get(id(probe))), "branch get");
              ops++;
            }
            if (nested && pick(2) === 0) {
              nested.write(); // nested writes land on top of tx's own
              for (const [k, v] of nestedWrites) v === null ? txModel.delete(k) : txModel.set(k, v);
            }
            if (pick(3) !== 0) {
              tx.write();
              block.clear();
              for (const [k, v] of txModel) block.set(k, v);
            }
          } else {
            const key2 = keySpace[pick(keySpace.length)];
            assert.equal(hex(await s.working.get(key2)), hex(block.get(id(key2))), "working get");
          }
          ops++;
        }
        assert.deepEqual(
          (await s.working.iterate(new Uint8Array())).map(([k, v]) => [id(k), hex(v)]),
          sortedModel(block).map(([k, v]) => [k, hex(v)]),
          `working iterate at ${height}`,
        );
        const computed = await s.computeHash();
        await s.commit(BigInt(height));
        assert.equal(hex(s.lastAppHash), hex(computed));
        model.clear();
        for (const [k, v] of block) model.set(k, v);
        snapshots.push(new Map(model));
        assert.equal(hex(s.lastAppHash), hex(referenceRoot(sortedModel(model).map(([k, v]) => [Buffer.from(k, "latin1"), v]))), `root at ${height}`);
        for (const key of keySpace) assert.equal(hex(await s.committed.get(key)), hex(model.get(id(key))), "committed get");
        if (height === 6) {
          await closeStore(s);
          s = await openStore(dir);
        }
      }
      assert.ok(ops > 6000, `only ${ops} operations`);

      // Historical reads and proofs at every height agree with the snapshots.
      for (let h = 1; h <= 12; h++) {
        const root = (await s.rootAt(BigInt(h)))!;
        for (const key of keySpace.slice(0, 60)) {
          const r = await s.query(key, { height: BigInt(h), prove: true });
          assert.equal(hex(r.value), hex(snapshots[h].get(id(key))), `height ${h}`);
          assert.ok(verifyProof(root, key, r.value, r.proof!));
        }
      }

      // A fresh store fed the final contents in sorted order, in one block, reaches the same root.
      const fresh = await openStore();
      for (const [k, v] of sortedModel(model)) fresh.working.set(Buffer.from(k, "latin1"), v);
      await fresh.commit(1n);
      assert.equal(hex(fresh.lastAppHash), hex(s.lastAppHash));
      assert.ok(model.size > 100, `model has only ${model.size} keys`);
    });
  });
});
