/**
 * cosmjs-types 0.11's BinaryWriter.finish hands out views of a fresh 8 KiB slab per encode
 * (src/util/cosmjs-types-alloc.ts): with the fix loaded by the app, an encode owns exactly its bytes,
 * and the bytes are those protobufjs writes.
 */
import { strict as assert } from "assert";
import protobuf from "protobufjs";
import "../src/app/app";
import { SignDoc } from "cosmjs-types/cosmos/tx/v1beta1/tx";

describe("cosmjs-types encode allocation (exact-size buffers)", () => {
  it("a small and a large encode each own a buffer of exactly their length, byte for byte as protobufjs", () => {
    for (const size of [0, 1, 100, 4000, 5000]) {
      const doc = { bodyBytes: new Uint8Array(size).fill(7), authInfoBytes: Uint8Array.of(1, 2, 3), chainId: "poi-1", accountNumber: 42n };
      const bytes = SignDoc.encode(doc).finish();
      const w = protobuf.Writer.create();
      if (size > 0) w.uint32((1 << 3) | 2).bytes(doc.bodyBytes);
      const want = w.uint32((2 << 3) | 2).bytes(doc.authInfoBytes).uint32((3 << 3) | 2).string(doc.chainId).uint32((4 << 3) | 0).uint64("42").finish();
      assert.deepEqual(Buffer.from(bytes), Buffer.from(want), `body of ${size} bytes`);
      assert.equal(bytes.byteOffset, 0);
      assert.equal(bytes.buffer.byteLength, bytes.length, `body of ${size} bytes: no slab behind the encoding`);
    }
  });
});
