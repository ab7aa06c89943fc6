/**
 * poi's end of block (the SDK's abci.go): over the active tasks in id order it draws samples, tallies
 * verdicts, pays or slashes workers, and handles lapsed claims, verification timeouts and deadlines.
 * All amounts are bigint upoi; all decisions are integer comparisons on state.
 */
import type { Context } from "../../app/context";
import { parseAddress } from "../../app/address";
import { BOND_DENOM } from "../../app/params";
import { POI_MODULE_ACCOUNT, type PoiKeeper } from "./keeper";
import type { BankKeeper, ValsetKeeper } from "./expected_keepers";
import { sampleIndices, sampleSeed } from "./commitment";
import { validatorHex } from "./verdicts";
import { TaskStatus, type Task } from "./types";

/** The keepers the end-of-block rules use. */
export interface PoiDeps {
  keeper: PoiKeeper;
  bank: BankKeeper;
  valset: ValsetKeeper;
}

const coins = (amount: bigint) => [{ denom: BOND_DENOM, amount }];

/**
 * Runs at the end of every block over the active tasks in id order: draws samples for results
 * committed before this block's beacon, decides tasks whose votes reached a threshold, and handles
 * lapsed claims, verification timeouts and deadlines.
 */
export async function endBlockTasks(ctx: Context, deps: PoiDeps): Promise<void> {
  const { keeper, valset } = deps;
  const h = ctx.header.height;
  const beacon = await keeper.beacon(ctx);
  const freshBeacon = beacon && beacon.height === h ? beacon.beacon : undefined;
  const validators = await valset.validators(ctx);
  const power = new Map(validators.map((v) => [validatorHex(v.address), v.power]));
  const totalPower = validators.reduce((s, v) => s + v.power, 0n);

  for (const id of await keeper.activeTaskIds(ctx)) {
    const task = (await keeper.getTask(ctx, id))!;
    switch (task.status) {
      case TaskStatus.OPEN:
        if (h >= BigInt(task.deadlineHeight)) await expire(ctx, deps, task);
        break;
      case TaskStatus.CLAIMED:
        if (h >= BigInt(task.claimExpiresHeight)) {
          const bond = BigInt(task.bond);
          await slashBond(ctx, deps, task, bond);
          await keeper.updateWorkerStats(ctx, parseAddress(task.worker), task.worker, (s) => { s.claimsLapsed = inc(s.claimsLapsed, 1n); s.slashed = inc(s.slashed, bond); });
          ctx.events.emit("poi_claim_lapsed", [["task_id", task.id], ["worker", task.worker], ["attempt", String(task.attempt)], ["bond_forfeited", `${bond}${BOND_DENOM}`]]);
          await reopen(ctx, deps, task);
        }
        break;
      case TaskStatus.AWAITING_SAMPLE:
        // The beacon of block h comes from signatures made after block h-1 was decided, so it did
        // not exist when a result in block h-1 or earlier was committed.
        if (freshBeacon && BigInt(task.resultHeight) < h) {
          const seed = sampleSeed(freshBeacon, id, task.attempt, task.resultRoot);
          const sample = sampleIndices(seed, BigInt(task.numItems), BigInt(task.k));
          keeper.setTask(ctx, { ...task, status: TaskStatus.VERIFYING, sampleSeed: seed, sampleHeight: h.toString(), sample: sample.map(String) }, false);
          ctx.events.emit("poi_task_sampled", [["task_id", task.id], ["attempt", String(task.attempt)], ["sample_size", String(sample.length)], ["seed", Buffer.from(seed).toString("hex")]]);
        } else if (h >= BigInt(task.verifyDeadlineHeight)) {
          await verificationTimeout(ctx, deps, task);
        }
        break;
      case TaskStatus.VERIFYING: {
        let pass = 0n, fail = 0n;
        for (const v of task.votes) (v.pass ? (pass += power.get(v.validator) ?? 0n) : (fail += power.get(v.validator) ?? 0n));
        if (totalPower > 0n && pass * 3n >= totalPower * 2n) await payWorker(ctx, deps, task, pass, totalPower);
        else if (totalPower > 0n && fail * 3n > totalPower) await failWorker(ctx, deps, task, fail, totalPower);
        else if (h >= BigInt(task.verifyDeadlineHeight)) await verificationTimeout(ctx, deps, task);
        break;
      }
      default:
        break;
    }
  }
}

const inc = (decimal: string, by: bigint) => (BigInt(decimal) + by).toString();

async function payWorker(ctx: Context, deps: PoiDeps, task: Task, passPower: bigint, total: bigint): Promise<void> {
  const { keeper, bank } = deps;
  const worker = parseAddress(task.worker);
  const escrow = BigInt(task.escrow), bond = BigInt(task.bond);
  await bank.sendCoins(ctx, POI_MODULE_ACCOUNT, worker, coins(escrow + bond));
  const model = (await keeper.getModel(ctx, task.modelId))!;
  const units = BigInt(model.workUnitsPerItem) * BigInt(task.numItems);
  await keeper.updateWorkerStats(ctx, worker, task.worker, (s) => {
    s.verifiedWorkUnits = inc(s.verifiedWorkUnits, units);
    s.tasksPassed = inc(s.tasksPassed, 1n);
    s.earned = inc(s.earned, escrow);
  });
  await keeper.addBlockWork(ctx, ctx.header.height, worker, units);
  keeper.setTask(ctx, { ...task, status: TaskStatus.COMPLETED, escrow: "0", completedHeight: ctx.header.height.toString() }, true);
  ctx.events.emit("poi_task_verified", [
    ["task_id", task.id], ["worker", task.worker], ["attempt", String(task.attempt)], ["reward", `${escrow}${BOND_DENOM}`],
    ["bond_returned", `${bond}${BOND_DENOM}`], ["work_units", units.toString()], ["pass_power", passPower.toString()], ["total_power", total.toString()],
  ]);
}

