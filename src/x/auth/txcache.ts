import { GenerationCache } from "../../util/gen-cache";
import type { DecodedTx } from "./ante";

/** Decoded txs remembered; a MsgSend entry holds ~2 KB, so ~40 MB at the bound. */
export const DECODED_TX_CACHE_MAX_ENTRIES = 20_000;
/** Larger txs are decoded each time (rare, and their handling dwarfs the decode); keeps the cache's memory bounded. */
export const DECODED_TX_CACHE_MAX_TX_BYTES = 16 * 1024;

/**
 * Decoded txs by their exact bytes, so a tx decoded in CheckTx is not decoded again in its block
 * nor in each Recheck.
 *
 * Consensus-safe: decodeTx is a pure function of the tx bytes (and of the fixed message routes), and
 * the key is the bytes themselves, so a hit returns what decoding would. Only successful decodes are
 * kept. Nothing that runs a tx writes to a DecodedTx, except the ante handler's memo of verified
 * signatures (DecodedTx.verified), which is itself keyed by everything else the verification reads.
 */
export class DecodedTxCache {
  readonly stats = { decoded: 0, hits: 0 };
  private readonly txs: GenerationCache<DecodedTx>;

  constructor(capacity = DECODED_TX_CACHE_MAX_ENTRIES) {
    this.txs = new GenerationCache<DecodedTx>(capacity);
  }

  /** `decode` runs on a copy of the bytes on a miss, so the entry keeps no larger buffer (a socket chunk, a block) alive. */
  get(txBytes: Uint8Array, decode: (bytes: Uint8Array) => DecodedTx): DecodedTx {
    if (txBytes.length > DECODED_TX_CACHE_MAX_TX_BYTES) {
      this.stats.decoded++;
      return decode(txBytes);
    }
    const key = Buffer.from(txBytes.buffer, txBytes.byteOffset, txBytes.length).toString("latin1");
    const hit = this.txs.get(key);
    if (hit !== undefined) {
      this.stats.hits++;
      return hit;
    }
    this.stats.decoded++;
    const tx = decode(Buffer.from(txBytes));
    this.txs.set(key, tx);
    return tx;
  }

  get size(): number {
    return this.txs.size;
  }
}
