/** What the store tests share: byte helpers, the reference app hash and temp stores closed after each file. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { sha256 } from "@noble/hashes/sha2.js";
import { EMPTY_HASH, internalHash, keyPath, leafHash, pathBit } from "../../src/store/proof";
import { CommitStore } from "../../src/store/store";

export const b = (s: string) => new Uint8Array(Buffer.from(s));
export const hex = (x: Uint8Array | undefined) => (x === undefined ? undefined : Buffer.from(x).toString("hex"));
export const str = (x: Uint8Array | undefined) => (x === undefined ? undefined : Buffer.from(x).toString());
export const rows = (r: Array<[Uint8Array, Uint8Array]>) => r.map(([k, v]) => `${str(k)}=${str(v)}`);

/** Naive reference for the app hash, from the tree definition (README.md), with the portable hashes. */
export function referenceRoot(entries: Iterable<[Uint8Array, Uint8Array]>): Uint8Array {
  const leaves = [...entries].map(([k, v]) => ({ path: keyPath(k), valueHash: sha256(v) }));
  const rec = (set: typeof leaves, depth: number): Uint8Array => {
    if (set.length === 0) return EMPTY_HASH;
    if (set.length === 1) return leafHash(set[0].path, set[0].valueHash);
    return internalHash(rec(set.filter((l) => pathBit(l.path, depth) === 0), depth + 1), rec(set.filter((l) => pathBit(l.path, depth) === 1), depth + 1));
  };
  return rec(leaves, 0);
}

/** Stores in fresh temp dirs, closed and removed after the calling describe block. */
export function tempStores(): { newDir: () => string; openStore: (dir?: string) => Promise<CommitStore>; closeStore: (s: CommitStore) => Promise<void> } {
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
  return { newDir, openStore, closeStore };
}
