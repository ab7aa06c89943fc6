import { fromBech32, toBech32 } from "@cosmjs/encoding";
import { sha256 } from "@noble/hashes/sha2.js";
import { ADDRESS_PREFIX, VALOPER_PREFIX } from "./params";
import { clip, ErrInvalidAddress } from "./errors";
import { GenerationCache } from "../util/gen-cache";

/**
 * bech32 both ways for the addresses in use: a tx formats its signer's and recipients' addresses
 * several times (events, account records) and parses those in its messages. Bounded; the strings
 * and bytes are pure functions of each other, so a hit is exactly what recomputing gives.
 */
const ADDRESS_CACHE_ENTRIES = 20_000;
const formatted = new GenerationCache<string>(ADDRESS_CACHE_ENTRIES);
const parsed = new GenerationCache<Uint8Array>(ADDRESS_CACHE_ENTRIES);

/** Decodes a bech32 account address with our prefix; throws ErrInvalidAddress naming the problem. */
export function parseAddress(address: string, field = "address"): Uint8Array {
  return parseWithPrefix(address, field, ADDRESS_PREFIX);
}

/** Decodes a validator operator address ("poivaloper1..."): the operator account's bytes. */
export function parseValoperAddress(address: string, field = "validator_address"): Uint8Array {
  return parseWithPrefix(address, field, VALOPER_PREFIX);
}

export function formatValoperAddress(bytes: Uint8Array): string {
  return toBech32(VALOPER_PREFIX, bytes);
}

/** A module account's address: sha256(name)[:20], as the SDK derives them (fee_collector, poi, mint, distribution, ...). */
export function moduleAddress(name: string): Uint8Array {
  return sha256(new TextEncoder().encode(name)).subarray(0, 20);
}

function parseWithPrefix(address: string, field: string, prefix: string): Uint8Array {
  const cached = prefix === ADDRESS_PREFIX; // the cache holds account addresses only
  const hit = cached ? parsed.get(address) : undefined;
  if (hit !== undefined) return Uint8Array.from(hit); // a copy: callers may keep or edit it
  let decoded: { prefix: string; data: Uint8Array };
  try {
    decoded = fromBech32(address, 90); // explicit limit: cosmjs 0.39 default (Infinity) breaks with @scure/base 2.4
  } catch (err) {
    throw ErrInvalidAddress(`${field} "${clip(address)}" is not valid bech32 (${clip((err as Error).message)})`);
  }
  if (decoded.prefix !== prefix) throw ErrInvalidAddress(`${field} "${clip(address)}" has prefix "${clip(decoded.prefix)}", want "${prefix}"`);
  if (decoded.data.length !== 20 && decoded.data.length !== 32) throw ErrInvalidAddress(`${field} "${clip(address)}" has ${decoded.data.length} bytes, want 20 or 32`);
  if (cached) parsed.set(address, Uint8Array.from(decoded.data));
  return decoded.data;
}

export function formatAddress(bytes: Uint8Array): string {
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  let address = formatted.get(id);
  if (address === undefined) {
    address = toBech32(ADDRESS_PREFIX, bytes);
    formatted.set(id, address);
  }
  return address;
}
