/**
 * In-process work count of the bank-send path, without CometBFT: what one committed tx costs our app.
 *
 *   npm run bench -- abci
 *
 * A PoiApp over a temp LevelDB gets ACCOUNTS funded senders. TXS_PER_ACCOUNT MsgSend txs each are
 * signed offline first (not measured). Then the ABCI calls CometBFT would make at saturation go
 * through `dispatch`, each request decoded and each response encoded as on the socket: a
 * backlog of BACKLOG txs is checked first; then each round CheckTx's BLOCK_TXS new txs, commits a
 * block of the oldest BLOCK_TXS (FinalizeBlock, Commit) and rechecks the backlog left in the
 * mempool, as CometBFT does. The defaults (300 txs a block, 45 left) give the 0.15 rechecks per tx
 * measured at saturation on a 1-validator localnet. Figures: CPU time of this process per committed tx
 * (in all and by phase: CheckTx of new txs, FinalizeBlock + Commit, Recheck), and counted work per
 * committed tx (signature verifications and cache hits, LevelDB reads of values and of tree nodes).
 * Counts do not depend on the machine's load; the CPU time does (run it twice).
 *
 * Environment: BENCH_ABCI_TXS (txs per account, default 250), BENCH_ABCI_PROFILE (a .cpuprofile
 * path), BENCH_ABCI_SOCKET=1 (through the AbciServer over a Unix socket, see socketServe).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as net from "node:net";
import { Session } from "node:inspector/promises";
import { sha256 } from "@noble/hashes/sha2.js";
import { DirectSecp256k1Wallet, encodePubkey, makeAuthInfoBytes, makeSignDoc } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { fromBase64, toBech32 } from "@cosmjs/encoding";
import { TxBody, TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { CheckTxType, Request, Response } from "cosmjs-types/tendermint/abci/types";
import { PoiApp } from "../src/app/app";
import { AbciServer, dispatch } from "../src/abci/server";
import { FrameDecoder, frame } from "../src/abci/framing";
import { parseAddress } from "../src/app/address";

export interface AbciBenchOptions {
  accounts?: number;
  txsPerAccount?: number;
  blockTxs?: number;
  /** txs left in the mempool after each block, rechecked after each commit */
  backlog?: number;
  /** writes a V8 CPU profile of the measured part (not the signing) to this path */
  profilePath?: string;
  /** through the AbciServer over a Unix socket instead of calling dispatch */
  socket?: boolean;
}

const CHAIN_ID = "poi-bench-abci";
const T0 = 1_700_000_000n;

export interface Counters {
  verified: number;
  sigHits: number;
  decoded: number;
  decodeHits: number;
  valueReads: number;
  nodeReads: number;
}

function counters(app: PoiApp): Counters {
  return {
    verified: app.sigCache.stats.verified, sigHits: app.sigCache.stats.hits, decoded: app.txCache.stats.decoded, decodeHits: app.txCache.stats.hits,
    valueReads: app.store.stats.dbValueReads, nodeReads: app.store.tree.stats.nodesFromDb,
  };
}

type Serve = (reqBytes: Uint8Array) => Promise<Response>;

/** What the socket server does with one request: decode it, dispatch it, encode the response. */
const serveInProcess = (app: PoiApp): Serve => async (reqBytes) => {
  const res = await dispatch(app, Request.decode(reqBytes));
  Response.encode(res).finish();
  return res;
};

/**
 * The same requests through the real AbciServer over a Unix socket, each followed by a Flush (as
 * CometBFT's 20 ns flush timer makes it). This process is both ends: its CPU includes the client's
 * framing and response decoding, which CometBFT does in the live node.
 */
async function socketServe(app: PoiApp, dir: string): Promise<{ serve: Serve; close: () => Promise<void> }> {
  const server = new AbciServer(app, { log: () => {} });
  const sockPath = path.join(dir, "abci.sock");
  await server.listen(`unix://${sockPath}`);
  const sock = net.connect(sockPath);
  await new Promise<void>((resolve, reject) => sock.once("connect", resolve).once("error", reject));
  const decoder = new FrameDecoder();
  const waiting: Array<(r: Response) => void> = [];
  sock.on("data", (chunk) => { for (const m of decoder.push(chunk)) waiting.shift()!(Response.decode(m)); });
  const flush = frame(Request.encode(Request.fromPartial({ flush: {} })).finish());
  const serve: Serve = (reqBytes) => {
    const res = new Promise<Response>((r) => waiting.push(r));
    const flushed = new Promise<Response>((r) => waiting.push(r));
    sock.write(Buffer.concat([frame(reqBytes), flush]));
    return flushed.then(() => res);
  };
  return { serve, close: async () => { sock.destroy(); await server.close(); } };
}

