/**
 * poi's end of block (the SDK's abci.go): over the tasks due at this height or written in this block
 * (keeper.takeDueTaskIds), in id order, it decides attempts under verification, and handles lapsed
 * claims and deadlines; other tasks are not read, however many are open; at the first block of each sampling epoch it
 * burns validator income whose seed was not revealed in time; at the last block of each epoch it updates
 * the validators' work scores (work_score.ts). All amounts are bigint upoi; all
 * decisions are integer comparisons on state.
 *
 * Deciding an attempt (README, "Escalation and the tally"), with T the set's total power:
 *   - an item some validator reported failing, confirmed failing by ≥ 2/3 of T: fail (slash);
 *   - the private round is over (every eligible validator voted, or vote_window_end_height passed),
 *     every reported item was confirmed passing by ≥ 2/3 of T, and private passes hold ≥ 2/3 of T: pass;
 *   - validators holding ≥ 2/3 vote that they cannot run the model (their verifier crashed or timed
 *     out on it): no fault, and the model is flagged;
 *   - at verify_deadline_height without either: no fault. If a reported item split the validators
 *     (neither side reached 2/3), the model is flagged.
 * A training attempt (README, "Training tasks") also fails at its reveal deadline when a checkpoint that a
 * recorded segment request needs, or the final one, was not revealed; it passes only with the final
 * checkpoint revealed.
 */
import type { Context } from "../../app/context";
import { validatorHex } from "./verdicts";
import { epochOf, epochStart } from "./sampling";
import { expire, failWorker, lapse, noFault, payWorker, settleHeld, silentEligible, type PoiDeps, type PowerTable } from "./outcomes";
import { updateWorkScores } from "./work_score";
import { decideAudit } from "./audits";
import { isTraining, TaskStatus, type Params, type Task } from "./types";
import { finalRevealed, missingReveals } from "./training_outcomes";
import { TrainingKeeper } from "./training_keeper";

export type { PoiDeps } from "./outcomes";

export async function powerTable(ctx: Context, deps: PoiDeps): Promise<PowerTable> {
  const validators = await deps.valset.validators(ctx);
  return { power: new Map(validators.map((v) => [validatorHex(v.address), v.power])), total: validators.reduce((s, v) => s + v.power, 0n) };
}

export async function endBlockTasks(ctx: Context, deps: PoiDeps): Promise<void> {
  const { keeper } = deps;
  const h = ctx.header.height;
  const params = await keeper.params(ctx);
  const table = await powerTable(ctx, deps);
  for (const id of await keeper.takeDueTaskIds(ctx)) {
    const task = (await keeper.getTask(ctx, id))!;
    switch (task.status) {
      case TaskStatus.OPEN:
        if (h >= BigInt(task.deadlineHeight)) await expire(ctx, deps, task);
        break;
      case TaskStatus.CLAIMED:
        if (h >= BigInt(task.claimExpiresHeight)) await lapse(ctx, deps, task);
        break;
      case TaskStatus.VERIFYING:
        await tally(ctx, deps, params, table, task);
        break;
      default:
        break;
    }
  }
  await settleUnrevealed(ctx, deps, params);
  await updateWorkScores(ctx, deps, params);
  if (h > 1n) await deps.verification.clearEnded(ctx, h - 1n);
}

const powerOf = (table: PowerTable, validators: readonly string[]) => [...new Set(validators)].reduce((s, v) => s + (table.power.get(v) ?? 0n), 0n);
const twoThirds = (p: bigint, table: PowerTable) => table.total > 0n && p * 3n >= table.total * 2n;

async function tally(ctx: Context, deps: PoiDeps, params: Params, table: PowerTable, task: Task): Promise<void> {
  if (task.auditOf !== "0") return decideAudit(ctx, deps, params, table, task);
  const h = ctx.header.height;
  // A training worker that has not revealed what validators asked for by the reveal deadline is slashed.
  if (isTraining(task) && h >= BigInt(task.revealDeadlineHeight ?? "0")) {
    const missing = await missingReveals(ctx, task);
    if (missing) {
      return failWorker(ctx, deps, task, table, missing.items, missing.requesters, BigInt(params.catchBountyBps), `checkpoints ${missing.checkpoints.join(",")} not revealed by height ${task.revealDeadlineHeight}`);
    }
  }
  const confirmed: string[] = [];
  const confirmers: string[] = [];
  let split = false;
  for (const c of task.challenges) {
    const fail = c.votes.filter((v) => !v.pass).map((v) => v.validator);
    if (twoThirds(powerOf(table, fail), table)) {
      confirmed.push(c.item);
      confirmers.push(...fail);
    } else if (!twoThirds(powerOf(table, c.votes.filter((v) => v.pass).map((v) => v.validator)), table)) {
      split = true; // not (yet) decided either way
    }
  }
  if (confirmed.length > 0) return failWorker(ctx, deps, task, table, confirmed, confirmers, BigInt(params.catchBountyBps));
  // Validators holding ≥ 2/3 cannot run the model at all (it crashes or hangs their verifiers).
  if (twoThirds(powerOf(table, task.votes.filter((v) => v.cannotVerify).map((v) => v.validator)), table)) {
    return noFault(ctx, deps, task, "validators holding 2/3 of the power cannot run the model", true);
  }

  const deadline = h >= BigInt(task.verifyDeadlineHeight);
  if (!split && (await privateRoundOver(ctx, deps, task, table))) {
    const passPower = powerOf(table, task.votes.filter((v) => v.pass).map((v) => v.validator));
    if (twoThirds(passPower, table) && (!isTraining(task) || (await finalRevealed(ctx, task)))) return payWorker(ctx, deps, task, table, passPower);
  }
  if (deadline) {
    await noFault(ctx, deps, task, split ? "validators split on a reported item" : "no decision before the verification deadline", split);
  }
}

/**
 * Every eligible validator of the set voted, or the vote window is over. On a training attempt: the
 * segment requests are closed and every validator whose request was recorded voted.
 */
async function privateRoundOver(ctx: Context, deps: PoiDeps, task: Task, table: PowerTable): Promise<boolean> {
  if (ctx.header.height >= BigInt(task.voteWindowEndHeight)) return true;
  if (isTraining(task)) {
    if (ctx.header.height <= BigInt(task.requestEndHeight ?? "0")) return false;
    const requests = (await new TrainingKeeper().attempt(ctx, task))?.requests ?? [];
    return requests.length > 0 && requests.every((r) => task.votes.some((v) => v.validator === r.validator));
  }
  return (await silentEligible(ctx, deps, task, table)).length === 0;
}

/**
 * At the first block of epoch x, income held for epoch x − 1 − reveal_window_epochs whose seed was
 * never revealed is burned (a fault), and that epoch's reports are dropped.
 */
async function settleUnrevealed(ctx: Context, deps: PoiDeps, params: Params): Promise<void> {
  const E = BigInt(params.seedEpochBlocks);
  const h = ctx.header.height;
  const x = epochOf(h, E);
  const window = BigInt(params.revealWindowEpochs);
  if (h !== epochStart(x, E) || x < window + 1n) return;
  const e = x - 1n - window;
  for (const v of await deps.verification.heldFor(ctx, e)) await settleHeld(ctx, deps, v, e, "no seed reveal within the reveal window");
  await deps.verification.clearReports(ctx, e);
}
