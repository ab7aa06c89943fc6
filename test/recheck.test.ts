import { strict as assert } from "assert";
import * as fs from "node:fs";
import { encodePubkey, makeAuthInfoBytes, makeSignDoc } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { fromBase64, toBech32 } from "@cosmjs/encoding";
import { TxBody, TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { CheckTxType, Request, Response } from "cosmjs-types/tendermint/abci/types";
import { PoiApp } from "../src/app/app";
import { parseAddress } from "../src/app/address";
import { dispatch } from "../src/abci/server";
import { tmpHome } from "./helpers/chain";
import { block, signer, type Signer } from "./helpers/signers";

const CHAIN_ID = "poi-recheck";
const time = { seconds: 1_700_000_000n, nanos: 0 };
const SINK = toBech32("poi", Uint8Array.from({ length: 20 }, (_, i) => i + 9));
const FUNDS = 1_000_000n;
const FEE = 5000n;

describe("Recheck and the CheckTx / FinalizeBlock answers", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  async function openApp(signers: Signer[]): Promise<PoiApp> {
    const dir = tmpHome("recheck");
    dirs.push(dir);
    const app = await PoiApp.open(dir);
    const balances = signers.map((s) => ({ address: s.address, coins: [{ denom: "upoi", amount: FUNDS.toString() }] }));
    await app.initChain({ time, chainId: CHAIN_ID, validators: [], appStateBytes: Buffer.from(JSON.stringify({ bank: { balances } })), initialHeight: 1n });
    await app.finalizeBlock(block(1n));
    await app.commit();
    return app;
  }

  async function send(app: PoiApp, s: Signer, sequence: bigint, amount: bigint): Promise<Uint8Array> {
    const accountNumber = (await app.accounts.getAccount(app.queryContext(), parseAddress(s.address)))!.accountNumber;
    const msg = MsgSend.fromPartial({ fromAddress: s.address, toAddress: SINK, amount: [{ denom: "upoi", amount: amount.toString() }] });
    const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: [{ typeUrl: MsgSend.typeUrl, value: MsgSend.encode(msg).finish() }] })).finish();
    const authInfoBytes = makeAuthInfoBytes([{ pubkey: encodePubkey(encodeSecp256k1Pubkey(s.pubkey)), sequence }], [{ denom: "upoi", amount: FEE.toString() }], 200_000, undefined, undefined);
    const { signature } = await s.wallet.signDirect(s.address, makeSignDoc(bodyBytes, authInfoBytes, CHAIN_ID, accountNumber));
    return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [fromBase64(signature.signature)] }).finish();
  }

  const check = (app: PoiApp, tx: Uint8Array, type = CheckTxType.NEW) => app.checkTx({ tx, type });

  it("CheckTx and Recheck answer without events, as the Cosmos SDK's CheckTx does, and still carry the tx's effects into the check state", async () => {
    const a = await signer("recheck-a");
    const app = await openApp([a]);
    const txs = [await send(app, a, 0n, 10n), await send(app, a, 1n, 10n), await send(app, a, 2n, 10n)];
    for (const tx of txs) {
      const r = await check(app, tx);
      assert.equal(r.code, 0, r.log);
      assert.ok(r.gasUsed! > 0n && r.gasWanted === 200_000n, `gas ${r.gasUsed}/${r.gasWanted}`);
      assert.deepEqual(r.events ?? [], []);
    }
    // The messages ran in CheckTx all the same: a send over the balance is refused.
    const overspend = await check(app, await send(app, a, 3n, FUNDS));
    assert.equal(overspend.code, 5, overspend.log);
    assert.deepEqual(overspend.events ?? [], []);
    // The same tx in a block has the ante's events (fee transfer, fee payer, sequence, signature) and the message's.
    const fb = await app.finalizeBlock(block(2n, [txs[0]]));
    assert.equal(fb.txResults![0].code, 0, fb.txResults![0].log);
    const types = (fb.txResults![0].events ?? []).map((e) => e.type);
    assert.deepEqual(types.slice(0, 6), ["coin_spent", "coin_received", "transfer", "tx", "tx", "tx"]);
    assert.ok(types.includes("message") && fb.txResults![0].events!.some((e) => e.attributes.some((x) => x.value === SINK)), types.join(","));
    await app.commit();
    for (const tx of txs.slice(1)) {
      const r = await check(app, tx, CheckTxType.RECHECK);
      assert.equal(r.code, 0, r.log);
      assert.deepEqual(r.events ?? [], []);
    }
    // The rechecked txs hold sequences 1 and 2 in the check state: 3 is next, and 1 is taken.
    const again = await check(app, await send(app, a, 1n, 7n));
    assert.equal(again.code, 32, again.log);
    assert.match(again.log ?? "", /expected 3, got 1/);
    assert.equal((await check(app, await send(app, a, 3n, 10n))).code, 0);
    await app.close();
  });

  it("a Recheck refuses a tx the block made invalid and keeps one the block left valid", async () => {
    const a = await signer("recheck-b"), b = await signer("recheck-c");
    const app = await openApp([a, b]);
    // a's two txs each fit its balance alone; b's tx is untouched by the block.
    const half = FUNDS / 2n;
    const aFirst = await send(app, a, 0n, half);
    const aSecond = await send(app, a, 0n, 10n); // same sequence: conflicts with aFirst
    const aBig = await send(app, a, 1n, half); // after aFirst, a holds FUNDS - half - FEE < half + FEE
    const bTx = await send(app, b, 0n, 10n);
    assert.equal((await check(app, aSecond)).code, 0);
    assert.equal((await check(app, bTx)).code, 0);
    // Another node's proposal puts aFirst in the block: aSecond's sequence is consumed, aBig overspends.
    const fb = await app.finalizeBlock(block(2n, [aFirst]));
    assert.equal(fb.txResults![0].code, 0, fb.txResults![0].log);
    await app.commit();
    const stale = await check(app, aSecond, CheckTxType.RECHECK);
    assert.equal(stale.code, 32, stale.log);
    assert.equal((await check(app, bTx, CheckTxType.RECHECK)).code, 0);
    const over = await check(app, aBig, CheckTxType.RECHECK);
    assert.equal(over.code, 5, over.log); // insufficient funds
    // Refused rechecks changed nothing: a's next sequence is still 1, b's is 1 after its rechecked tx.
    assert.equal((await check(app, await send(app, a, 1n, 10n))).code, 0);
    assert.equal((await check(app, await send(app, b, 1n, 10n))).code, 0);
    await app.close();
  });

  it("CheckTx while a block executes answers from committed state; the block's results and app hash are those of a run without it", async () => {
    const a = await signer("beside-a"), b = await signer("beside-b");
    const app = await openApp([a, b]), alone = await openApp([a, b]);
    const blockTxs: Uint8Array[] = [];
    for (let seq = 0n; seq < 160n; seq++) blockTxs.push(await send(app, a, seq, 1n));
    // Another tx of a at sequence 0 (the block takes 0..159) and b's first tx.
    const aAgain = await send(app, a, 0n, 2n), bTx = await send(app, b, 0n, 3n);
    let finalized = false;
    const running = app.finalizeBlock(block(2n, blockTxs)).then((r) => { finalized = true; return r; });
    const during = [await check(app, aAgain), await check(app, bTx)];
    assert.equal(finalized, false, "both CheckTx calls were answered while the block was still executing");
    assert.deepEqual(during.map((r) => r.code), [0, 0], during.map((r) => r.log).join("; "));
    const [res, ref] = [await running, await alone.finalizeBlock(block(2n, blockTxs))];
    assert.ok(res.txResults!.every((r) => r.code === 0));
    assert.deepEqual(Buffer.from(res.appHash!), Buffer.from(ref.appHash!));
    const encoded = (r: typeof res) => Buffer.from(Response.encode(Response.fromPartial({ finalizeBlock: r })).finish());
    assert.deepEqual(encoded(res), encoded(ref));
    await app.commit();
    await alone.commit();
    // After the commit the mempool's view starts from the new state: a's sequence 0 is taken.
    assert.equal((await check(app, aAgain, CheckTxType.RECHECK)).code, 32);
    assert.equal((await check(app, bTx, CheckTxType.RECHECK)).code, 0);
    await app.close();
    await alone.close();
  });

  it("dispatch's CheckTx and FinalizeBlock answers encode as the app's results through Response.fromPartial", async () => {
    const a = await signer("recheck-d");
    const direct = await openApp([a]), viaDispatch = await openApp([a]);
    const good = await send(direct, a, 0n, 10n), bad = await send(direct, a, 5n, 10n);
    for (const tx of [good, bad]) {
      const want = Response.encode(Response.fromPartial({ checkTx: await direct.checkTx({ tx, type: CheckTxType.NEW }) })).finish();
      const got = Response.encode(await dispatch(viaDispatch, Request.fromPartial({ checkTx: { tx, type: CheckTxType.NEW } }))).finish();
      assert.deepEqual(Buffer.from(got), Buffer.from(want));
    }
    const req = block(2n, [good, bad, Uint8Array.of(1, 2, 3)]);
    const res = await direct.finalizeBlock(req);
    assert.deepEqual(res.txResults!.map((r) => r.code !== 0), [false, true, true]);
    assert.ok(res.txResults![0].events.length > 0);
    const want = Response.encode(Response.fromPartial({ finalizeBlock: res })).finish();
    const got = Response.encode(await dispatch(viaDispatch, Request.fromPartial({ finalizeBlock: req }))).finish();
    assert.deepEqual(Buffer.from(got), Buffer.from(want));
    await direct.close();
    await viaDispatch.close();
  });
});
