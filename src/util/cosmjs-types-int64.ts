/**
 * cosmjs-types 0.11 encodes every int64/uint64 in [2^31, 2^32) wrongly: its BinaryWriter makes the
 * low 32 bits signed (`lo | 0`), sizes the varint at 5 bytes and writes 1, so 2^31 comes out as
 * 00 00 00 00 00. A CheckTx or FinalizeBlock response carrying such a value (a tx's gas_wanted of 3e9,
 * say) is then malformed protobuf for CometBFT. This replaces the writer's int64 (uint64 is bound to
 * it per instance) with the same algorithm on unsigned 32-bit halves. Importing this module applies
 * it once; every module that encodes with cosmjs-types imports it (app, ABCI server, clients).
 */
import { BinaryWriter } from "cosmjs-types/binary";
import { int64FromString, int64Length, writeVarint64 } from "cosmjs-types/varint";

type Bits = { lo: number; hi: number };
type Pushing = { _push(fn: (val: Bits, buf: Uint8Array, pos: number) => void, len: number, val: Bits): BinaryWriter };

const proto = BinaryWriter.prototype as unknown as { int64(value: string | number | bigint): BinaryWriter; __poiInt64Fixed?: true };
if (!proto.__poiInt64Fixed) {
  proto.int64 = function (this: Pushing, value: string | number | bigint): BinaryWriter {
    const { lo, hi } = int64FromString(value.toString());
    const bits = { lo: lo >>> 0, hi: hi >>> 0 };
    return this._push(writeVarint64 as (val: Bits, buf: Uint8Array, pos: number) => void, int64Length(bits.lo, bits.hi), bits);
  };
  proto.__poiInt64Fixed = true;
}
