/**
 * Merkle proofs for the poi-chain state tree (see README.md in this folder), verifiable by a client
 * that knows nothing but a trusted app hash. This file has no LevelDB or Node-only dependency, so
 * light clients and browsers can import it.
 *
 * Hashing (shared with smt.ts, which uses node:crypto for speed; the two must agree byte for byte):
 *   keyPath(key)        = sha256(key)                                      256 bits, MSB first
 *   leafHash(path, v)   = sha256(0x00 || path(32) || sha256(v)(32))
 *   internalHash(l, r)  = sha256(0x01 || l(32) || r(32))
 *   empty subtree       = 32 zero bytes
 *
 * Proof encoding (all integers big-endian):
 *   kind     u8    0 = the path ends in an empty subtree            (non-existence)
 *                  1 = the path ends in the leaf of the proven key   (existence)
 *                  2 = the path ends in the leaf of another key      (non-existence)
 *   depth    u16   number of siblings, 0..256 (the depth of the terminal)
 *   bitmap   ceil(depth/8) bytes; bit i (MSB first) set = sibling i is non-empty; padding bits are 0
 *   siblings 32 bytes for each non-empty sibling, root to leaf order
 *   [kind 2] otherPath(32) || otherValueHash(32): the leaf found where the key's leaf would be
 * Empty siblings are omitted (they are all zeros), so a proof in a tree of n random keys is
 * about 3 + log2(n)/8 + 32·log2(n) bytes.
 */
import { sha256 } from "@noble/hashes/sha2.js";

export const HASH_LENGTH = 32;
/** Hash of the empty tree / an empty subtree: also the app hash of a store with no keys. */
export const EMPTY_HASH: Uint8Array = new Uint8Array(HASH_LENGTH);
/** A leaf can be at most at depth 256: two distinct paths differ in some bit 0..255. */
export const MAX_DEPTH = 256;

export type ProofTerminal =
  | { kind: "empty" }
  | { kind: "leaf" } // the proven key's own leaf; its value is supplied to the verifier
  | { kind: "other"; path: Uint8Array; valueHash: Uint8Array };

export interface Proof {
  /** Sibling hashes from the root down to the terminal; EMPTY_HASH for empty siblings. */
  siblings: Uint8Array[];
  terminal: ProofTerminal;
}

const KIND_EMPTY = 0;
const KIND_LEAF = 1;
const KIND_OTHER = 2;

export function keyPath(key: Uint8Array): Uint8Array {
  return sha256(key);
}

/** Domain tags of node hashes: a leaf's hash can never equal an internal node's. */
export const LEAF_TAG = 0x00;
export const INTERNAL_TAG = 0x01;

/** sha256(tag || a(32) || b(32)): the hash of every tree node. */
export function taggedHash(tag: number, a: Uint8Array, b: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + 2 * HASH_LENGTH);
  buf[0] = tag;
  buf.set(a, 1);
  buf.set(b, 1 + HASH_LENGTH);
  return sha256(buf);
}

export function leafHash(path: Uint8Array, valueHash: Uint8Array): Uint8Array {
  return taggedHash(LEAF_TAG, path, valueHash);
}

export function internalHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return taggedHash(INTERNAL_TAG, left, right);
}

