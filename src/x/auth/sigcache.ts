import { createHash } from "node:crypto";
import { GenerationCache } from "../../util/gen-cache";
import { verifySecp256k1 } from "./crypto";

/** Verified signatures remembered; a MsgSend entry costs ~150 bytes, so ~10 MB at the bound. */
export const SIG_CACHE_MAX_ENTRIES = 65_536;

/**
 * Remembers which (sign bytes, public key, signature) triples verified, so a tx's signature is
 * verified once per node: in CheckTx, and not again in FinalizeBlock or in the Recheck after a commit.
 *
 * Consensus-safe: the key is a hash of the exact inputs of the verification, and the sign bytes
 * are the SignDoc, which holds the chain id and the signer's account number besides the tx body
 * and auth info. A hit therefore stands for a verification of exactly these inputs that returned
 * true, and verification is a pure function of its inputs, so re-verifying would return true again.
 * Only successes are stored; a miss (first sight, eviction, a restarted node) just verifies. The
 * cache can make a node faster, never change a result. Lengths are hashed in too, so no other split
 * of the same bytes between key, signature and message can hit an entry.
 */
export class SigVerifyCache {
  /** Counters for tests and benchmarks: real verifications run, and hits that skipped one. */
  readonly stats = { verified: 0, hits: 0 };
  private readonly verified: GenerationCache<true>;

  constructor(capacity = SIG_CACHE_MAX_ENTRIES, private readonly verifyFn = verifySecp256k1) {
    this.verified = new GenerationCache<true>(capacity);
  }

  verify(pubkey: Uint8Array, signBytes: Uint8Array, signature: Uint8Array): boolean {
    const key = cacheKey(pubkey, signBytes, signature);
    if (this.verified.has(key)) {
      this.stats.hits++;
      return true;
    }
    this.stats.verified++;
    const ok = this.verifyFn(pubkey, signBytes, signature);
    if (ok) this.verified.set(key, true);
    return ok;
  }

  /** Entries held; never more than the capacity. */
  get size(): number {
    return this.verified.size;
  }
}

function cacheKey(pubkey: Uint8Array, signBytes: Uint8Array, signature: Uint8Array): string {
  const lengths = Buffer.allocUnsafe(12);
  lengths.writeUInt32BE(pubkey.length, 0);
  lengths.writeUInt32BE(signature.length, 4);
  lengths.writeUInt32BE(signBytes.length, 8);
  return createHash("sha256").update(lengths).update(pubkey).update(signature).update(signBytes).digest("binary");
}
