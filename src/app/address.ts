import { fromBech32, toBech32 } from "@cosmjs/encoding";
import { ADDRESS_PREFIX } from "./params";
import { clip, ErrInvalidAddress } from "./errors";

/** Decodes a bech32 account address with our prefix; throws ErrInvalidAddress naming the problem. */
export function parseAddress(address: string, field = "address"): Uint8Array {
  let decoded: { prefix: string; data: Uint8Array };
  try {
    decoded = fromBech32(address, 90); // explicit limit: cosmjs 0.39 default (Infinity) breaks with @scure/base 2.4
  } catch (err) {
    throw ErrInvalidAddress(`${field} "${clip(address)}" is not valid bech32 (${clip((err as Error).message)})`);
  }
  if (decoded.prefix !== ADDRESS_PREFIX) throw ErrInvalidAddress(`${field} "${clip(address)}" has prefix "${clip(decoded.prefix)}", want "${ADDRESS_PREFIX}"`);
  if (decoded.data.length !== 20 && decoded.data.length !== 32) throw ErrInvalidAddress(`${field} "${clip(address)}" has ${decoded.data.length} bytes, want 20 or 32`);
  return decoded.data;
}

export function formatAddress(bytes: Uint8Array): string {
  return toBech32(ADDRESS_PREFIX, bytes);
}
