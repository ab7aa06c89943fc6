/**
 * The protocol's fixed rules of a training task (README, "Training tasks"), shared by the chain, the
 * worker and the verifiers: the batch order, checkpoint hashes and their Merkle leaves, which
 * checkpoints a set of segment requests needs, the learning-rate syntax. Pure functions of bytes and
 * integers.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { u64 } from "../../util/bigint";
import { outputLeafHash, sampleIndices } from "./commitment";

const BATCH_TAG = Buffer.from("poi/batch/v1");
const CHECKPOINT_TAG = Buffer.from("poi/checkpoint/v1");

/**
 * The training items of step `step` (0-based) of task `taskId`: B distinct indices of the training
 * range [start, start + count), drawn by sampleIndices from sha256("poi/batch/v1" ‖ task id u64 ‖ step
 * u64), in ascending order (the batch's row order). Nobody chooses them: the worker trains on these,
 * and a verifier re-executing step s uses the same.
 */
export function batchIndices(taskId: bigint, step: bigint, start: bigint, count: bigint, batchSize: bigint): bigint[] {
  if (batchSize > count) throw new Error(`a batch of ${batchSize} does not fit a training range of ${count}`);
  const seed = sha256(Buffer.concat([BATCH_TAG, u64(taskId), u64(step)]));
  return sampleIndices(seed, count, batchSize).map((i) => start + i);
}

/** Chunks of a checkpoint of `totalBytes` cut every `chunkBytes` (the last may be shorter). */
export function checkpointChunkCount(totalBytes: bigint, chunkBytes: bigint): bigint {
  return (totalBytes + chunkBytes - 1n) / chunkBytes;
}

/** Bytes of chunk `chunk` of a checkpoint. */
export function checkpointChunkSize(totalBytes: bigint, chunkBytes: bigint, chunk: bigint): bigint {
  const rest = totalBytes - chunk * chunkBytes;
  return rest < chunkBytes ? rest : chunkBytes;
}

/**
 * A checkpoint's hash: sha256("poi/checkpoint/v1" ‖ total bytes u64 ‖ chunk size u64 ‖ sha256 of each
 * chunk). The parameters are float32 LE in the parent's initializer order. Hashing the chunk hashes
 * lets each chunk of a reveal be checked on its own.
 */
export function checkpointHashOfChunks(chunkHashes: readonly Uint8Array[], totalBytes: bigint, chunkBytes: bigint): Uint8Array {
  return sha256(Buffer.concat([CHECKPOINT_TAG, u64(totalBytes), u64(chunkBytes), ...chunkHashes]));
}

export function checkpointChunkHashes(bytes: Uint8Array, chunkBytes: bigint): Uint8Array[] {
  const size = Number(chunkBytes);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(sha256(bytes.subarray(at, at + size)));
  return out;
}

export function checkpointHash(bytes: Uint8Array, chunkBytes: bigint): Uint8Array {
  return checkpointHashOfChunks(checkpointChunkHashes(bytes, chunkBytes), BigInt(bytes.length), chunkBytes);
}

/** Leaf i of the checkpoint Merkle tree (commitment.ts's tree): the index is inside, so checkpoints cannot be swapped. */
export function checkpointLeaf(index: number, hash: Uint8Array): Uint8Array {
  return outputLeafHash(index, hash);
}

/**
 * The checkpoints a worker must reveal: both ends of every requested segment, and the final one
 * (segments), ascending; checkpoint 0 is the initial parameters, on chain since submission.
 */
export function neededCheckpoints(requested: Iterable<bigint | string>, segments: bigint): number[] {
  const need = new Set<number>([Number(segments)]);
  for (const s of requested) {
    const i = Number(s);
    if (i > 0) need.add(i);
    need.add(i + 1);
  }
  return [...need].sort((a, b) => a - b);
}

/** A learning rate: a plain positive decimal, at most 9 digits on each side of the point ("0.1", "3e-4" is refused). */
export function isLearningRate(s: string): boolean {
  return /^(0|[1-9][0-9]{0,8})(\.[0-9]{1,9})?$/.test(s) && /[1-9]/.test(s);
}

/** Segments of a training task: its items but the last (the held-out accuracy item). */
export function segmentCount(numItems: string | bigint): bigint {
  return BigInt(numItems) - 1n;
}
