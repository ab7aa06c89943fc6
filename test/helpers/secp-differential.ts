/**
 * The seeded secp256k1 differential of test/auth-crypto.test.ts: for each case a fresh key and
 * message, a valid signature and ~22 mutations, each checked by verifySecp256k1Native (OpenSSL),
 * verifySecp256k1Noble (@noble/curves) and, where its addon loads, verifySecp256k1Libsecp. The test
 * runs the cases in chunks on worker threads (secp-differential-worker.ts) and merges the stats.
 */
import { strict as assert } from "assert";
import * as nodeCrypto from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { Secp256k1 } from "@cosmjs/crypto";
import { libsecp256k1Available, verifySecp256k1Libsecp, verifySecp256k1Native, verifySecp256k1Noble } from "../../src/x/auth/crypto";

/** libsecp256k1 joins the comparisons where its native addon loads (the `secp256k1` package). */
export const LIBSECP = libsecp256k1Available();

const CURVE = secp256k1.Point.CURVE();
export const N: bigint = CURVE.n;
export const P: bigint = CURVE.p;

/** mulberry32: tiny seeded deterministic PRNG (32-bit state). */
export function makePrng(seed: number) {
  let a = seed >>> 0;
  const next32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return {
    next32,
    int(maxExclusive: number): number {
      return next32() % maxExclusive;
    },
    bytes(len: number): Uint8Array {
      const out = new Uint8Array(len);
      for (let i = 0; i < len; i++) out[i] = next32() & 0xff;
      return out;
    },
  };
}
export type Prng = ReturnType<typeof makePrng>;

export function bytesToBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt("0x" + Buffer.from(b).toString("hex"));
}
export function bigTo32(x: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(x.toString(16).padStart(64, "0"), "hex"));
}
function modpow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}
/** Independent on-curve test for x: y^2 = x^3 + 7 has a solution mod p (Euler's criterion). */
export function xIsOnCurve(x: bigint): boolean {
  if (x >= P) return false;
  const rhs = (modpow(x, 3n, P) + 7n) % P;
  return rhs === 0n || modpow(rhs, (P - 1n) / 2n, P) === 1n;
}
export function randomSecretKey(rng: Prng): Uint8Array {
  for (;;) {
    const sk = rng.bytes(32);
    const k = bytesToBig(sk);
    if (k > 0n && k < N) return sk;
  }
}
export function withSig(sig: Uint8Array, r: bigint | null, s: bigint | null): Uint8Array {
  const out = Uint8Array.from(sig);
  if (r !== null) out.set(bigTo32(r), 0);
  if (s !== null) out.set(bigTo32(s), 32);
  return out;
}
export function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const out = Uint8Array.from(b);
  out[bit >> 3] ^= 1 << (bit & 7);
  return out;
}

/** Cases below this index also check that raw OpenSSL (no low-S rule) accepts the high-S form. */
export const OPENSSL_HIGH_S_CASES = 200;

/** A chunk of the differential: cases from..to-1 (global case numbers), drawn from its own seed. */
export interface DifferentialChunk { seed: number; from: number; to: number }

export interface LabelStats { total: number; nativeTrue: number; nobleTrue: number }

export interface DifferentialResult {
  stats: Array<[string, LabelStats]>;
  disagreements: number;
  unexpected: number;
  libsecpTrue: number;
  totalChecks: number;
  openSslAcceptedHighS: number;
  openSslHighSChecked: number;
  nobleLaxAcceptedHighS: number;
  highSCases: number;
  failures: string[];
}

