/**
 * ABCI socket framing (CometBFT v0.38): every message is an UNSIGNED varint
 * length followed by that many protobuf bytes (libs/protoio in CometBFT).
 * v0.34 and earlier used a zigzag (signed) varint, which is why pre-0.38
 * libraries cannot talk to v0.38.
 */
import { decodeUvarint, encodeUvarint } from "../util/varint";

/** CometBFT's own socket client refuses messages over 100 MiB; we cap at the same size. */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;

export class FrameTooLargeError extends Error {
  constructor(readonly length: number, readonly max: number) {
    super(`ABCI frame of ${length} bytes exceeds the ${max}-byte cap`);
  }
}

export class MalformedFrameError extends Error {}

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
    const r = decodeUvarint(this.buf, offset, 8, this.maxFrameBytes);
    if (r.ok) return [r.value, r.length];
    if (r.problem === "too-long") return this.fail(new MalformedFrameError("ABCI frame length varint longer than 8 bytes"));
    if (r.problem === "too-large") return this.fail(new FrameTooLargeError(r.value, this.maxFrameBytes));
    return undefined; // length itself not complete yet
  }

  private fail(err: Error): never {
    this.failed = true;
    this.buf = Buffer.alloc(0);
    throw err;
  }
}
