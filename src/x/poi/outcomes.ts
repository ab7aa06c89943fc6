/**
 * How a task attempt ends, and who is paid (README, "Priced verification and honest slashing"):
 *   pass     - the worker gets the reward and its bond back; the verification fee is shared by the
 *              validators whose private votes passed, pro rata to power (held until their seed reveal);
 *              the protocol fee is burned (or goes to the community pool), and the work is credited to
 *              the worker's epoch (work score) only when both fees were paid;
 *   fail     - the bond is slashed: catch_bounty_bps of it is shared by the validators that voted the
 *              confirmed item failing, pro rata to power (held likewise); the rest is burned. The
 *              requester receives nothing from a slash;
 *   no fault - validators could not agree or did not vote in time: the bond goes back, the task reopens
 *              (and a split flags the model);
 *   lapse    - a claim without a result in time: the bond is burned;
 *   expiry   - the requester gets the reward escrow, the unused verification and protocol fees and the deposit back
 *              (the deposit also comes back when the task completes).
 * Every share is floor(amount × power / matched power); what floors leave is burned.
 */
import type { Context } from "../../app/context";
import { formatAddress, parseAddress } from "../../app/address";
import { BOND_DENOM } from "../../app/params";
import { POI_MODULE_ACCOUNT, type PoiKeeper } from "./keeper";
import type { VerificationKeeper } from "./verification_keeper";
import type { BankKeeper, CommunityPool, Slasher, ValsetKeeper, WorkHooks } from "./expected_keepers";
import type { WorkKeeper } from "./work_keeper";
import { isTraining, TaskStatus, type Task } from "./types";
import { trainingOutcome, trainingWorkUnits } from "./training_outcomes";
import { TrainingKeeper } from "./training_keeper";
import { epochOf } from "./sampling";
import { maybePlantAudit } from "./audits";

/** The keepers the end-of-block rules use. */
export interface PoiDeps {
  keeper: PoiKeeper;
  verification: VerificationKeeper;
  bank: BankKeeper;
  valset: ValsetKeeper;
  /** Worker links, credited work per epoch, work scores. */
  work: WorkKeeper;
  /** Called in the order added (PoiModule.addWorkHooks). */
  hooks: WorkHooks[];
  /** Audit penalties (x/staking once it lands; a stand-in before). */
  slasher: Slasher;
  /** Where protocol fees go; burned when absent. */
  communityPool?: CommunityPool;
}

/** Voting power by uppercase hex consensus address, and the total. */
export interface PowerTable { power: Map<string, bigint>; total: bigint }

export const coins = (amount: bigint) => [{ denom: BOND_DENOM, amount }];
export const inc = (decimal: string, by: bigint) => (BigInt(decimal) + by).toString();

/**
 * Splits `amount` among `recipients` (hex addresses, each counted once, in address order) pro rata to
 * power. Returns each share and what the floors leave.
 */
export function splitByPower(amount: bigint, recipients: readonly string[], table: PowerTable): { shares: Array<[string, bigint]>; remainder: bigint } {
  const uniq = [...new Set(recipients)].filter((v) => (table.power.get(v) ?? 0n) > 0n).sort();
  const weight = uniq.reduce((s, v) => s + table.power.get(v)!, 0n);
  if (weight === 0n || amount === 0n) return { shares: [], remainder: amount };
  const shares = uniq.map((v) => [v, (amount * table.power.get(v)!) / weight] as [string, bigint]);
  return { shares, remainder: amount - shares.reduce((s, [, a]) => s + a, 0n) };
}

/**
 * Validator income from results of `epoch` stays in the module account until the validator reveals
 * its seed of that epoch (settleHeld pays or burns it then). Income that arrives after the reveal is
 * settled at once the same way.
 */
async function holdIncome(ctx: Context, deps: PoiDeps, shares: ReadonlyArray<[string, bigint]>, epoch: bigint): Promise<void> {
  for (const [v, amount] of shares) {
    if (amount === 0n) continue;
    await deps.verification.hold(ctx, v, epoch, amount);
    await deps.verification.updateStats(ctx, v, await operatorText(ctx, deps, v), (s) => { s.pending = inc(s.pending, amount); });
    const rec = await deps.verification.seedRecord(ctx, v, epoch);
    if (rec && BigInt(rec.revealedHeight) > 0n) await settleHeld(ctx, deps, v, epoch, rec.faulty ? "income of an epoch whose reveal was faulty" : undefined, false);
  }
}

