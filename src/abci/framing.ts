/**
 * ABCI socket framing (CometBFT v0.38): every message is an UNSIGNED varint
 * length followed by that many protobuf bytes (libs/protoio in CometBFT).
 * v0.34 and earlier used a zigzag (signed) varint, which is why pre-0.38
 * libraries cannot talk to v0.38.
 */

/** CometBFT's own socket client refuses messages over 100 MiB; we cap at the same size. */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;

export class FrameTooLargeError extends Error {
  constructor(readonly length: number, readonly max: number) {
    super(`ABCI frame of ${length} bytes exceeds the ${max}-byte cap`);
  }
}

export class MalformedFrameError extends Error {}

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

/** Prefix a protobuf message with its uvarint length. */
export function frame(message: Uint8Array): Buffer {
  return Buffer.concat([encodeUvarint(message.length), message]);
}

/**
 * Incremental decoder: feed it socket chunks, get back whole messages.
 * Handles a frame split across any number of chunks and many frames in one chunk.
 * After an error the decoder is unusable (the stream is out of sync); the caller closes the connection.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  /** Returns every complete message now available; keeps any partial tail for the next chunk. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed) throw new MalformedFrameError("decoder already failed");
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const messages: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const header = this.readLength(offset);
      if (header === undefined) break;
      const [length, headerBytes] = header;
      const start = offset + headerBytes;
      if (this.buf.length - start < length) break;
      messages.push(this.buf.subarray(start, start + length));
      offset = start + length;
    }
    this.buf = offset === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(offset);
    return messages;
  }

  /** Bytes held waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  private readLength(offset: number): [number, number] | undefined {
    let value = 0;
    let scale = 1;
    for (let i = 0; offset + i < this.buf.length; i++) {
      if (i >= 8) return this.fail(new MalformedFrameError("ABCI frame length varint longer than 8 bytes"));
      const b = this.buf[offset + i];
      value += (b & 0x7f) * scale;
      scale *= 0x80;
      if (value > this.maxFrameBytes) return this.fail(new FrameTooLargeError(value, this.maxFrameBytes));
      if ((b & 0x80) === 0) return [value, i + 1];
    }
    return undefined; // length itself not complete yet
  }

  private fail(err: Error): never {
    this.failed = true;
    this.buf = Buffer.alloc(0);
    throw err;
  }
}
