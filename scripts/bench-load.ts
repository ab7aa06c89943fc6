/**
 * Load generation shared by the chain benchmarks (bank, throughput): pre-built txs are broadcast by
 * lanes of `broadcast_tx_sync` (plain JSON-RPC over HTTP; each lane in order, the lanes concurrently, lane i to
 * node i mod N) while a poller follows one node's blocks with plain JSON-RPC too, so every app is
 * measured through the same code. Optionally paced at a fixed offered rate. The txs' result codes are
 * read afterwards (`readCodes`): the load generator shares the machine with the nodes, and reading
 * block_results while the clock runs would charge its JSON (which grows with each app's events) to
 * the apps under test.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { sleep } from "../test/helpers/chain";

export const hashOf = (tx: Uint8Array) => createHash("sha256").update(tx).digest("hex").toUpperCase();

export interface LoadTx {
  lane: number;
  /** what a failure report calls it, e.g. "sender 3 seq 17" */
  label: string;
  tx: Uint8Array;
  hash: string;
  /** Date.now() when its broadcast was sent */
  sentAt?: number;
  checkCode?: number;
  checkLog?: string;
}

export interface Included {
  height: number;
  /** its position in the block */
  index: number;
  /** -1 until `readCodes` has read it */
  code: number;
  log: string;
}

export interface BlockSeen {
  height: number;
  ours: number;
  total: number;
  /** Date.now() when the poller had the block */
  seenAt: number;
  /** header time, ms since the epoch */
  time: number;
}

export interface LoadResult {
  txs: LoadTx[];
  included: Map<string, Included>;
  blocks: BlockSeen[];
  /** Date.now() at the first broadcast */
  t0: number;
  broadcastSec: number;
  accepted: number;
}

export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

export function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

const agent = new http.Agent({ keepAlive: true });

/**
 * One JSON-RPC call over HTTP with node:http and a keep-alive agent: undici's fetch costs this
 * process about 5x the CPU per request, enough on a small machine to make the client the bottleneck
 * of a fast app. Only `result` is read, so the figures do not depend on how a client library decodes
 * the rest (CosmJS decodes broadcast_tx_sync's hex `data` as base64, which threw while CheckTx returned data).
 */
