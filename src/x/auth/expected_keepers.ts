/** What x/auth needs from other modules (the SDK's types/expected_keepers.go). */
import type { Context } from "../../app/context";
import type { Coin } from "../bank/types";

/** Balances (x/bank): the ante handler checks and moves fees to the fee collector. */
export interface BankKeeper {
  getBalance(ctx: Context, addr: Uint8Array, denom: string): Promise<bigint>;
  sendCoins(ctx: Context, from: Uint8Array, to: Uint8Array, coins: readonly Coin[]): Promise<void>;
}
