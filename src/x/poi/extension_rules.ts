/**
 * What a vote extension may contain, checked against committed state (README, "Bounded verdicts").
 * VerifyVoteExtension rejects an extension that breaks a rule, the proposer leaves such an extension
 * out of its aggregate, and ProcessProposal rejects an aggregate that carries one. Every validator
 * checks against the same committed state, so the answer is the same everywhere; an honest
 * validator's own extension (verify/extension.ts) always passes, because it is built from that state.
 *
 * Rules: it decodes; at most 2 seed commitments (the carrying block's epoch and the next, 32-byte
 * hashes, distinct epochs) and 4 reveals (epochs already over, 32-byte seeds, distinct); verdicts only
 * on attempts under verification, one per task, at most max_reports_per_validator failed items, each an
 * item of the task, no failed items on a pass or a "cannot verify"; item verdicts only on items some
 * validator reported on that attempt, one per item; segment requests only on training attempts under
 * verification whose requests are open (at the carrying block), one per task, 1..k distinct segments. The size is then bounded by the tasks in
 * verification it refers to: no junk survives.
 */
import type { Context } from "../../app/context";
import type { PoiKeeper } from "./keeper";
import type { VerificationKeeper } from "./verification_keeper";
import { epochOf } from "./sampling";
import { isTraining, TaskStatus, VoteExtensionCodec, type Params, type VoteExtension } from "./types";

const toBig = (s: string): bigint | undefined => { try { return BigInt(s); } catch { return undefined; } };

/** Undefined when `bytes` is an acceptable extension for vote height `height`; else why not. */
export async function extensionProblem(
  ctx: Context, keeper: PoiKeeper, verification: VerificationKeeper, params: Params, height: bigint, bytes: Uint8Array,
): Promise<string | undefined> {
  let ext: VoteExtension;
  try {
    ext = VoteExtensionCodec.decode(bytes);
  } catch (err) {
    return `extension does not decode: ${(err as Error).message}`.slice(0, 200);
  }
  const E = BigInt(params.seedEpochBlocks);
  const carrying = epochOf(height + 1n, E);
  if (ext.commitments.length > 2) return `${ext.commitments.length} seed commitments, at most 2`;
  const epochs = new Set<string>();
  for (const c of ext.commitments) {
    const e = toBig(c.epoch);
    if (e === undefined || (e !== carrying && e !== carrying + 1n)) return `a commitment for epoch ${c.epoch.slice(0, 24)}, want ${carrying} or ${carrying + 1n}`;
    if (c.hash.length !== 32 || epochs.has(c.epoch)) return `a malformed or repeated commitment (epoch ${c.epoch})`;
    epochs.add(c.epoch);
  }
  if (ext.reveals.length > 4) return `${ext.reveals.length} seed reveals, at most 4`;
  epochs.clear();
  const over = epochOf(height, E);
  for (const r of ext.reveals) {
    const e = toBig(r.epoch);
    if (e === undefined || e >= over) return `a reveal of epoch ${r.epoch.slice(0, 24)}, which is not over (epoch ${over})`;
    if (r.seed.length !== 32 || epochs.has(r.epoch)) return `a malformed or repeated reveal (epoch ${r.epoch})`;
    epochs.add(r.epoch);
  }

  // An attempt the extension may refer to: under verification in committed state, or one that left
  // verification in the last committed block (the extensions of that height were built before it did).
  type Attempt = { numItems: bigint; items: Set<string>; training: boolean; k: bigint; requestEnd?: bigint };
  const attempts = new Map<string, Attempt | undefined>();
  const verifying = async (taskId: string, attempt: number) => {
    const key = `${taskId}/${attempt}`;
    if (attempts.has(key)) return attempts.get(key);
    let found: Attempt | undefined;
    const id = toBig(taskId);
    if (id !== undefined && id > 0n && id < 1n << 64n) {
      const t = await keeper.getTask(ctx, id);
      if (t && t.status === TaskStatus.VERIFYING && t.attempt === attempt) {
        found = { numItems: BigInt(t.numItems), items: new Set(t.challenges.map((c) => c.item)), training: isTraining(t), k: BigInt(t.k), requestEnd: BigInt(t.requestEndHeight ?? "0") };
      }
      const e = found ? undefined : await verification.ended(ctx, ctx.header.height - 1n, id);
      if (e && e.attempt === attempt) found = { numItems: BigInt(e.numItems), items: new Set(e.challengeItems), training: e.training === true, k: BigInt(e.numItems) };
    }
    attempts.set(key, found);
    return found;
  };
  const maxReports = Number(params.maxReportsPerValidator);
  const voted = new Set<string>();
  for (const v of ext.verdicts) {
    const t = await verifying(v.taskId, v.attempt);
    if (!t) return `a verdict on task ${v.taskId.slice(0, 24)} attempt ${v.attempt}, which is not under verification`;
    if (voted.has(v.taskId)) return `two verdicts on task ${v.taskId}`;
    voted.add(v.taskId);
    if ((v.pass || v.cannotVerify) && v.failedItems.length) return `failed items on a ${v.pass ? "pass" : "cannot-verify"} verdict (task ${v.taskId})`;
    if (v.failedItems.length > maxReports) return `${v.failedItems.length} failed items on task ${v.taskId}, at most ${maxReports}`;
    for (const i of v.failedItems) {
      const n = toBig(i);
      if (n === undefined || n < 0n || n >= t.numItems) return `failed item ${i.slice(0, 24)} is not an item of task ${v.taskId}`;
    }
    if ((v.accuracyBps ?? 0) > 10000) return `accuracy ${v.accuracyBps} bps on task ${v.taskId}, more than 10000`;
  }
  const requested = new Set<string>();
  for (const r of ext.segmentRequests ?? []) {
    const t = await verifying(r.taskId, r.attempt);
    if (!t || !t.training) return `a segment request on task ${r.taskId.slice(0, 24)} attempt ${r.attempt}, which is not a training attempt under verification`;
    if (t.requestEnd !== undefined && height + 1n > t.requestEnd) return `a segment request on task ${r.taskId} after its requests closed at height ${t.requestEnd}`;
    if (requested.has(r.taskId)) return `two segment requests on task ${r.taskId}`;
    requested.add(r.taskId);
    if (r.segments.length === 0 || BigInt(r.segments.length) > t.k) return `${r.segments.length} segments requested on task ${r.taskId}, want 1..${t.k}`;
    if (new Set(r.segments).size !== r.segments.length) return `a segment requested twice on task ${r.taskId}`;
    for (const s of r.segments) {
      const n = toBig(s);
      if (n === undefined || n < 0n || n >= t.numItems - 1n) return `segment ${s.slice(0, 24)} is not a segment of task ${r.taskId}`;
    }
  }
  const itemVoted = new Set<string>();
  for (const iv of ext.itemVerdicts) {
    const t = await verifying(iv.taskId, iv.attempt);
    if (!t || !t.items.has(iv.item)) return `an item verdict on item ${iv.item.slice(0, 24)} of task ${iv.taskId.slice(0, 24)}, which nobody reported`;
    const key = `${iv.taskId}/${iv.item}`;
    if (itemVoted.has(key)) return `two item verdicts on item ${iv.item} of task ${iv.taskId}`;
    itemVoted.add(key);
  }
  return undefined;
}
