/**
 * A strict, minimal protobuf wire-format reader for consensus code.
 *
 * Why not protobufjs' decoder: it decodes every field recursively (a hostile model can nest
 * messages deep enough to overflow the stack, at a depth that depends on the caller's stack),
 * silently keeps the last of repeated singular fields where the C++ parser merges them, and
 * turns int64 into Long/number. This reader only moves over bytes; the caller decides which
 * fields to descend into, so nesting depth is fixed by the caller's code, not by the input.
 */

import { DecodeError } from "../../../app/errors";

export const WireType = {
  VARINT: 0,
  I64: 1,
  LEN: 2,
  SGROUP: 3,
  EGROUP: 4,
  I32: 5,
} as const;

const WIRE_TYPE_NAMES = ["varint", "64-bit", "length-delimited", "start-group", "end-group", "32-bit", "6", "7"];

export function wireTypeName(wt: number): string {
  return WIRE_TYPE_NAMES[wt & 7];
}

/** Malformed protobuf bytes. `where` is the message being read (e.g. "graph.node[3]"). */
export class WireFormatError extends DecodeError {
  constructor(readonly where: string, readonly problem: string) {
    super(`${where}: ${problem}`);
    this.name = "WireFormatError";
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export class WireReader {
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    readonly where: string,
  ) {
    this.pos = 0;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Bytes read so far. */
  get offset(): number {
    return this.pos;
  }

  fail(problem: string): never {
    throw new WireFormatError(this.where, problem);
  }

  /** Unsigned varint (at most 10 bytes, at most 64 bits) as a bigint. */
  varint(): bigint {
    const buf = this.buf;
    // Fast path: up to 7 bytes (49 bits) stay exact in a double.
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= buf.length) this.fail("truncated varint");
      const b = buf[this.pos++];
      n += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return BigInt(n);
      mul *= 128;
    }
    let v = BigInt(n);
    for (let i = 7; i < 10; i++) {
      if (this.pos >= buf.length) this.fail("truncated varint");
      const b = buf[this.pos++];
      if (i === 9 && b > 1) this.fail("varint overflows 64 bits");
      v |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return v;
    }
    return this.fail("varint longer than 10 bytes");
  }

  /** Field number and wire type of the next field. */
  tag(): { field: number; wireType: number } {
    const t = this.varint();
    if (t > 0xffffffffn) this.fail("field tag out of range");
    const tag = Number(t);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 0) this.fail("field number 0");
    if (wireType > WireType.I32) this.fail(`invalid wire type ${wireType}`);
    return { field, wireType };
  }

  /** A length-delimited payload (a view into the buffer, not a copy). */
  bytes(): Uint8Array {
    const len = this.varint();
    const remaining = this.buf.length - this.pos;
    if (len > BigInt(remaining)) this.fail(`length ${len} runs past the end (${remaining} bytes left): truncated`);
    const start = this.pos;
    this.pos += Number(len);
    return this.buf.subarray(start, this.pos);
  }

  /** A length-delimited payload that must be valid UTF-8. */
  string(field: string): string {
    const b = this.bytes();
    try {
      return UTF8.decode(b);
    } catch {
      return this.fail(`${field} is not valid UTF-8`);
    }
  }

  /** Unsigned 32-bit little-endian value (float bits for wire type I32). */
  fixed32(): number {
    if (this.buf.length - this.pos < 4) this.fail("truncated 32-bit field");
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  /** Skips one field's value of the given wire type. Groups are refused (ONNX never uses them). */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.varint();
        return;
      case WireType.I64:
        if (this.buf.length - this.pos < 8) this.fail("truncated 64-bit field");
        this.pos += 8;
        return;
      case WireType.LEN:
        this.bytes();
        return;
      case WireType.I32:
        if (this.buf.length - this.pos < 4) this.fail("truncated 32-bit field");
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wireTypeName(wireType)}`);
    }
  }
}

/** Two's complement reinterpretation of a 64-bit varint (protobuf int64/int32/enum encoding). */
export function asInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}

/**
 * Reads a repeated varint field that may be packed (one LEN field) or not (one VARINT per value),
 * appending to `out`, at most `max` values in total.
 */
export function readRepeatedVarint(r: WireReader, wireType: number, out: bigint[], max: number, field: string): void {
  if (wireType === WireType.VARINT) {
    if (out.length >= max) r.fail(`${field} has more than ${max} values`);
    out.push(asInt64(r.varint()));
    return;
  }
  if (wireType !== WireType.LEN) r.fail(`${field} has wire type ${wireTypeName(wireType)}, expected varint or packed`);
  const packed = new WireReader(r.bytes(), `${r.where}.${field}`);
  while (!packed.done) {
    if (out.length >= max) r.fail(`${field} has more than ${max} values`);
    out.push(asInt64(packed.varint()));
  }
}
