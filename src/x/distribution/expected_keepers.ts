/**
 * What x/distribution needs from other modules, as the issue-12 contract names them: staking's reader
 * (src/x/staking's keeper), bank, and the hook
 * interfaces staking and poi call (this module implements them in hooks.ts).
 */
import type { Context } from "../../app/context";
import type { Coin } from "../bank/types";

export interface BankKeeper {
  getBalance(ctx: Context, addr: Uint8Array, denom: string): Promise<bigint>;
  sendCoins(ctx: Context, from: Uint8Array, to: Uint8Array, coins: readonly Coin[]): Promise<void>;
}

export interface StakingValidatorInfo {
  /** 20-byte account bytes; displayed as bech32 "poivaloper1..." */
  operator: Uint8Array;
  /** ed25519, 32 bytes */
  consPubkey: Uint8Array;
  /** sha256(consPubkey)[:20] */
  consAddress: Uint8Array;
  /** bonded upoi (self-bond + delegations, after slashes) */
  tokens: bigint;
  /** total shares, integer with 18 implied decimals (the SDK's LegacyDec scale) */
  delegatorShares: bigint;
  /** 0..10000 */
  commissionRateBps: bigint;
  jailed: boolean;
  tombstoned: boolean;
  /** the CometBFT power in effect */
  power: bigint;
}

export interface StakingReader {
  validator(ctx: Context, operator: Uint8Array): Promise<StakingValidatorInfo | undefined>;
  validatorByConsAddr(ctx: Context, consAddr: Uint8Array): Promise<StakingValidatorInfo | undefined>;
  /** Every validator, in operator-address byte order. */
  validators(ctx: Context): Promise<StakingValidatorInfo[]>;
  /** A delegator's shares in a validator (18 implied decimals), undefined if none. */
  delegationShares(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<bigint | undefined>;
  /** Every delegation to a validator, in delegator byte order. */
  validatorDelegations(ctx: Context, operator: Uint8Array): Promise<Array<{ delegator: Uint8Array; shares: bigint }>>;
}

/** Called by staking around every change, as the SDK's StakingHooks. */
export interface StakingHooks {
  afterValidatorCreated?(ctx: Context, operator: Uint8Array): Promise<void>;
  /** Before a delegation is created or its shares change. */
  beforeDelegationSharesModified?(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<void>;
  afterDelegationModified?(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<void>;
  beforeValidatorSlashed?(ctx: Context, operator: Uint8Array, fractionBps: bigint): Promise<void>;
}

/** Called by x/poi (PoiKeeper.addWorkHooks). */
export interface WorkHooks {
  /** A pass finalised: `units` verified work units of `worker` on `taskId` (fees paid; never an audit). */
  afterWorkVerified?(ctx: Context, worker: Uint8Array, units: bigint, taskId: bigint): Promise<void>;
  /** An attempt was decided: consensus addresses whose verdict matched the outcome, and those eligible that cast none. */
  afterAttemptDecided?(ctx: Context, matched: Uint8Array[], missed: Uint8Array[]): Promise<void>;
  /** A validator passed a planted fabrication: it loses its reward share of `epoch`. */
  afterAuditFailed?(ctx: Context, consAddr: Uint8Array, epoch: bigint): Promise<void>;
}

/** What this module offers others (x/poi: a protocol fee to the community pool). */
export interface CommunityPool {
  fundCommunityPool(ctx: Context, from: Uint8Array, amount: bigint): Promise<void>;
}
