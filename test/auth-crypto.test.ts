import { strict as assert } from "assert";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
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
  nativeKeyCacheSize,
  NATIVE_KEY_CACHE_MAX,
  verifySecp256k1,
  verifySecp256k1Libsecp,
  verifySecp256k1Native,
  verifySecp256k1Noble,
} from "../src/x/auth/crypto";
import {
  bigTo32,
  bytesToBig,
  flipBit,
  LIBSECP,
  makePrng,
  mergeDifferential,
  N,
  randomSecretKey,
  withSig,
  type DifferentialChunk,
  type DifferentialResult,
} from "./helpers/secp-differential";
import { runInWorker } from "./helpers/worker";


// NB: always pass an explicit limit to fromBech32. @cosmjs/encoding 0.39.0 defaults
// limit=Infinity, which @scure/base >= 2.3 (2.4.0 installed) rejects with
// "RangeError: limit: expected safe integer, got Infinity" (cosmos/cosmjs#1982).
const BECH32_LIMIT = 90;
function decodeBech32(address: string): { prefix: string; data: Uint8Array } {
  return fromBech32(address, BECH32_LIMIT);
}

const MNEMONIC =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";


/** Runs one chunk of the differential on a worker thread. */
function runChunkInWorker(chunk: DifferentialChunk): Promise<DifferentialResult> {
  return runInWorker<DifferentialResult>("secp-differential-worker", chunk, `differential worker for cases ${chunk.from}..${chunk.to - 1}`);
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

    it(`accept valid sigs, reject mutations and agree on every case (${CASES} keys/messages)`, async function () {
      this.timeout(600_000);
      // Two chunks on two worker threads, each with its own fixed seed (chunk 0 keeps the original one).
      const chunks: DifferentialChunk[] = [
        { seed: 0x5eed_1234, from: 0, to: CASES / 2 },
        { seed: 0x5eed_1235, from: CASES / 2, to: CASES },
      ];
      const r = mergeDifferential(await Promise.all(chunks.map(runChunkInWorker)));
      const stats = new Map(r.stats);
      const table = r.stats.map(([k, v]) => `${k.padEnd(38)} n=${v.total} nativeTrue=${v.nativeTrue} nobleTrue=${v.nobleTrue}`);
      console.log(
        `      differential: ${CASES} cases, ${r.totalChecks} checks, disagreements=${r.disagreements}, unexpected=${r.unexpected}\n` +
          `      libsecp256k1: ${LIBSECP ? `compared on every check, accepted ${r.libsecpTrue}` : "not installed (package secp256k1): OpenSSL and noble only"}\n` +
          `      high-S forms: noble(lowS:false) accepted ${r.nobleLaxAcceptedHighS}/${r.highSCases}; raw OpenSSL accepted ${r.openSslAcceptedHighS}/${r.openSslHighSChecked} (our wrapper rejects all)\n` +
          table.map((l) => "        " + l).join("\n"),
      );

      assert.deepEqual(r.failures, []);
      assert.equal(r.disagreements, 0, "native and noble must agree on every case");
      assert.equal(r.unexpected, 0);
      assert.equal(stats.get("valid")?.nativeTrue, CASES);
      assert.equal(stats.get("valid")?.nobleTrue, CASES);
      if (LIBSECP) assert.equal(r.libsecpTrue, CASES, "libsecp256k1 accepts exactly the valid signatures");
      // The high-S mutation must be a genuinely valid-but-malleated signature, otherwise
      // the high-S rejection check would be vacuous.
      assert.equal(r.nobleLaxAcceptedHighS, r.highSCases);
      assert.equal(r.highSCases, CASES);
      assert.ok(r.totalChecks >= CASES * 20);
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
