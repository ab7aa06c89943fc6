/**
 * Genesis export: every module's exportGenesis over the committed state of one height, read from
 * the store (the latest height from its flat copy, an older one from that height's Merkle tree).
 */
import type { CommitStore, KVStore } from "../store/store";
import { EMPTY_HASH } from "../store/proof";
import { Context } from "./context";
import type { PoiApp } from "./app";
import type { LastBlock } from "../x/blockinfo/module";

const compare = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b);

/** A read-only KVStore over a fixed set of entries. */
class SnapshotStore implements KVStore {
  constructor(private readonly entries: Array<[Uint8Array, Uint8Array]>) {
    entries.sort((x, y) => compare(x[0], y[0]));
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compare(this.entries[mid][0], key);
      if (c === 0) return Uint8Array.from(this.entries[mid][1]);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return undefined;
  }

  set(): void {
    throw new Error("an exported height is read-only");
  }

  delete(): void {
    throw new Error("an exported height is read-only");
  }

  async iterate(start: Uint8Array, end?: Uint8Array): Promise<Array<[Uint8Array, Uint8Array]>> {
    return this.entries.filter(([k]) => compare(k, start) >= 0 && (end === undefined || compare(k, end) < 0)).map(([k, v]) => [k, Uint8Array.from(v)]);
  }
}

/** The committed state after `height` (1 ≤ height ≤ the store's last height). */
export async function committedStateAt(store: CommitStore, height: bigint): Promise<KVStore> {
  if (height < 1n || height > store.lastHeight) throw new Error(`height ${height} is not committed in this store (its heights are 1..${store.lastHeight})`);
  if (height === store.lastHeight) return store.committed;
  const root = await store.rootAt(height);
  if (!root) throw new Error(`the store holds no state for height ${height}`);
  const entries: Array<[Uint8Array, Uint8Array]> = [];
  const todo: Uint8Array[] = Buffer.from(root).equals(EMPTY_HASH) ? [] : [root];
  for (let hash = todo.pop(); hash !== undefined; hash = todo.pop()) {
    const node = await store.tree.node(hash);
    if (node.kind === "leaf") entries.push([node.key, node.value]);
    else for (const child of [node.left, node.right]) if (!child.equals(EMPTY_HASH)) todo.push(child);
  }
  return new SnapshotStore(entries);
}

export interface AppExport {
  height: bigint;
  /** The app hash after `height`. */
  appHash: Uint8Array;
  chainId: string;
  /** Height and header time of block `height` (from x/blockinfo). */
  lastBlock?: LastBlock;
  /** Every module's genesis section, by module name. */
  appState: Record<string, unknown>;
}

/** Every module's state at `height` (default: the last committed height) as genesis app_state. */
export async function exportAppState(app: PoiApp, height = app.store.lastHeight): Promise<AppExport> {
  const kv = await committedStateAt(app.store, height);
  const probe = new Context(kv, { chainId: "", height, timeSeconds: 0n, timeNanos: 0, hash: new Uint8Array(), proposer: new Uint8Array() }, "query");
  const chainId = (await app.blockInfo.chainId(probe)) ?? "";
  const lastBlock = await app.blockInfo.lastBlock(probe);
  const ctx = new Context(kv, { ...probe.header, chainId, timeSeconds: lastBlock?.timeSeconds ?? 0n, timeNanos: lastBlock?.timeNanos ?? 0 }, "query");
  const appState: Record<string, unknown> = {};
  for (const m of app.modules.modules) appState[m.name] = await m.exportGenesis(ctx);
  const appHash = height === app.store.lastHeight ? app.store.lastAppHash : (await app.store.rootAt(height))!;
  return { height, appHash, chainId, lastBlock, appState };
}
