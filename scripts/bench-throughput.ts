/**
 * `npm run bench -- throughput [options]`: our app against CometBFT's own kvstore example app
 * (abci-cli v0.38.25), side by side on the same CometBFT config and genesis (scripts/bench-nets.ts).
 *
 * Load (scripts/bench-load.ts): for our app, pre-signed bank MsgSends (scripts/bench-bank.ts, one
 * sender a lane); for kvstore, unique `key=value` txs of --kv-bytes; both broadcast by --lanes lanes of
 * broadcast_tx_sync, everything built before the clock starts. Each run starts a fresh network and
 * removes it afterwards. Runs alternate A/B (poi, kvstore, poi, ...), --runs of each saturated, then
 * --paced-runs of each at one offered rate (default: half of our median saturated rate, so that both
 * apps can sustain it) to compare latency at the same load. Every tx must be committed with code 0;
 * our balances and sequences, and kvstore's size, are checked after each run. Figures only: nothing
 * here fails on speed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { assertAllCommitted, hashOf, jsonRpc, loadFigures, median, readCodes, runLoad, waitForAppHeight, type LoadResult, type LoadTx } from "./bench-load";
import { checkBankState, prepareBankSends } from "./bench-bank";
import { resolveAbciCli, startKvstoreNet, startPoiNet, type AppName, type BenchNet } from "./bench-nets";
import { formatThroughputTable } from "./bench-throughput-table";

export interface ThroughputOptions {
  txs: number;
  lanes: number;
  /** saturated runs of each app per validator count */
  runs: number;
  validators: number[];
  /** offered rate of the paced runs in tx/s; "auto": half of our median saturated rate; "off": no paced runs */
  rate: number | "auto" | "off";
  pacedRuns: number;
  basePort: number;
  kvBytes: number;
  /**
   * txs sent (by the same lanes) and committed before the clock starts, in every run of both apps:
   * a fresh app process otherwise spends its first seconds compiling its hot paths (V8's JIT), which
   * a node that has been running never pays. 0: measure from a cold start.
   */
  warmup: number;
  /** a built checkout (e.g. main before a change) whose app also runs, as "poi-base", alternating with ours */
  baseline?: string;
  log: (line: string) => void;
}

export const DEFAULT_THROUGHPUT: ThroughputOptions = {
  txs: 4000, lanes: 8, runs: 3, validators: [1, 4], rate: "auto", pacedRuns: 1, basePort: 29000, kvBytes: 308, warmup: 800, log: console.log,
};

export interface RunResult {
  app: AppName;
  validators: number;
  /** offered rate in tx/s; undefined: saturated */
  rate?: number;
  submitted: number;
  succeeded: number;
  txBytes: number;
  txsPerSec: number;
  p50LatencyMs: number;
  p95LatencyMs: number;
  meanTxsPerBlock: number;
  blockIntervalMs: number;
  /** CPU ms per committed tx, summed over all nodes */
  appCpuMsPerTx: number;
  cometbftCpuMsPerTx: number;
  /** this process's CPU (broadcasting and following the chain) per committed tx */
  clientCpuMsPerTx: number;
  /** the end-of-run state check that passed */
  stateCheck: string;
  wallSec: number;
  /** from node0's config.toml and genesis.json */
  timeoutCommit: string;
  voteExtensionsHeight: string;
}

export interface ThroughputResult {
  options: Omit<ThroughputOptions, "log">;
  runs: RunResult[];
  /** the offered rate of the paced runs, by validator count */
  pacedRates: Map<number, number>;
  table: string;
}

