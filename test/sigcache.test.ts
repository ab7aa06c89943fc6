import { strict as assert } from "assert";
import * as fs from "node:fs";
import { makeSignBytes, makeSignDoc } from "@cosmjs/proto-signing";
import { toBech32 } from "@cosmjs/encoding";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { CheckTxType } from "cosmjs-types/tendermint/abci/types";
import { PoiApp } from "../src/app/app";
import { parseAddress } from "../src/app/address";
import { SigVerifyCache } from "../src/x/auth/sigcache";
import { tmpHome } from "./helpers/chain";
import { block, signedSend as signedSendTo, signer, type Signer } from "./helpers/signers";

const CHAIN_ID = "poi-sigcache";
const time = { seconds: 1_700_000_000n, nanos: 0 };
const SINK = toBech32("poi", Uint8Array.from({ length: 20 }, (_, i) => i + 7));

/** A signed MsgSend to SINK (test/helpers/signers.ts). */
const signedSend = (s: Signer, sequence: bigint, accountNumber: bigint, chainId = CHAIN_ID) => signedSendTo(s, sequence, accountNumber, chainId, SINK);

describe("signature verification cache (x/auth/sigcache.ts)", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  async function openApp(s: Signer): Promise<{ app: PoiApp; accountNumber: bigint }> {
    const dir = tmpHome("sigcache");
    dirs.push(dir);
    const app = await PoiApp.open(dir);
    const appState = { bank: { balances: [{ address: s.address, coins: [{ denom: "upoi", amount: "1000000000" }] }] } };
    await app.initChain({ time, chainId: CHAIN_ID, validators: [], appStateBytes: Buffer.from(JSON.stringify(appState)), initialHeight: 1n });
    await app.finalizeBlock(block(1n));
    await app.commit();
    const acc = await app.accounts.getAccount(app.queryContext(), parseAddress(s.address));
    return { app, accountNumber: acc!.accountNumber };
  }

  it("a signature verified in CheckTx is not verified again in FinalizeBlock nor in Recheck", async () => {
    const s = await signer("sigcache-a");
    const { app, accountNumber } = await openApp(s);
    const stats = app.sigCache.stats;
    const tx0 = (await signedSend(s, 0n, accountNumber)).tx;
    const tx1 = (await signedSend(s, 1n, accountNumber)).tx;

    assert.equal((await app.checkTx({ tx: tx0, type: CheckTxType.NEW })).code, 0);
    assert.equal((await app.checkTx({ tx: tx1, type: CheckTxType.NEW })).code, 0);
    assert.deepEqual({ ...stats }, { verified: 2, hits: 0 });

    // tx0 is in the block; tx1 stays in the mempool and is re-checked after the commit.
    const res = await app.finalizeBlock(block(2n, [tx0]));
    assert.equal(res.txResults![0].code, 0, res.txResults![0].log);
    assert.deepEqual({ ...stats }, { verified: 2, hits: 1 });
    await app.commit();
    assert.equal((await app.checkTx({ tx: tx1, type: CheckTxType.RECHECK })).code, 0);
    assert.deepEqual({ ...stats }, { verified: 2, hits: 2 });

    // A node that never saw tx0 in CheckTx (a fresh cache) verifies it in the block, with the same outcome.
    const fresh = await openApp(s);
    const r = await fresh.app.finalizeBlock(block(2n, [tx0]));
    assert.equal(r.txResults![0].code, 0);
    assert.deepEqual({ ...fresh.app.sigCache.stats }, { verified: 1, hits: 0 });
    assert.deepEqual(Buffer.from(r.appHash!), Buffer.from(res.appHash!));
    await app.close();
    await fresh.app.close();
  });

  it("a changed byte anywhere in the tx misses the cache (and the tx is refused)", async () => {
    const s = await signer("sigcache-b");
    const { app, accountNumber } = await openApp(s);
    const { tx } = await signedSend(s, 0n, accountNumber);
    assert.equal((await app.checkTx({ tx, type: CheckTxType.NEW })).code, 0);
    // An empty block resets the check state to sequence 0, so mutated txs get as far as the signature check.
    await app.finalizeBlock(block(2n));
    await app.commit();
    const hitsBefore = app.sigCache.stats.hits;
    let reachedVerify = 0;
    let sameContent = 0;
    for (let i = 0; i < tx.length; i++) {
      for (const bit of [0, 7]) {
        const mutated = Uint8Array.from(tx);
        mutated[i] ^= 1 << bit;
        if (sameSignedContent(tx, mutated)) {
          // The decoder ignores a tag's wire type, so a few mutations decode to the very same body, auth
          // info and signature: verifying them would return the same answer, and so may the cache.
          sameContent++;
          continue;
        }
        const verifiedBefore = app.sigCache.stats.verified;
        const res = await app.checkTx({ tx: mutated, type: CheckTxType.NEW });
        assert.notEqual(res.code, 0, `byte ${i} bit ${bit}: a mutated tx must be refused`);
        assert.equal(app.sigCache.stats.hits, hitsBefore, `byte ${i} bit ${bit}: a mutated tx must not hit the cache`);
        reachedVerify += app.sigCache.stats.verified - verifiedBefore;
      }
    }
    assert.ok(sameContent <= 6, `${sameContent} mutations decode to the same signed content`);
    // Most mutations still decode and reach the signature check: the misses are real verifications.
    assert.ok(reachedVerify > tx.length / 2, `only ${reachedVerify} of ${2 * tx.length} mutations reached the signature check`);
    // The original still hits.
    assert.equal((await app.checkTx({ tx, type: CheckTxType.RECHECK })).code, 0);
    assert.equal(app.sigCache.stats.hits, hitsBefore + 1);
    await app.close();
  });

  it("the same signature under another chain id or account number misses", async () => {
    const s = await signer("sigcache-c");
    let calls = 0;
    const cache = new SigVerifyCache(1000, () => { calls++; return true; }); // a verifier that says yes to everything
    const { signBytes, sig } = await signedSend(s, 0n, 5n);
    assert.equal(cache.verify(s.pubkey, signBytes, sig), true);
    assert.equal(cache.verify(s.pubkey, signBytes, sig), true);
    assert.deepEqual([calls, cache.stats.hits], [1, 1]);
    const bodyAndAuth = TxRaw.decode((await signedSend(s, 0n, 5n)).tx);
    for (const [chainId, accountNumber] of [["poi-other", 5n], [CHAIN_ID, 6n], [CHAIN_ID, 0n]] as const) {
      const other = makeSignBytes(makeSignDoc(bodyAndAuth.bodyBytes, bodyAndAuth.authInfoBytes, chainId, accountNumber));
      cache.verify(s.pubkey, other, sig);
    }
    assert.deepEqual([calls, cache.stats.hits], [4, 1], "each other chain id / account number is a miss");
    // With the real verifier those misses are refusals.
    const real = new SigVerifyCache();
    assert.equal(real.verify(s.pubkey, signBytes, sig), true);
    const otherChain = makeSignBytes(makeSignDoc(bodyAndAuth.bodyBytes, bodyAndAuth.authInfoBytes, "poi-other", 5n));
    assert.equal(real.verify(s.pubkey, otherChain, sig), false);
    assert.equal(real.verify(s.pubkey, makeSignBytes(makeSignDoc(bodyAndAuth.bodyBytes, bodyAndAuth.authInfoBytes, CHAIN_ID, 6n)), sig), false);
    assert.deepEqual({ ...real.stats }, { verified: 3, hits: 0 });
    // Key, signature and message are length-delimited: moving a byte between them is a miss.
    const shifted = cache.verify(s.pubkey.subarray(0, 32), signBytes, Uint8Array.from([s.pubkey[32], ...sig]));
    assert.equal(shifted, true);
    assert.equal(calls, 5);
  });

  it("only successes are cached, and the cache is bounded", async () => {
    let answer = false;
    let calls = 0;
    const cache = new SigVerifyCache(100, () => { calls++; return answer; });
    const pub = new Uint8Array(33);
    const sig = new Uint8Array(64);
    const msg = (i: number) => Buffer.from(`message ${i}`);
    assert.equal(cache.verify(pub, msg(0), sig), false);
    assert.equal(cache.verify(pub, msg(0), sig), false);
    assert.equal(calls, 2, "a failure is not remembered");
    answer = true;
    for (let i = 0; i < 1000; i++) cache.verify(pub, msg(i), sig);
    assert.ok(cache.size <= 100, `cache holds ${cache.size} entries`);
    assert.equal(cache.size > 0, true);
    const before = calls;
    cache.verify(pub, msg(999), sig);
    assert.equal(calls, before, "a recent entry hits");
    cache.verify(pub, msg(0), sig);
    assert.equal(calls, before + 1, "an old entry was evicted and is verified again");
  });
});

function sameSignedContent(a: Uint8Array, b: Uint8Array): boolean {
  let x: TxRaw, y: TxRaw;
  try {
    x = TxRaw.decode(a);
    y = TxRaw.decode(b);
  } catch {
    return false;
  }
  const eq = (p: Uint8Array, q: Uint8Array) => Buffer.from(p).equals(Buffer.from(q));
  return eq(x.bodyBytes, y.bodyBytes) && eq(x.authInfoBytes, y.authInfoBytes)
    && x.signatures.length === y.signatures.length && x.signatures.every((sig, i) => eq(sig, y.signatures[i]));
}
