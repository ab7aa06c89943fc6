import { strict as assert } from "assert";
import { runAbciBench } from "../scripts/bench-abci";

// `npm run bench -- abci` with tiny settings, so that it cannot rot: the bank-send path without
// CometBFT, called in process and through the ABCI socket server.
describe("bench abci: the bank-send path without CometBFT (tiny settings)", function () {
  for (const socket of [false, true]) {
    it(`commits every tx, verifies each signature once, and splits its CPU by phase (${socket ? "through the socket server" : "in process"})`, async function () {
      const lines: string[] = [];
      const log = console.log;
      console.log = (...a: unknown[]) => lines.push(a.join(" "));
      let r;
      try {
        r = await runAbciBench({ accounts: 2, txsPerAccount: 15, blockTxs: 10, backlog: 4, socket });
      } finally {
        console.log = log;
      }
      assert.equal(r.committed, 30);
      // 4 checked first, then 10 more before each block of 10: 4 txs are left to recheck after the
      // first two blocks, none after the third (only 6 new txs were left for it).
      assert.equal(r.rechecks, 4 + 4);
      assert.equal(r.work.verified, 30, "one signature verification per tx");
      assert.equal(r.work.decoded, 30, "one decode per tx");
      assert.ok(r.work.sigHits >= 30 + 8, `the block and each Recheck hit the verified signature (${r.work.sigHits} hits)`);
      const { checkNew, block, recheck } = r.phaseMsPerTx;
      assert.ok(checkNew > 0 && block > 0 && recheck > 0, JSON.stringify(r.phaseMsPerTx));
      assert.ok(checkNew + block + recheck <= r.cpuMsPerTx * 1.05, `the phases (${checkNew + block + recheck}) fit in the total (${r.cpuMsPerTx})`);
      const printed = lines.join("\n");
      assert.match(printed, /by phase, per committed tx: CheckTx of new txs [\d.]+ ms, FinalizeBlock \+ Commit [\d.]+ ms, Recheck [\d.]+ ms/);
      assert.match(printed, socket ? /through the ABCI socket server/ : /, in process \(no CometBFT\)/);
    });
  }
});
