import { clip, ErrInvalidCoins } from "../../app/errors";

/** Amounts are bigint end to end, never floats, never negative in state. */
export interface Coin {
  denom: string;
  amount: bigint;
}

// Cosmos SDK denom rule: a letter, then 2..127 of letters, digits and /:._-
const DENOM_RE = /^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$/;
const AMOUNT_RE = /^[0-9]{1,78}$/; // up to 256-bit values, as in the SDK's Int

export function validateDenom(denom: string): void {
  if (!DENOM_RE.test(denom)) throw ErrInvalidCoins(`invalid denom "${clip(denom)}"`);
}

/** Parses a decimal amount string; `allowZero` false rejects 0. */
export function parseAmount(amount: string, allowZero = false): bigint {
  if (!AMOUNT_RE.test(amount)) throw ErrInvalidCoins(`invalid amount "${clip(amount)}": want a non-negative integer of at most 78 digits`);
  const v = BigInt(amount);
  if (!allowZero && v === 0n) throw ErrInvalidCoins(`amount must be positive, got "${amount}"`);
  return v;
}

/** Validates a list of proto coins {denom, amount:string}: positive amounts, valid and unique denoms. */
export function parseCoins(coins: ReadonlyArray<{ denom: string; amount: string }>, allowEmpty = false): Coin[] {
  if (coins.length === 0 && !allowEmpty) throw ErrInvalidCoins("no coins given");
  const seen = new Set<string>();
  return coins.map((c) => {
    validateDenom(c.denom);
    if (seen.has(c.denom)) throw ErrInvalidCoins(`duplicate denom "${clip(c.denom)}"`);
    seen.add(c.denom);
    return { denom: c.denom, amount: parseAmount(c.amount) };
  });
}

export function formatCoins(coins: readonly Coin[]): string {
  return coins.map((c) => `${c.amount}${c.denom}`).join(",");
}
