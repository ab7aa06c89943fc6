/**
 * cosmjs-types 0.11's BinaryWriter.finish allocates through `pool(...)(size)`, a pool made anew on
 * every call: each encode under 4 KiB zero-fills a fresh 8 KiB slab and returns a view of it (which
 * keeps the whole slab alive). This makes finish allocate exactly the bytes it returns. Output bytes
 * are unchanged. Importing this module applies it once (the app and the ABCI server import it).
 */
import { BinaryWriter } from "cosmjs-types/binary";

const writer = BinaryWriter as unknown as { alloc(size: number): Uint8Array; __poiAllocFixed?: true };
if (!writer.__poiAllocFixed) {
  writer.alloc = (size: number) => new Uint8Array(size);
  writer.__poiAllocFixed = true;
}
