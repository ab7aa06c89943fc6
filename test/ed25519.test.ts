import { strict as assert } from "assert";
import * as nodeCrypto from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { ED25519_VERIFIED_MAX_ENTRIES, ed25519Stats, verifyEd25519, verifyEd25519Native, verifyEd25519Noble } from "../src/x/poi/ed25519";
import { mulberry32 } from "../src/util/random";

const CURVE = ed25519.Point.CURVE();
const L = CURVE.n;
const P = CURVE.p;

const le32 = (x: bigint) => Uint8Array.from(Buffer.from(x.toString(16).padStart(64, "0"), "hex").reverse());
const fromLe = (b: Uint8Array) => BigInt("0x" + (Buffer.from(b).reverse().toString("hex") || "0"));
const hashScalar = (...parts: Uint8Array[]) => fromLe(nodeCrypto.createHash("sha512").update(Buffer.concat(parts)).digest()) % L;

/** Encodings of small-order points (orders 1, 2, 4, 8) and non-canonical spellings of some. */
const SMALL_ORDER = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
].map((h) => Uint8Array.from(Buffer.from(h, "hex")));

describe("ed25519 vote-extension signatures: OpenSSL first, @noble/curves (ZIP-215) decides refusals", () => {
  const rand = mulberry32(0x5eed25);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  let cases = 0;
  let nativeRefusedNobleAccepted = 0;
  /** The combined verifier must give exactly noble's answer; OpenSSL may only say yes where noble does. */
  const check = (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array, expect?: boolean) => {
    cases++;
    const noble = verifyEd25519Noble(sig, msg, pub);
    const native = verifyEd25519Native(sig, msg, pub);
    const what = `sig ${Buffer.from(sig).toString("hex")} pub ${Buffer.from(pub).toString("hex")} msg ${Buffer.from(msg).toString("hex")}`;
    if (native) assert.equal(noble, true, `OpenSSL accepted what noble refuses: ${what}`);
    if (!native && noble) nativeRefusedNobleAccepted++;
    assert.equal(verifyEd25519(sig, msg, pub), noble, what);
    if (expect !== undefined) assert.equal(noble, expect, what);
  };

  it("agrees on valid signatures and on every one-bit change of signature, message and key", () => {
    for (let i = 0; i < 200; i++) {
      const secret = bytes(32);
      const pub = ed25519.getPublicKey(secret);
      const msg = bytes(1 + Math.floor(rand() * 200));
      const sig = ed25519.sign(msg, secret);
      check(sig, msg, pub, true);
      const flip = (b: Uint8Array) => { const c = Uint8Array.from(b); const j = Math.floor(rand() * c.length * 8); c[j >> 3] ^= 1 << (j & 7); return c; };
      check(flip(sig), msg, pub, false);
      check(sig, flip(msg), pub, false);
      check(sig, msg, flip(pub));
    }
  });

  it("agrees on malformed input: wrong lengths, random bytes, S >= L, small-order and non-canonical keys and R", () => {
    const secret = bytes(32);
    const pub = ed25519.getPublicKey(secret);
    const msg = bytes(40);
    const sig = ed25519.sign(msg, secret);
    for (const n of [0, 1, 31, 33, 63, 65, 128]) {
      check(bytes(n), msg, pub, false);
      check(sig, msg, bytes(n), false);
    }
    for (let i = 0; i < 300; i++) check(bytes(64), bytes(20), bytes(32));
    // S + L: the same S·B, but not a canonical scalar: both refuse
    const s = fromLe(sig.subarray(32));
    if (s + L < 2n ** 256n) check(Uint8Array.from([...sig.subarray(0, 32), ...le32(s + L)]), msg, pub, false);
    for (const so of SMALL_ORDER) {
      check(sig, msg, so);
      check(Uint8Array.from([...so, ...sig.subarray(32)]), msg, pub);
      check(Uint8Array.from([...so, ...new Uint8Array(32)]), msg, so); // R = A = small order, S = 0
    }
    // non-canonical key spelling: y + p for small y
    const y = fromLe(Uint8Array.from(pub).map((b, i) => (i === 31 ? b & 0x7f : b)));
    if (y < 19n) check(sig, msg, le32(y + P));
  });

  it("keeps ZIP-215's acceptance of R with a small-order component, which OpenSSL refuses", () => {
    for (let i = 0; i < 50; i++) {
      const { scalar: a, pointBytes: pub } = ed25519.utils.getExtendedPublicKey(bytes(32));
      const msg = bytes(32);
      const r = (fromLe(bytes(32)) % (L - 1n)) + 1n;
      const torsion = ed25519.Point.fromBytes(SMALL_ORDER[4 + (i % 2)]);
      const R = ed25519.Point.BASE.multiply(r).add(torsion).toBytes();
      const S = (r + hashScalar(R, pub, msg) * a) % L;
      const sig = Uint8Array.from([...R, ...le32(S)]);
      check(sig, msg, pub, true);
      assert.equal(verifyEd25519Native(sig, msg, pub), false, "OpenSSL verifies cofactorless");
    }
    assert.ok(nativeRefusedNobleAccepted >= 50);
    assert.ok(cases > 1000, `${cases} cases`);
  });

  it("verifies a signature once: a repeat is answered from memory; a changed byte or a refusal verifies again; the memory is bounded", () => {
    const priv = bytes(32);
    const pub = ed25519.getPublicKey(priv);
    const msg = bytes(100);
    const sig = ed25519.sign(msg, priv);
    const counts = () => ({ verified: ed25519Stats.verified, hits: ed25519Stats.hits });
    const before = counts();
    assert.equal(verifyEd25519(sig, msg, pub), true);
    assert.equal(verifyEd25519(sig, msg, pub), true);
    assert.deepEqual(counts(), { verified: before.verified + 1, hits: before.hits + 1 });
    // One byte changed anywhere: not the remembered triple, so it is verified (and refused).
    for (const [s, m, p] of [[flip(sig, 0), msg, pub], [flip(sig, 63), msg, pub], [sig, flip(msg, 50), pub], [sig, msg, flip(pub, 5)]]) {
      const c = counts();
      assert.equal(verifyEd25519(s, m, p), false);
      assert.equal(verifyEd25519(s, m, p), false, "a refusal is never remembered");
      assert.deepEqual(counts(), { verified: c.verified + 2, hits: c.hits });
    }
    // Appending to the message moves no bytes between message and signature: still a miss.
    const c = counts();
    assert.equal(verifyEd25519(sig, Uint8Array.from([...msg, 0]), pub), false);
    assert.equal(counts().verified, c.verified + 1);
    // OpenSSL signs the many messages that fill the memory (noble would take seconds).
    const key = nodeCrypto.createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), priv]), format: "der", type: "pkcs8" });
    for (let i = 0; i < ED25519_VERIFIED_MAX_ENTRIES + 100; i++) {
      const m = Uint8Array.from([i & 0xff, i >> 8, 1, 2]);
      assert.equal(verifyEd25519(nodeCrypto.sign(null, m, key), m, pub), true);
      assert.ok(ed25519Stats.cached <= ED25519_VERIFIED_MAX_ENTRIES);
    }
    assert.ok(ed25519Stats.cached >= ED25519_VERIFIED_MAX_ENTRIES / 2);
  });
});

function flip(b: Uint8Array, i: number): Uint8Array {
  const c = Uint8Array.from(b);
  c[i] ^= 1;
  return c;
}
