/** The commit store (src/store): crash safety under SIGKILL, queries and proofs, and a randomized differential test. */
import { strict as assert } from "assert";
import { fork } from "child_process";
import * as path from "path";
import { verifyProof } from "../src/store/proof";
import { Branch, CommitStore } from "../src/store/store";
import { blockWrites, type ChildMessage } from "./fixtures/store-crash-child";
import { b, hex, str, rows, referenceRoot, tempStores } from "./helpers/store-fixture";
import { xorshift32 } from "../src/util/random";

describe("store: versioned Merkle commit store (crash safety, proofs)", () => {
  const { openStore, closeStore, newDir } = tempStores();

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
      const rand = xorshift32(0xc0ffee);
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