/** Bit `depth` of a 256-bit path, MSB first: 0 = left, 1 = right. */
export function pathBit(path: Uint8Array, depth: number): number {
  return (path[depth >> 3] >> (7 - (depth & 7))) & 1;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isEmptyHash(h: Uint8Array): boolean {
  return bytesEqual(h, EMPTY_HASH);
}

export function encodeProof(proof: Proof): Uint8Array {
  const depth = proof.siblings.length;
  if (depth > MAX_DEPTH) throw new Error(`proof depth ${depth} exceeds ${MAX_DEPTH}`);
  const present = proof.siblings.filter((s) => !isEmptyHash(s));
  const bitmapLen = (depth + 7) >> 3;
  const tail = proof.terminal.kind === "other" ? 2 * HASH_LENGTH : 0;
  const out = new Uint8Array(3 + bitmapLen + present.length * HASH_LENGTH + tail);
  out[0] = proof.terminal.kind === "empty" ? KIND_EMPTY : proof.terminal.kind === "leaf" ? KIND_LEAF : KIND_OTHER;
  out[1] = depth >> 8;
  out[2] = depth & 0xff;
  let off = 3 + bitmapLen;
  proof.siblings.forEach((s, i) => {
    if (s.length !== HASH_LENGTH) throw new Error("sibling hash must be 32 bytes");
    if (isEmptyHash(s)) return;
    out[3 + (i >> 3)] |= 0x80 >> (i & 7);
    out.set(s, off);
    off += HASH_LENGTH;
  });
  if (proof.terminal.kind === "other") {
    out.set(proof.terminal.path, off);
    out.set(proof.terminal.valueHash, off + HASH_LENGTH);
  }
  return out;
}

/** Strict decoder: throws on any malformed or non-canonical encoding (wrong length, stray bits, zero siblings). */
export function decodeProof(bytes: Uint8Array): Proof {
  if (bytes.length < 3) throw new Error("proof too short");
  const kind = bytes[0];
  if (kind !== KIND_EMPTY && kind !== KIND_LEAF && kind !== KIND_OTHER) throw new Error(`unknown proof kind ${kind}`);
  const depth = (bytes[1] << 8) | bytes[2];
  if (depth > MAX_DEPTH) throw new Error(`proof depth ${depth} exceeds ${MAX_DEPTH}`);
  const bitmapLen = (depth + 7) >> 3;
  if (bytes.length < 3 + bitmapLen) throw new Error("proof truncated");
  let count = 0;
  for (let i = 0; i < bitmapLen * 8; i++) {
    const set = (bytes[3 + (i >> 3)] >> (7 - (i & 7))) & 1;
    if (set && i >= depth) throw new Error("proof bitmap has padding bits set");
    count += set;
  }
  const tail = kind === KIND_OTHER ? 2 * HASH_LENGTH : 0;
  if (bytes.length !== 3 + bitmapLen + count * HASH_LENGTH + tail) throw new Error("proof length mismatch");
  let off = 3 + bitmapLen;
  const siblings: Uint8Array[] = [];
  for (let i = 0; i < depth; i++) {
    if ((bytes[3 + (i >> 3)] >> (7 - (i & 7))) & 1) {
      const s = bytes.slice(off, off + HASH_LENGTH);
      if (isEmptyHash(s)) throw new Error("non-empty sibling encoded as zeros");
      siblings.push(s);
      off += HASH_LENGTH;
    } else {
      siblings.push(EMPTY_HASH);
    }
  }
  let terminal: ProofTerminal;
  if (kind === KIND_EMPTY) terminal = { kind: "empty" };
  else if (kind === KIND_LEAF) terminal = { kind: "leaf" };
  else terminal = { kind: "other", path: bytes.slice(off, off + HASH_LENGTH), valueHash: bytes.slice(off + HASH_LENGTH, off + 2 * HASH_LENGTH) };
  return { siblings, terminal };
}

/**
 * Checks that under `root`, `key` holds `value` (existence) or, with `value` undefined, that `key`
 * is absent (non-existence). Never throws: a malformed proof is simply not valid.
 */
export function verifyProof(root: Uint8Array, key: Uint8Array, value: Uint8Array | undefined, proofBytes: Uint8Array): boolean {
  let proof: Proof;
  try {
    proof = decodeProof(proofBytes);
  } catch {
    return false;
  }
  if (root.length !== HASH_LENGTH) return false;
  const path = keyPath(key);
  const depth = proof.siblings.length;
  let node: Uint8Array;
  const t = proof.terminal;
  if (value !== undefined) {
    if (t.kind !== "leaf") return false;
    node = leafHash(path, sha256(value));
  } else if (t.kind === "empty") {
    node = EMPTY_HASH;
  } else if (t.kind === "other") {
    // The other leaf must sit where our key would be: same first `depth` bits, different path.
    if (bytesEqual(t.path, path)) return false;
    for (let i = 0; i < depth; i++) if (pathBit(t.path, i) !== pathBit(path, i)) return false;
    node = leafHash(t.path, t.valueHash);
  } else {
    return false; // an existence proof offered as evidence of absence
  }
  for (let i = depth - 1; i >= 0; i--) {
    node = pathBit(path, i) === 0 ? internalHash(node, proof.siblings[i]) : internalHash(proof.siblings[i], node);
  }
  return bytesEqual(node, root);
}
