/**
 * The worker's commitment to its outputs, and the sample drawn against it. Both are pure functions of
 * bytes and integers (no floats, no clock), shared by the chain, the worker daemon and the tests.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { u64 } from "../../util/bigint";

const LEAF = 0x00;
const NODE = 0x01;

/** Hash of item `index`'s output bytes (float32 LE). The index is inside, so outputs cannot be swapped. */
export function outputLeafHash(index: number, output: Uint8Array): Uint8Array {
  return sha256(Buffer.concat([Buffer.from([LEAF]), u64(BigInt(index)), output]));
}

/**
 * Merkle root over the leaf hashes: pairs hashed with a 0x01 prefix (so a node never equals a leaf),
 * an odd last node moves up unchanged. One leaf is its own root.
 */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) throw new Error("merkleRoot of no leaves");
  let level = leaves.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? sha256(Buffer.concat([Buffer.from([NODE]), level[i], level[i + 1]])) : level[i]);
    }
    level = next;
  }
  return level[0];
}

/** Root over all items of a result: `outputs` holds `numItems` outputs of `itemBytes` bytes each. */
export function resultRoot(outputs: Uint8Array, numItems: number, itemBytes: number): Uint8Array {
  if (outputs.length !== numItems * itemBytes) throw new Error(`outputs are ${outputs.length} bytes, want ${numItems} × ${itemBytes}`);
  const leaves: Uint8Array[] = [];
  for (let i = 0; i < numItems; i++) leaves.push(outputLeafHash(i, outputs.subarray(i * itemBytes, (i + 1) * itemBytes)));
  return merkleRoot(leaves);
}

/**
 * `k` distinct indices in [0, n), sorted, drawn from `seed` (all of them when k >= n). Each draw is
 * sha256(seed ‖ counter) read as a u64, with rejection above the largest multiple of the range so
 * every index is exactly equally likely; repeats are drawn again (sampling without replacement).
 */
export function sampleIndices(seed: Uint8Array, n: bigint, k: bigint): bigint[] {
  if (n <= 0n) return [];
  if (k >= n) return Array.from({ length: Number(n) }, (_, i) => BigInt(i));
  const limit = (1n << 64n) - ((1n << 64n) % n);
  const chosen = new Set<bigint>();
  for (let counter = 0n; BigInt(chosen.size) < k; counter++) {
    const draw = Buffer.from(sha256(Buffer.concat([seed, u64(counter)]))).readBigUInt64BE(0);
    if (draw >= limit) continue;
    chosen.add(draw % n);
  }
  return [...chosen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
