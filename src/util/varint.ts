/**
 * Unsigned LEB128 varints (protobuf's encoding of lengths), for lengths and counts that fit a JS
 * number. The ONNX validator's 64-bit reader (x/poi/onnx/wire.ts) is separate: it reads bigints.
 */

export function encodeUvarint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`cannot encode ${n} as uvarint`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

export type UvarintRead =
  | { ok: true; value: number; length: number }
  /**
   * truncated: the bytes end inside the varint (more may come); too-long: more than maxBytes bytes;
   * too-large: the value read so far is over maxValue (later bytes can only make it larger).
   */
  | { ok: false; problem: "truncated" | "too-long" | "too-large"; value: number };

/** Reads a varint at `offset`, of at most `maxBytes` bytes and value at most `maxValue`. */
export function decodeUvarint(
  buf: Uint8Array, offset: number, maxBytes: number, maxValue = Number.MAX_SAFE_INTEGER,
): UvarintRead {
  let value = 0;
  let scale = 1;
  for (let i = 0; ; i++) {
    if (offset + i >= buf.length) return { ok: false, problem: "truncated", value };
    if (i >= maxBytes) return { ok: false, problem: "too-long", value };
    const b = buf[offset + i];
    value += (b & 0x7f) * scale;
    scale *= 0x80;
    if (value > maxValue) return { ok: false, problem: "too-large", value };
    if ((b & 0x80) === 0) return { ok: true, value, length: i + 1 };
  }
}
