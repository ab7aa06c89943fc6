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
  while (level.length > 1) level = nextLevel(level);
  return level[0];
}

const nodeHash = (l: Uint8Array, r: Uint8Array) => sha256(Buffer.concat([Buffer.from([NODE]), l, r]));

function nextLevel(level: readonly Uint8Array[]): Uint8Array[] {
  const next: Uint8Array[] = [];
  for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? nodeHash(level[i], level[i + 1]) : level[i]);
  return next;
}

/**
 * The sibling hashes that lead leaf `index` up to merkleRoot(leaves), bottom up. A level where the
 * node is the odd last one (it moves up unchanged) contributes nothing.
 */
export function merkleProof(leaves: readonly Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new Error(`leaf ${index} of ${leaves.length}`);
  const proof: Uint8Array[] = [];
  let level = leaves.slice();
  for (let i = index; level.length > 1; i >>= 1) {
    if ((i ^ 1) < level.length) proof.push(level[i ^ 1]);
    level = nextLevel(level);
  }
  return proof;
}

/** Whether `proof` (merkleProof's) leads `leaf`, leaf `index` of `count`, to `root`. Integer arithmetic only. */
export function verifyMerkleProof(leaf: Uint8Array, index: number, count: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 0 || index >= count) return false;
  let h = leaf;
  let used = 0;
  for (let i = index, n = count; n > 1; i = Math.floor(i / 2), n = Math.floor((n + 1) / 2)) {
    const sibling = i % 2 === 0 ? i + 1 : i - 1;
    if (sibling >= n) continue;
    const s = proof[used++];
    if (s === undefined || s.length !== 32) return false;
    h = i % 2 === 0 ? nodeHash(h, s) : nodeHash(s, h);
  }
  return used === proof.length && Buffer.from(h).equals(Buffer.from(root));
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
