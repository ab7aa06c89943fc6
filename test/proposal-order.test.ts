import { strict as assert } from "assert";
import * as fs from "node:fs";
import { toBech32 } from "@cosmjs/encoding";
import { CheckTxType } from "cosmjs-types/tendermint/abci/types";
import { PoiApp } from "../src/app/app";
import { parseAddress } from "../src/app/address";
import { tmpHome } from "./helpers/chain";
import { block, signedSend, signer, type Signer } from "./helpers/signers";

const CHAIN_ID = "poi-proposal-order";
const time = { seconds: 1_700_000_000n, nanos: 0 };
const SINK = toBech32("poi", Uint8Array.from({ length: 20 }, (_, i) => i + 11));

/** PrepareProposal puts each sender's txs in sequence order (src/x/auth/proposal-order.ts). */
describe("proposal order: each sender's txs in sequence order", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  async function openApp(senders: Signer[]): Promise<{ app: PoiApp; accountNumbers: bigint[] }> {
    const dir = tmpHome("proposal-order");
    dirs.push(dir);
    const app = await PoiApp.open(dir);
    const balances = senders.map((s) => ({ address: s.address, coins: [{ denom: "upoi", amount: "1000000000" }] }));
    await app.initChain({ time, chainId: CHAIN_ID, validators: [], appStateBytes: Buffer.from(JSON.stringify({ bank: { balances } })), initialHeight: 1n });
    await app.finalizeBlock(block(1n));
    await app.commit();
    const accountNumbers = await Promise.all(senders.map(async (s) => (await app.accounts.getAccount(app.queryContext(), parseAddress(s.address)))!.accountNumber));
    return { app, accountNumbers };
  }

  const prepare = (app: PoiApp, txs: Uint8Array[], maxTxBytes = 1_000_000n) =>
    app.prepareProposal({ txs, maxTxBytes, height: 2n, time: { seconds: time.seconds + 2n, nanos: 0 }, proposerAddress: Buffer.alloc(20), nextValidatorsHash: new Uint8Array(), misbehavior: [], localLastCommit: { round: 0, votes: [] } });

  it("reorders a sender's txs into its own positions; other txs keep theirs; the block then commits every tx", async () => {
    const [a, b] = [await signer("order-a"), await signer("order-b")];
    const { app, accountNumbers } = await openApp([a, b]);
    const sendA = await Promise.all([0n, 1n, 2n].map(async (seq) => (await signedSend(a, seq, accountNumbers[0], CHAIN_ID, SINK)).tx));
    const sendB = await Promise.all([0n, 1n].map(async (seq) => (await signedSend(b, seq, accountNumbers[1], CHAIN_ID, SINK)).tx));
    const junk = Uint8Array.from([0x0a, 0x02, 0xff]); // does not decode as a tx: stays in place, fails in the block
    for (const tx of [...sendA, ...sendB]) assert.equal((await app.checkTx({ tx, type: CheckTxType.NEW })).code, 0);

    // As CometBFT's mempool can hand them over: a's seq 1 before its seq 0.
    const mempool = [sendA[1], sendB[0], sendA[0], junk, sendB[1], sendA[2]];
    const { txs } = await prepare(app, mempool);
    assert.deepEqual(txs.map((t) => Buffer.from(t).toString("hex")), [sendA[0], sendB[0], sendA[1], junk, sendB[1], sendA[2]].map((t) => Buffer.from(t).toString("hex")));

    const res = await app.finalizeBlock(block(2n, txs));
    assert.deepEqual(res.txResults!.map((r) => r.code), [0, 0, 0, 2, 0, 0], res.txResults!.map((r) => r.log).join(" | "));

    // The mempool's order as it was fails from a's seq 1 on, which is what the reordering avoids.
    const other = await openApp([a, b]);
    const unordered = await other.app.finalizeBlock(block(2n, mempool.filter((t) => t !== junk)));
    assert.deepEqual(unordered.txResults!.map((r) => r.code), [32, 0, 0, 0, 32]);
    await app.close();
    await other.app.close();
  });

  it("leaves an ordered mempool, and the byte budget, as they were", async () => {
    const a = await signer("order-c");
    const { app, accountNumbers } = await openApp([a]);
    const sends = await Promise.all([0n, 1n, 2n].map(async (seq) => (await signedSend(a, seq, accountNumbers[0], CHAIN_ID, SINK)).tx));
    assert.deepEqual((await prepare(app, sends)).txs, sends);
    // Only what fits is proposed, then ordered: seq 2 and 0 fit, seq 1 does not.
    const tight = BigInt(sends[2].length + sends[0].length);
    assert.deepEqual((await prepare(app, [sends[2], sends[0], sends[1]], tight)).txs, [sends[0], sends[2]]);
    await app.close();
  });
});
