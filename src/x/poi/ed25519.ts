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

/** ZIP-215 ed25519 verification: OpenSSL's yes, else @noble/curves' answer. Never throws. */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, pubkey: Uint8Array): boolean {
  return verifyEd25519Native(signature, message, pubkey) || verifyEd25519Noble(signature, message, pubkey);
}
