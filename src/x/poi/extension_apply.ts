/**
 * Applies one validator's signed vote extension from a block's aggregate (README, "Sampling nobody
 * can steer"): seed commitments, seed reveals (checked against the commitment and against the items
 * the validator reported), private-round verdicts from eligible validators, and public-round votes on
 * reported items. Anything malformed or out of place is skipped, never an error: the extension is
 * signed, so what it says is attributable, but a bad part must not void the good parts.
 */
import type { Context } from "../../app/context";
import { settleHeld, type PoiDeps } from "./outcomes";
import { attemptSample, epochOf, seedCommitment } from "./sampling";
import { segmentCount } from "./training";
import { TrainingKeeper } from "./training_keeper";
import { isTraining, TaskStatus, type Challenge, type Params, type Task, type VoteExtension } from "./types";

const toBig = (s: string): bigint | undefined => { try { return BigInt(s); } catch { return undefined; } };

/** Counts of what one extension changed, for the aggregate's event. */
export interface Applied { commitments: number; reveals: number; verdicts: number; itemVerdicts: number; segmentRequests: number }

const training = new TrainingKeeper();
const ascending = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

export async function applyExtension(ctx: Context, deps: PoiDeps, params: Params, validatorHex: string, ext: VoteExtension): Promise<Applied> {
  const out: Applied = { commitments: 0, reveals: 0, verdicts: 0, itemVerdicts: 0, segmentRequests: 0 };
  out.commitments = await applyCommitments(ctx, deps, params, validatorHex, ext);
  out.reveals = await applyReveals(ctx, deps, params, validatorHex, ext);
  out.segmentRequests = await applySegmentRequests(ctx, deps, validatorHex, ext);
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
        const sample = new Set(attemptSample(r.seed, rep.taskId, rep.attempt, rep.resultRoot, rep.numItems, BigInt(rep.k), rep.training === true));
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
    // A training verdict comes from a validator whose segment request was recorded, and may name only
    // those segments and the held-out accuracy item.
    const requested = isTraining(task) ? await requestOf(ctx, task, v) : undefined;
    if (isTraining(task) && (!requested || (verdict.accuracyBps ?? 0) > 10000)) continue;
    const allowed = (i: bigint) => i >= 0n && i < numItems && (!requested || i === numItems - 1n || requested.includes(i));
    const items = [...new Set(verdict.failedItems.map(toBig).filter((i): i is bigint => i !== undefined && allowed(i)))].sort(ascending).slice(0, maxReports);
    const cannotVerify = verdict.cannotVerify && !verdict.pass;
    if (!verdict.pass && !cannotVerify && items.length === 0) continue; // a failure must name the items it found
    const failedItems = verdict.pass || cannotVerify ? [] : items.map(String);
    const accuracyBps = isTraining(task) ? verdict.accuracyBps ?? 0 : 0;
    const votes = [...task.votes, { validator: v, pass: verdict.pass, height: ctx.header.height.toString(), failedItems, cannotVerify, accuracyBps }];
    const challenges = failedItems.length === 0 ? task.challenges : addChallenges(task.challenges, failedItems, v);
    deps.keeper.setTask(ctx, { ...task, votes, challenges }, false);
    if (failedItems.length > 0) {
      const reported = requested ? [...new Set([...requested, ...items])].sort(ascending) : items; // one record per attempt: keep the request in it
      deps.verification.addReport(ctx, v, BigInt(task.resultEpoch), { taskId: BigInt(task.id), attempt: task.attempt, items: reported, resultRoot: task.resultRoot, numItems, k: task.k, training: isTraining(task) });
    }
    ctx.events.emit("poi_verdict", [
      ["task_id", task.id], ["attempt", String(task.attempt)], ["validator", v], ["pass", String(verdict.pass)], ["failed_items", failedItems.join(",")],
      ["cannot_verify", String(cannotVerify)], ...(isTraining(task) ? [["accuracy_bps", String(accuracyBps)] as [string, string]] : []),
    ]);
    n++;
  }
  return n;
}

/** The segments `v` requested on a training attempt, if its request was recorded. */
async function requestOf(ctx: Context, task: Task, v: string): Promise<bigint[] | undefined> {
  const att = await training.attempt(ctx, task);
  return att?.requests.find((r) => r.validator === v)?.segments.map(BigInt);
}

/**
 * Segment requests on training attempts (README, "Training tasks"): from an eligible validator, the
 * first per attempt, while the requests are open; at most k distinct segments. They are checked against
 * the validator's sample when its seed is revealed (recorded like a report).
 */
async function applySegmentRequests(ctx: Context, deps: PoiDeps, v: string, ext: VoteExtension): Promise<number> {
  const seen = new Set<string>();
  let n = 0;
  for (const req of ext.segmentRequests ?? []) {
    if (seen.has(req.taskId)) continue;
    seen.add(req.taskId);
    const task = await verifyingTask(ctx, deps, req.taskId, req.attempt);
    if (!task || !isTraining(task) || ctx.header.height > BigInt(task.requestEndHeight ?? "0") || !(await eligible(ctx, deps, v, task))) continue;
    const att = await training.attempt(ctx, task);
    if (!att || att.requests.some((r) => r.validator === v)) continue;
    const segments = segmentCount(task.numItems);
    const chosen = [...new Set(req.segments.map(toBig).filter((s): s is bigint => s !== undefined && s >= 0n && s < segments))].sort(ascending).slice(0, task.k);
    if (chosen.length === 0) continue;
    training.setAttempt(ctx, BigInt(task.id), { ...att, requests: [...att.requests, { validator: v, segments: chosen.map(String), height: ctx.header.height.toString() }] });
    deps.verification.addReport(ctx, v, BigInt(task.resultEpoch), {
      taskId: BigInt(task.id), attempt: task.attempt, items: chosen, resultRoot: task.resultRoot, numItems: BigInt(task.numItems), k: task.k, training: true,
    });
    ctx.events.emit("poi_segments_requested", [["task_id", task.id], ["attempt", String(task.attempt)], ["validator", v], ["segments", chosen.join(",")]]);
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
