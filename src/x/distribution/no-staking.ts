/**
 * The StakingReader the app uses until x/staking lands: each validator of x/valset with a known
 * operator account is a validator whose only delegation is its operator's, holding power × 10^18
 * shares, with a fixed commission. Rewards thus reach the operator accounts (withdrawn with the
 * ordinary distribution messages). Replace with x/staking's keeper through DistributionKeeper.useStaking.
 */
import type { Context } from "../../app/context";
import { DEC_ONE } from "../../app/legacy-dec";
import type { StakingReader, StakingValidatorInfo } from "./expected_keepers";

/** The slice of x/valset this adapter reads. */
export interface ValsetReader {
  validators(ctx: Context): Promise<Array<{ address: Uint8Array; pubkey: Uint8Array; power: bigint }>>;
  operator(ctx: Context, consensusAddr: Uint8Array): Promise<Uint8Array | undefined>;
}

/** The commission every valset validator charges under this adapter: 10%. */
export const NO_STAKING_COMMISSION_BPS = 1000n;

export class ValsetStakingAdapter implements StakingReader {
  constructor(private readonly valset: ValsetReader, private readonly commissionRateBps = NO_STAKING_COMMISSION_BPS) {}

  async validators(ctx: Context): Promise<StakingValidatorInfo[]> {
    const out: StakingValidatorInfo[] = [];
    for (const v of await this.valset.validators(ctx)) {
      const operator = await this.valset.operator(ctx, v.address);
      if (!operator) continue;
      out.push({
        operator, consPubkey: v.pubkey, consAddress: v.address, tokens: v.power, delegatorShares: v.power * DEC_ONE,
        commissionRateBps: this.commissionRateBps, jailed: false, tombstoned: false, power: v.power,
      });
    }
    return out.sort((a, b) => Buffer.compare(a.operator, b.operator));
  }

  async validator(ctx: Context, operator: Uint8Array): Promise<StakingValidatorInfo | undefined> {
    return (await this.validators(ctx)).find((v) => Buffer.from(v.operator).equals(operator));
  }

  async validatorByConsAddr(ctx: Context, consAddr: Uint8Array): Promise<StakingValidatorInfo | undefined> {
    return (await this.validators(ctx)).find((v) => Buffer.from(v.consAddress).equals(consAddr));
  }

  async delegationShares(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<bigint | undefined> {
    if (!Buffer.from(delegator).equals(operator)) return undefined;
    return (await this.validator(ctx, operator))?.delegatorShares;
  }

  async validatorDelegations(ctx: Context, operator: Uint8Array): Promise<Array<{ delegator: Uint8Array; shares: bigint }>> {
    const v = await this.validator(ctx, operator);
    return v ? [{ delegator: v.operator, shares: v.delegatorShares }] : [];
  }
}
