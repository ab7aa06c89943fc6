/** Small bigint helpers shared by consensus code. */

/** `n` as 8 bytes, big-endian (unsigned; keys sort by number). */
export function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

export function bigMin(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
