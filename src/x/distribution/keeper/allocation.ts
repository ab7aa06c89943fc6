/**
 * BeginBlock of height h (README.md, "The rule"), in this order:
 *   1. workers: the worker pool is paid to the workers whose work was verified in block h − 1;
 *   2. verdicts: every epoch x ≤ epoch(h) − 1 − settle_delay_epochs not yet paid has its verdict pool
 *      paid to the validators by matched verdicts (a validator that failed an audit of x forfeits its
 *      part to the community pool); an epoch without matched verdicts carries its pool to epoch x + 1;
 *   3. the pot: fee_collector's whole balance (h − 1's fees + h's mint) moves to the module account and
 *      is split: community tax, worker pool, and the validators' part: signing_share_bps of it to the
 *      signers of h − 1 (decided_last_commit) by power, the rest to the verdict pool of epoch(h).
 * Every split is floor(amount × weight / total weights) in address order; what floors leave, and any
 * share of a validator that cannot take rewards, goes to the community pool. Nothing is created or lost.
 */
import type { Context } from "../../../app/context";
import { BOND_DENOM } from "../../../app/params";
import { formatAddress } from "../../../app/address";
import { u64 } from "../../../util/bigint";
import { FEE_COLLECTOR } from "../../auth/ante";
import type { BankKeeper, StakingReader } from "../expected_keepers";
import { type DistributionParams, epochOf } from "../params";
import { DISTRIBUTION_MODULE_ACCOUNT, type DistributionState, K } from "./state";
import type { Rewards } from "./rewards";

const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();

export class Allocation {
  constructor(
    private readonly state: DistributionState,
    private readonly bank: BankKeeper,
    private readonly rewards: Rewards,
    private readonly staking: () => StakingReader,
  ) {}

  async beginBlock(ctx: Context, p: DistributionParams): Promise<void> {
    await this.payWorkers(ctx, p);
    await this.settleEpochs(ctx, p);
    await this.allocatePot(ctx, p);
  }

  /** Books `amount` to the validator of consensus address `cons`; returns what it took (0 when it cannot take rewards: the caller's community-pool remainder keeps it). */
  private async toValidator(ctx: Context, cons: Uint8Array, amount: bigint): Promise<bigint> {
    if (amount === 0n) return 0n;
    const v = await this.staking().validatorByConsAddr(ctx, cons);
    return v && (await this.rewards.allocate(ctx, v, amount)) ? amount : 0n;
  }

  private async payWorkers(ctx: Context, p: DistributionParams): Promise<void> {
    const rows = await this.state.rows(ctx, Buffer.from([K.pendingWork]));
    if (rows.length === 0) return;
    const pending = rows.map(([w, v]) => ({ worker: Buffer.from(w), units: BigInt(Buffer.from(v).toString("utf8")) }));
    const total = pending.reduce((s, x) => s + x.units, 0n);
    const pool = await this.state.amount(ctx, K.workerPool);
    let paid = 0n;
    for (const { worker, units } of pending) {
      this.state.delete(ctx, this.state.pendingWorkKey(worker));
      let pay = total === 0n ? 0n : (pool * units) / total;
      if (p.maxWorkerRewardPerMegaUnit > 0n) {
        const cap = (units * p.maxWorkerRewardPerMegaUnit) / 1_000_000n;
        if (pay > cap) pay = cap;
      }
      if (pay === 0n) continue;
      paid += pay;
      await this.bank.sendCoins(ctx, DISTRIBUTION_MODULE_ACCOUNT, worker, [{ denom: BOND_DENOM, amount: pay }]);
      ctx.events.emit("worker_rewards", [["worker", formatAddress(worker)], ["units", units.toString()], ["amount", `${pay}${BOND_DENOM}`]]);
    }
    this.state.setAmount(ctx, K.workerPool, pool - paid);
  }

  private async settleEpochs(ctx: Context, p: DistributionParams): Promise<void> {
    const last = epochOf(p, ctx.header.height) - 1n - p.settleDelayEpochs; // the latest epoch due
    for (let x = await this.state.amount(ctx, K.nextSettleEpoch); x <= last; x++) {
      await this.settleEpoch(ctx, x);
      this.state.setAmount(ctx, K.nextSettleEpoch, x + 1n);
    }
  }

  private async settleEpoch(ctx: Context, epoch: bigint): Promise<void> {
    const poolKey = this.state.verdictPoolKey(epoch);
    const pool = await this.state.amount(ctx, poolKey);
    this.state.delete(ctx, poolKey);
    const prefix = Buffer.concat([Buffer.from([K.points]), u64(epoch)]);
    const points = (await this.state.rows(ctx, prefix)).map(([cons, v]) => ({ cons: Buffer.from(cons), points: BigInt(Buffer.from(v).toString("utf8")) }));
    const total = points.reduce((s, x) => s + x.points, 0n);
    const forfeits = await this.state.rows(ctx, Buffer.concat([Buffer.from([K.forfeit]), u64(epoch)]));
    for (const [cons] of forfeits) this.state.delete(ctx, this.state.forfeitKey(epoch, cons));
    for (const { cons } of points) this.state.delete(ctx, this.state.pointsKey(epoch, cons));
    if (total === 0n) {
      if (pool > 0n) await this.state.addAmount(ctx, this.state.verdictPoolKey(epoch + 1n), pool);
      return;
    }
    const forfeited = new Set(forfeits.map(([cons]) => hexOf(cons)));
    let toCommunity = pool;
    for (const { cons, points: n } of points) {
      const share = (pool * n) / total;
      if (forfeited.has(hexOf(cons))) continue; // stays in toCommunity
      toCommunity -= await this.toValidator(ctx, cons, share);
    }
    await this.rewards.toCommunityPool(ctx, toCommunity);
    ctx.events.emit("verdict_rewards", [["epoch", epoch.toString()], ["pool", `${pool}${BOND_DENOM}`], ["points", total.toString()], ["forfeited", [...forfeited].join(",")]]);
  }

  private async allocatePot(ctx: Context, p: DistributionParams): Promise<void> {
    const pot = await this.bank.getBalance(ctx, FEE_COLLECTOR, BOND_DENOM);
    if (pot === 0n) return;
    await this.bank.sendCoins(ctx, FEE_COLLECTOR, DISTRIBUTION_MODULE_ACCOUNT, [{ denom: BOND_DENOM, amount: pot }]);
    const community = (pot * p.communityTaxBps) / 10_000n;
    const workers = (pot * p.workerShareBps) / 10_000n;
    const validators = pot - community - workers;
    const signing = (validators * p.signingShareBps) / 10_000n;
    const verdicts = validators - signing;
    await this.state.addAmount(ctx, K.workerPool, workers);
    await this.state.addAmount(ctx, this.state.verdictPoolKey(epochOf(p, ctx.header.height)), verdicts);

    const signers = [...(ctx.header.lastCommitVotes ?? [])].filter((v) => v.signed && v.power > 0n).sort((a, b) => Buffer.compare(a.address, b.address));
    const power = signers.reduce((s, v) => s + v.power, 0n);
    let toCommunity = community + signing;
    if (power > 0n) for (const v of signers) toCommunity -= await this.toValidator(ctx, v.address, (signing * v.power) / power);
    await this.rewards.toCommunityPool(ctx, toCommunity);
    ctx.events.emit("rewards", [
      ["pot", `${pot}${BOND_DENOM}`], ["community_tax", `${community}${BOND_DENOM}`], ["workers", `${workers}${BOND_DENOM}`],
      ["signing", `${signing}${BOND_DENOM}`], ["verdicts", `${verdicts}${BOND_DENOM}`],
    ]);
  }
}
