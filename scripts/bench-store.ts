/**
 * Benchmark of the state store: cost of one block that changes 100 keys, against state size.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench-store.js
 *
 * For each N, a store is filled with N keys (in commits of 50k keys), then closed and reopened so the
 * node cache starts cold, as after a restart. Then BLOCKS blocks each change 100 keys (80 updates,
 * 10 inserts, 10 deletes) and we time computeHash + commit and count tree nodes read (all lookups,
 * and those that missed the cache and went to LevelDB) and created (= hashed). Those counts track
 * the tree depth, ~log2 N, not N.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CommitStore } from "../src/store/store";
import { xorshift32 } from "../src/util/random";

const DEFAULT_SIZES = [1_000, 10_000, 100_000, 300_000];
const POPULATE_BATCH = 50_000;
const BLOCKS = 20;
const CHANGES_PER_BLOCK = 100;

function accountKey(i: number): Buffer {
  const k = Buffer.alloc(12);
  k.write("bal/", 0, "latin1");
  k.writeUInt32BE(i, 4);
  return k;
}

function value(rand: () => number): Buffer {
  const v = Buffer.alloc(32);
  for (let i = 0; i < 32; i += 4) v.writeUInt32BE(rand(), i);
  return v;
}

interface Row {
  n: number;
  populateSec: number;
  coldBlockMs: number;
  warmBlockMs: number;
  computeMs: number;
  commitMs: number;
  nodesRead: number;
  nodesFromDb: number;
  nodesCreated: number;
  avgDepth: number;
  diskMB: number;
}

function dirSizeMB(dir: string): number {
  let bytes = 0;
  for (const f of fs.readdirSync(dir)) bytes += fs.statSync(path.join(dir, f)).size;
  return bytes / 1e6;
}

async function benchSize(n: number): Promise<Row> {
  const rand = xorshift32(n);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "poi-bench-store-"));
  try {
    let store = await CommitStore.open(dir);
    let height = 0n;
    const t0 = process.hrtime.bigint();
    for (let start = 0; start < n; start += POPULATE_BATCH) {
      for (let i = start; i < Math.min(n, start + POPULATE_BATCH); i++) store.working.set(accountKey(i), value(rand));
      await store.commit(++height);
    }
    const populateSec = Number(process.hrtime.bigint() - t0) / 1e9;
    await store.close();
    store = await CommitStore.open(dir);

    let nextNew = n;
    const blockMs: number[] = [];
    let computeMs = 0;
    let commitMs = 0;
    let nodesRead = 0;
    let nodesFromDb = 0;
    let nodesCreated = 0;
    for (let blk = 0; blk < BLOCKS; blk++) {
      for (let j = 0; j < CHANGES_PER_BLOCK; j++) {
        if (j < 80) store.working.set(accountKey(rand() % n), value(rand));
        else if (j < 90) store.working.set(accountKey(nextNew++), value(rand));
        else store.working.delete(accountKey(rand() % n));
      }
      store.tree.resetStats();
      const a = process.hrtime.bigint();
      await store.computeHash();
      const b = process.hrtime.bigint();
      await store.commit(++height);
      const c = process.hrtime.bigint();
      blockMs.push(Number(c - a) / 1e6);
      if (blk > 0) {
        computeMs += Number(b - a) / 1e6;
        commitMs += Number(c - b) / 1e6;
      }
      nodesRead += store.tree.stats.nodesRead;
      nodesFromDb += store.tree.stats.nodesFromDb;
      nodesCreated += store.tree.stats.nodesCreated;
    }

    // Average depth of a leaf (proof length), over a sample of keys.
    let depthSum = 0;
    const samples = 500;
    for (let i = 0; i < samples; i++) depthSum += (await store.tree.prove(store.lastAppHash, accountKey(rand() % n))).proof.siblings.length;
    await store.close();
    const warm = blockMs.slice(1);
    return {
      n,
      populateSec,
      coldBlockMs: blockMs[0],
      warmBlockMs: warm.reduce((x, y) => x + y, 0) / warm.length,
      computeMs: computeMs / warm.length,
      commitMs: commitMs / warm.length,
      nodesRead: nodesRead / BLOCKS,
      nodesFromDb: nodesFromDb / BLOCKS,
      nodesCreated: nodesCreated / BLOCKS,
      avgDepth: depthSum / samples,
      diskMB: dirSizeMB(dir),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function runStoreBench(sizes: number[] = DEFAULT_SIZES): Promise<void> {
  console.log(`store benchmark: blocks of ${CHANGES_PER_BLOCK} changed keys (80 updates, 10 inserts, 10 deletes), ${BLOCKS} blocks per size`);
  console.log("block ms = computeHash + commit; first block after reopening (cold cache) and mean of the others;");
  console.log("node counts are per block (means over all blocks); 'from db' = cache misses read from LevelDB\n");
  const header = ["N", "log2 N", "leaf depth", "fill s", "cold ms", "block ms", "hash ms", "commit ms", "nodes read", "from db", "nodes hashed", "hashed/key", "disk MB"];
  const lines: string[][] = [];
  for (const n of sizes) {
    const r = await benchSize(n);
    lines.push([
      r.n.toLocaleString("en-US"), Math.log2(r.n).toFixed(1), r.avgDepth.toFixed(1), r.populateSec.toFixed(1),
      r.coldBlockMs.toFixed(1), r.warmBlockMs.toFixed(1), r.computeMs.toFixed(1), r.commitMs.toFixed(1),
      r.nodesRead.toFixed(0), r.nodesFromDb.toFixed(0), r.nodesCreated.toFixed(0),
      (r.nodesCreated / CHANGES_PER_BLOCK).toFixed(1), r.diskMB.toFixed(1),
    ]);
    console.error(`  done N=${n}`);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
  console.log(fmt(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(fmt(l));
}

if (require.main === module) {
  runStoreBench().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
