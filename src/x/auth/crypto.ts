/**
 * secp256k1 signature verification and address derivation for the auth module,
 * matching Cosmos SDK SIGN_MODE_DIRECT semantics:
 *
 *  - the signed message is the protobuf SignDoc bytes; it is hashed with sha256
 *    inside the verify functions (callers pass the raw SignDoc bytes);
 *  - the signature is compact 64-byte r||s (big-endian, 32 bytes each);
 *  - r and s must be in [1, n-1] and s must be "low" (s <= floor(n/2)) — high-S
 *    (malleable) signatures are rejected, as in the Cosmos SDK;
 *  - the public key is a 33-byte compressed point (0x02/0x03 || x);
 *  - the account address is ripemd160(sha256(compressedPubkey)) (20 bytes).
 *
 * The verify functions never throw: any malformed input yields `false`.
 */
import * as nodeCrypto from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { GenerationCache } from "../../util/gen-cache";

export const SECP256K1_PUBKEY_LENGTH = 33;
export const SECP256K1_SIGNATURE_LENGTH = 64;
export const ADDRESS_LENGTH = 20;

/** Curve order n and floor(n/2), as 32-byte big-endian arrays for fast comparisons. */
const CURVE_N: bigint = secp256k1.Point.CURVE().n;
const N_BYTES = bigintTo32Bytes(CURVE_N);
const HALF_N_BYTES = bigintTo32Bytes(CURVE_N >> 1n);

function bigintTo32Bytes(x: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(x.toString(16).padStart(64, "0"), "hex"));
}

/** Compare buf[off..off+32) with a 32-byte constant, big-endian. Returns <0, 0, >0. */
function cmp32(buf: Uint8Array, off: number, c: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const d = buf[off + i] - c[i];
    if (d !== 0) return d;
  }
  return 0;
}

function isZero32(buf: Uint8Array, off: number): boolean {
  for (let i = 0; i < 32; i++) if (buf[off + i] !== 0) return false;
  return true;
}

function isCompressedPubkeyShape(pubkey: unknown): pubkey is Uint8Array {
  return (
    pubkey instanceof Uint8Array &&
    pubkey.length === SECP256K1_PUBKEY_LENGTH &&
    (pubkey[0] === 0x02 || pubkey[0] === 0x03)
  );
}

/**
 * Structural checks on a compact signature shared by both verifiers' semantics:
 * 64 bytes, 1 <= r < n, 1 <= s <= floor(n/2) (low-S).
 */
function isCanonicalLowSSignature(sig: unknown): sig is Uint8Array {
  if (!(sig instanceof Uint8Array) || sig.length !== SECP256K1_SIGNATURE_LENGTH) return false;
  if (isZero32(sig, 0) || cmp32(sig, 0, N_BYTES) >= 0) return false; // r in [1, n-1]
  if (isZero32(sig, 32) || cmp32(sig, 32, HALF_N_BYTES) > 0) return false; // s in [1, n/2]
  return true;
}

/** Addresses of the keys in use (the ante handler derives one per signer per tx), bounded. */
const addressCache = new GenerationCache<Uint8Array>(20_000);

/** Cosmos account address: ripemd160(sha256(compressed pubkey)), 20 bytes. */
export function addressFromPubkey(pubkey33: Uint8Array): Uint8Array {
  if (!(pubkey33 instanceof Uint8Array)) {
    throw new Error("addressFromPubkey: pubkey must be a Uint8Array");
  }
  if (pubkey33.length !== SECP256K1_PUBKEY_LENGTH) {
    throw new Error(
      `addressFromPubkey: invalid secp256k1 pubkey length ${pubkey33.length}, expected 33-byte compressed key`,
    );
  }
  if (pubkey33[0] !== 0x02 && pubkey33[0] !== 0x03) {
    throw new Error(
      `addressFromPubkey: invalid secp256k1 pubkey prefix 0x${pubkey33[0].toString(16).padStart(2, "0")}, expected 0x02 or 0x03 (compressed)`,
    );
  }
  const id = Buffer.from(pubkey33.buffer, pubkey33.byteOffset, pubkey33.length).toString("latin1");
  let address = addressCache.get(id);
  if (address === undefined) {
    address = ripemd160(sha256(pubkey33));
    addressCache.set(id, address);
  }
  return Uint8Array.from(address); // a copy: callers may keep or edit it
}

