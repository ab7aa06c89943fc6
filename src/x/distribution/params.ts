/** x/distribution's parameters (README.md has the formula they feed). */
import { ErrInvalidRequest } from "../../app/errors";

export interface DistributionParams {
  /** Of each block's pot (fees of the previous block + this block's mint): to the community pool. */
  communityTaxBps: bigint;
  /** Of each block's pot: to the worker pool, paid to workers by verified work units. */
  workerShareBps: bigint;
  /** Of the validators' part (the pot less the two above): by blocks signed; the rest by matched verdicts. */
  signingShareBps: bigint;
  /** Reward epochs: epoch(h) = (h − 1) / epoch_blocks (the same numbering as x/poi's seed epochs). */
  epochBlocks: bigint;
  /** Epoch e's verdict pool is paid at the first block of epoch e + 1 + settle_delay_epochs (audits of e may still come in). */
  settleDelayEpochs: bigint;
  /** The most a worker is paid per 10^6 verified work units in one payout (0: no limit); what the limit holds back stays in the pool. */
  maxWorkerRewardPerMegaUnit: bigint;
}

export const DEFAULT_DISTRIBUTION_PARAMS: DistributionParams = {
  communityTaxBps: 200n,
  workerShareBps: 4000n,
  signingShareBps: 2500n,
  epochBlocks: 10n,
  settleDelayEpochs: 1n,
  maxWorkerRewardPerMegaUnit: 10_000n,
};

export interface DistributionParamsJson {
  community_tax_bps?: string;
  worker_share_bps?: string;
  signing_share_bps?: string;
  epoch_blocks?: string;
  settle_delay_epochs?: string;
  max_worker_reward_per_mega_unit?: string;
}

const FIELDS: ReadonlyArray<[keyof DistributionParamsJson, keyof DistributionParams, bigint, bigint]> = [
  ["community_tax_bps", "communityTaxBps", 0n, 10_000n],
  ["worker_share_bps", "workerShareBps", 0n, 10_000n],
  ["signing_share_bps", "signingShareBps", 0n, 10_000n],
  ["epoch_blocks", "epochBlocks", 1n, 1_000_000n],
  ["settle_delay_epochs", "settleDelayEpochs", 0n, 1000n],
  ["max_worker_reward_per_mega_unit", "maxWorkerRewardPerMegaUnit", 0n, 10n ** 30n],
];

export function parseDistributionParams(j: DistributionParamsJson | undefined): DistributionParams {
  if (j !== undefined && (typeof j !== "object" || j === null)) throw ErrInvalidRequest("distribution genesis: params must be an object");
  const p = { ...DEFAULT_DISTRIBUTION_PARAMS };
  for (const [json, field, min, max] of FIELDS) {
    const v = j?.[json];
    if (v === undefined) continue;
    if (typeof v !== "string" || !/^(0|[1-9][0-9]{0,30})$/.test(v) || BigInt(v) < min || BigInt(v) > max) {
      throw ErrInvalidRequest(`distribution genesis: params.${json} must be an integer string in [${min}, ${max}], got ${JSON.stringify(v)?.slice(0, 60)}`);
    }
    p[field] = BigInt(v);
  }
  if (p.communityTaxBps + p.workerShareBps > 10_000n) throw ErrInvalidRequest(`distribution genesis: community_tax_bps + worker_share_bps = ${p.communityTaxBps + p.workerShareBps} exceeds 10000`);
  return p;
}

export function distributionParamsJson(p: DistributionParams): Required<DistributionParamsJson> {
  const out = {} as Required<DistributionParamsJson>;
  for (const [json, field] of FIELDS) out[json] = p[field].toString();
  return out;
}

export const epochOf = (p: DistributionParams, height: bigint): bigint => (height < 1n ? 0n : (height - 1n) / p.epochBlocks);
