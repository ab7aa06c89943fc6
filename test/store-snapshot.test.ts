import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CommitStore } from "../src/store/store";
import { RANGE_CACHE_MAX_ROWS, VALUE_CACHE_MAX_VALUE_BYTES } from "../src/store/committed";

const b = (s: string) => new Uint8Array(Buffer.from(s));
const str = (x: Uint8Array | undefined) => (x === undefined ? undefined : Buffer.from(x).toString());
const rows = (r: Array<[Uint8Array, Uint8Array]>) => r.map(([k, v]) => `${str(k)}=${str(v)!.slice(0, 12)}`);

describe("store: committed snapshots and the value cache", () => {
  const dirs: string[] = [];
  const open = async (dir?: string) => {
    const d = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "poi-snap-"));
    if (!dir) dirs.push(d);
    return { store: await CommitStore.open(d), dir: d };
  };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  async function commitWrites(s: CommitStore, height: bigint, writes: Record<string, string | null>): Promise<void> {
    for (const [k, v] of Object.entries(writes)) {
      if (v === null) s.working.delete(b(k));
      else s.working.set(b(k), b(v));
    }
    await s.computeHash();
    await s.commit(height);
  }

  it("a snapshot keeps reading its height after later commits (get, iterate, height, app hash)", async () => {
    const { store } = await open();
    await commitWrites(store, 1n, { a: "a1", b: "b1", c: "c1" });
    const h1Hash = Buffer.from(store.lastAppHash);
    const snap = store.snapshot();
    await commitWrites(store, 2n, { a: "a2", b: null, d: "d2" });
    assert.equal(snap.height, 1n);
    assert.deepEqual(Buffer.from(snap.appHash), h1Hash);
    assert.equal(str(await snap.kv.get(b("a"))), "a1");
    assert.equal(str(await snap.kv.get(b("b"))), "b1");
    assert.equal(await snap.kv.get(b("d")), undefined);
    assert.deepEqual(rows(await snap.kv.iterate(new Uint8Array())), ["a=a1", "b=b1", "c=c1"]);
    // The live view and a new snapshot are at height 2.
    assert.equal(str(await store.committed.get(b("a"))), "a2");
    const snap2 = store.snapshot();
    assert.equal(snap2.height, 2n);
    assert.deepEqual(rows(await snap2.kv.iterate(new Uint8Array())), ["a=a2", "c=c1", "d=d2"]);
    snap.release();
    snap2.release();
    snap.release(); // a second release is harmless
    await store.close();
  });

  it("a commit that lands in the middle of a query cannot tear it", async () => {
    const { store } = await open();
    const keys = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, "0")}`);
    await commitWrites(store, 1n, Object.fromEntries(keys.map((k) => [k, "v1"])));
    for (const k of keys) store.working.set(b(k), b("v2"));
    await store.computeHash();
    const snap = store.snapshot();
    // The reads and the commit's LevelDB batch run at the same time.
    const reads = Promise.all(keys.map((k) => snap.kv.get(b(k))));
    const range = snap.kv.iterate(new Uint8Array());
    const committing = store.commit(2n);
    const [values, rowsRead] = await Promise.all([reads, range, committing]);
    assert.deepEqual(new Set(values.map(str)), new Set(["v1"]));
    assert.deepEqual(new Set(rowsRead.map(([, v]) => str(v))), new Set(["v1"]));
    assert.equal(rowsRead.length, keys.length);
    // Reads after the commit through the same snapshot: still height 1.
    assert.equal(str(await snap.kv.get(b("k000"))), "v1");
    snap.release();
    assert.equal(str(await store.committed.get(b("k000"))), "v2");
    const q = await store.query(b("k001"));
    assert.deepEqual([q.height, str(q.value)], [2n, "v2"]);
    await store.close();
  });

  it("the value cache follows commits: updates, deletions, large values, and a read racing a commit", async () => {
    const { store, dir } = await open();
    const big = "x".repeat(VALUE_CACHE_MAX_VALUE_BYTES + 1);
    await commitWrites(store, 1n, { a: "a1", big: big + "1", gone: "g1" });
    await store.close();
    const reopened = (await open(dir)).store; // cold cache
    const s = reopened;
    const reads0 = { ...s.stats };
    assert.equal(str(await s.committed.get(b("a"))), "a1");
    assert.equal(str(await s.committed.get(b("a"))), "a1");
    assert.equal(await s.committed.get(b("absent")), undefined);
    assert.equal(await s.committed.get(b("absent")), undefined);
    assert.equal(s.stats.dbValueReads - reads0.dbValueReads, 2, "one LevelDB read per key, then memory");
    assert.equal(s.stats.cachedValueReads - reads0.cachedValueReads, 2);
    // Values handed out are copies: editing one changes neither the cache nor state.
    const v = (await s.committed.get(b("a")))!;
    v[0] = 0x7a;
    assert.equal(str(await s.committed.get(b("a"))), "a1");
    // Large values are read from LevelDB every time, never kept.
    const before = s.stats.dbValueReads;
    assert.equal(str(await s.committed.get(b("big")))!.length, big.length + 1);
    assert.equal(str(await s.committed.get(b("big")))!.length, big.length + 1);
    assert.equal(s.stats.dbValueReads - before, 2);

    // A read of "a" that is in flight while the commit that changes it lands must not leave the old value cached.
    s.working.set(b("a"), b("a2"));
    s.working.delete(b("gone"));
    s.working.set(b("big"), b(big + "2"));
    s.working.set(b("absent"), b("now"));
    await s.computeHash();
    const coldKeyRead = s.committed.get(b("gone"));
    await Promise.all([s.commit(2n), coldKeyRead]);
    assert.equal(str(await s.committed.get(b("a"))), "a2");
    assert.equal(await s.committed.get(b("gone")), undefined);
    assert.equal(str(await s.committed.get(b("big")))!.slice(-1), "2");
    assert.equal(str(await s.committed.get(b("absent"))), "now");
    await s.close();
  });
  it("range reads are remembered per height: a change inside a range drops it, one outside keeps it", async () => {
    const { store: s } = await open();
    await commitWrites(s, 1n, { "r/a": "1", "r/b": "2", "t/a": "9" });
    const db0 = s.stats.dbValueReads;
    assert.deepEqual(rows(await s.committed.iterate(b("r/"), b("r0"))), ["r/a=1", "r/b=2"]);
    assert.deepEqual(rows(await s.committed.iterate(b("r/"), b("r0"))), ["r/a=1", "r/b=2"]);
    assert.deepEqual(rows(await s.committed.iterate(b("r/"), b("r0"), { reverse: true, limit: 1 })), ["r/b=2"]);
    assert.equal(s.stats.dbValueReads - db0, 2, "one LevelDB read per distinct range, then memory");
    // Rows from memory are Buffers, as LevelDB's are (code may call Buffer methods on them).
    const [fromMemory] = await s.committed.iterate(b("r/"), b("r0"));
    assert.ok(Buffer.isBuffer(fromMemory[0]) && Buffer.isBuffer(fromMemory[1]));
    // Rows handed out are copies.
    const [[k, v]] = await s.committed.iterate(b("r/"), b("r0"));
    k[0] = 0x7a;
    v[0] = 0x7a;
    assert.deepEqual(rows(await s.committed.iterate(b("r/"), b("r0"))), ["r/a=1", "r/b=2"]);

    await commitWrites(s, 2n, { "t/b": "8" }); // outside r/: the cached range still answers
    const db1 = s.stats.dbValueReads;
    assert.deepEqual(rows(await s.committed.iterate(b("r/"), b("r0"))), ["r/a=1", "r/b=2"]);
    assert.equal(s.stats.dbValueReads, db1);
    await commitWrites(s, 3n, { "r/a": null, "r/c": "3" }); // inside: both cached reads of r/ are dropped
    assert.deepEqual(rows(await s.committed.iterate(b("r/"), b("r0"))), ["r/b=2", "r/c=3"]);
    assert.deepEqual(rows(await s.committed.iterate(b("r/"), b("r0"), { reverse: true, limit: 1 })), ["r/c=3"]);
    assert.deepEqual(rows(await s.committed.iterate(b("t/"))), ["t/a=9", "t/b=8"]);
    assert.equal(s.stats.dbValueReads - db1, 3);
    // A snapshot of an older height never reads the cache of the latest one.
    const snap = s.snapshot();
    await commitWrites(s, 4n, { "u": "1" });
    assert.deepEqual(rows(await snap.kv.iterate(b("r/"), b("r0"))), ["r/b=2", "r/c=3"]);
    snap.release();

    // Results above the row bound are not kept.
    const many: Record<string, string> = {};
    for (let i = 0; i <= RANGE_CACHE_MAX_ROWS; i++) many[`m/${String(i).padStart(4, "0")}`] = "v";
    await commitWrites(s, 5n, many);
    const db2 = s.stats.dbValueReads;
    assert.equal((await s.committed.iterate(b("m/"), b("m0"))).length, RANGE_CACHE_MAX_ROWS + 1);
    assert.equal((await s.committed.iterate(b("m/"), b("m0"))).length, RANGE_CACHE_MAX_ROWS + 1);
    assert.equal(s.stats.dbValueReads - db2, 2);
    await s.close();
  });
});