// ---------------------------------------------------------------------------
// Native (node:crypto / OpenSSL) verification
// ---------------------------------------------------------------------------

/**
 * DER prefix of a SubjectPublicKeyInfo for an EC key on secp256k1 whose
 * BIT STRING holds a 33-byte compressed point:
 *   SEQUENCE(0x36) { SEQUENCE(0x10) { OID ecPublicKey 1.2.840.10045.2.1,
 *                                     OID secp256k1  1.3.132.0.10 },
 *                    BIT STRING(0x22) 0x00 <33 bytes> }
 * OpenSSL decompresses the point on import and rejects x >= p or x values
 * that are not on the curve.
 */
const SPKI_COMPRESSED_PREFIX = Buffer.from("3036301006072a8648ce3d020106052b8104000a032200", "hex");

type VerifyKey = { key: nodeCrypto.KeyObject; dsaEncoding: "ieee-p1363" };

/** Max number of imported public keys kept; oldest-used entries are evicted first. */
export const NATIVE_KEY_CACHE_MAX = 10_000;

/**
 * pubkey (latin1 string of the 33 bytes) -> verify options with imported KeyObject,
 * or null if the bytes are not a valid point (negative results are cached too, so
 * repeatedly submitted garbage keys do not re-run the import).
 * Map iteration order is insertion order; hits are re-inserted so the first key is
 * always the least recently used one.
 */
const nativeKeyCache = new Map<string, VerifyKey | null>();

function importNativeKey(pubkey33: Uint8Array): VerifyKey | null {
  try {
    const der = Buffer.concat([SPKI_COMPRESSED_PREFIX, pubkey33]);
    const key = nodeCrypto.createPublicKey({ key: der, format: "der", type: "spki" });
    if (key.asymmetricKeyType !== "ec") return null;
    return { key, dsaEncoding: "ieee-p1363" };
  } catch {
    return null;
  }
}

function getNativeKey(pubkey33: Uint8Array): VerifyKey | null {
  const id = Buffer.from(pubkey33.buffer, pubkey33.byteOffset, pubkey33.length).toString("latin1");
  const hit = nativeKeyCache.get(id);
  if (hit !== undefined) {
    // LRU touch: move to the most-recently-used end.
    nativeKeyCache.delete(id);
    nativeKeyCache.set(id, hit);
    return hit;
  }
  const imported = importNativeKey(pubkey33);
  if (nativeKeyCache.size >= NATIVE_KEY_CACHE_MAX) {
    const oldest = nativeKeyCache.keys().next();
    if (!oldest.done) nativeKeyCache.delete(oldest.value);
  }
  nativeKeyCache.set(id, imported);
  return imported;
}

/** Drop all cached native public keys (used by benchmarks/tests for cold-path measurements). */
export function clearNativeKeyCache(): void {
  nativeKeyCache.clear();
}

/** Current number of cached native public keys (including cached invalid keys). */
export function nativeKeyCacheSize(): number {
  return nativeKeyCache.size;
}

/**
 * Verify a Cosmos secp256k1 signature with node:crypto (OpenSSL).
 * `message` is the raw signed bytes (SignDoc); it is hashed with sha256 here.
 * Enforces what OpenSSL does not: exact lengths, compressed 0x02/0x03 pubkey,
 * r in [1, n-1] and low-S (s in [1, n/2]) — OpenSSL alone accepts high-S.
 * Never throws.
 */