async function failWorker(ctx: Context, deps: PoiDeps, task: Task, failPower: bigint, total: bigint): Promise<void> {
  const bond = BigInt(task.bond);
  const { toRequester, burned } = await slashBond(ctx, deps, task, bond);
  await deps.keeper.updateWorkerStats(ctx, parseAddress(task.worker), task.worker, (s) => { s.tasksFailed = inc(s.tasksFailed, 1n); s.slashed = inc(s.slashed, bond); });
  ctx.events.emit("poi_task_failed", [
    ["task_id", task.id], ["worker", task.worker], ["attempt", String(task.attempt)], ["slashed", `${bond}${BOND_DENOM}`],
    ["to_requester", `${toRequester}${BOND_DENOM}`], ["burned", `${burned}${BOND_DENOM}`], ["fail_power", failPower.toString()], ["total_power", total.toString()],
  ]);
  await reopen(ctx, deps, { ...task, failedAttempts: task.failedAttempts + 1 });
}

/** Splits a forfeited bond: params.slash_to_requester_bps to the requester, the rest burned. */
async function slashBond(ctx: Context, deps: PoiDeps, task: Task, bond: bigint): Promise<{ toRequester: bigint; burned: bigint }> {
  const params = await deps.keeper.params(ctx);
  const toRequester = (bond * BigInt(params.slashToRequesterBps)) / 10000n;
  const burned = bond - toRequester;
  if (toRequester > 0n) await deps.bank.sendCoins(ctx, POI_MODULE_ACCOUNT, parseAddress(task.requester), coins(toRequester));
  if (burned > 0n) await deps.bank.burnCoins(ctx, POI_MODULE_ACCOUNT, coins(burned));
  return { toRequester, burned };
}

/** No threshold before the timeout (validators could not re-execute): no fault shown, bond returned. */
async function verificationTimeout(ctx: Context, deps: PoiDeps, task: Task): Promise<void> {
  await deps.bank.sendCoins(ctx, POI_MODULE_ACCOUNT, parseAddress(task.worker), coins(BigInt(task.bond)));
  ctx.events.emit("poi_verification_timeout", [["task_id", task.id], ["worker", task.worker], ["attempt", String(task.attempt)], ["votes", String(task.votes.length)]]);
  await reopen(ctx, deps, task);
}

/** Back to OPEN for a new attempt (outputs, sample and votes dropped), or EXPIRED at the deadline. */
async function reopen(ctx: Context, deps: PoiDeps, task: Task): Promise<void> {
  deps.keeper.setTaskOutputs(ctx, BigInt(task.id), undefined);
  const reset: Task = {
    ...task, status: TaskStatus.OPEN, attempt: task.attempt + 1, worker: "", claimExpiresHeight: "0", resultRoot: new Uint8Array(),
    resultHeight: "0", sampleSeed: new Uint8Array(), sampleHeight: "0", sample: [], verifyDeadlineHeight: "0", votes: [],
  };
  if (ctx.header.height >= BigInt(task.deadlineHeight)) return expire(ctx, deps, reset);
  deps.keeper.setTask(ctx, reset, false);
  ctx.events.emit("poi_task_reopened", [["task_id", task.id], ["attempt", String(reset.attempt)]]);
}

async function expire(ctx: Context, deps: PoiDeps, task: Task): Promise<void> {
  const escrow = BigInt(task.escrow);
  if (escrow > 0n) await deps.bank.sendCoins(ctx, POI_MODULE_ACCOUNT, parseAddress(task.requester), coins(escrow));
  deps.keeper.setTask(ctx, { ...task, status: TaskStatus.EXPIRED, escrow: "0" }, true);
  ctx.events.emit("poi_task_expired", [["task_id", task.id], ["requester", task.requester], ["refunded", `${escrow}${BOND_DENOM}`]]);
}

/** Records verdicts from one validator's extension on tasks under verification (first vote counts). */
export async function recordVerdicts(ctx: Context, keeper: PoiKeeper, validatorHex: string, verdicts: ReadonlyArray<{ taskId: string; attempt: number; pass: boolean }>): Promise<number> {
  let recorded = 0;
  const seen = new Set<string>();
  for (const v of verdicts) {
    if (seen.has(v.taskId)) continue; // one verdict per task per extension; later duplicates ignored
    seen.add(v.taskId);
    let id: bigint;
    try { id = BigInt(v.taskId); } catch { continue; }
    const task = await keeper.getTask(ctx, id);
    if (!task || task.status !== TaskStatus.VERIFYING || task.attempt !== v.attempt) continue;
    if (task.votes.some((x) => x.validator === validatorHex)) continue;
    keeper.setTask(ctx, { ...task, votes: [...task.votes, { validator: validatorHex, pass: v.pass, height: ctx.header.height.toString() }] }, false);
    ctx.events.emit("poi_verdict", [["task_id", task.id], ["attempt", String(task.attempt)], ["validator", validatorHex], ["pass", String(v.pass)]]);
    recorded++;
  }
  return recorded;
}
