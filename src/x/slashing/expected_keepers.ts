/** What x/slashing needs from x/staking (the SDK's types/expected_keepers.go). */
import type { Context } from "../../app/context";
import type { Slasher } from "../staking/slash";
import type { StakingValidatorInfo } from "../staking/keeper";

export interface StakingKeeper extends Slasher {
  validatorByConsAddr(ctx: Context, consAddr: Uint8Array): Promise<StakingValidatorInfo | undefined>;
  validator(ctx: Context, operator: Uint8Array): Promise<StakingValidatorInfo | undefined>;
  tombstone(ctx: Context, consAddr: Uint8Array): Promise<void>;
  unjail(ctx: Context, operator: Uint8Array): Promise<void>;
  selfBondMeetsMinimum(ctx: Context, operator: Uint8Array): Promise<{ ok: boolean; selfBond: bigint; minimum: bigint }>;
}
