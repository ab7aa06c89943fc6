/**
 * What a validator puts in its vote extension at a height, from committed state and its local
 * verdicts: commitments to its seeds of the carrying block's epoch and the next (until recorded),
 * reveals of its seeds of epochs that are over (until recorded), and its verdicts on attempts still
 * under verification that the chain has not recorded from it yet. Everything is repeated until it
 * lands, so a proposer that leaves the extension out only delays it.
 */
import type { Context } from "../../../app/context";
import type { PoiKeeper } from "../keeper";
import type { VerificationKeeper } from "../verification_keeper";
import { attemptSample, epochOf, seedCommitment, seedFor } from "../sampling";
import { MAX_EXTENSION_BYTES } from "../verdicts";
import { TrainingKeeper } from "../training_keeper";
import {
  isTraining, TaskStatus, VoteExtensionCodec, type ItemVerdict, type SegmentRequest, type SeedCommitment, type SeedReveal, type Task, type Verdict,
} from "../types";
import { taskIdsWithStatus } from "../indexes";

/** Verdicts this validator has reached and not yet seen recorded: "task/attempt" and "task/attempt/item" keys. */
export interface LocalVerdicts {
  verdicts: Map<string, { pass: boolean; failedItems: string[]; sample: string[]; cannotVerify?: boolean; accuracyBps?: number }>;
  items: Map<string, boolean>;
}

export async function buildExtension(
  ctx: Context, keeper: PoiKeeper, verification: VerificationKeeper, me: { validator: string; secret: Uint8Array },
  local: LocalVerdicts, height: bigint, fault: { invert?: boolean; alwaysPass?: boolean } = {},
): Promise<Uint8Array> {
  const invert = fault.invert === true;
  const params = await keeper.params(ctx);
  const E = BigInt(params.seedEpochBlocks);
  const chainId = ctx.header.chainId;

  // The block that carries this extension is height + 1.
  const commitments: SeedCommitment[] = [];
  const carrying = epochOf(height + 1n, E);
  for (const e of [carrying, carrying + 1n]) {
    if (!(await verification.seedRecord(ctx, me.validator, e))) commitments.push({ epoch: e.toString(), hash: seedCommitment(seedFor(me.secret, chainId, e)) });
  }
  const reveals: SeedReveal[] = [];
  const over = epochOf(height, E); // epochs before the one this extension is signed in
  const oldest = over > BigInt(params.revealWindowEpochs) + 1n ? over - BigInt(params.revealWindowEpochs) - 1n : 0n;
  for (let e = oldest; e < over && reveals.length < 4; e++) {
    const rec = await verification.seedRecord(ctx, me.validator, e);
    if (rec && rec.seed.length === 0 && !rec.faulty) reveals.push({ epoch: e.toString(), seed: seedFor(me.secret, chainId, e) });
  }

  const verdicts: Verdict[] = [];
  const itemVerdicts: ItemVerdict[] = [];
  const segmentRequests: SegmentRequest[] = [];
  for (const id of await taskIdsWithStatus(ctx, TaskStatus.VERIFYING)) {
    const task = await keeper.getTask(ctx, id);
    if (!task || task.status !== TaskStatus.VERIFYING) continue;
    const key = `${task.id}/${task.attempt}`;
    const voted = task.votes.some((x) => x.validator === me.validator);
    // A training verdict needs this validator's segment request recorded first.
    const request = isTraining(task) ? await trainingRequest(ctx, verification, me, task, height) : undefined;
    if (request && request !== "none") segmentRequests.push(request);
    const mayVote = request === undefined;
    if (fault.alwaysPass) {
      // The lazy test fault: approves everything without re-executing anything.
      if (!voted && mayVote) verdicts.push({ taskId: task.id, attempt: task.attempt, pass: true, failedItems: [], cannotVerify: false });
      for (const c of task.challenges) if (!c.votes.some((x) => x.validator === me.validator)) itemVerdicts.push({ taskId: task.id, attempt: task.attempt, item: c.item, pass: true });
      continue;
    }
    const v = local.verdicts.get(key);
    if (v && !voted && mayVote) {
      if (v.cannotVerify) {
        verdicts.push({ taskId: task.id, attempt: task.attempt, pass: false, failedItems: [], cannotVerify: true });
      } else {
        // The inverting test fault passes what failed and reports the first sampled item of what passed.
        const pass = invert ? !v.pass : v.pass;
        verdicts.push({
          taskId: task.id, attempt: task.attempt, pass, failedItems: pass ? [] : invert ? v.sample.slice(0, 1) : v.failedItems, cannotVerify: false, accuracyBps: v.accuracyBps ?? 0,
        });
      }
    }
    for (const c of task.challenges) {
      const ok = local.items.get(`${key}/${c.item}`);
      if (ok === undefined || c.votes.some((x) => x.validator === me.validator)) continue;
      itemVerdicts.push({ taskId: task.id, attempt: task.attempt, item: c.item, pass: invert ? !ok : ok });
    }
  }

  const encode = () => VoteExtensionCodec.encode({ verdicts, itemVerdicts, commitments, reveals, segmentRequests }).finish();
  let bytes = encode();
  // Over the cap: drop verdicts (then segment requests) from the end (they are carried again in the next extensions).
  while (bytes.length > MAX_EXTENSION_BYTES && (verdicts.length || itemVerdicts.length || segmentRequests.length)) {
    if (itemVerdicts.length) itemVerdicts.splice(itemVerdicts.length >> 1);
    else if (verdicts.length) verdicts.splice(verdicts.length >> 1);
    else segmentRequests.splice(segmentRequests.length >> 1);
    bytes = encode();
  }
  return bytes;
}

/**
 * This validator's segment request on a training attempt while it is not recorded and the requests are
 * open at the carrying block: the segments of its sample (README, "Training tasks"). Undefined once it is
 * recorded; "none" when it cannot take part (no seed committed before the commitment, or the window closed).
 */
async function trainingRequest(
  ctx: Context, verification: VerificationKeeper, me: { validator: string; secret: Uint8Array }, task: Task, height: bigint,
): Promise<SegmentRequest | undefined | "none"> {
  const attempt = await new TrainingKeeper().attempt(ctx, task);
  if (attempt?.requests.some((r) => r.validator === me.validator)) return undefined;
  const rec = await verification.seedRecord(ctx, me.validator, BigInt(task.resultEpoch));
  if (!attempt || !rec || BigInt(rec.committedHeight) >= BigInt(task.resultHeight) || height + 1n > BigInt(task.requestEndHeight ?? "0")) return "none";
  const seed = seedFor(me.secret, ctx.header.chainId, BigInt(task.resultEpoch));
  const sample = attemptSample(seed, BigInt(task.id), task.attempt, task.resultRoot, BigInt(task.numItems), BigInt(task.k), true);
  return { taskId: task.id, attempt: task.attempt, segments: sample.slice(0, -1).map(String) };
}
