/** What x/bank needs from other modules (the SDK's types/expected_keepers.go). */
import type { Context } from "../../app/context";

/** Accounts (x/auth): receiving coins creates the account, as in the Cosmos SDK. */
export interface AccountKeeper {
  /** Creates the account with the next account number if it does not exist yet. */
  ensureAccount(ctx: Context, addr: Uint8Array): Promise<unknown>;
}
