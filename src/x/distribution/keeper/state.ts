/**
 * x/distribution's state: every key under "distribution/" and the reads and writes of each. Amounts
 * and ratios are decimal strings of integers (upoi; ratios scaled by RATIO_SCALE).
 */
import type { Context } from "../../../app/context";
import { moduleAddress } from "../../../app/address";
import { u64 } from "../../../util/bigint";
import { prefixEnd } from "../../../store/prefix";
import { type DistributionParams, type DistributionParamsJson, distributionParamsJson, parseDistributionParams } from "../params";

export const DISTRIBUTION_MODULE = "distribution";
export const DISTRIBUTION_MODULE_ACCOUNT = moduleAddress(DISTRIBUTION_MODULE);
/** A validator's reward ratio is upoi per share unit (10^-18 share) × RATIO_SCALE. */
export const RATIO_SCALE = 10n ** 36n;

// Keys inside "distribution/":
//   0x00                               -> params (JSON of DistributionParamsJson)
//   0x01                               -> community pool (upoi)
//   0x02                               -> worker pool (upoi)
//   0x03                               -> the next epoch whose verdict pool is to be paid
//   0x04 | epoch u64                   -> verdict pool of that epoch (upoi)
//   0x05 | epoch u64 | cons addr(20)   -> verdicts of that validator that matched the outcome in the epoch
//   0x06 | epoch u64 | cons addr(20)   -> "1": the validator failed an audit of that epoch and forfeits its share
//   0x07 | worker                      -> work units verified in the last block, paid at the next BeginBlock
//   0x10 | operator                    -> validator rewards "outstanding,commission,ratio"
//   0x11 | len(operator) | operator | delegator -> the validator's ratio when the delegation's rewards were last settled
export const K = {
  params: Buffer.from([0x00]),
  communityPool: Buffer.from([0x01]),
  workerPool: Buffer.from([0x02]),
  nextSettleEpoch: Buffer.from([0x03]),
  verdictPool: 0x04,
  points: 0x05,
  forfeit: 0x06,
  pendingWork: 0x07,
  validator: 0x10,
  delegation: 0x11,
} as const;

export const key = (prefix: number, ...parts: Uint8Array[]) => Buffer.concat([Buffer.from([prefix]), ...parts]);
export const delegationKey = (operator: Uint8Array, delegator: Uint8Array) => key(K.delegation, Buffer.from([operator.length]), operator, delegator);

const text = (v: bigint) => Buffer.from(v.toString(), "utf8");
const int = (raw: Uint8Array | undefined) => (raw ? BigInt(Buffer.from(raw).toString("utf8")) : 0n);

/** A validator's reward state: what the module holds for it, the commission part, and its cumulative reward ratio. */
export interface ValidatorRewards {
  outstanding: bigint;
  commission: bigint;
  ratio: bigint;
}

export class DistributionState {
  private s(ctx: Context) {
    return ctx.store(DISTRIBUTION_MODULE);
  }

  async params(ctx: Context): Promise<DistributionParams | undefined> {
    const raw = await this.s(ctx).get(K.params);
    return raw ? parseDistributionParams(JSON.parse(Buffer.from(raw).toString("utf8")) as DistributionParamsJson) : undefined;
  }
  setParams(ctx: Context, p: DistributionParams): void {
    this.s(ctx).set(K.params, Buffer.from(JSON.stringify(distributionParamsJson(p)), "utf8"));
  }

  async amount(ctx: Context, k: Uint8Array): Promise<bigint> {
    return int(await this.s(ctx).get(k));
  }
  /** Writes an amount; zero deletes the key (the pools and counters read 0 when absent). */
  setAmount(ctx: Context, k: Uint8Array, v: bigint): void {
    if (v < 0n) throw new Error(`distribution: negative amount ${v} for key ${Buffer.from(k).toString("hex")}`);
    if (v === 0n) this.s(ctx).delete(k);
    else this.s(ctx).set(k, text(v));
  }
  async addAmount(ctx: Context, k: Uint8Array, by: bigint): Promise<void> {
    this.setAmount(ctx, k, (await this.amount(ctx, k)) + by);
  }

  /** Rows under a prefix, in key order, with the key part after the prefix. */
  async rows(ctx: Context, prefix: Uint8Array): Promise<Array<[Uint8Array, Uint8Array]>> {
    const rows = await this.s(ctx).iterate(prefix, prefixEnd(prefix));
    return rows.map(([k, v]) => [k.subarray(prefix.length), v]);
  }
  delete(ctx: Context, k: Uint8Array): void {
    this.s(ctx).delete(k);
  }
  async get(ctx: Context, k: Uint8Array): Promise<Uint8Array | undefined> {
    return this.s(ctx).get(k);
  }
  set(ctx: Context, k: Uint8Array, v: Uint8Array): void {
    this.s(ctx).set(k, v);
  }

  verdictPoolKey = (epoch: bigint) => key(K.verdictPool, u64(epoch));
  pointsKey = (epoch: bigint, cons: Uint8Array) => key(K.points, u64(epoch), cons);
  forfeitKey = (epoch: bigint, cons: Uint8Array) => key(K.forfeit, u64(epoch), cons);
  pendingWorkKey = (worker: Uint8Array) => key(K.pendingWork, worker);

  async validatorRewards(ctx: Context, operator: Uint8Array): Promise<ValidatorRewards> {
    const raw = await this.s(ctx).get(key(K.validator, operator));
    if (!raw) return { outstanding: 0n, commission: 0n, ratio: 0n };
    const [outstanding, commission, ratio] = Buffer.from(raw).toString("utf8").split(",").map((x) => BigInt(x));
    return { outstanding, commission, ratio };
  }
  setValidatorRewards(ctx: Context, operator: Uint8Array, r: ValidatorRewards): void {
    this.s(ctx).set(key(K.validator, operator), Buffer.from(`${r.outstanding},${r.commission},${r.ratio}`, "utf8"));
  }
  async allValidatorRewards(ctx: Context): Promise<Array<{ operator: Uint8Array } & ValidatorRewards>> {
    const out = [];
    for (const [op] of await this.rows(ctx, Buffer.from([K.validator]))) out.push({ operator: Buffer.from(op), ...(await this.validatorRewards(ctx, op)) });
    return out;
  }

  /** The ratio a delegation's rewards count from (0: never settled, i.e. since the validator's first reward). */
  async delegationStart(ctx: Context, operator: Uint8Array, delegator: Uint8Array): Promise<bigint> {
    return int(await this.s(ctx).get(delegationKey(operator, delegator)));
  }
  setDelegationStart(ctx: Context, operator: Uint8Array, delegator: Uint8Array, ratio: bigint): void {
    this.s(ctx).set(delegationKey(operator, delegator), text(ratio));
  }
  deleteDelegationStart(ctx: Context, operator: Uint8Array, delegator: Uint8Array): void {
    this.s(ctx).delete(delegationKey(operator, delegator));
  }
}
