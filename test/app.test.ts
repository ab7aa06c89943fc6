import { strict as assert } from "assert";
import * as fs from "node:fs";
import { TxRaw, TxBody } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { Request, Response } from "cosmjs-types/tendermint/abci/types";
import { toBech32 } from "@cosmjs/encoding";
import { PoiApp } from "../src/app/app";
import { dispatch } from "../src/abci/server";
import { tmpHome } from "./helpers/chain";

const ADDR = toBech32("poi", Uint8Array.from({ length: 20 }, (_, i) => i + 1));
const genesis = { bank: { balances: [{ address: ADDR, coins: [{ denom: "upoi", amount: "1000" }] }] } };
const time = { seconds: 1_700_000_000n, nanos: 0 };

function initReq(appState: unknown = genesis) {
  return { time, chainId: "poi-test", validators: [], appStateBytes: Buffer.from(JSON.stringify(appState)), initialHeight: 1n };
}

function block(height: bigint, txs: Uint8Array[] = []) {
  return {
    txs, height, time: { seconds: time.seconds + height, nanos: 0 }, hash: Buffer.alloc(32, Number(height)),
    decidedLastCommit: { round: 0, votes: [] }, misbehavior: [], nextValidatorsHash: new Uint8Array(), proposerAddress: Buffer.alloc(20),
  };
}

function txWith(typeUrl: string, value: Uint8Array): Uint8Array {
  const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: [{ typeUrl, value }] })).finish();
  return TxRaw.encode(TxRaw.fromPartial({ bodyBytes, authInfoBytes: new Uint8Array(), signatures: [] })).finish();
}

describe("PoiApp over ABCI (in process)", () => {
  const dirs: string[] = [];
  const open = async () => { const d = tmpHome("app"); dirs.push(d); return PoiApp.open(d); };
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it("InitChain loads app_state; FinalizeBlock returns one result per tx and an app hash; Info reports the commit", async () => {
    const app = await open();
    assert.equal((await app.info({ version: "", blockVersion: 0n, p2pVersion: 0n, abciVersion: "" })).lastBlockHeight, 0n);
    const init = await app.initChain(initReq());
    assert.equal(init.appHash!.length, 32);
    const bad = [Uint8Array.of(1, 2, 3), txWith("/cosmos.unknown.Msg", new Uint8Array()), new Uint8Array()];
    const res = await app.finalizeBlock(block(1n, bad));
    assert.equal(res.txResults!.length, 3);
    assert.deepEqual(res.txResults!.map((r) => [r.codespace, r.code]), [["sdk", 2], ["sdk", 6], ["sdk", 18]]);
    assert.match(res.txResults![1].log, /unrecognized message type "\/cosmos.unknown.Msg"/);
    await app.commit();
    const info = await app.info({ version: "", blockVersion: 0n, p2pVersion: 0n, abciVersion: "" });
    assert.equal(info.lastBlockHeight, 1n);
    assert.deepEqual(Buffer.from(info.lastBlockAppHash!), Buffer.from(res.appHash!));
    await app.close();
  });

  it("is deterministic: two apps fed the same blocks agree on every app hash, and rejected txs change nothing", async () => {
    const a = await open();
    const b = await open();
    await a.initChain(initReq());
    await b.initChain(initReq());
    for (let h = 1n; h <= 5n; h++) {
      const ra = await a.finalizeBlock(block(h));
      // b also gets garbage txs: their failures must not move the app hash.
      const rb = await b.finalizeBlock(block(h, [Uint8Array.of(0xff, 0x00), txWith("/x.Y", Uint8Array.of(1))]));
      assert.deepEqual(Buffer.from(ra.appHash!), Buffer.from(rb.appHash!), `height ${h}`);
      await a.commit();
      await b.commit();
    }
    await a.close();
    await b.close();
  });

  it("bad input never becomes an ABCI exception", async () => {
    const app = await open();
    await app.initChain(initReq());
    const checks = [new Uint8Array(), Uint8Array.of(0x0a, 0xff), txWith(MsgSend.typeUrl, Uint8Array.of(9, 9, 9))];
    for (const tx of checks) {
      const res = await dispatch(app, Request.fromPartial({ checkTx: { tx, type: 0 } }));
      assert.equal(res.exception, undefined);
      assert.notEqual(res.checkTx!.code, 0);
      assert.ok(res.checkTx!.log.length > 0);
    }
    const q = await dispatch(app, Request.fromPartial({ query: { path: "/no.such.Query/Method", data: new Uint8Array() } }));
    assert.equal(q.exception, undefined);
    assert.equal(q.query!.code, 6);
    assert.match(q.query!.log, /no query handler for path/);
    // Round-trip through protobuf as CometBFT would see it.
    assert.equal(Response.decode(Response.encode(q).finish()).query!.code, 6);
    await app.close();
  });

  it("max_tx_bytes is a chain param (genesis, export): blocks obey it alone; the node's setting only tightens CheckTx", async () => {
    const d = tmpHome("app");
    dirs.push(d);
    const app = await PoiApp.open(d, { maxTxBytes: 1000 });
    await app.initChain(initReq({ ...genesis, auth: { params: { max_tx_bytes: "2000" } } }));
    await app.finalizeBlock(block(1n)); // genesis state is committed with block 1
    await app.commit();
    const junk = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
    const check = async (n: number) => (await app.checkTx({ tx: junk(n), type: 0 }));
    assert.equal((await check(1500)).code, 21);
    assert.match((await check(1500)).log!, /limit 1000 \(this node's max_tx_bytes\)/);
    assert.match((await check(2500)).log!, /limit 2000 \(chain param max_tx_bytes\)/);
    const res = await app.finalizeBlock(block(2n, [junk(1500), junk(2500)]));
    // 1500 bytes passes the size check in a block (and fails to decode); 2500 does not.
    assert.deepEqual(res.txResults!.map((r) => r.code), [2, 21]);
    await app.commit();
    const auth = app.modules.module("auth")!;
    assert.deepEqual((await auth.exportGenesis(app.queryContext()) as { params: unknown }).params, { max_tx_bytes: "2000" });
    await app.close();
    for (const bad of ["0", "-1", "1.5", 2000, "104857601"]) {
      const other = await open();
      await assert.rejects(other.initChain(initReq({ ...genesis, auth: { params: { max_tx_bytes: bad } } })), /params\.max_tx_bytes must be an integer string/);
      await other.close();
    }
  });

  it("refuses a genesis with a bad address, naming it", async () => {
    const app = await open();
    await assert.rejects(app.initChain(initReq({ bank: { balances: [{ address: "cosmos1xyz", coins: [{ denom: "upoi", amount: "1" }] }] } })), /bank genesis balance address "cosmos1xyz"/);
    await app.close();
  });
});
