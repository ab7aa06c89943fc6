/**
 * x/mint's parameters and its issuance schedule, pure integer functions of the height (README.md):
 *   reward(h)  = initial_block_reward >> floor((h − 1) / halving_interval_blocks)   (0 after 63 halvings)
 *   minted(h)  = min(reward(h), max_minted − minted before h)                         (the cap)
 */
import { ErrInvalidRequest } from "../../app/errors";
import { BOND_DENOM } from "../../app/params";

export interface MintParams {
  mintDenom: string;
  /** upoi minted by block 1 (and every block of the first era). */
  initialBlockReward: bigint;
  /** Blocks per era; the block reward halves at the start of each era. */
  halvingIntervalBlocks: bigint;
  /** The cap: the most upoi this module ever mints, summed over all blocks. */
  maxMinted: bigint;
  /** Blocks in a year, for the Inflation and AnnualProvisions queries only (never for minting). */
  blocksPerYear: bigint;
}

/** 1 POI a block, halving every 6,311,520 blocks (a year of 5 s blocks), at most 12,000,000 POI in all. */
export const DEFAULT_MINT_PARAMS: MintParams = {
  mintDenom: BOND_DENOM,
  initialBlockReward: 1_000_000n,
  halvingIntervalBlocks: 6_311_520n,
  maxMinted: 12_000_000_000_000n,
  blocksPerYear: 6_311_520n,
};

/** Genesis JSON of the params: snake_case, integers as decimal strings. */
export interface MintParamsJson {
  mint_denom?: string;
  initial_block_reward?: string;
  halving_interval_blocks?: string;
  max_minted?: string;
  blocks_per_year?: string;
}

const UINT = /^(0|[1-9][0-9]{0,38})$/;

export function parseMintParams(j: MintParamsJson | undefined): MintParams {
  const d = DEFAULT_MINT_PARAMS;
  if (j !== undefined && (typeof j !== "object" || j === null)) throw ErrInvalidRequest("mint genesis: params must be an object");
  const int = (field: keyof MintParamsJson, dflt: bigint, min: bigint) => {
    const v = j?.[field];
    if (v === undefined) return dflt;
    if (typeof v !== "string" || !UINT.test(v)) throw ErrInvalidRequest(`mint genesis: params.${field} must be a non-negative integer string, got ${JSON.stringify(v)?.slice(0, 60)}`);
    if (BigInt(v) < min) throw ErrInvalidRequest(`mint genesis: params.${field} must be at least ${min}, got ${v}`);
    return BigInt(v);
  };
  const mintDenom = j?.mint_denom ?? d.mintDenom;
  if (mintDenom !== BOND_DENOM) throw ErrInvalidRequest(`mint genesis: params.mint_denom must be "${BOND_DENOM}", got ${JSON.stringify(mintDenom).slice(0, 60)}`);
  return {
    mintDenom,
    initialBlockReward: int("initial_block_reward", d.initialBlockReward, 0n),
    halvingIntervalBlocks: int("halving_interval_blocks", d.halvingIntervalBlocks, 1n),
    maxMinted: int("max_minted", d.maxMinted, 0n),
    blocksPerYear: int("blocks_per_year", d.blocksPerYear, 1n),
  };
}

export function mintParamsJson(p: MintParams): Required<MintParamsJson> {
  return {
    mint_denom: p.mintDenom, initial_block_reward: p.initialBlockReward.toString(), halving_interval_blocks: p.halvingIntervalBlocks.toString(),
    max_minted: p.maxMinted.toString(), blocks_per_year: p.blocksPerYear.toString(),
  };
}

/** The uncapped reward of block `height` (≥ 1). */
export function blockReward(p: MintParams, height: bigint): bigint {
  if (height < 1n) return 0n;
  const era = (height - 1n) / p.halvingIntervalBlocks;
  return era >= 64n ? 0n : p.initialBlockReward >> era;
}

/** Σ blockReward(h) for from ≤ h ≤ to, uncapped: one term per era the range touches. */
export function scheduledIssuance(p: MintParams, from: bigint, to: bigint): bigint {
  if (from < 1n) from = 1n;
  let sum = 0n;
  for (let h = from; h <= to;) {
    const era = (h - 1n) / p.halvingIntervalBlocks;
    if (era >= 64n) break;
    const eraEnd = (era + 1n) * p.halvingIntervalBlocks; // last height of this era
    const last = eraEnd < to ? eraEnd : to;
    sum += (last - h + 1n) * (p.initialBlockReward >> era);
    h = last + 1n;
  }
  return sum;
}
