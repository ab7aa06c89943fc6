/** x/staking parameters: the SDK's, plus the power function's (README.md, "Power"). */
import { ErrInvalidRequest } from "../../app/errors";

export interface StakingParams {
  bond_denom: string;
  /** Blocks from MsgUndelegate until the coins are back (completed at that height's end block). */
  unbonding_blocks: bigint;
  max_validators: number;
  /** Unbonding entries per (delegator, validator) pair. */
  max_entries: number;
  /** 18 implied decimals (LegacyDec scale). */
  min_commission_rate: bigint;
  /** A validator whose operator's own delegation is worth less than this (upoi) has power 0. */
  min_self_bond: bigint;
  /** upoi per unit of stake power (the SDK's DefaultPowerReduction). */
  power_reduction: bigint;
  /** Work's weight in power: the work bonuses of all validators together are at most this fraction of total stake power. */
  work_weight_bps: bigint;
  /** Work score (verified work units per epoch, EMA) that earns one unit of power; it prices power from work (README.md, "Power"). */
  work_units_per_power: bigint;
  /** No validator's power exceeds this share of the total (raised to ceil(10000/n) with n < 10000/cap eligible validators). */
  max_power_share_bps: bigint;
  /** Per epoch, a validator's power moves toward its target by at most this share of the previous total power. */
  max_power_change_bps: bigint;
  /** Power targets are recomputed at heights divisible by this. */
  epoch_blocks: bigint;
}

export const DEFAULT_STAKING_PARAMS: StakingParams = {
  bond_denom: "upoi",
  unbonding_blocks: 20n,
  max_validators: 100,
  max_entries: 7,
  min_commission_rate: 0n,
  min_self_bond: 1_000_000n,
  power_reduction: 1_000_000n,
  work_weight_bps: 5_000n,
  work_units_per_power: 100n,
  max_power_share_bps: 2_500n,
  max_power_change_bps: 1_000n,
  epoch_blocks: 10n,
};

export const DEC_ONE = 10n ** 18n;
export const BPS = 10_000n;

const BIGINT_FIELDS = [
  "unbonding_blocks", "min_commission_rate", "min_self_bond", "power_reduction", "work_weight_bps", "work_units_per_power", "max_power_share_bps", "max_power_change_bps", "epoch_blocks",
] as const;
const INT_FIELDS = ["max_validators", "max_entries"] as const;

/** Params from genesis JSON (decimal strings for bigints); missing fields take defaults; every value is checked. */
export function parseStakingParams(json: unknown): StakingParams {
  const j = (json ?? {}) as Record<string, unknown>;
  if (typeof j !== "object" || Array.isArray(j)) throw ErrInvalidRequest("staking params must be an object");
  const p: StakingParams = { ...DEFAULT_STAKING_PARAMS };
  for (const k of Object.keys(j)) if (!(k in p)) throw ErrInvalidRequest(`staking params: unknown field ${k}`);
  if (j.bond_denom !== undefined) p.bond_denom = String(j.bond_denom);
  for (const k of BIGINT_FIELDS) {
    if (j[k] === undefined) continue;
    if (typeof j[k] !== "string" || !/^[0-9]{1,30}$/.test(j[k] as string)) throw ErrInvalidRequest(`staking params: ${k} must be a decimal string`);
    p[k] = BigInt(j[k] as string);
  }
  for (const k of INT_FIELDS) {
    if (j[k] === undefined) continue;
    if (!Number.isSafeInteger(j[k])) throw ErrInvalidRequest(`staking params: ${k} must be an integer`);
    p[k] = j[k] as number;
  }
  validateStakingParams(p);
  return p;
}

export function validateStakingParams(p: StakingParams): void {
  const bad = (m: string) => { throw ErrInvalidRequest(`staking params: ${m}`); };
  if (!/^[a-z][a-z0-9/]{2,127}$/.test(p.bond_denom)) bad(`bad bond_denom ${p.bond_denom}`);
  if (p.unbonding_blocks < 1n) bad("unbonding_blocks must be at least 1");
  if (p.max_validators < 1) bad("max_validators must be at least 1");
  if (p.max_entries < 1) bad("max_entries must be at least 1");
  if (p.min_commission_rate > DEC_ONE) bad("min_commission_rate above 1");
  if (p.power_reduction < 1n) bad("power_reduction must be at least 1");
  if (p.work_weight_bps > 100n * BPS) bad("work_weight_bps above 1,000,000");
  if (p.work_units_per_power < 1n) bad("work_units_per_power must be at least 1");
  if (p.max_power_share_bps < 1n || p.max_power_share_bps > BPS) bad("max_power_share_bps must be in 1..10000");
  if (p.max_power_change_bps < 1n || p.max_power_change_bps > BPS) bad("max_power_change_bps must be in 1..10000");
  if (p.epoch_blocks < 1n) bad("epoch_blocks must be at least 1");
}

export function stakingParamsJson(p: StakingParams): Record<string, string | number> {
  const out: Record<string, string | number> = { bond_denom: p.bond_denom };
  for (const k of BIGINT_FIELDS) out[k] = p[k].toString();
  for (const k of INT_FIELDS) out[k] = p[k];
  return out;
}
