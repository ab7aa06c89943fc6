/**
 * Validator and delegator rewards with a reward-per-share accumulator (F1-equivalent, lazy):
 * allocating `a` upoi to a validator books commission c = ⌊a × commission_bps / 10000⌋ and raises its
 * ratio by ⌊(a − c) × RATIO_SCALE / delegator_shares⌋. A delegation of s shares that last settled at
 * ratio r0 is owed ⌊(ratio − r0) × s / RATIO_SCALE⌋. Shares never change on a slash (tokens do), so
 * slashes need no events; share changes settle first (StakingHooks). Truncation dust stays in the
 * validator's outstanding rewards.
 */
import type { Context } from "../../../app/context";
import { BOND_DENOM } from "../../../app/params";
import { formatAddress, formatValoperAddress } from "../../../app/address";
import type { BankKeeper, StakingReader, StakingValidatorInfo } from "../expected_keepers";
import { DISTRIBUTION_MODULE_ACCOUNT, type DistributionState, K, RATIO_SCALE } from "./state";
import { ErrNoDelegationDistInfo, ErrNoValidatorCommission, ErrNoValidatorExists } from "../errors";

const coins = (amount: bigint) => [{ denom: BOND_DENOM, amount }];

export class Rewards {
  constructor(private readonly state: DistributionState, private readonly bank: BankKeeper, private readonly staking: () => StakingReader) {}

  /** Books `amount` (already in the module account) to a validator; false when it cannot take rewards (no shares). */
  async allocate(ctx: Context, v: StakingValidatorInfo, amount: bigint): Promise<boolean> {
    if (v.delegatorShares <= 0n) return false;
    if (amount === 0n) return true;
    const r = await this.state.validatorRewards(ctx, v.operator);
    const commission = (amount * v.commissionRateBps) / 10_000n;
    r.commission += commission;
    r.outstanding += amount;
    r.ratio += ((amount - commission) * RATIO_SCALE) / v.delegatorShares;
    this.state.setValidatorRewards(ctx, v.operator, r);
    return true;
  }

  /** What a delegation is owed now (0 when it has no shares). */
  async owed(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<bigint> {
    const shares = await this.staking().delegationShares(ctx, delegator, operator);
    if (shares === undefined || shares <= 0n) return 0n;
    const { ratio } = await this.state.validatorRewards(ctx, operator);
    const start = await this.state.delegationStart(ctx, operator, delegator);
    return ((ratio - start) * shares) / RATIO_SCALE;
  }

  /** Pays a delegation what it is owed and restarts it at the current ratio. */
  async settle(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<bigint> {
    const owed = await this.owed(ctx, delegator, operator);
    const r = await this.state.validatorRewards(ctx, operator);
    if (owed > 0n) {
      r.outstanding -= owed;
      this.state.setValidatorRewards(ctx, operator, r);
      await this.bank.sendCoins(ctx, DISTRIBUTION_MODULE_ACCOUNT, delegator, coins(owed));
    }
    this.state.setDelegationStart(ctx, operator, delegator, r.ratio);
    ctx.events.emit("withdraw_rewards", [["amount", `${owed}${BOND_DENOM}`], ["validator", formatValoperAddress(operator)], ["delegator", formatAddress(delegator)]]);
    return owed;
  }

  /** MsgWithdrawDelegatorReward. */
  async withdrawDelegatorReward(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<bigint> {
    if (!(await this.staking().validator(ctx, operator))) throw ErrNoValidatorExists(`validator ${formatValoperAddress(operator)}`);
    const shares = await this.staking().delegationShares(ctx, delegator, operator);
    if (shares === undefined) throw ErrNoDelegationDistInfo(`${formatAddress(delegator)} has no delegation to ${formatValoperAddress(operator)}`);
    return this.settle(ctx, delegator, operator);
  }

  /** MsgWithdrawValidatorCommission: the operator account takes the validator's accumulated commission. */
  async withdrawCommission(ctx: Context, operator: Uint8Array): Promise<bigint> {
    if (!(await this.staking().validator(ctx, operator))) throw ErrNoValidatorExists(`validator ${formatValoperAddress(operator)}`);
    const r = await this.state.validatorRewards(ctx, operator);
    if (r.commission === 0n) throw ErrNoValidatorCommission(`validator ${formatValoperAddress(operator)}`);
    const amount = r.commission;
    this.state.setValidatorRewards(ctx, operator, { ...r, commission: 0n, outstanding: r.outstanding - amount });
    await this.bank.sendCoins(ctx, DISTRIBUTION_MODULE_ACCOUNT, operator, coins(amount));
    ctx.events.emit("withdraw_commission", [["amount", `${amount}${BOND_DENOM}`], ["validator", formatValoperAddress(operator)]]);
    return amount;
  }

  /** Adds to the community pool (the coins are already in the module account). */
  async toCommunityPool(ctx: Context, amount: bigint): Promise<void> {
    if (amount > 0n) await this.state.addAmount(ctx, K.communityPool, amount);
  }
}
