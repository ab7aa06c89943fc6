// The throughput benchmark's printed table: per validator count and app, medians over the runs.
import type { RunResult, ThroughputResult } from "./bench-throughput";
import { median } from "./bench-load";

/** Left-aligns the first `left` columns, right-aligns the rest. */
function columns(rows: string[][], left: number): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => "  " + r.map((cell, c) => (c < left ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ").trimEnd());
}

const fmt = (x: number, digits = 0) => (Number.isNaN(x) ? "-" : x.toFixed(digits));

export function formatThroughputTable(res: ThroughputResult, tookSec: number): string {
  const { options: o, runs } = res;
  const pick = (app: string, v: number, paced: boolean) => runs.filter((r) => r.app === app && r.validators === v && (r.rate !== undefined) === paced);
  const med = (rs: RunResult[], key: keyof RunResult) => median(rs.map((r) => r[key] as number));
  const first = runs[0];
  const size = (app: string) => fmt(median(runs.filter((r) => r.app === app).map((r) => r.txBytes)));
  const out: string[] = [];
  out.push(`throughput: poi-chain (bank MsgSend, ${size("poi")} B, signed before the clock) vs CometBFT's kvstore (abci-cli v0.38.25, unique key=value, ${size("kvstore")} B)`);
  if (first) {
    out.push(`  same CometBFT config and genesis for both: timeout_commit ${first.timeoutCommit}, vote extensions from height ${first.voteExtensionsHeight} (kvstore's are empty)`);
  }
  out.push(`  ${o.txs} txs a run, ${o.lanes} lanes of broadcast_tx_sync (lane i to node i mod N); a fresh network a run; runs A/B alternating`);
  out.push(o.warmup > 0 ? `  warm-up: each run first sends and commits ${o.warmup} more txs the same way, before the clock starts` : "  no warm-up: figures include each fresh app's start (V8 compiling its hot paths)");
  out.push(`  latency: from a tx's broadcast to its block seen committed (blocks polled every 50 ms); CPU: utime+stime per committed tx over`);
  out.push(`  the run, summed over all nodes, of the app and the cometbft processes; client: this process (it broadcasts and follows the chain)`);
  out.push(`  every tx's result code is read from block_results after the clock stops (code 0 required), then the end state is checked`);

  const rows: string[][] = [["validators", "app", "tx/s", "runs (tx/s)", "poi/kvstore", "p50 ms", "p95 ms", "txs/block", "block ms", "app CPU ms/tx", "cometbft CPU ms/tx", "client CPU ms/tx"]];
  for (const v of o.validators) {
    const kvRate = med(pick("kvstore", v, false), "txsPerSec");
    for (const app of ["poi-base", "poi", "kvstore"]) {
      const rs = pick(app, v, false);
      if (!rs.length) continue;
      const rate = med(rs, "txsPerSec");
      rows.push([
        String(v), app, fmt(rate), rs.map((r) => fmt(r.txsPerSec)).join(", "), app !== "kvstore" ? fmt(rate / kvRate, 3) : "",
        fmt(med(rs, "p50LatencyMs")), fmt(med(rs, "p95LatencyMs")), fmt(med(rs, "meanTxsPerBlock"), 1), fmt(med(rs, "blockIntervalMs")),
        fmt(med(rs, "appCpuMsPerTx"), 3), fmt(med(rs, "cometbftCpuMsPerTx"), 3), fmt(med(rs, "clientCpuMsPerTx"), 3),
      ]);
    }
  }
  if (rows.length > 1) {
    out.push(`saturated (as fast as ${o.lanes} lanes of round trips go), median of ${o.runs} run(s) of each:`);
    out.push(...columns(rows, 2));
  }

  const paced: string[][] = [["validators", "offered tx/s", "poi p50 ms", "kvstore p50 ms", "poi p95 ms", "kvstore p95 ms", "poi tx/s", "kvstore tx/s", "poi CPU ms/tx", "kvstore CPU ms/tx"]];
  for (const v of o.validators) {
    const rate = res.pacedRates.get(v);
    if (rate === undefined) continue;
    const p = pick("poi", v, true);
    const k = pick("kvstore", v, true);
    paced.push([
      String(v), fmt(rate), fmt(med(p, "p50LatencyMs")), fmt(med(k, "p50LatencyMs")), fmt(med(p, "p95LatencyMs")), fmt(med(k, "p95LatencyMs")),
      fmt(med(p, "txsPerSec")), fmt(med(k, "txsPerSec")), fmt(med(p, "appCpuMsPerTx"), 3), fmt(med(k, "appCpuMsPerTx"), 3),
    ]);
  }
  if (runs.some((r) => r.app === "poi-base" && r.rate !== undefined)) {
    paced.push(["validators", "offered tx/s", "poi-base p50 ms", "", "poi-base p95 ms", "", "poi-base tx/s", "", "poi-base CPU ms/tx", ""]);
    for (const v of o.validators) {
      const rate = res.pacedRates.get(v);
      const b = pick("poi-base", v, true);
      if (rate === undefined || !b.length) continue;
      paced.push([String(v), fmt(rate), fmt(med(b, "p50LatencyMs")), "", fmt(med(b, "p95LatencyMs")), "", fmt(med(b, "txsPerSec")), "", fmt(med(b, "appCpuMsPerTx"), 3), ""]);
    }
  }
  if (paced.length > 1) {
    const how = o.rate === "auto" ? "half of poi's median saturated tx/s" : "--rate";
    out.push(`same offered rate for both (${how}), median of ${o.pacedRuns} run(s) of each; CPU is the app's:`);
    out.push(...columns(paced, 1));
  }
  const committed = runs.reduce((n, r) => n + r.succeeded, 0);
  out.push(`${runs.length} runs, ${committed} txs committed with code 0, state checked after each run; the benchmark took ${fmt(tookSec)} s`);
  return out.join("\n");
}
