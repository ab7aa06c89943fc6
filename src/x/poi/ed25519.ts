/**
 * ed25519 verification of vote-extension signatures, with CometBFT's rules (ZIP-215, as its
 * curve25519-voi verifier and @noble/curves' default use), fast.
 *
 * OpenSSL (node:crypto) verifies in native code, ~20x faster than @noble/curves, but with RFC 8032's
 * cofactorless equation and canonical R, so it may refuse a crafted signature that ZIP-215 accepts.
 * It never accepts one that ZIP-215 refuses: OpenSSL accepts only when S < L and encode(S·B − k·A)
 * equals the R bytes, with k hashed from the same R, A and message bytes; then S·B = R + k·A, so the
 * cofactored ZIP-215 equation [8]S·B = [8]R + [8]k·A holds too. So an OpenSSL "yes" is the answer,
 * and on "no" (or anything it cannot parse) @noble/curves decides. The result is always exactly
 * @noble/curves' (test/ed25519.test.ts checks both ways on valid and malformed input); only the
 * time changes: honest votes never reach the slow path.
 */
import * as nodeCrypto from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { GenerationCache } from "../../util/gen-cache";

/** SubjectPublicKeyInfo prefix of a raw 32-byte Ed25519 key (RFC 8410). */
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** Imported keys of the validators seen (a few hundred at most in a real set); null: OpenSSL refused the bytes. */
const keys = new GenerationCache<nodeCrypto.KeyObject | null>(4096);

function nativeKey(pubkey: Uint8Array): nodeCrypto.KeyObject | null {
  const id = Buffer.from(pubkey.buffer, pubkey.byteOffset, pubkey.length).toString("latin1");
  let key = keys.get(id);
  if (key === undefined) {
    try {
      key = nodeCrypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, pubkey]), format: "der", type: "spki" });
    } catch {
      key = null;
    }
    keys.set(id, key);
  }
  return key;
}

/** OpenSSL's verdict alone (true only for a signature that ZIP-215 accepts too); never throws. */
export function verifyEd25519Native(signature: Uint8Array, message: Uint8Array, pubkey: Uint8Array): boolean {
  if (signature.length !== 64 || pubkey.length !== 32) return false;
  try {
    const key = nativeKey(pubkey);
    return key !== null && nodeCrypto.verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** @noble/curves' verdict (ZIP-215), the reference; never throws. */
export function verifyEd25519Noble(signature: Uint8Array, message: Uint8Array, pubkey: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, pubkey);
  } catch {
    return false;
  }
}

/** Signatures that verified; an entry is a 32-byte hash, so the bound keeps it under a megabyte. */
export const ED25519_VERIFIED_MAX_ENTRIES = 8192;

/**
 * Signatures that verified, by a hash of (key, signature, message). A block's aggregate of vote
 * extensions is checked in ProcessProposal and again in FinalizeBlock (and the proposer built it in
 * PrepareProposal), so each vote is verified once per node. Consensus-safe as x/auth's
 * SigVerifyCache: verification is a pure function of exactly these bytes (key and signature have
 * fixed lengths, so no other split of the same bytes hashes alike), and only successes are kept.
 */
const verified = new GenerationCache<true>(ED25519_VERIFIED_MAX_ENTRIES);
/** Counters for tests and benchmarks. */
export const ed25519Stats = { verified: 0, hits: 0, get cached(): number { return verified.size; } };

/** ZIP-215 ed25519 verification: OpenSSL's yes, else @noble/curves' answer. Never throws. */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, pubkey: Uint8Array): boolean {
  const id = signature.length === 64 && pubkey.length === 32
    ? nodeCrypto.createHash("sha256").update(pubkey).update(signature).update(message).digest("binary")
    : undefined;
  if (id !== undefined && verified.has(id)) {
    ed25519Stats.hits++;
    return true;
  }
  ed25519Stats.verified++;
  const ok = verifyEd25519Native(signature, message, pubkey) || verifyEd25519Noble(signature, message, pubkey);
  if (ok && id !== undefined) verified.set(id, true);
  return ok;
}
