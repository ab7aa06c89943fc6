/**
 * x/distribution's keeper: the block's allocation (allocation.ts), rewards (rewards.ts), the hooks
 * staking and poi call, and the community pool. Active once its params are in state (a genesis with a
 * "distribution" section); inactive, it does nothing and fees stay in fee_collector.
 */
import type { Context } from "../../../app/context";
import { BOND_DENOM } from "../../../app/params";
import { formatAddress } from "../../../app/address";
import type { BankKeeper, CommunityPool, StakingHooks, StakingReader, WorkHooks } from "../expected_keepers";
import { epochOf } from "../params";
import { Allocation } from "./allocation";
import { Rewards } from "./rewards";
import { DISTRIBUTION_MODULE_ACCOUNT, DistributionState, K } from "./state";
import { ErrDistributionInactive } from "../errors";

export class DistributionKeeper implements CommunityPool {
  readonly state = new DistributionState();
  readonly rewards: Rewards;
  private readonly allocation: Allocation;
  private stakingReader: StakingReader;

  constructor(private readonly bank: BankKeeper, staking: StakingReader) {
    this.stakingReader = staking;
    this.rewards = new Rewards(this.state, bank, () => this.stakingReader);
    this.allocation = new Allocation(this.state, bank, this.rewards, () => this.stakingReader);
  }

  get staking(): StakingReader {
    return this.stakingReader;
  }

  /** Replaces the staking reader (tests with a fake staking module; the app passes x/staking's keeper to the constructor). */
  useStaking(reader: StakingReader): void {
    this.stakingReader = reader;
  }

  async active(ctx: Context): Promise<boolean> {
    return (await this.state.params(ctx)) !== undefined;
  }

  async requireActive(ctx: Context) {
    const p = await this.state.params(ctx);
    if (!p) throw ErrDistributionInactive("its genesis has no distribution section");
    return p;
  }

  async beginBlock(ctx: Context): Promise<void> {
    const p = await this.state.params(ctx);
    if (p) await this.allocation.beginBlock(ctx, p);
  }

  async communityPool(ctx: Context): Promise<bigint> {
    return this.state.amount(ctx, K.communityPool);
  }

  async workerPool(ctx: Context): Promise<bigint> {
    return this.state.amount(ctx, K.workerPool);
  }

  /** Every unpaid verdict pool, by epoch. */
  async verdictPools(ctx: Context): Promise<Array<{ epoch: bigint; amount: bigint }>> {
    return (await this.state.rows(ctx, Buffer.from([K.verdictPool]))).map(([e, v]) => ({ epoch: Buffer.from(e).readBigUInt64BE(0), amount: BigInt(Buffer.from(v).toString("utf8")) }));
  }

  /** CommunityPool: `from` pays `amount` upoi into the community pool (MsgFundCommunityPool, poi's protocol fee). */
  async fundCommunityPool(ctx: Context, from: Uint8Array, amount: bigint): Promise<void> {
    await this.requireActive(ctx);
    if (amount <= 0n) return;
    await this.bank.sendCoins(ctx, from, DISTRIBUTION_MODULE_ACCOUNT, [{ denom: BOND_DENOM, amount }]);
    await this.rewards.toCommunityPool(ctx, amount);
    ctx.events.emit("fund_community_pool", [["depositor", formatAddress(from)], ["amount", `${amount}${BOND_DENOM}`]]);
  }

  /** The hooks x/staking calls (StakingKeeper.addHooks). */
  stakingHooks(): StakingHooks {
    return {
      beforeDelegationSharesModified: async (ctx, delegator, operator) => {
        if (await this.active(ctx)) await this.rewards.settle(ctx, delegator, operator);
      },
      afterDelegationModified: async (ctx, delegator, operator) => {
        if (!(await this.active(ctx))) return;
        const shares = await this.stakingReader.delegationShares(ctx, delegator, operator);
        if (shares === undefined || shares === 0n) this.state.deleteDelegationStart(ctx, operator, delegator);
        else this.state.setDelegationStart(ctx, operator, delegator, (await this.state.validatorRewards(ctx, operator)).ratio);
      },
      // Rewards are per share and a slash changes tokens, not shares: nothing to settle.
      beforeValidatorSlashed: async () => undefined,
    };
  }

  /** The hooks x/poi calls (PoiKeeper.addWorkHooks). */
  workHooks(): WorkHooks {
    return {
      afterWorkVerified: async (ctx, worker, units) => {
        if (!(await this.active(ctx)) || units <= 0n) return;
        await this.state.addAmount(ctx, this.state.pendingWorkKey(worker), units);
      },
      afterAttemptDecided: async (ctx, matched) => {
        const p = await this.state.params(ctx);
        if (!p) return;
        const epoch = epochOf(p, ctx.header.height);
        const seen = new Set<string>();
        for (const cons of matched) {
          const id = Buffer.from(cons).toString("hex");
          if (seen.has(id)) continue;
          seen.add(id);
          await this.state.addAmount(ctx, this.state.pointsKey(epoch, cons), 1n);
        }
      },
      afterAuditFailed: async (ctx, cons, epoch) => {
        if (!(await this.active(ctx))) return;
        // An epoch already paid cannot be taken back (README: settle_delay_epochs sets how long reports count).
        if (epoch < (await this.state.amount(ctx, K.nextSettleEpoch))) {
          ctx.events.emit("audit_failure_after_payout", [["validator", Buffer.from(cons).toString("hex").toUpperCase()], ["epoch", epoch.toString()]]);
          return;
        }
        this.state.set(ctx, this.state.forfeitKey(epoch, cons), Buffer.from("1"));
      },
    };
  }
}
