/**
 * cosmjs-types 0.11 mis-encodes int64/uint64 in [2^31, 2^32) (src/util/cosmjs-types-int64.ts): with the
 * fix loaded by the app, ABCI responses carry such values intact, byte for byte as protobufjs writes them.
 */
import { strict as assert } from "assert";
import protobuf from "protobufjs";
import "../src/app/app";
import { ExecTxResult, ResponseCheckTx } from "cosmjs-types/tendermint/abci/types";
import { Fee } from "cosmjs-types/cosmos/tx/v1beta1/tx";

const VALUES = [0n, 1n, 127n, 128n, 2n ** 31n - 1n, 2n ** 31n, 3_000_000_000n, 2n ** 32n - 1n, 2n ** 32n, 10_000_000_000n, 2n ** 63n - 1n];

describe("cosmjs-types int64/uint64 encoding (fixed for [2^31, 2^32))", () => {
  it("gas_wanted and gas_used round-trip and match protobufjs's bytes at every boundary", () => {
    for (const v of VALUES) {
      const check = ResponseCheckTx.encode(ResponseCheckTx.fromPartial({ gasWanted: v })).finish();
      const want = protobuf.Writer.create().uint32((5 << 3) | 0).int64(v.toString()).finish();
      assert.deepEqual(Buffer.from(check), Buffer.from(v === 0n ? new Uint8Array() : want), `gas_wanted ${v}`);
      assert.equal(ResponseCheckTx.decode(check).gasWanted, v);
      const exec = ExecTxResult.decode(ExecTxResult.encode(ExecTxResult.fromPartial({ gasWanted: v, gasUsed: v })).finish());
      assert.deepEqual([exec.gasWanted, exec.gasUsed], [v, v]);
      assert.equal(Fee.decode(Fee.encode(Fee.fromPartial({ gasLimit: v })).finish()).gasLimit, v, `gas_limit ${v}`);
    }
  });
});