export const THROUGHPUT_USAGE = `npm run bench -- throughput [--txs 4000] [--lanes 8] [--runs 3] [--validators 1,4]
                              [--rate auto|off|TX_PER_S] [--paced-runs 1] [--base-port 29000] [--kv-bytes 308] [--warmup 800] [--baseline DIR]
  --txs         txs a run (a multiple of --lanes); --runs saturated runs of each app per validator count
  --warmup      txs each run sends and commits before the clock starts (a multiple of --lanes; 0: cold start)
  --rate        offered rate of the paced runs (default auto: half of our median saturated rate)
  --base-port   node i uses base+100i .. base+100i+2 (keep below 32768)
  --baseline    a built checkout (npm run build done there) whose app runs too, as poi-base: before/after in one run`;

function intOption(v: string, name: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${v}"\n${THROUGHPUT_USAGE}`);
  return n;
}

export function parseThroughputArgs(args: string[]): ThroughputOptions {
  const { values } = parseArgs({
    args, strict: true, allowPositionals: false,
    options: {
      txs: { type: "string" }, lanes: { type: "string" }, runs: { type: "string" }, validators: { type: "string" },
      rate: { type: "string" }, "paced-runs": { type: "string" }, "base-port": { type: "string" }, "kv-bytes": { type: "string" },
      baseline: { type: "string" }, warmup: { type: "string" },
    },
  });
  const o = { ...DEFAULT_THROUGHPUT };
  if (values.txs !== undefined) o.txs = intOption(values.txs, "txs");
  if (values.lanes !== undefined) o.lanes = intOption(values.lanes, "lanes");
  if (values.runs !== undefined) o.runs = intOption(values.runs, "runs", 0);
  if (values.validators !== undefined) o.validators = values.validators.split(",").map((v) => intOption(v.trim(), "validators"));
  if (values["paced-runs"] !== undefined) o.pacedRuns = intOption(values["paced-runs"], "paced-runs");
  if (values["base-port"] !== undefined) o.basePort = intOption(values["base-port"], "base-port", 1024);
  if (values.warmup !== undefined) o.warmup = intOption(values.warmup, "warmup", 0);
  if (values["kv-bytes"] !== undefined) o.kvBytes = intOption(values["kv-bytes"], "kv-bytes", 48);
  if (values.baseline !== undefined) {
    o.baseline = path.resolve(values.baseline);
    if (!fs.existsSync(path.join(o.baseline, "dist", "src", "cli", "main.js"))) throw new Error(`--baseline ${values.baseline}: no dist/src/cli/main.js there (run npm run build in it)`);
  }
  if (values.rate !== undefined) {
    const r = values.rate;
    o.rate = r === "auto" || r === "off" ? r : Number(r);
    if (typeof o.rate === "number" && !(o.rate > 0)) throw new Error(`--rate must be auto, off or a positive number, got "${r}"\n${THROUGHPUT_USAGE}`);
  }
  return o;
}

/** Unique `key=value` txs of exactly `bytes` bytes: no ':' and one '=', so kvstore accepts them. */
function kvstoreTxs(lanes: number, perLane: number, bytes: number): LoadTx[][] {
  const tag = randomBytes(6).toString("hex");
  return Array.from({ length: lanes }, (_, lane) =>
    Array.from({ length: perLane }, (_, j) => {
      const key = `bench-${tag}-${lane}-${j}`;
      const tx = Buffer.from(`${key}=${"v".repeat(Math.max(1, bytes - key.length - 1))}`);
      return { lane, label: `lane ${lane} tx ${j}`, tx, hash: hashOf(tx) };
    }));
}

