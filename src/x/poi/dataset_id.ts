/**
 * A dataset's id: sha256 over its metadata and its chunk hashes. Someone who copies the chunk hashes
 * of a MsgCreateDataset they saw in the mempool but announces other metadata (item shape or dtype,
 * item count, chunking) gets another id, so they cannot take the id of the real dataset. The name and
 * the owner are not part of it: the id names the content and how it is cut into items.
 *
 *   id = hex sha256( "poi/dataset/v1"                       14 bytes, ASCII
 *                  ‖ u8 byte length of dtype ‖ dtype        UTF-8, e.g. "float32"
 *                  ‖ u8 rank ‖ each dim as u64 BE
 *                  ‖ num_items u64 BE ‖ items_per_chunk u64 BE
 *                  ‖ number of chunks u32 BE ‖ each chunk's sha256 (32 bytes) )
 *
 * Every field has a fixed width or a length before it, so the bytes read back one way only.
 * Shared by the chain (MsgCreateDataset) and the clients (chunkDataset), so both compute the same id.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { u64 } from "../../util/bigint";

const TAG = Buffer.from("poi/dataset/v1", "ascii");
const U64_MAX = (1n << 64n) - 1n;

function u64Field(v: bigint | number | string, what: string): Buffer {
  const n = BigInt(v);
  if (n < 0n || n > U64_MAX) throw new RangeError(`${what} ${n} does not fit 64 bits`);
  return u64(n);
}

export function datasetId(
  item: { shape: ReadonlyArray<string | number | bigint>; dtype: string },
  numItems: bigint | number | string,
  itemsPerChunk: bigint | number | string,
  chunkHashes: readonly Uint8Array[],
): string {
  const dtype = Buffer.from(item.dtype, "utf8");
  if (dtype.length > 255) throw new RangeError(`dtype is ${dtype.length} bytes, at most 255`);
  if (item.shape.length > 255) throw new RangeError(`rank ${item.shape.length} is above 255`);
  if (chunkHashes.length > 0xffffffff) throw new RangeError(`${chunkHashes.length} chunks do not fit 32 bits`);
  if (!chunkHashes.every((h) => h.length === 32)) throw new RangeError("every chunk hash must be 32 bytes");
  const count = Buffer.alloc(4);
  count.writeUInt32BE(chunkHashes.length);
  return Buffer.from(sha256(Buffer.concat([
    TAG, Buffer.of(dtype.length), dtype,
    Buffer.of(item.shape.length), ...item.shape.map((d, i) => u64Field(d, `dim ${i}`)),
    u64Field(numItems, "num_items"), u64Field(itemsPerChunk, "items_per_chunk"),
    count, ...chunkHashes,
  ]))).toString("hex");
}
