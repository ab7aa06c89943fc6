/**
 * Work scores (README, "Worker links and work score"). At the end of the last block of each sampling
 * epoch e, every validator's score becomes
 *
 *   score_e = floor((score_{e−1} × (10^4 − α) + W_e × α) / 10^4),   α = work_score_alpha_bps,
 *
 * where W_e is the sum of the work units credited in epoch e (passes of tasks whose verification and
 * protocol fees were paid) to the workers linked to it at the epoch's end. Reads: the epoch's credited
 * workers (and their links) plus the stored scores, one per validator with a nonzero score; never the
 * tasks, however many are open.
 */
import type { Context } from "../../app/context";
import { formatAddress, parseAddress } from "../../app/address";
import type { PoiDeps } from "./outcomes";
import type { Params } from "./types";
import { epochOf } from "./sampling";

/** One EMA step in integers. */
export function emaStep(prev: bigint, units: bigint, alphaBps: bigint): bigint {
  return (prev * (10000n - alphaBps) + units * alphaBps) / 10000n;
}

/** At the last block of an epoch, folds the epoch's credited work into every validator's score. */
export async function updateWorkScores(ctx: Context, deps: PoiDeps, params: Params): Promise<void> {
  const E = BigInt(params.seedEpochBlocks);
  const h = ctx.header.height;
  if (h % E !== 0n) return;
  const epoch = epochOf(h, E);
  const alpha = BigInt(params.workScoreAlphaBps);
  const units = new Map<string, bigint>(); // operator hex -> units this epoch
  for (const { worker, units: u } of await deps.work.takeEpochWork(ctx, epoch)) {
    const link = await deps.work.link(ctx, worker);
    if (!link) continue; // unlinked work earns the worker rewards, but no validator score
    const op = Buffer.from(parseAddress(link.operator)).toString("hex");
    units.set(op, (units.get(op) ?? 0n) + u);
  }
  const prev = new Map((await deps.work.scores(ctx)).map((s) => [Buffer.from(s.operator).toString("hex"), s.score]));
  for (const op of [...new Set([...prev.keys(), ...units.keys()])].sort()) {
    const before = prev.get(op) ?? 0n;
    const score = emaStep(before, units.get(op) ?? 0n, alpha);
    const operator = Buffer.from(op, "hex");
    deps.work.setScore(ctx, operator, score, epoch);
    if (score !== before) {
      ctx.events.emit("poi_work_score", [["operator", formatAddress(operator)], ["epoch", epoch.toString()], ["units", (units.get(op) ?? 0n).toString()], ["score", score.toString()]]);
    }
  }
}