const encodeRequest = (req: Request) => Request.encode(req).finish();

export interface AbciBenchResult {
  committed: number;
  rechecks: number;
  cpuMsPerTx: number;
  phaseMsPerTx: { checkNew: number; block: number; recheck: number };
  /** counted work over the run (after minus before) */
  work: Counters;
}

export async function runAbciBench(opts: AbciBenchOptions = {}): Promise<AbciBenchResult> {
  const nAccounts = opts.accounts ?? 8;
  const perAccount = opts.txsPerAccount ?? 250;
  const blockTxs = opts.blockTxs ?? 300;
  const backlog = opts.backlog ?? 45;
  let serve: Serve;
  let closeSocket = async () => {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "poi-bench-abci-"));
  try {
    const wallets = await Promise.all(Array.from({ length: nAccounts }, (_, i) => DirectSecp256k1Wallet.fromKey(sha256(Buffer.from(`bench-abci-${i}`)), "poi")));
    const accounts = await Promise.all(wallets.map(async (w) => (await w.getAccounts())[0]));
    const sink = toBech32("poi", Uint8Array.from({ length: 20 }, (_, i) => 200 - i));
    const app = await PoiApp.open(dir);
    const balances = accounts.map((a) => ({ address: a.address, coins: [{ denom: "upoi", amount: "1000000000000" }] }));
    if (opts.socket) ({ serve, close: closeSocket } = await socketServe(app, dir));
    else serve = serveInProcess(app);
    await app.initChain({ time: { seconds: T0, nanos: 0 }, chainId: CHAIN_ID, validators: [], initialHeight: 1n, appStateBytes: Buffer.from(JSON.stringify({ bank: { balances } })) });
    let height = 0n;
    const block = async (txs: Uint8Array[]) => {
      height++;
      const fb = await serve(encodeRequest(Request.fromPartial({ finalizeBlock: {
        txs, height, time: { seconds: T0 + height, nanos: 0 }, hash: Buffer.alloc(32, Number(height % 256n)), proposerAddress: Buffer.alloc(20),
        decidedLastCommit: { round: 0, votes: [] }, misbehavior: [], nextValidatorsHash: new Uint8Array(),
      } })));
      await serve(encodeRequest(Request.fromPartial({ commit: {} })));
      return fb.finalizeBlock!.txResults;
    };
    await block([]);

    const signStart = Date.now();
    const fee = [{ denom: "upoi", amount: "5000" }];
    const mempoolIn: Uint8Array[] = [];
    const checkRequests = new Map<Uint8Array, { fresh: Uint8Array; recheck: Uint8Array }>();
    for (let seq = 0; seq < perAccount; seq++) {
      for (const [i, a] of accounts.entries()) {
        const accountNumber = (await app.accounts.getAccount(app.queryContext(), parseAddress(a.address)))!.accountNumber;
        const msg = MsgSend.fromPartial({ fromAddress: a.address, toAddress: sink, amount: [{ denom: "upoi", amount: "1" }] });
        const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: [{ typeUrl: MsgSend.typeUrl, value: MsgSend.encode(msg).finish() }] })).finish();
        const authInfoBytes = makeAuthInfoBytes([{ pubkey: encodePubkey(encodeSecp256k1Pubkey(a.pubkey)), sequence: seq }], fee, 200_000, undefined, undefined);
        const { signature } = await wallets[i].signDirect(a.address, makeSignDoc(bodyBytes, authInfoBytes, CHAIN_ID, accountNumber));
        mempoolIn.push(TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [fromBase64(signature.signature)] }).finish());
      }
    }
    // Requests are encoded before the clock starts: that is CometBFT's work, not ours.
    for (const tx of mempoolIn) {
      checkRequests.set(tx, {
        fresh: encodeRequest(Request.fromPartial({ checkTx: { tx, type: CheckTxType.NEW } })),
        recheck: encodeRequest(Request.fromPartial({ checkTx: { tx, type: CheckTxType.RECHECK } })),
      });
    }
    const signSec = (Date.now() - signStart) / 1000;

    const session = opts.profilePath ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 100 });
      await session.post("Profiler.start");
    }
    const before = counters(app);
    // CPU by phase: what CometBFT's calls cost, each summed over the run (GC lands where it runs).
    const phaseMs = { checkNew: 0, block: 0, recheck: 0 };
    const timed = async <T>(phase: keyof typeof phaseMs, fn: () => Promise<T>): Promise<T> => {
      const c0 = process.cpuUsage();
      try {
        return await fn();
      } finally {
        const c = process.cpuUsage(c0);
        phaseMs[phase] += (c.user + c.system) / 1000;
      }
    };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let mempool: Uint8Array[] = [];
    let next = 0;
    const checkNew = async (n: number) => {
      for (const tx of mempoolIn.slice(next, next + n)) {
        const r = await timed("checkNew", () => serve(checkRequests.get(tx)!.fresh));
        if (r.checkTx!.code !== 0) throw new Error(`CheckTx refused a bench tx: ${r.checkTx!.log}`);
        mempool.push(tx);
      }
      next = Math.min(next + n, mempoolIn.length);
    };
    await checkNew(backlog);
    let committed = 0;
    let rechecks = 0;
    while (mempool.length > 0) {
      await checkNew(blockTxs);
      const results = await timed("block", () => block(mempool.slice(0, blockTxs)));
      for (const r of results) if (r.code !== 0) throw new Error(`bench tx failed in its block: ${r.log}`);
      committed += results.length;
      mempool = mempool.slice(blockTxs);
      for (const tx of mempool) {
        const r = await timed("recheck", () => serve(checkRequests.get(tx)!.recheck));
        if (r.checkTx!.code !== 0) throw new Error(`Recheck refused a bench tx: ${r.checkTx!.log}`);
        rechecks++;
      }
    }
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const after = counters(app);
    if (session) {
      const { profile } = await session.post("Profiler.stop");
      fs.writeFileSync(opts.profilePath!, JSON.stringify(profile));
      session.disconnect();
    }
    await closeSocket();
    await app.close();

    const work = Object.fromEntries(Object.keys(after).map((k) => [k, after[k as keyof Counters] - before[k as keyof Counters]])) as unknown as Counters;
    const per = (k: keyof Counters) => (work[k] / committed).toFixed(2);
    const cpuMsPerTx = (cpu.user + cpu.system) / 1000 / committed;
    console.log(`ABCI work per committed tx, ${opts.socket ? "through the ABCI socket server" : "in process"} (no CometBFT): ${nAccounts} accounts x ${perAccount} MsgSend, blocks of ${blockTxs}, backlog ${backlog}: ${(rechecks / committed).toFixed(2)} rechecks per tx (signing ${signSec.toFixed(1)} s, not counted)`);
    console.log(`  committed:                 ${committed} txs in ${height - 1n} blocks, ${wallMs.toFixed(0)} ms wall`);
    console.log(`  CPU of this process:       ${cpuMsPerTx.toFixed(3)} ms per committed tx (user+system; includes Recheck and GC)`);
    const ms = (phase: keyof typeof phaseMs) => (phaseMs[phase] / committed).toFixed(3);
    console.log(`    by phase, per committed tx: CheckTx of new txs ${ms("checkNew")} ms, FinalizeBlock + Commit ${ms("block")} ms, Recheck ${ms("recheck")} ms`);
    console.log(`  signature verifications:   ${per("verified")} per tx (cache hits ${per("sigHits")})`);
    console.log(`  tx decodes:                ${per("decoded")} per tx (cache hits ${per("decodeHits")})`);
    console.log(`  LevelDB value reads:       ${per("valueReads")} per tx`);
    console.log(`  LevelDB tree node reads:   ${per("nodeReads")} per tx`);
    return { committed, rechecks, cpuMsPerTx, phaseMsPerTx: { checkNew: phaseMs.checkNew / committed, block: phaseMs.block / committed, recheck: phaseMs.recheck / committed }, work };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runAbciBench().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