/** One run: a fresh network of `app`, the load, the checks, the figures; the network is always removed. */
async function runOnce(app: AppName, validators: number, o: ThroughputOptions, abciCli: string, rate: number | undefined, nets: Set<BenchNet>): Promise<RunResult> {
  const started = Date.now();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `poi-bench-${app}-`));
  let network: BenchNet | undefined;
  try {
    network = app === "kvstore" ? await startKvstoreNet(home, validators, o.basePort, abciCli) : await startPoiNet(home, validators, o.basePort, app === "poi-base" ? o.baseline : undefined);
    nets.add(network);
    const net = network;
    const follow = net.rpcUrls[0];
    const config = fs.readFileSync(path.join(net.nodeHomes[0], "config", "config.toml"), "utf8");
    const genesis = JSON.parse(fs.readFileSync(path.join(net.nodeHomes[0], "config", "genesis.json"), "utf8")) as {
      chain_id: string; consensus_params: { abci: { vote_extensions_enable_height: string } };
    };
    const warmPerLane = o.warmup / o.lanes;
    const perLane = o.txs / o.lanes + warmPerLane;
    let lanes: LoadTx[][];
    let checkState: (r: LoadResult) => Promise<{ problems: string[]; summary: string }>;
    if (app !== "kvstore") {
      const accounts = JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8")) as Array<{ name: string; mnemonic: string; address: string }>;
      const faucet = accounts.find((a) => a.name === "faucet");
      if (!faucet) throw new Error(`${home}/accounts.json has no faucet`);
      const sends = await prepareBankSends({ rpcUrl: follow, faucet, chainId: genesis.chain_id, accounts: o.lanes, perAccount: perLane });
      lanes = sends.lanes;
      checkState = (r) => checkBankState(follow, sends, r);
    } else {
      lanes = kvstoreTxs(o.lanes, perLane, o.kvBytes);
      checkState = async (r) => {
        // kvstore counts every tx it has committed; only ours were sent.
        const info = await jsonRpc<{ response: { data: string } }>(follow, "abci_info");
        const size = (JSON.parse(info.response.data) as { size: number }).size;
        const ok = [...r.included.values()].filter((x) => x.code === 0).length;
        return size === ok ? { problems: [], summary: `kvstore size ${size}` } : { problems: [`kvstore size ${size}, want ${ok}`], summary: "MISMATCH" };
      };
    }
    const txBytes = lanes.flat().reduce((n, t) => n + t.tx.length, 0) / (o.txs + o.warmup);
    let warm: LoadResult | undefined;
    if (warmPerLane > 0) {
      warm = await runLoad({ lanes: lanes.map((l) => l.slice(0, warmPerLane)), rpcUrls: net.rpcUrls, followUrl: follow });
      await readCodes(follow, warm);
      assertAllCommitted(warm, `${app}, ${validators} validator(s), warm-up`, o.log);
      await waitForAppHeight(follow, loadFigures(warm).lastHeight ?? 0);
    }
    const cpu0 = net.cpu();
    const client0 = process.cpuUsage();
    const r = await runLoad({ lanes: lanes.map((l) => l.slice(warmPerLane)), rpcUrls: net.rpcUrls, followUrl: follow, rate });
    const client = process.cpuUsage(client0);
    const cpu1 = net.cpu();
    await readCodes(follow, r); // after the clock and the CPU readings
    const f = loadFigures(r);
    await waitForAppHeight(follow, f.lastHeight ?? 0);
    // The end state holds the warm-up's txs too.
    const state = await checkState(warm ? { ...r, included: new Map([...warm.included, ...r.included]) } : r);
    assertAllCommitted(r, `${app}, ${validators} validator(s)`, o.log, state.problems);
    const perTx = (s: number) => (f.succeeded ? (1000 * s) / f.succeeded : NaN);
    return {
      app, validators, rate, submitted: f.submitted, succeeded: f.succeeded, txBytes, txsPerSec: f.txsPerSec,
      p50LatencyMs: f.p50LatencyMs, p95LatencyMs: f.p95LatencyMs, meanTxsPerBlock: f.meanTxsPerBlock, blockIntervalMs: f.blockIntervalMs,
      appCpuMsPerTx: perTx(cpu1.app - cpu0.app), cometbftCpuMsPerTx: perTx(cpu1.cometbft - cpu0.cometbft),
      clientCpuMsPerTx: perTx((client.user + client.system) / 1e6),
      stateCheck: state.summary, wallSec: (Date.now() - started) / 1000,
      timeoutCommit: /^timeout_commit = "(.*)"$/m.exec(config)?.[1] ?? "?", voteExtensionsHeight: genesis.consensus_params.abci.vote_extensions_enable_height,
    };
  } finally {
    if (network) {
      await network.stop();
      nets.delete(network);
    }
    if (process.env.POI_KEEP_TEST_HOMES) o.log(`  (home kept: ${home})`);
    else fs.rmSync(home, { recursive: true, force: true });
  }
}

