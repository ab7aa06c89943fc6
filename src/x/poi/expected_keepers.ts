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