export function jsonRpc<T>(url: string, method: string, params: Record<string, string> = {}): Promise<T> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  return new Promise<T>((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        try {
          const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { result?: T; error?: { message: string; data?: string } };
          if (parsed.result === undefined) reject(new Error(`${method}: ${parsed.error?.message ?? "no result"} ${parsed.error?.data ?? ""}`));
          else resolve(parsed.result);
        } catch (err) {
          reject(new Error(`${method}: HTTP ${res.statusCode}, not JSON-RPC: ${(err as Error).message}`));
        }
      });
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`${method}: no answer from ${url} in 30 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

export function broadcastTxSync(rpcUrl: string, tx: Uint8Array): Promise<{ code: number; log: string; hash: string }> {
  return jsonRpc(rpcUrl, "broadcast_tx_sync", { tx: Buffer.from(tx).toString("base64") });
}

const latestHeight = async (url: string) => Number((await jsonRpc<{ sync_info: { latest_block_height: string } }>(url, "status")).sync_info.latest_block_height);

interface RpcBlock { block: { header: { height: string; time: string }; data: { txs: string[] | null } } }
interface RpcBlockResults { txs_results: Array<{ code?: number; log?: string }> | null }

/**
 * Broadcasts every lane and follows `followUrl` from its current height until every accepted tx is in
 * a committed block (or none arrived for 60 s). With `rate`, tx j of lane i (of L) is sent no earlier
 * than t0 + (j*L + i)/rate seconds: an offered rate over all lanes, each lane still in order.
 * The included txs' codes stay -1: call `readCodes` once the measurement is taken.
 */
export async function runLoad(opts: { lanes: LoadTx[][]; rpcUrls: string[]; followUrl: string; rate?: number }): Promise<LoadResult> {
  const txs = opts.lanes.flat();
  const byHash = new Map(txs.map((t) => [t.hash, t]));
  const included = new Map<string, Included>();
  const blocks: BlockSeen[] = [];
  const url = opts.followUrl;
  const startHeight = await latestHeight(url);
  let broadcastDone = false;
  let stopPolling = false;
  let accepted = 0;
  let lastProgress = Date.now();
  let pollError: unknown;
  const poller = (async () => {
    let next = startHeight + 1;
    let lastOk = Date.now();
    for (;;) {
      if (stopPolling) return;
      try {
        const latest = await latestHeight(url);
        while (next <= latest) {
          const b = await jsonRpc<RpcBlock>(url, "block", { height: String(next) });
          const seenAt = Date.now();
          const raw = b.block.data.txs ?? [];
          let ours = 0;
          raw.forEach((b64, i) => {
            const h = hashOf(Buffer.from(b64, "base64"));
            if (!byHash.has(h)) return;
            ours++;
            included.set(h, { height: next, index: i, code: -1, log: "code not read" });
          });
          if (ours > 0) lastProgress = seenAt;
          blocks.push({ height: next, ours, total: raw.length, seenAt, time: Date.parse(b.block.header.time) });
          next++;
        }
        lastOk = Date.now();
      } catch (err) {
        if (Date.now() - lastOk > 20_000) throw err; // transient RPC failures are retried; a dead node is not
      }
      if (broadcastDone && included.size >= accepted) return;
      if (broadcastDone && Date.now() - lastProgress > 60_000) return; // some accepted txs never made it into a block
      await sleep(50);
    }
  })().catch((err: unknown) => {
    pollError = err;
  });

  const t0 = Date.now();
  const nLanes = opts.lanes.length;
  try {
    await Promise.all(opts.lanes.map(async (lane, i) => {
      const rpcUrl = opts.rpcUrls[i % opts.rpcUrls.length];
      for (const [j, t] of lane.entries()) {
        if (opts.rate) {
          const wait = t0 + ((j * nLanes + i) * 1000) / opts.rate - Date.now();
          if (wait > 0) await sleep(wait);
        }
        t.sentAt = Date.now();
        try {
          const res = await broadcastTxSync(rpcUrl, t.tx);
          t.checkCode = res.code;
          t.checkLog = res.log;
          if (res.hash !== t.hash) throw new Error(`node reports hash ${res.hash}, want ${t.hash}`);
        } catch (err) {
          t.checkCode = -1;
          t.checkLog = `broadcast failed: ${(err as Error).message}`;
        }
        if (t.checkCode === 0) accepted++;
      }
    }));
  } finally {
    broadcastDone = true;
  }
  const broadcastSec = (Date.now() - t0) / 1000;
  lastProgress = Date.now();
  try {
    await poller;
  } finally {
    stopPolling = true;
  }
  if (pollError) throw new Error(`following the chain at ${url} failed: ${(pollError as Error).message}`);
  return { txs, included, blocks, t0, broadcastSec, accepted };
}

/** Reads the result code of every included tx from `url`'s block_results, one request a block. */
export async function readCodes(url: string, r: LoadResult): Promise<void> {
  const byHeight = new Map<number, Included[]>();
  for (const inc of r.included.values()) {
    const list = byHeight.get(inc.height);
    if (list) list.push(inc);
    else byHeight.set(inc.height, [inc]);
  }
  for (const [height, incs] of byHeight) {
    const deadline = Date.now() + 20_000;
    let res: RpcBlockResults;
    for (;;) {
      try {
        res = await jsonRpc<RpcBlockResults>(url, "block_results", { height: String(height) });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err; // block_results may lag the block by a moment
        await sleep(50);
      }
    }
    for (const inc of incs) {
      const t = res.txs_results?.[inc.index];
      inc.code = t ? t.code ?? 0 : -1;
      inc.log = t ? t.log ?? "" : `no result at index ${inc.index}`;
    }
  }
}

/**
 * Waits until the app behind `url` has committed `h` (abci_info): a block and its results are served
 * once FinalizeBlock is done, a moment before the app's Commit, so state queried earlier can lag.
 */
export async function waitForAppHeight(url: string, h: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await jsonRpc<{ response: { last_block_height?: string } }>(url, "abci_info").catch(() => undefined);
    const got = Number(info?.response.last_block_height ?? -1);
    if (got >= h) return;
    if (Date.now() > deadline) throw new Error(`the app at ${url} did not commit height ${h} within ${timeoutMs} ms (at ${got})`);
    await sleep(50);
  }
}

export interface LoadFigures {
  submitted: number;
  /** committed with code 0 */
  succeeded: number;
  blocksUsed: number;
  firstHeight?: number;
  lastHeight?: number;
  meanTxsPerBlock: number;
  maxTxsPerBlock: number;
  /** mean interval of header times over the blocks from the first to the last holding our txs */
  blockIntervalMs: number;
  /** from the first broadcast to the block holding the last tx being seen committed */
  elapsedSec: number;
  txsPerSec: number;
  /** broadcast to the block holding the tx being seen committed, over committed txs */
  p50LatencyMs: number;
  p95LatencyMs: number;
}

/** The nearest-rank quantile of `values` (NaN when empty). */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function median(values: number[]): number {
  const s = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function loadFigures(r: LoadResult): LoadFigures {
  const ourBlocks = r.blocks.filter((b) => b.ours > 0);
  const first = ourBlocks[0];
  const last = ourBlocks[ourBlocks.length - 1];
  const elapsedSec = ((last ? last.seenAt : Date.now()) - r.t0) / 1000;
  const succeeded = [...r.included.values()].filter((x) => x.code === 0).length;
  const span = first ? r.blocks.filter((b) => b.height >= first.height && b.height <= last.height) : [];
  const seenAt = new Map(r.blocks.map((b) => [b.height, b.seenAt]));
  const latencies = r.txs.flatMap((t) => {
    const inc = r.included.get(t.hash);
    return inc && t.sentAt !== undefined ? [seenAt.get(inc.height)! - t.sentAt] : [];
  });
  return {
    submitted: r.txs.length,
    succeeded,
    blocksUsed: ourBlocks.length,
    firstHeight: first?.height,
    lastHeight: last?.height,
    meanTxsPerBlock: ourBlocks.length ? r.included.size / ourBlocks.length : 0,
    maxTxsPerBlock: Math.max(0, ...ourBlocks.map((b) => b.ours)),
    blockIntervalMs: span.length > 1 ? (span[span.length - 1].time - span[0].time) / (span.length - 1) : 0,
    elapsedSec,
    txsPerSec: elapsedSec > 0 ? succeeded / elapsedSec : 0,
    p50LatencyMs: quantile(latencies, 0.5),
    p95LatencyMs: quantile(latencies, 0.95),
  };
}

/**
 * Every tx must have been accepted by CheckTx and committed with code 0; otherwise this prints the first
 * failures (and `problems`, e.g. state mismatches) and throws.
 */
export function assertAllCommitted(r: LoadResult, what: string, log: (line: string) => void, problems: string[] = []): void {
  const refused = r.txs.filter((t) => t.checkCode !== 0);
  const failed = r.txs.filter((t) => t.checkCode === 0 && r.included.get(t.hash)?.code !== 0);
  if (!refused.length && !failed.length && !problems.length) return;
  log(`  FAILURES (${what}):`);
  for (const t of refused.slice(0, 10)) log(`    CheckTx refused ${t.label} ${t.hash}: code ${t.checkCode} ${t.checkLog}`);
  if (refused.length > 10) log(`    ... and ${refused.length - 10} more CheckTx refusals`);
  for (const t of failed.slice(0, 10)) {
    const inc = r.included.get(t.hash);
    log(`    ${t.label} ${t.hash}: ${inc ? `code ${inc.code} at height ${inc.height}: ${inc.log}` : "never included"}`);
  }
  if (failed.length > 10) log(`    ... and ${failed.length - 10} more failed txs`);
  for (const p of problems) log(`    ${p}`);
  throw new Error(`${what}: ${refused.length} refused by CheckTx, ${failed.length} not committed with code 0, ${problems.length} state mismatches`);
}
