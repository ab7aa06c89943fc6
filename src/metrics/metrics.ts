/**
 * The app's Prometheus metrics (prom-client), served at /metrics on the node's metrics port (README
 * "Ports"). Measured around the app's ABCI methods (durations, txs per block, outcomes and slashes
 * from FinalizeBlock's events, verdicts from this validator's vote extensions), from the verifier
 * (re-executions, their time, its queue) and, at scrape time, from committed state (tasks by status).
 * Nothing here reaches consensus: it only observes.
 */
import * as client from "prom-client";
import type { PoiApp } from "../app/app";
import type { VerifierService } from "../x/poi/verify/service";
import { TASK_STATUS_NAMES, VoteExtensionCodec } from "../x/poi/types";

type Event = { type: string; attributes: Array<{ key: string; value: string }> };

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Events that end an attempt, by the outcome label they count under. */
const OUTCOMES: Record<string, string> = {
  poi_task_verified: "verified", poi_task_failed: "failed", poi_verification_no_fault: "no_fault", poi_claim_lapsed: "claim_lapsed", poi_task_expired: "expired",
};
/** Events that take a worker's bond, and the attribute holding the amount. */
const SLASHES: Record<string, [reason: string, attribute: string]> = {
  poi_task_failed: ["failed_verification", "slashed"], poi_claim_lapsed: ["claim_lapsed", "bond_burned"],
};

const amountOf = (coin: string | undefined) => Number(/^(\d+)/.exec(coin ?? "")?.[1] ?? 0);

export class AppMetrics {
  readonly registry = new client.Registry();
  private readonly abci = new client.Histogram({
    name: "poi_abci_duration_seconds", help: "Time the app spent in an ABCI method", labelNames: ["method"], buckets: SECONDS, registers: [this.registry],
  });
  private readonly blockTxs = new client.Histogram({
    name: "poi_block_txs", help: "Txs per block (the verdict aggregate included)", buckets: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], registers: [this.registry],
  });
  private readonly height = new client.Gauge({ name: "poi_block_height", help: "Height of the last block the app finalized", registers: [this.registry] });
  private readonly txResults = new client.Counter({
    name: "poi_txs_total", help: "Txs delivered in blocks, by result", labelNames: ["result"], registers: [this.registry],
  });
  private readonly outcomes = new client.Counter({
    name: "poi_task_outcomes_total", help: "Task attempts ended, by outcome", labelNames: ["outcome"], registers: [this.registry],
  });
  private readonly slashes = new client.Counter({
    name: "poi_slashes_total", help: "Worker bonds taken, by reason", labelNames: ["reason"], registers: [this.registry],
  });
  private readonly slashed = new client.Counter({
    name: "poi_slashed_upoi_total", help: "upoi taken from worker bonds, by reason", labelNames: ["reason"], registers: [this.registry],
  });
  private readonly verdicts = new client.Counter({
    name: "poi_verdicts_cast_total", help: "Verdicts this validator put in its vote extensions (private: its own sample; public: a reported item)",
    labelNames: ["round", "verdict"], registers: [this.registry],
  });
  private readonly reexecutions = new client.Counter({
    name: "poi_verifications_total", help: "Re-executions this validator's verifier ran, by round and result", labelNames: ["round", "result"], registers: [this.registry],
  });
  private readonly reexecSeconds = new client.Histogram({
    name: "poi_reexecution_seconds", help: "onnxruntime time of one re-execution (all its items)", labelNames: ["round"], buckets: SECONDS, registers: [this.registry],
  });

  constructor(private readonly app: PoiApp, verifier?: VerifierService) {
    client.collectDefaultMetrics({ register: this.registry, prefix: "poi_process_" });
    const tasks = app.poi;
    new client.Gauge({
      name: "poi_tasks", help: "Tasks in committed state, by status", labelNames: ["status"], registers: [this.registry],
      async collect() {
        const counts = new Map(Object.values(TASK_STATUS_NAMES).map((s) => [s, 0]));
        for (const t of await tasks.tasks(app.queryContext())) counts.set(TASK_STATUS_NAMES[t.status], (counts.get(TASK_STATUS_NAMES[t.status]) ?? 0) + 1);
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    if (verifier) {
      new client.Gauge({
        name: "poi_verifier_queue_depth", help: "Task attempts waiting for this validator's re-execution", registers: [this.registry],
        collect() { this.set(verifier.queueDepth); },
      });
      verifier.onRecord((r) => {
        this.reexecutions.inc({ round: r.round, result: r.pass ? "pass" : "fail" });
        this.reexecSeconds.observe({ round: r.round }, r.reexecMicros / 1e6);
      });
    }
    this.instrument();
  }

  /** Wraps the app's ABCI methods (on this instance) with timers and counters. */
  private instrument(): void {
    const app = this.app;
    const timed = <A extends unknown[], R>(method: string, fn: (...a: A) => Promise<R>, after?: (r: R, ...a: A) => void) => {
      const histogram = this.abci.labels({ method }); // labelled once, not on every call
      return async (...a: A): Promise<R> => {
        const end = histogram.startTimer();
        let r: R;
        try {
          r = await fn(...a);
        } finally {
          end();
        }
        after?.(r, ...a);
        return r;
      };
    };
    app.checkTx = timed("check_tx", app.checkTx.bind(app));
    app.commit = timed("commit", app.commit.bind(app));
    app.finalizeBlock = timed("finalize_block", app.finalizeBlock.bind(app), (r, req) => this.onBlock(req.height, req.txs.length, r));
    app.extendVote = timed("extend_vote", app.extendVote.bind(app), (r) => this.onExtension(r.voteExtension));
  }

  private onBlock(height: bigint, txs: number, r: { txResults?: Array<{ code?: number; events?: Event[] }>; events?: Event[] }): void {
    this.height.set(Number(height));
    this.blockTxs.observe(txs);
    const results = r.txResults ?? [];
    const failed = results.filter((t) => t.code).length;
    if (results.length > failed) this.txResults.inc({ result: "ok" }, results.length - failed);
    if (failed > 0) this.txResults.inc({ result: "failed" }, failed);
    for (const e of [...(r.events ?? []), ...results.flatMap((t) => t.events ?? [])]) {
      const outcome = OUTCOMES[e.type];
      if (outcome) this.outcomes.inc({ outcome });
      const slash = SLASHES[e.type];
      if (slash) {
        this.slashes.inc({ reason: slash[0] });
        this.slashed.inc({ reason: slash[0] }, amountOf(e.attributes.find((a) => a.key === slash[1])?.value));
      }
    }
  }

  private onExtension(bytes: Uint8Array | undefined): void {
    if (!bytes?.length) return;
    try {
      const ext = VoteExtensionCodec.decode(bytes);
      for (const v of ext.verdicts) this.verdicts.inc({ round: "private", verdict: v.pass ? "pass" : "fail" });
      for (const v of ext.itemVerdicts) this.verdicts.inc({ round: "public", verdict: v.pass ? "pass" : "fail" });
    } catch {
      // not ours to judge here
    }
  }
}
