/**
 * Per-validator committed sampling (design and proof sketch: README, "Sampling nobody can steer").
 *
 * Each validator holds a secret; its seed for an epoch is derived from it, committed by hash in its
 * vote extension before the epoch's results exist, and revealed after the epoch. Its sample of a
 * task attempt depends only on (seed, task, attempt, result root, n, k): nothing a proposer, a worker
 * or other validators choose in a block enters it. Pure functions of bytes and integers.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { u64 } from "../../util/bigint";
import { sampleIndices } from "./commitment";

const SEED_TAG = Buffer.from("poi/seed/v1");
const COMMIT_TAG = Buffer.from("poi/seed-commit/v1");
const SAMPLE_TAG = Buffer.from("poi/vsample/v1");

/** Sampling epoch of a block height: heights 1..E are epoch 0, E+1..2E epoch 1, ... */
export function epochOf(height: bigint, epochBlocks: bigint): bigint {
  return height <= 0n ? 0n : (height - 1n) / epochBlocks;
}

/** First height of an epoch. */
export function epochStart(epoch: bigint, epochBlocks: bigint): bigint {
  return epoch * epochBlocks + 1n;
}

/** A validator node's seed for `epoch`: secret per node, fixed per (chain, epoch). */
export function seedFor(secret: Uint8Array, chainId: string, epoch: bigint): Uint8Array {
  return sha256(Buffer.concat([SEED_TAG, Buffer.from(secret), Buffer.from(chainId, "utf8"), Buffer.from([0]), u64(epoch)]));
}

/** What goes on chain before the epoch: a hiding, binding commitment to the seed. */
export function seedCommitment(seed: Uint8Array): Uint8Array {
  return sha256(Buffer.concat([COMMIT_TAG, Buffer.from(seed)]));
}

/** The k items (sorted, distinct) that the holder of `seed` re-executes for attempt `attempt` of task `taskId`. */
export function validatorSample(seed: Uint8Array, taskId: bigint, attempt: number, root: Uint8Array, n: bigint, k: bigint): bigint[] {
  const a = Buffer.alloc(4);
  a.writeUInt32BE(attempt);
  const s = sha256(Buffer.concat([SAMPLE_TAG, Buffer.from(seed), u64(taskId), a, Buffer.from(root)]));
  return sampleIndices(s, n, k);
}

/**
 * What the holder of `seed` checks of an attempt of `numItems` items: its k-item sample; for a
 * training attempt (README, "Training tasks") k of the numItems − 1 segments, and the last item,
 * the final parameters' held-out accuracy, which every validator checks.
 */
export function attemptSample(seed: Uint8Array, taskId: bigint, attempt: number, root: Uint8Array, numItems: bigint, k: bigint, training: boolean): bigint[] {
  if (!training) return validatorSample(seed, taskId, attempt, root, numItems, k);
  return [...validatorSample(seed, taskId, attempt, root, numItems - 1n, k), numItems - 1n];
}
