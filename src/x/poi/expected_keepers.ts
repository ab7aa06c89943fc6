/**
 * What x/poi needs from other modules (the SDK's types/expected_keepers.go). The app hands in the
 * real keepers; tests may pass anything with these methods.
 */
import type { Context } from "../../app/context";
import type { Coin } from "../bank/types";

/** Balances: escrows and bonds move through the poi module account; slashed bonds are partly burned. */
export interface BankKeeper {
  getBalance(ctx: Context, addr: Uint8Array, denom: string): Promise<bigint>;
  sendCoins(ctx: Context, from: Uint8Array, to: Uint8Array, coins: readonly Coin[]): Promise<void>;
  burnCoins(ctx: Context, from: Uint8Array, coins: readonly Coin[]): Promise<void>;
}

/** A consensus validator: the ed25519 key that signs its vote extensions and its voting power. */
export interface ConsensusValidator {
  /** CometBFT's consensus address, sha256(pubkey)[:20] */
  address: Uint8Array;
  pubkey: Uint8Array;
  power: bigint;
}

/** The validator set (x/valset): aggregates are checked with its keys, verdict thresholds with its powers. */
export interface ValsetKeeper {
  /** All validators, in address order. */
  validators(ctx: Context): Promise<ConsensusValidator[]>;
  /** The account a validator's verification income is paid to (undefined: none known, the income is burned). */
  operator(ctx: Context, consensusAddr: Uint8Array): Promise<Uint8Array | undefined>;
}

/**
 * Slashes and jails (x/staking's, part A of issue 12). poi calls it for known-answer audit penalties.
 * Until staking lands the app wires a stand-in (src/app/app.ts) that slashes nothing.
 */
export interface Slasher {
  /** Burns fractionBps/10000 of the validator's bonded tokens (and of its unbonding entries). */
  slash(ctx: Context, consAddr: Uint8Array, fractionBps: bigint, reason: string): Promise<bigint /* burned */>;
  jail(ctx: Context, consAddr: Uint8Array, reason: string): Promise<void>;
}

/** x/distribution's community pool (part B of issue 12): where protocol fees go when the app provides it. */
export interface CommunityPool {
  /** Whether the pool exists on this chain (x/distribution has a genesis section); else poi burns. */
  active(ctx: Context): Promise<boolean>;
  fundCommunityPool(ctx: Context, from: Uint8Array, amount: bigint): Promise<void>;
}

/** Calls poi makes on the work side (PoiModule.addWorkHooks); x/distribution implements them. */
export interface WorkHooks {
  /** A pass finalised: `units` verified work units of `worker` on `taskId` (fees paid; never an audit). */
  afterWorkVerified?(ctx: Context, worker: Uint8Array, units: bigint, taskId: bigint): Promise<void>;
  /** An attempt was decided: consensus addresses whose verdict matched the outcome, and those eligible that cast none. */
  afterAttemptDecided?(ctx: Context, matched: Uint8Array[], missed: Uint8Array[]): Promise<void>;
  /** A validator passed a planted fabrication: it loses its reward share of `epoch`. */
  afterAuditFailed?(ctx: Context, consAddr: Uint8Array, epoch: bigint): Promise<void>;
}
