/**
 * The Cosmos SDK's LegacyDec on the wire: an integer of 18 implied decimals, written as its decimal
 * digits (gogoproto customtype; CosmJS reads it with Decimal.fromAtomics(text, 18)). `string` fields
 * (Params, DecCoin.amount) carry the text; `bytes` fields (mint's Inflation, AnnualProvisions) its ASCII.
 */
export const DEC_ONE = 10n ** 18n;

/** The LegacyDec text of the integer `n` (n × 10^18). */
export function decFromInt(n: bigint): string {
  return (n * DEC_ONE).toString();
}

/** The LegacyDec text of num / den, truncated as the SDK truncates (0 when den is 0). */
export function decFromRatio(num: bigint, den: bigint): string {
  return den === 0n ? "0" : ((num * DEC_ONE) / den).toString();
}

/** The LegacyDec text of bps / 10000. */
export function decFromBps(bps: bigint): string {
  return decFromRatio(bps, 10_000n);
}

export const decBytes = (text: string): Uint8Array => Buffer.from(text, "ascii");

/** A DecCoin list of one integer amount (empty when zero, as the SDK prints zero coins). */
export function decCoins(denom: string, amount: bigint): Array<{ denom: string; amount: string }> {
  return amount === 0n ? [] : [{ denom, amount: decFromInt(amount) }];
}