export async function runThroughputBench(opts: Partial<ThroughputOptions> = {}): Promise<ThroughputResult> {
  const o: ThroughputOptions = { ...DEFAULT_THROUGHPUT, ...opts };
  if (o.txs % o.lanes !== 0) throw new Error(`--txs (${o.txs}) must be a multiple of --lanes (${o.lanes})\n${THROUGHPUT_USAGE}`);
  if (o.warmup % o.lanes !== 0) throw new Error(`--warmup (${o.warmup}) must be a multiple of --lanes (${o.lanes})\n${THROUGHPUT_USAGE}`);
  if (o.runs === 0 && o.rate === "auto") throw new Error(`--runs 0 needs a fixed --rate (auto is half of the saturated rate)\n${THROUGHPUT_USAGE}`);
  if (o.runs === 0 && o.rate === "off") throw new Error(`--runs 0 with --rate off leaves nothing to run\n${THROUGHPUT_USAGE}`);
  if (o.kvBytes < 48) throw new Error(`--kv-bytes must be at least 48 (the unique key takes up to 40), got ${o.kvBytes}`);
  const lastPort = o.basePort + 100 * (Math.max(...o.validators) - 1) + 2;
  if (lastPort >= 32768) throw new Error(`ports up to ${lastPort} reach the kernel's ephemeral range (32768-): choose a lower --base-port`);
  const abciCli = resolveAbciCli();
  const { log } = o;
  const nets = new Set<BenchNet>();
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: stopping the benchmark networks`);
    void Promise.all([...nets].map(async (n) => {
      await n.stop();
      if (!process.env.POI_KEEP_TEST_HOMES) fs.rmSync(n.home, { recursive: true, force: true });
    })).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const runs: RunResult[] = [];
  const pacedRates = new Map<number, number>();
  const t0 = Date.now();
  try {
    const one = async (app: AppName, validators: number, rate: number | undefined, label: string) => {
      const r = await runOnce(app, validators, o, abciCli, rate, nets);
      runs.push(r);
      log(`  ${label} ${app.padEnd(8)} ${validators}v: ${r.txsPerSec.toFixed(0)} tx/s, p50 ${r.p50LatencyMs.toFixed(0)} ms, ${r.succeeded}/${r.submitted} committed (code 0), ${r.stateCheck}; ${r.wallSec.toFixed(0)} s`);
      return r;
    };
    const apps: AppName[] = o.baseline ? ["poi-base", "poi", "kvstore"] : ["poi", "kvstore"];
    for (const v of o.validators) {
      for (let i = 0; i < o.runs; i++) {
        for (const app of apps) await one(app, v, undefined, `run ${i + 1}/${o.runs}`);
      }
      if (o.rate === "off") continue;
      const rate = o.rate === "auto" ? median(runs.filter((r) => r.app === "poi" && r.validators === v && r.rate === undefined).map((r) => r.txsPerSec)) / 2 : o.rate;
      pacedRates.set(v, rate);
      for (let i = 0; i < o.pacedRuns; i++) {
        for (const app of apps) await one(app, v, rate, `paced ${rate.toFixed(0)} tx/s ${i + 1}/${o.pacedRuns}`);
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const { log: _log, ...options } = o;
  const result: ThroughputResult = { options, runs, pacedRates, table: "" };
  result.table = formatThroughputTable(result, (Date.now() - t0) / 1000);
  log(result.table);
  return result;
}
