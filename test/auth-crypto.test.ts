import { strict as assert } from "assert";
import * as nodeCrypto from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { Secp256k1 } from "@cosmjs/crypto";
import { fromBase64, fromBech32, toBase64 } from "@cosmjs/encoding";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import {
  DirectSecp256k1HdWallet,
  encodePubkey,
  makeAuthInfoBytes,
  makeSignBytes,
  makeSignDoc,
} from "@cosmjs/proto-signing";
import { SignDoc, TxBody } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import {
  addressFromPubkey,
  clearNativeKeyCache,
  libsecp256k1Available,
  nativeKeyCacheSize,
  NATIVE_KEY_CACHE_MAX,
  verifySecp256k1,
  verifySecp256k1Libsecp,
  verifySecp256k1Native,
  verifySecp256k1Noble,
} from "../src/x/auth/crypto";

/** libsecp256k1 joins the comparisons where its native addon loads (the `secp256k1` package). */
const LIBSECP = libsecp256k1Available();

// NB: always pass an explicit limit to fromBech32. @cosmjs/encoding 0.39.0 defaults
// limit=Infinity, which @scure/base >= 2.3 (2.4.0 installed) rejects with
// "RangeError: limit: expected safe integer, got Infinity" (cosmos/cosmjs#1982).
const BECH32_LIMIT = 90;
function decodeBech32(address: string): { prefix: string; data: Uint8Array } {
  return fromBech32(address, BECH32_LIMIT);
}

const MNEMONIC =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

const CURVE = secp256k1.Point.CURVE();
const N: bigint = CURVE.n;
const P: bigint = CURVE.p;

// --- helpers ---------------------------------------------------------------

/** mulberry32: tiny seeded deterministic PRNG (32-bit state). */
function makePrng(seed: number) {
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
type Prng = ReturnType<typeof makePrng>;

function bytesToBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt("0x" + Buffer.from(b).toString("hex"));
}
function bigTo32(x: bigint): Uint8Array {
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
function xIsOnCurve(x: bigint): boolean {
  if (x >= P) return false;
  const rhs = (modpow(x, 3n, P) + 7n) % P;
  return rhs === 0n || modpow(rhs, (P - 1n) / 2n, P) === 1n;
}
function randomSecretKey(rng: Prng): Uint8Array {
  for (;;) {
    const sk = rng.bytes(32);
    const k = bytesToBig(sk);
    if (k > 0n && k < N) return sk;
  }
}
function withSig(sig: Uint8Array, r: bigint | null, s: bigint | null): Uint8Array {
  const out = Uint8Array.from(sig);
  if (r !== null) out.set(bigTo32(r), 0);
  if (s !== null) out.set(bigTo32(s), 32);
  return out;
}
function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const out = Uint8Array.from(b);
  out[bit >> 3] ^= 1 << (bit & 7);
  return out;
}

// --- tests -----------------------------------------------------------------

