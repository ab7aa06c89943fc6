/**
 * Applies one validator's signed vote extension from a block's aggregate (README, "Sampling nobody
 * can steer"): seed commitments, seed reveals (checked against the commitment and against the items
 * the validator reported), private-round verdicts from eligible validators, and public-round votes on
 * reported items. Anything malformed or out of place is skipped, never an error: the extension is
 * signed, so what it says is attributable, but a bad part must not void the good parts.
 */
import type { Context } from "../../app/context";
import { settleHeld, type PoiDeps } from "./outcomes";
import { epochOf, seedCommitment, validatorSample } from "./sampling";
import { TaskStatus, type Challenge, type Params, type Task, type VoteExtension } from "./types";

const toBig = (s: string): bigint | undefined => { try { return BigInt(s); } catch { return undefined; } };

/** Counts of what one extension changed, for the aggregate's event. */
export interface Applied { commitments: number; reveals: number; verdicts: number; itemVerdicts: number }

export async function applyExtension(ctx: Context, deps: PoiDeps, params: Params, validatorHex: string, ext: VoteExtension): Promise<Applied> {
  const out: Applied = { commitments: 0, reveals: 0, verdicts: 0, itemVerdicts: 0 };
  out.commitments = await applyCommitments(ctx, deps, params, validatorHex, ext);
  out.reveals = await applyReveals(ctx, deps, params, validatorHex, ext);
  out.verdicts = await applyVerdicts(ctx, deps, params, validatorHex, ext);
  out.itemVerdicts = await applyItemVerdicts(ctx, deps, validatorHex, ext);
  return out;
}

/** The first commitment per epoch, for this block's epoch or the next one only. */
async function applyCommitments(ctx: Context, deps: PoiDeps, params: Params, v: string, ext: VoteExtension): Promise<number> {
  const h = ctx.header.height;
  const current = epochOf(h, BigInt(params.seedEpochBlocks));
  let n = 0;
  for (const c of ext.commitments.slice(0, 2)) {
    const e = toBig(c.epoch);
    if (e === undefined || (e !== current && e !== current + 1n) || c.hash.length !== 32) continue;
    if (await deps.verification.seedRecord(ctx, v, e)) continue;
    deps.verification.setSeedRecord(ctx, v, e, { commitment: c.hash, committedHeight: h.toString(), seed: new Uint8Array(), revealedHeight: "0", faulty: false });
    ctx.events.emit("poi_seed_committed", [["validator", v], ["epoch", e.toString()]]);
    n++;
  }
  return n;
}

/**
 * A reveal of an epoch that was over when the extension was signed (at the block's height − 1). A seed
 * that matches its commitment and every report of the epoch that lies in its sample releases the
 * income held for that epoch; otherwise the income is burned and the fault recorded.
 */
async function applyReveals(ctx: Context, deps: PoiDeps, params: Params, v: string, ext: VoteExtension): Promise<number> {
  const h = ctx.header.height;
  const signedIn = epochOf(h - 1n, BigInt(params.seedEpochBlocks));
  let n = 0;
  for (const r of ext.reveals.slice(0, 4)) {
    const e = toBig(r.epoch);
    if (e === undefined || e >= signedIn) continue;
    const rec = await deps.verification.seedRecord(ctx, v, e);
    if (!rec || rec.seed.length > 0 || rec.faulty) continue;
    let fault: string | undefined;
    const matches = Buffer.from(seedCommitment(r.seed)).equals(Buffer.from(rec.commitment));
    if (!matches) fault = "revealed seed does not match its commitment";
    const reports = await deps.verification.takeReports(ctx, v, e);
    if (!fault) {
      for (const rep of reports) {
        const sample = new Set(validatorSample(r.seed, rep.taskId, rep.attempt, rep.resultRoot, rep.numItems, BigInt(rep.k)));
        const outside = rep.items.find((i) => !sample.has(i));
        if (outside !== undefined) { fault = `reported item ${outside} of task ${rep.taskId} attempt ${rep.attempt}, which is not in its sample`; break; }
      }
    }
    deps.verification.setSeedRecord(ctx, v, e, { ...rec, seed: matches ? r.seed : new Uint8Array(), revealedHeight: h.toString(), faulty: fault !== undefined });
    await settleHeld(ctx, deps, v, e, fault);
    n++;
  }
  return n;
}