/** Pays (no fault) or burns (fault, or no reveal in time) what a validator earned from results of `epoch`. */
export async function settleHeld(ctx: Context, deps: PoiDeps, v: string, epoch: bigint, fault: string | undefined, newFault = true): Promise<void> {
  const amount = await deps.verification.takeHeld(ctx, v, epoch);
  const op = await deps.valset.operator(ctx, Buffer.from(v, "hex"));
  const paid = !fault && op !== undefined;
  if (amount > 0n) {
    if (paid) await deps.bank.sendCoins(ctx, POI_MODULE_ACCOUNT, op!, coins(amount));
    else await deps.bank.burnCoins(ctx, POI_MODULE_ACCOUNT, coins(amount));
  }
  await deps.verification.updateStats(ctx, v, await operatorText(ctx, deps, v), (s) => {
    s.pending = inc(s.pending, -amount);
    if (paid) s.paid = inc(s.paid, amount);
    else s.forfeited = inc(s.forfeited, amount);
    if (fault && newFault) s.faults = inc(s.faults, 1n);
  });
  if (fault && newFault) ctx.events.emit("poi_validator_fault", [["validator", v], ["epoch", epoch.toString()], ["reason", fault], ["forfeited", `${amount}${BOND_DENOM}`]]);
  else if (!fault) ctx.events.emit("poi_seed_revealed", [["validator", v], ["epoch", epoch.toString()], ["paid", `${paid ? amount : 0n}${BOND_DENOM}`]]);
}

async function burn(ctx: Context, deps: PoiDeps, amount: bigint): Promise<void> {
  if (amount > 0n) await deps.bank.burnCoins(ctx, POI_MODULE_ACCOUNT, coins(amount));
}

/** Notes the attempt that leaves verification now, for the next block's extension checks. */
export function noteEnded(deps: PoiDeps, ctx: Context, task: Task): void {
  deps.verification.setEnded(ctx, BigInt(task.id), { attempt: task.attempt, numItems: task.numItems, challengeItems: task.challenges.map((c) => c.item), training: isTraining(task) });
}

export async function payWorker(ctx: Context, deps: PoiDeps, task: Task, table: PowerTable, passPower: bigint): Promise<void> {
  const { keeper, bank } = deps;
  noteEnded(deps, ctx, task);
  const worker = parseAddress(task.worker);
  const escrow = BigInt(task.escrow), bond = BigInt(task.bond), fee = BigInt(task.verifyFee);
  await bank.sendCoins(ctx, POI_MODULE_ACCOUNT, worker, coins(escrow + bond));
  const deposit = BigInt(task.deposit || "0");
  if (deposit > 0n) await bank.sendCoins(ctx, POI_MODULE_ACCOUNT, parseAddress(task.requester), coins(deposit));
  const model = (await keeper.getModel(ctx, task.modelId))!;
  const units = isTraining(task) ? await trainingWorkUnits(ctx, task, model) : BigInt(model.workUnitsPerItem) * BigInt(task.numItems);
  await keeper.updateWorkerStats(ctx, worker, task.worker, (s) => {
    s.verifiedWorkUnits = inc(s.verifiedWorkUnits, units);
    s.tasksPassed = inc(s.tasksPassed, 1n);
    s.earned = inc(s.earned, escrow);
  });
  await keeper.addBlockWork(ctx, ctx.header.height, worker, units);
  const protocolFee = BigInt(task.protocolFee || "0");
  if (protocolFee > 0n) {
    if (deps.communityPool && (await deps.communityPool.active(ctx))) await deps.communityPool.fundCommunityPool(ctx, POI_MODULE_ACCOUNT, protocolFee);
    else await burn(ctx, deps, protocolFee);
  }
  // Work credit (work score, rewards) only from tasks whose verification and protocol fees were paid.
  const credited = protocolFee > 0n && fee > 0n;
  if (credited) {
    const params = await keeper.params(ctx);
    await deps.work.addEpochWork(ctx, epochOf(ctx.header.height, BigInt(params.seedEpochBlocks)), worker, units);
    for (const hk of deps.hooks) await hk.afterWorkVerified?.(ctx, worker, units, BigInt(task.id));
  }

  const passers = task.votes.filter((v) => v.pass).map((v) => v.validator);
  const { shares, remainder } = splitByPower(fee, passers, table);
  await holdIncome(ctx, deps, shares, BigInt(task.resultEpoch));
  await burn(ctx, deps, remainder);
  for (const v of new Set(passers)) await deps.verification.updateStats(ctx, v, await operatorText(ctx, deps, v), (s) => { s.passesMatched = inc(s.passesMatched, 1n); });
  // A private FAIL whose items all turned out passing was a false report: no fee share for it.
  for (const vote of task.votes.filter((x) => !x.pass)) {
    await deps.verification.updateStats(ctx, vote.validator, await operatorText(ctx, deps, vote.validator), (s) => { s.falseReports = inc(s.falseReports, BigInt(vote.failedItems.length)); });
  }
  await attemptDecided(ctx, deps, task, table, passers);
  await maybePlantAudit(ctx, deps, task, table);
  const trained = isTraining(task) ? await trainingOutcome(ctx, deps, task, table) : undefined;
  keeper.setTask(ctx, {
    ...task, status: TaskStatus.COMPLETED, escrow: "0", verifyFee: "0", protocolFee: "0", deposit: "0", completedHeight: ctx.header.height.toString(),
    ...(trained ?? {}),
  }, true);
  ctx.events.emit("poi_task_verified", [
    ["task_id", task.id], ["worker", task.worker], ["attempt", String(task.attempt)], ["reward", `${escrow}${BOND_DENOM}`],
    ["bond_returned", `${bond}${BOND_DENOM}`], ["work_units", units.toString()], ["pass_power", passPower.toString()], ["total_power", table.total.toString()],
    ["verify_fee", `${fee}${BOND_DENOM}`], ["fee_shares", shares.map(([v, a]) => `${v}:${a}`).join(",")], ["fee_burned", `${remainder}${BOND_DENOM}`],
    ["protocol_fee", `${protocolFee}${BOND_DENOM}`], ["work_credited", String(credited)],
    ...(trained ? [["held_out_accuracy_bps", String(trained.heldOutAccuracyBps)], ["model_registered", String(!trained.belowMinAccuracy)]] as Array<[string, string]> : []),
  ]);
}