describe("x/auth crypto", () => {
  describe("addressFromPubkey", () => {
    it("matches the address DirectSecp256k1HdWallet (prefix poi) reports", async () => {
      const wallet = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: "poi" });
      const [account] = await wallet.getAccounts();
      assert.equal(account.algo, "secp256k1");
      assert.equal(account.pubkey.length, 33);
      const { prefix, data } = decodeBech32(account.address);
      assert.equal(prefix, "poi");
      assert.equal(data.length, 20);
      const ours = addressFromPubkey(account.pubkey);
      assert.equal(ours.length, 20);
      assert.deepEqual(Buffer.from(ours).toString("hex"), Buffer.from(data).toString("hex"));
    });

    it("matches across several HD accounts of the wallet", async () => {
      const { makeCosmoshubPath } = await import("@cosmjs/amino");
      const wallet = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, {
        prefix: "poi",
        hdPaths: [0, 1, 2, 3, 4].map((i) => makeCosmoshubPath(i)),
      });
      const accounts = await wallet.getAccounts();
      assert.equal(accounts.length, 5);
      const seen = new Set<string>();
      for (const a of accounts) {
        const ours = Buffer.from(addressFromPubkey(a.pubkey)).toString("hex");
        assert.equal(ours, Buffer.from(decodeBech32(a.address).data).toString("hex"));
        seen.add(ours);
      }
      assert.equal(seen.size, 5);
    });

    it("throws a clear Error on malformed pubkeys", () => {
      const good = secp256k1.getPublicKey(sha256(new TextEncoder().encode("k")), true);
      const uncompressed = secp256k1.getPublicKey(sha256(new TextEncoder().encode("k")), false);
      assert.throws(() => addressFromPubkey(uncompressed), /length 65/);
      assert.throws(() => addressFromPubkey(good.subarray(0, 32)), /length 32/);
      assert.throws(() => addressFromPubkey(new Uint8Array(0)), /length 0/);
      const bad = Uint8Array.from(good);
      bad[0] = 0x04;
      assert.throws(() => addressFromPubkey(bad), /prefix 0x04/);
      bad[0] = 0x05;
      assert.throws(() => addressFromPubkey(bad), /prefix 0x05/);
      assert.doesNotThrow(() => addressFromPubkey(good));
    });
  });

  describe("verifySecp256k1Native vs verifySecp256k1Noble (seeded differential test)", () => {
    const CASES = 2000;

    it(`accept valid sigs, reject mutations and agree on every case (${CASES} keys/messages)`, function () {
      this.timeout(600_000);
      const rng = makePrng(0x5eed_1234);
      const stats = new Map<string, { total: number; nativeTrue: number; nobleTrue: number }>();
      let disagreements = 0;
      let unexpected = 0;
      let libsecpTrue = 0;
      let totalChecks = 0;
      let openSslAcceptedHighS = 0;
      let nobleLaxAcceptedHighS = 0;
      let highSCases = 0;
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

      for (let i = 0; i < CASES; i++) {
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
        if (i < 200) {
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

      const table = [...stats.entries()].map(([k, v]) => `${k.padEnd(38)} n=${v.total} nativeTrue=${v.nativeTrue} nobleTrue=${v.nobleTrue}`);
      console.log(
        `      differential: ${CASES} cases, ${totalChecks} checks, disagreements=${disagreements}, unexpected=${unexpected}\n` +
          `      libsecp256k1: ${LIBSECP ? `compared on every check, accepted ${libsecpTrue}` : "not installed (package secp256k1): OpenSSL and noble only"}\n` +
          `      high-S forms: noble(lowS:false) accepted ${nobleLaxAcceptedHighS}/${highSCases}; raw OpenSSL accepted ${openSslAcceptedHighS}/200 (our wrapper rejects all)\n` +
          table.map((l) => "        " + l).join("\n"),
      );

      assert.deepEqual(failures, []);
      assert.equal(disagreements, 0, "native and noble must agree on every case");
      assert.equal(unexpected, 0);
      assert.equal(stats.get("valid")?.nativeTrue, CASES);
      assert.equal(stats.get("valid")?.nobleTrue, CASES);
      if (LIBSECP) assert.equal(libsecpTrue, CASES, "libsecp256k1 accepts exactly the valid signatures");
      // The high-S mutation must be a genuinely valid-but-malleated signature, otherwise
      // the high-S rejection check would be vacuous.
      assert.equal(nobleLaxAcceptedHighS, highSCases);
      assert.ok(totalChecks >= CASES * 20);
    });

    it("never throws on garbage / wrong-typed inputs", () => {
      const garbage: unknown[] = [undefined, null, 0, "abc", {}, [], new Uint8Array(0), new Uint8Array(33), new Uint8Array(64), Buffer.alloc(65, 0xff)];
      for (const a of garbage) {
        for (const b of garbage) {
          for (const c of garbage) {
            const args = [a, b, c] as [Uint8Array, Uint8Array, Uint8Array];
            assert.equal(verifySecp256k1Native(...args), false);
            assert.equal(verifySecp256k1Noble(...args), false);
            assert.equal(verifySecp256k1Libsecp(...args), false);
          }
        }
      }
    });

    it("accepts Buffer and subarray views with non-zero byteOffset", () => {
      const sk = sha256(new TextEncoder().encode("views"));
      const pub = secp256k1.getPublicKey(sk, true);
      const msg = new TextEncoder().encode("hello poi");
      const sig = secp256k1.sign(msg, sk);
      const big = new Uint8Array(200);
      big.set(pub, 7);
      big.set(sig, 50);
      big.set(msg, 120);
      const pv = big.subarray(7, 40);
      const sv = big.subarray(50, 114);
      const mv = big.subarray(120, 120 + msg.length);
      for (const f of [verifySecp256k1Native, verifySecp256k1Noble, ...(LIBSECP ? [verifySecp256k1Libsecp] : [])]) {
        assert.equal(f(pv, mv, sv), true);
        assert.equal(f(Buffer.from(pub), Buffer.from(msg), Buffer.from(sig)), true);
      }
    });

    it("native key cache is bounded and still correct after eviction", function () {
      this.timeout(120_000);
      clearNativeKeyCache();
      const rng = makePrng(99);
      const first = { sk: randomSecretKey(rng), msg: rng.bytes(40) };
      const firstPub = secp256k1.getPublicKey(first.sk, true);
      const firstSig = secp256k1.sign(first.msg, first.sk);
      assert.equal(verifySecp256k1Native(firstPub, first.msg, firstSig), true);
      // Fill the cache past its bound with distinct (syntactically valid, mostly off-curve or random) keys.
      // The signature check stage happens before key import, so use a well-formed low-S signature.
      for (let i = 0; i < NATIVE_KEY_CACHE_MAX + 50; i++) {
        const k = new Uint8Array(33);
        k[0] = 0x02;
        k.set(bigTo32(BigInt(i + 1)), 1);
        verifySecp256k1Native(k, first.msg, firstSig);
      }
      assert.ok(nativeKeyCacheSize() <= NATIVE_KEY_CACHE_MAX, `cache size ${nativeKeyCacheSize()}`);
      // The first key was evicted; verification must still work (re-import).
      assert.equal(verifySecp256k1Native(firstPub, first.msg, firstSig), true);
      assert.equal(verifySecp256k1Native(firstPub, first.msg, withSig(firstSig, null, N - bytesToBig(firstSig.subarray(32)))), false);
      clearNativeKeyCache();
    });

    it("default verifySecp256k1 is libsecp256k1 where it loads, else OpenSSL", () => {
      assert.equal(verifySecp256k1, LIBSECP ? verifySecp256k1Libsecp : verifySecp256k1Native);
      if (!LIBSECP) assert.equal(verifySecp256k1Libsecp(new Uint8Array(33), new Uint8Array(1), new Uint8Array(64)), false);
    });
  });

  describe("CosmJS signDirect over a real SignDoc", () => {
    it("verifies with both native and noble; tampered SignDoc fails", async () => {
      const wallet = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: "poi" });
      const [account] = await wallet.getAccounts();
      const msgSend = MsgSend.fromPartial({
        fromAddress: account.address,
        toAddress: account.address,
        amount: [{ denom: "upoi", amount: "12345" }],
      });
      const bodyBytes = TxBody.encode(
        TxBody.fromPartial({
          messages: [{ typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: MsgSend.encode(msgSend).finish() }],
          memo: "auth-crypto test",
        }),
      ).finish();
      const authInfoBytes = makeAuthInfoBytes(
        [{ pubkey: encodePubkey(encodeSecp256k1Pubkey(account.pubkey)), sequence: 3n }],
        [{ denom: "upoi", amount: "500" }],
        200_000,
        undefined,
        undefined,
      );
      const signDoc: SignDoc = makeSignDoc(bodyBytes, authInfoBytes, "poi-test-1", 42n);
      const { signed, signature } = await wallet.signDirect(account.address, signDoc);

      const signBytes = makeSignBytes(signed);
      // makeSignBytes must be exactly the protobuf SignDoc encoding.
      assert.equal(toBase64(signBytes), toBase64(SignDoc.encode(signed).finish()));
      const sig = fromBase64(signature.signature);
      const pub = fromBase64(signature.pub_key.value);
      assert.equal(sig.length, 64);
      assert.equal(pub.length, 33);
      assert.equal(
        Buffer.from(addressFromPubkey(pub)).toString("hex"),
        Buffer.from(decodeBech32(account.address).data).toString("hex"),
      );

      assert.equal(verifySecp256k1Native(pub, signBytes, sig), true);
      assert.equal(verifySecp256k1Noble(pub, signBytes, sig), true);
      if (LIBSECP) assert.equal(verifySecp256k1Libsecp(pub, signBytes, sig), true);
      assert.equal(verifySecp256k1(pub, signBytes, sig), true);

      // Tampering with any SignDoc field must break verification.
      const tampered = [
        makeSignBytes({ ...signed, chainId: "poi-test-2" }),
        makeSignBytes({ ...signed, accountNumber: 43n }),
        makeSignBytes({ ...signed, bodyBytes: flipBit(signed.bodyBytes, 5) }),
      ];
      for (const t of tampered) {
        assert.equal(verifySecp256k1Libsecp(pub, t, sig), false);
        assert.equal(verifySecp256k1Native(pub, t, sig), false);
        assert.equal(verifySecp256k1Noble(pub, t, sig), false);
      }
      // Signature over the sha256 digest given as the message (double hash) must not verify.
      assert.equal(verifySecp256k1Native(pub, sha256(signBytes), sig), false);
      assert.equal(verifySecp256k1Noble(pub, sha256(signBytes), sig), false);
    });
  });
});