export function runDifferentialChunk({ seed, from, to }: DifferentialChunk): DifferentialResult {
  const rng = makePrng(seed);
  const stats = new Map<string, LabelStats>();
  let disagreements = 0;
  let unexpected = 0;
  let libsecpTrue = 0;
  let totalChecks = 0;
  let openSslAcceptedHighS = 0;
  let nobleLaxAcceptedHighS = 0;
  let highSCases = 0;
  let openSslHighSChecked = 0;
  const failures: string[] = [];

  const check = (label: string, caseNo: number, pub: Uint8Array, msg: Uint8Array, sig: Uint8Array, expected: boolean) => {
    let native: boolean;
    let noble: boolean;
    try {
      native = verifySecp256k1Native(pub, msg, sig);
    } catch (e) {
      failures.push(`case ${caseNo} ${label}: native threw ${String(e)}`);
      native = !expected; // count as wrong
    }
    try {
      noble = verifySecp256k1Noble(pub, msg, sig);
    } catch (e) {
      failures.push(`case ${caseNo} ${label}: noble threw ${String(e)}`);
      noble = !expected;
    }
    let libsecp = native;
    if (LIBSECP) {
      try {
        libsecp = verifySecp256k1Libsecp(pub, msg, sig);
      } catch (e) {
        failures.push(`case ${caseNo} ${label}: libsecp256k1 threw ${String(e)}`);
        libsecp = !expected;
      }
      if (libsecp) libsecpTrue++;
      if (libsecp !== native || libsecp !== noble) {
        disagreements++;
        if (failures.length < 20) failures.push(`case ${caseNo} ${label}: libsecp256k1=${libsecp} native=${native} noble=${noble}`);
      }
      if (libsecp !== expected) {
        unexpected++;
        if (failures.length < 20) failures.push(`case ${caseNo} ${label}: expected ${expected}, libsecp256k1=${libsecp}`);
      }
    }
    totalChecks++;
    const st = stats.get(label) ?? { total: 0, nativeTrue: 0, nobleTrue: 0 };
    st.total++;
    if (native) st.nativeTrue++;
    if (noble) st.nobleTrue++;
    stats.set(label, st);
    if (native !== noble) {
      disagreements++;
      if (failures.length < 20) failures.push(`case ${caseNo} ${label}: native=${native} noble=${noble}`);
    }
    if (native !== expected || noble !== expected) {
      unexpected++;
      if (failures.length < 20) failures.push(`case ${caseNo} ${label}: expected ${expected}, native=${native} noble=${noble}`);
    }
  };

  // A few x coordinates >= p whose (x mod p) IS a valid curve x: must be rejected, not reduced.
  const xAbovePWithValidResidue: bigint[] = [];
  for (let d = 1n; xAbovePWithValidResidue.length < 4 && P + d < 1n << 256n; d++) {
    if (xIsOnCurve(d)) xAbovePWithValidResidue.push(P + d);
  }
  assert.ok(xAbovePWithValidResidue.length > 0);

  for (let i = from; i < to; i++) {
    const sk = randomSecretKey(rng);
    const pub = secp256k1.getPublicKey(sk, true);
    const msgLen = i % 50 === 0 ? 0 : rng.int(400);
    const msg = rng.bytes(msgLen);
    // Alternate signers: noble (sha256 prehash, low-S) and CosmJS (explicit sha256).
    let sig: Uint8Array;
    if (i % 2 === 0) {
      sig = secp256k1.sign(msg, sk);
    } else {
      sig = Secp256k1.createSignature(sha256(msg), sk).toFixedLength().slice(0, 64);
    }
    assert.equal(sig.length, 64);
    const r = bytesToBig(sig.subarray(0, 32));
    const s = bytesToBig(sig.subarray(32));
    assert.ok(s <= N >> 1n, "signers must produce low-S signatures");

    check("valid", i, pub, msg, sig, true);
    check("sig bit flip", i, pub, msg, flipBit(sig, rng.int(512)), false);
    if (msgLen > 0) check("msg bit flip", i, pub, flipBit(msg, rng.int(msgLen * 8)), sig, false);
    check("msg extra byte", i, pub, Uint8Array.from([...msg, rng.int(256)]), sig, false);
    // Bit flip anywhere in the pubkey (prefix byte included: 0x02<->0x03 negates the point).
    check("pubkey bit flip", i, flipBit(pub, rng.int(264)), msg, sig, false);
    const negated = Uint8Array.from(pub);
    negated[0] ^= 0x01;
    check("pubkey negated (0x02<->0x03)", i, negated, msg, sig, false);

    // High-S (malleated) form: mathematically valid, must be rejected.
    const high = withSig(sig, null, N - s);
    highSCases++;
    check("high-S s'=n-s", i, pub, msg, high, false);
    if (secp256k1.verify(high, msg, pub, { lowS: false })) nobleLaxAcceptedHighS++;
    if (i < OPENSSL_HIGH_S_CASES) {
      openSslHighSChecked++;
      const key = nodeCrypto.createPublicKey({
        key: Buffer.concat([
          Buffer.from("3036301006072a8648ce3d020106052b8104000a032200", "hex"),
          pub,
        ]),
        format: "der",
        type: "spki",
      });
      if (nodeCrypto.verify("sha256", msg, { key, dsaEncoding: "ieee-p1363" }, high)) openSslAcceptedHighS++;
    }

    check("r = 0", i, pub, msg, withSig(sig, 0n, null), false);
    check("s = 0", i, pub, msg, withSig(sig, null, 0n), false);
    check("s = n", i, pub, msg, withSig(sig, null, N), false);
    check("r = n", i, pub, msg, withSig(sig, N, null), false);
    if (r + N < 1n << 256n) check("r = r + n", i, pub, msg, withSig(sig, r + N, null), false);
    check("s = n/2 + 1", i, pub, msg, withSig(sig, null, (N >> 1n) + 1n), false);
    check("sig 63 bytes", i, pub, msg, sig.slice(0, 63), false);
    check("sig 65 bytes", i, pub, msg, Uint8Array.from([...sig, 0x01]), false);
    check("sig 65 bytes (recovered-style prefix)", i, pub, msg, Uint8Array.from([0x00, ...sig]), false);
    check("sig empty", i, pub, msg, new Uint8Array(0), false);

    const p04 = Uint8Array.from(pub);
    p04[0] = 0x04;
    check("pubkey prefix 0x04", i, p04, msg, sig, false);
    const p05 = Uint8Array.from(pub);
    p05[0] = 0x05;
    check("pubkey prefix 0x05", i, p05, msg, sig, false);
    check("pubkey uncompressed 65 bytes", i, secp256k1.getPublicKey(sk, false), msg, sig, false);
    check("pubkey 32 bytes", i, pub.slice(0, 32), msg, sig, false);

    // Not on the curve: x^3+7 is a quadratic non-residue (checked independently of noble/OpenSSL).
    let x: bigint;
    do x = bytesToBig(rng.bytes(32));
    while (xIsOnCurve(x) || x >= P);
    const offCurve = new Uint8Array(33);
    offCurve[0] = 0x02 | rng.int(2);
    offCurve.set(bigTo32(x), 1);
    check("pubkey not on curve", i, offCurve, msg, sig, false);
    if (i < 64) {
      const xp = xAbovePWithValidResidue[i % xAbovePWithValidResidue.length];
      const above = new Uint8Array(33);
      above[0] = 0x02;
      above.set(bigTo32(xp), 1);
      check("pubkey x >= p", i, above, msg, sig, false);
    }
    // Signature made by a different key (valid point, wrong signer).
    if (i % 4 === 0) {
      const other = secp256k1.getPublicKey(randomSecretKey(rng), true);
      check("wrong (valid) pubkey", i, other, msg, sig, false);
    }
  }

  return {
    stats: [...stats.entries()], disagreements, unexpected, libsecpTrue, totalChecks,
    openSslAcceptedHighS, openSslHighSChecked, nobleLaxAcceptedHighS, highSCases, failures,
  };
}

/** Sums chunk results (labels in first-seen order; failures concatenated, at most 20). */
export function mergeDifferential(parts: DifferentialResult[]): DifferentialResult {
  const stats = new Map<string, LabelStats>();
  for (const p of parts) {
    for (const [label, s] of p.stats) {
      const m = stats.get(label) ?? { total: 0, nativeTrue: 0, nobleTrue: 0 };
      stats.set(label, { total: m.total + s.total, nativeTrue: m.nativeTrue + s.nativeTrue, nobleTrue: m.nobleTrue + s.nobleTrue });
    }
  }
  const sum = (k: Exclude<keyof DifferentialResult, "stats" | "failures">) => parts.reduce((n, p) => n + p[k], 0);
  return {
    stats: [...stats.entries()], disagreements: sum("disagreements"), unexpected: sum("unexpected"), libsecpTrue: sum("libsecpTrue"),
    totalChecks: sum("totalChecks"), openSslAcceptedHighS: sum("openSslAcceptedHighS"), openSslHighSChecked: sum("openSslHighSChecked"),
    nobleLaxAcceptedHighS: sum("nobleLaxAcceptedHighS"), highSCases: sum("highSCases"), failures: parts.flatMap((p) => p.failures).slice(0, 20),
  };
}
