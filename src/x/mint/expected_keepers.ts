/** What x/mint needs from other modules. */
import type { Context } from "../../app/context";
import type { Coin } from "../bank/types";

export interface BankKeeper {
  getSupply(ctx: Context, denom: string): Promise<bigint>;
  mintCoins(ctx: Context, to: Uint8Array, coins: readonly Coin[]): Promise<void>;
  sendCoins(ctx: Context, from: Uint8Array, to: Uint8Array, coins: readonly Coin[]): Promise<void>;
}
