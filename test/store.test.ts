/** The commit store (src/store): app hash, branches, persistence and heights. Crash safety, queries, proofs: store-proofs.test.ts. */
import { strict as assert } from "assert";
import { EMPTY_HASH } from "../src/store/proof";
import { Branch, CommitStore, type KVStore } from "../src/store/store";
import { b, hex, str, rows, referenceRoot, tempStores } from "./helpers/store-fixture";
import { xorshift32 } from "../src/util/random";

describe("store: versioned Merkle commit store", () => {
  const { openStore, closeStore, newDir } = tempStores();

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
      const rnd = xorshift32(77);
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
});