/** A confirmed failing item: the bond is slashed, the confirmers share the bounty, the rest is burned, the task reopens. */
export async function failWorker(
  ctx: Context, deps: PoiDeps, task: Task, table: PowerTable, confirmedItems: readonly string[], confirmers: readonly string[], bountyBps: bigint,
  reason = "reported items confirmed failing",
): Promise<void> {
  noteEnded(deps, ctx, task);
  const bond = BigInt(task.bond);
  const bounty = (bond * bountyBps) / 10000n;
  const { shares, remainder } = splitByPower(bounty, confirmers, table);
  const burned = bond - bounty + remainder;
  await holdIncome(ctx, deps, shares, BigInt(task.resultEpoch));
  await burn(ctx, deps, burned);
  for (const v of new Set(confirmers)) await deps.verification.updateStats(ctx, v, await operatorText(ctx, deps, v), (s) => { s.catches = inc(s.catches, 1n); });
  await attemptDecided(ctx, deps, task, table, confirmers);
  await deps.keeper.updateWorkerStats(ctx, parseAddress(task.worker), task.worker, (s) => { s.tasksFailed = inc(s.tasksFailed, 1n); s.slashed = inc(s.slashed, bond); });
  ctx.events.emit("poi_task_failed", [
    ["task_id", task.id], ["worker", task.worker], ["attempt", String(task.attempt)], ["slashed", `${bond}${BOND_DENOM}`],
    ["items", confirmedItems.join(",")], ["bounty", `${bounty - remainder}${BOND_DENOM}`], ["bounty_shares", shares.map(([v, a]) => `${v}:${a}`).join(",")],
    ["burned", `${burned}${BOND_DENOM}`], ["reason", reason],
  ]);
  await reopen(ctx, deps, { ...task, failedAttempts: task.failedAttempts + 1 });
}

/** No fault shown: the bond goes back and the task reopens; `flag` marks the model unusable for new tasks. */
export async function noFault(ctx: Context, deps: PoiDeps, task: Task, reason: string, flag: boolean): Promise<void> {
  noteEnded(deps, ctx, task);
  await deps.bank.sendCoins(ctx, POI_MODULE_ACCOUNT, parseAddress(task.worker), coins(BigInt(task.bond)));
  ctx.events.emit("poi_verification_no_fault", [["task_id", task.id], ["worker", task.worker], ["attempt", String(task.attempt)], ["reason", reason], ["votes", String(task.votes.length)]]);
  if (flag) {
    const model = await deps.keeper.getModel(ctx, task.modelId);
    if (model && !model.flagged) {
      deps.keeper.setModelInfo(ctx, { ...model, flagged: true, flagReason: reason, flaggedHeight: ctx.header.height.toString() });
      ctx.events.emit("poi_model_flagged", [["model_id", model.id], ["task_id", task.id], ["reason", reason]]);
    }
  }
  await reopen(ctx, deps, task);
}

