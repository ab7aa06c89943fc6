/** What x/staking needs from other modules (the SDK's types/expected_keepers.go). */
import type { ValidatorUpdate } from "cosmjs-types/tendermint/abci/types";
import type { Context } from "../../app/context";
import type { Coin } from "../bank/types";

/** Bonds live in the pool module accounts; slashes burn from them. */
export interface BankKeeper {
  getBalance(ctx: Context, addr: Uint8Array, denom: string): Promise<bigint>;
  sendCoins(ctx: Context, from: Uint8Array, to: Uint8Array, coins: readonly Coin[]): Promise<void>;
  burnCoins(ctx: Context, from: Uint8Array, coins: readonly Coin[]): Promise<void>;
}

/** Part C (x/poi) provides it; until then the app wires a source that answers 0. */
export interface WorkScoreReader {
  /** The validator's work score: an integer EMA of its linked workers' verified work units per epoch. */
  workScore(ctx: Context, operator: Uint8Array): Promise<bigint>;
}

/** x/valset: the record of the set CometBFT uses at each height, and who operates each validator. */
export interface ValsetRecorder {
  /** The set in effect at `height` becomes the latest set with `updates` applied (power 0 removes). */
  recordUpdates(ctx: Context, updates: readonly ValidatorUpdate[], height: bigint): Promise<void>;
  /** Genesis: the first set (from the first height on). */
  setGenesisValidators(ctx: Context, updates: readonly ValidatorUpdate[]): Promise<void>;
  /** Where a validator's poi verification income goes. */
  setOperator(ctx: Context, consensusAddr: Uint8Array, operator: Uint8Array): void;
}

export const ZERO_WORK: WorkScoreReader = { workScore: async () => 0n };