export function verifySecp256k1Native(pubkey33: Uint8Array, message: Uint8Array, sig64: Uint8Array): boolean {
  try {
    if (!isCompressedPubkeyShape(pubkey33)) return false;
    if (!(message instanceof Uint8Array)) return false;
    if (!isCanonicalLowSSignature(sig64)) return false;
    const key = getNativeKey(pubkey33);
    if (key === null) return false;
    return nodeCrypto.verify("sha256", message, key, sig64);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Pure-JS (@noble/curves) verification
// ---------------------------------------------------------------------------

/**
 * Verify a Cosmos secp256k1 signature with @noble/curves (pure JS).
 * Same semantics as verifySecp256k1Native: sha256 prehash of `message`, compact
 * 64-byte signature, r,s in [1, n-1], low-S enforced, 33-byte compressed pubkey
 * only (noble would otherwise also accept 65-byte uncompressed keys). Never throws.
 */
export function verifySecp256k1Noble(pubkey33: Uint8Array, message: Uint8Array, sig64: Uint8Array): boolean {
  try {
    if (!isCompressedPubkeyShape(pubkey33)) return false;
    if (!(message instanceof Uint8Array)) return false;
    if (!(sig64 instanceof Uint8Array) || sig64.length !== SECP256K1_SIGNATURE_LENGTH) return false;
    return secp256k1.verify(sig64, message, pubkey33, { prehash: true, lowS: true, format: "compact" });
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// libsecp256k1 (Bitcoin Core's library, native addon of the `secp256k1` package)
// ---------------------------------------------------------------------------

type EcdsaVerify = (sig: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array) => boolean;
interface Libsecp256k1 {
  verify: EcdsaVerify;
  /** The 65-byte uncompressed form of a compressed key; throws if it is not a point on the curve. */
  uncompress: (pubkey33: Uint8Array) => Uint8Array;
}

/**
 * The `secp256k1` package's native binding, if it loads: it ships prebuilt binaries (linux-x64,
 * darwin-arm64, win32-x64), so it needs no install script. "secp256k1/bindings" is the native
 * addon only; the package's main entry would silently fall back to pure-JS `elliptic`.
 */
function loadLibsecp256k1(): Libsecp256k1 | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require("secp256k1/bindings") as { ecdsaVerify: EcdsaVerify; publicKeyConvert: (pubkey: Uint8Array, compressed: boolean) => Uint8Array };
    if (typeof lib.ecdsaVerify !== "function" || typeof lib.publicKeyConvert !== "function") return undefined;
    return { verify: lib.ecdsaVerify.bind(lib), uncompress: (pubkey33) => lib.publicKeyConvert(pubkey33, false) };
  } catch {
    return undefined;
  }
}

const libsecp = loadLibsecp256k1();

/**
 * Signers' keys in uncompressed form, by compressed key. libsecp256k1 verifies about 14% faster
 * from the uncompressed point than from the compressed one, which it decompresses (a square root)
 * on every call. It is the same point, so the result is the same; only keys on the curve get here.
 */
const uncompressedKeys = new GenerationCache<Uint8Array>(20_000);

function uncompressedKey(lib: Libsecp256k1, pubkey33: Uint8Array): Uint8Array {
  const id = Buffer.from(pubkey33.buffer, pubkey33.byteOffset, pubkey33.length).toString("latin1");
  let full = uncompressedKeys.get(id);
  if (full === undefined) {
    full = lib.uncompress(pubkey33);
    uncompressedKeys.set(id, full);
  }
  return full;
}

/** Whether libsecp256k1 loaded on this machine (otherwise verification uses OpenSSL). */
export function libsecp256k1Available(): boolean {
  return libsecp !== undefined;
}

/**
 * Verify with libsecp256k1. Same semantics as the other two: sha256 of `message`, compact 64-byte
 * signature with 1 <= r < n and low S, 33-byte compressed key on the curve. libsecp256k1 itself
 * rejects high S, r or s >= n and keys off the curve; our own checks run first all the same.
 * Returns false (never throws) on any malformed input, and when libsecp256k1 is not available.
 */
export function verifySecp256k1Libsecp(pubkey33: Uint8Array, message: Uint8Array, sig64: Uint8Array): boolean {
  try {
    if (libsecp === undefined) return false;
    if (!isCompressedPubkeyShape(pubkey33)) return false;
    if (!(message instanceof Uint8Array)) return false;
    if (!isCanonicalLowSSignature(sig64)) return false;
    return libsecp.verify(sig64, nodeCrypto.createHash("sha256").update(message).digest(), uncompressedKey(libsecp, pubkey33)) === true;
  } catch {
    return false;
  }
}

/**
 * Default verifier used by the chain's ante handler: libsecp256k1 where its native addon loads
 * (about 4-5x OpenSSL's generic EC code, see `npm run bench -- sigverify`), else OpenSSL through
 * node:crypto with a key cache. All three implementations are tested to agree on valid and
 * malformed/malleated inputs (test/auth-crypto.test.ts), so which one a node uses never changes a
 * result, only its speed; noble stays as the portable reference.
 */
export const verifySecp256k1: (pubkey33: Uint8Array, message: Uint8Array, sig64: Uint8Array) => boolean =
  libsecp ? verifySecp256k1Libsecp : verifySecp256k1Native;