/** A claim that lapsed without a result: the bond is burned (nobody profits from it) and the task reopens. */
export async function lapse(ctx: Context, deps: PoiDeps, task: Task): Promise<void> {
  const bond = BigInt(task.bond);
  await burn(ctx, deps, bond);
  await deps.keeper.updateWorkerStats(ctx, parseAddress(task.worker), task.worker, (s) => { s.claimsLapsed = inc(s.claimsLapsed, 1n); s.slashed = inc(s.slashed, bond); });
  ctx.events.emit("poi_claim_lapsed", [["task_id", task.id], ["worker", task.worker], ["attempt", String(task.attempt)], ["bond_burned", `${bond}${BOND_DENOM}`]]);
  await reopen(ctx, deps, task);
}

/** Back to OPEN for a new attempt (outputs and votes dropped), or EXPIRED at the deadline. */
export async function reopen(ctx: Context, deps: PoiDeps, task: Task): Promise<void> {
  deps.keeper.setTaskOutputs(ctx, BigInt(task.id), undefined);
  if (isTraining(task)) await new TrainingKeeper().clearAttempt(ctx, BigInt(task.id));
  const reset: Task = {
    ...task, status: TaskStatus.OPEN, attempt: task.attempt + 1, worker: "", claimExpiresHeight: "0", resultRoot: new Uint8Array(),
    resultHeight: "0", verifyDeadlineHeight: "0", votes: [], resultEpoch: "0", voteWindowEndHeight: "0", challenges: [],
    ...(isTraining(task) ? { requestEndHeight: "0", revealDeadlineHeight: "0" } : {}),
  };
  if (ctx.header.height >= BigInt(task.deadlineHeight)) return expire(ctx, deps, reset);
  deps.keeper.setTask(ctx, reset, false);
  ctx.events.emit("poi_task_reopened", [["task_id", task.id], ["attempt", String(reset.attempt)]]);
}

export async function expire(ctx: Context, deps: PoiDeps, task: Task): Promise<void> {
  const refund = BigInt(task.escrow) + BigInt(task.verifyFee) + BigInt(task.protocolFee || "0") + BigInt(task.deposit || "0");
  if (refund > 0n) await deps.bank.sendCoins(ctx, POI_MODULE_ACCOUNT, parseAddress(task.requester), coins(refund));
  deps.keeper.setTask(ctx, { ...task, status: TaskStatus.EXPIRED, escrow: "0", verifyFee: "0", protocolFee: "0", deposit: "0" }, true);
  ctx.events.emit("poi_task_expired", [["task_id", task.id], ["requester", task.requester], ["refunded", `${refund}${BOND_DENOM}`]]);
}

/**
 * Validators of the set that were eligible for the attempt (seed of its epoch committed before the
 * result) and cast no private-round verdict on it, in address order.
 */
export async function silentEligible(ctx: Context, deps: PoiDeps, task: Task, table: PowerTable): Promise<string[]> {
  const voted = new Set(task.votes.map((v) => v.validator));
  const out: string[] = [];
  for (const v of [...table.power.keys()].sort()) {
    if (voted.has(v)) continue;
    const rec = await deps.verification.seedRecord(ctx, v, BigInt(task.resultEpoch));
    if (rec && BigInt(rec.committedHeight) < BigInt(task.resultHeight)) out.push(v);
  }
  return out;
}

/** WorkHooks.afterAttemptDecided: who matched the outcome (pass: the passers; fail: the confirmers) and who was silent. */
async function attemptDecided(ctx: Context, deps: PoiDeps, task: Task, table: PowerTable, matchedHex: readonly string[]): Promise<void> {
  if (!deps.hooks.some((h) => h.afterAttemptDecided)) return;
  const matched = [...new Set(matchedHex)].sort().map((v) => Uint8Array.from(Buffer.from(v, "hex")));
  const missed = (await silentEligible(ctx, deps, task, table)).map((v) => Uint8Array.from(Buffer.from(v, "hex")));
  for (const h of deps.hooks) await h.afterAttemptDecided?.(ctx, matched, missed);
}

/** A validator's operator account as bech32, or "" when none is known. */
export async function operatorText(ctx: Context, deps: PoiDeps, validatorHex: string): Promise<string> {
  const op = await deps.valset.operator(ctx, Buffer.from(validatorHex, "hex"));
  return op ? formatAddress(op) : "";
}
