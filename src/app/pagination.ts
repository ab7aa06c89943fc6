/**
 * Cosmos SDK style pagination (types/query/pagination.go) over one key prefix of a store, reading
 * only the page: `key` (a previous page's next_key) or `offset` picks the start, `limit` the size,
 * `reverse` the direction. Unlike the SDK's, `limit` is capped and `offset` bounded, so no request
 * makes a node read more than a page's worth of entries.
 */
import type { KVStore } from "../store/store";
import { prefixEnd } from "../store/prefix";
import { ErrInvalidRequest } from "./errors";

/** Entries in a page when the request gives no limit (limit 0), as in the SDK. */
export const DEFAULT_PAGE_LIMIT = 100;
/** Larger limits are clamped to this (the response's next_key leads on). */
export const MAX_PAGE_LIMIT = 1000;
/** Offsets above this are refused: follow next_key instead (an offset is read through). */
export const MAX_PAGE_OFFSET = 10_000;
/** A next_key is at most this long; longer keys are refused. */
export const MAX_PAGE_KEY_BYTES = 128;

/** cosmos.base.query.v1beta1.PageRequest as our codecs decode it (uint64 as decimal strings). */
export interface PageRequestFields {
  key?: Uint8Array;
  offset?: string;
  limit?: string;
  countTotal?: boolean;
  reverse?: boolean;
}

/** A checked page request. */
export interface Page {
  /** Where the page starts (inclusive): a previous page's next_key; empty = the first entry. */
  key: Uint8Array;
  offset: number;
  limit: number;
  /** Set only when the request asked for it and gave no key (the SDK ignores count_total with a key). */
  countTotal: boolean;
  reverse: boolean;
}

/** Checks a PageRequest (absent = the first page of DEFAULT_PAGE_LIMIT); throws ErrInvalidRequest naming the problem. */
export function parsePageRequest(req: PageRequestFields | null | undefined): Page {
  const key = req?.key ?? new Uint8Array();
  const offset = BigInt(req?.offset ?? "0");
  const limit = BigInt(req?.limit ?? "0");
  if (key.length > 0 && offset > 0n) throw ErrInvalidRequest("invalid request, either offset or key is expected, got both");
  if (key.length > MAX_PAGE_KEY_BYTES) throw ErrInvalidRequest(`pagination key is ${key.length} bytes, at most ${MAX_PAGE_KEY_BYTES}: pass a next_key back unchanged`);
  if (offset > BigInt(MAX_PAGE_OFFSET)) throw ErrInvalidRequest(`pagination offset ${offset} is above ${MAX_PAGE_OFFSET}: follow next_key instead`);
  return {
    key,
    offset: Number(offset),
    limit: limit === 0n ? DEFAULT_PAGE_LIMIT : Number(limit > BigInt(MAX_PAGE_LIMIT) ? BigInt(MAX_PAGE_LIMIT) : limit),
    countTotal: req?.countTotal === true && key.length === 0,
    reverse: req?.reverse === true,
  };
}

/**
 * Walks one page of the entries under `prefix` (only those at or after `from`, a key less the
 * prefix, when given), in key order (descending with `reverse`), handing each to `take` with its key
 * less the prefix. `take` returns false to end the page before that entry (say, a byte budget is
 * spent; it must take a page's first entry); at most `limit` entries are taken. Returns next_key:
 * the key (less the prefix) of the first entry not taken, empty when none is left.
 */
export async function paginate(
  store: KVStore, prefix: Uint8Array, page: Page, take: (key: Uint8Array, value: Uint8Array) => Promise<boolean> | boolean, from?: Uint8Array,
): Promise<Uint8Array> {
  const lowest = from ? Buffer.concat([prefix, from]) : Buffer.from(prefix);
  let start = lowest;
  let end = prefixEnd(prefix);
  if (page.key.length > 0) {
    const at = Buffer.concat([prefix, page.key]);
    // Reverse pages run downwards from the key, inclusive: the end bound is the key's successor.
    if (page.reverse) end = Buffer.concat([at, Buffer.of(0)]);
    else if (Buffer.compare(at, lowest) > 0) start = at;
  }
  const rows = await store.iterate(start, end, { limit: page.offset + page.limit + 1, reverse: page.reverse });
  for (let i = page.offset; i < rows.length; i++) {
    const rest = rows[i][0].subarray(prefix.length);
    if (i === page.offset + page.limit || !(await take(rest, rows[i][1]))) return Uint8Array.from(rest);
  }
  return new Uint8Array();
}
