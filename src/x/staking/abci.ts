/**
 * Staking's end block (the SDK's BlockValidatorUpdates): pays out matured unbondings, then computes
 * the next powers (power.ts) and returns the changes as CometBFT validator updates. CometBFT's rules:
 * one update per key, power 0 only for a validator in the set, total below MaxInt64/8; an update
 * returned at height H takes effect at H+2, which x/valset records.
 */
import type { ValidatorUpdate } from "cosmjs-types/tendermint/abci/types";
import type { Validator } from "cosmjs-types/cosmos/staking/v1beta1/staking";
import type { Context } from "../../app/context";
import type { BankKeeper, ValsetRecorder, WorkScoreReader } from "./expected_keepers";
import { operatorOf, type StakingKeeper, validatorPubkey } from "./keeper";
import { completeUnbondings } from "./delegations";
import { nextPowers, type PowerInput } from "./power";

export interface StakingDeps {
  keeper: StakingKeeper;
  bank: BankKeeper;
  valset: ValsetRecorder;
  work: WorkScoreReader;
}

async function powerInputs(ctx: Context, deps: StakingDeps, validators: readonly Validator[]): Promise<PowerInput[]> {
  const params = await deps.keeper.params(ctx);
  const out: PowerInput[] = [];
  for (const v of validators) {
    const op = operatorOf(v);
    const min = BigInt(v.minSelfDelegation || "0") > params.min_self_bond ? BigInt(v.minSelfDelegation) : params.min_self_bond;
    const eligible = !v.jailed && !(await deps.keeper.isTombstoned(ctx, op)) && (await deps.keeper.selfBond(ctx, v)) >= min;
    out.push({ tokens: BigInt(v.tokens), workScore: eligible ? await deps.work.workScore(ctx, op) : 0n, eligible });
  }
  return out;
}

/**
 * Computes and stores the next powers; returns the updates (validators in operator order). `initial`:
 * genesis, where targets apply at once (no previous set to step from).
 */
export async function applyValidatorUpdates(ctx: Context, deps: StakingDeps, initial: boolean): Promise<ValidatorUpdate[]> {
  const { keeper } = deps;
  const params = await keeper.params(ctx);
  const validators = await keeper.allValidators(ctx);
  const current: bigint[] = [];
  for (const v of validators) current.push(await keeper.lastPower(ctx, operatorOf(v)));
  const inputs = await powerInputs(ctx, deps, validators);
  const when = initial ? "genesis" : ctx.header.height % params.epoch_blocks === 0n ? "epoch" : "between";
  const next = nextPowers(current, inputs, params, when);
  const updates: ValidatorUpdate[] = [];
  for (const [i, v] of validators.entries()) {
    if (next[i] === current[i]) continue;
    updates.push({ pubKey: { ed25519: validatorPubkey(v) }, power: next[i] });
    keeper.setLastPower(ctx, operatorOf(v), next[i]);
  }
  if (updates.length > 0) {
    ctx.events.emit("power_update", [["height", ctx.header.height.toString()], ["updates", String(updates.length)], ["total_power", next.reduce((s, x) => s + x, 0n).toString()]]);
  }
  return updates;
}

export async function stakingEndBlock(ctx: Context, deps: StakingDeps): Promise<ValidatorUpdate[]> {
  await completeUnbondings(ctx, deps.keeper, deps.bank);
  const updates = await applyValidatorUpdates(ctx, deps, false);
  if (updates.length > 0) await deps.valset.recordUpdates(ctx, updates, ctx.header.height + 2n);
  return updates;
}