/** May `v` vote on this attempt? Only with a seed for the result's epoch committed before the result. */
async function eligible(ctx: Context, deps: PoiDeps, v: string, task: Task): Promise<boolean> {
  const rec = await deps.verification.seedRecord(ctx, v, BigInt(task.resultEpoch));
  return rec !== undefined && BigInt(rec.committedHeight) < BigInt(task.resultHeight);
}

async function verifyingTask(ctx: Context, deps: PoiDeps, taskId: string, attempt: number): Promise<Task | undefined> {
  const id = toBig(taskId);
  if (id === undefined || id <= 0n) return undefined;
  const task = await deps.keeper.getTask(ctx, id);
  return task && task.status === TaskStatus.VERIFYING && task.attempt === attempt ? task : undefined;
}

async function applyVerdicts(ctx: Context, deps: PoiDeps, params: Params, v: string, ext: VoteExtension): Promise<number> {
  const seen = new Set<string>();
  const maxReports = Number(params.maxReportsPerValidator);
  let n = 0;
  for (const verdict of ext.verdicts) {
    if (seen.has(verdict.taskId)) continue; // one verdict per task per extension
    seen.add(verdict.taskId);
    const task = await verifyingTask(ctx, deps, verdict.taskId, verdict.attempt);
    if (!task || task.votes.some((x) => x.validator === v) || !(await eligible(ctx, deps, v, task))) continue;
    const numItems = BigInt(task.numItems);
    const items = [...new Set(verdict.failedItems.map(toBig).filter((i): i is bigint => i !== undefined && i >= 0n && i < numItems))]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, maxReports);
    const cannotVerify = verdict.cannotVerify && !verdict.pass;
    if (!verdict.pass && !cannotVerify && items.length === 0) continue; // a failure must name the items it found
    const failedItems = verdict.pass || cannotVerify ? [] : items.map(String);
    const votes = [...task.votes, { validator: v, pass: verdict.pass, height: ctx.header.height.toString(), failedItems, cannotVerify }];
    const challenges = failedItems.length === 0 ? task.challenges : addChallenges(task.challenges, failedItems, v);
    deps.keeper.setTask(ctx, { ...task, votes, challenges }, false);
    if (failedItems.length > 0) {
      deps.verification.addReport(ctx, v, BigInt(task.resultEpoch), { taskId: BigInt(task.id), attempt: task.attempt, items, resultRoot: task.resultRoot, numItems, k: task.k });
    }
    ctx.events.emit("poi_verdict", [
      ["task_id", task.id], ["attempt", String(task.attempt)], ["validator", v], ["pass", String(verdict.pass)], ["failed_items", failedItems.join(",")],
      ["cannot_verify", String(cannotVerify)],
    ]);
    n++;
  }
  return n;
}

function addChallenges(challenges: readonly Challenge[], items: readonly string[], reporter: string): Challenge[] {
  const out = challenges.map((c) => ({ ...c }));
  for (const item of items) {
    const c = out.find((x) => x.item === item);
    if (c) { if (!c.reporters.includes(reporter)) c.reporters = [...c.reporters, reporter]; }
    else out.push({ item, reporters: [reporter], votes: [] });
  }
  return out.sort((a, b) => (BigInt(a.item) < BigInt(b.item) ? -1 : BigInt(a.item) > BigInt(b.item) ? 1 : 0));
}

/** Public round: a vote on an item some validator reported; any validator of the set may cast one per item. */
async function applyItemVerdicts(ctx: Context, deps: PoiDeps, v: string, ext: VoteExtension): Promise<number> {
  let n = 0;
  const changed = new Map<string, Task>();
  for (const iv of ext.itemVerdicts) {
    const task = changed.get(iv.taskId) ?? (await verifyingTask(ctx, deps, iv.taskId, iv.attempt));
    if (!task || task.attempt !== iv.attempt) continue;
    const c = task.challenges.find((x) => x.item === iv.item);
    if (!c || c.votes.some((x) => x.validator === v)) continue;
    c.votes = [...c.votes, { validator: v, pass: iv.pass, height: ctx.header.height.toString() }];
    changed.set(task.id, task);
    ctx.events.emit("poi_item_verdict", [["task_id", task.id], ["attempt", String(task.attempt)], ["item", iv.item], ["validator", v], ["pass", String(iv.pass)]]);
    n++;
  }
  for (const id of [...changed.keys()].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))) deps.keeper.setTask(ctx, changed.get(id)!, false);
  return n;
}
