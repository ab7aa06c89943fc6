import { strict as assert } from "assert";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { readCodes, type Included, type LoadResult } from "../scripts/bench-load";
import { parseThroughputArgs, runThroughputBench } from "../scripts/bench-throughput";

// The throughput benchmark (`npm run bench -- throughput`) with tiny settings, so that it cannot rot:
// it starts real networks of both apps (our localnet, CometBFT's abci-cli kvstore) on ports 25500-25502.
describe("bench throughput: our app against CometBFT's kvstore (tiny settings)", function () {
  it("measures both apps saturated and at one offered rate after a warm-up, with every tx committed with code 0 and the state checked", async function () {
    const lines: string[] = [];
    const res = await runThroughputBench({ txs: 200, lanes: 8, runs: 1, validators: [1], rate: "auto", pacedRuns: 1, basePort: 25500, warmup: 16, log: (l) => lines.push(l) })
      .catch((err: Error) => { throw new Error(`${err.message}\n--- what the benchmark printed:\n${lines.join("\n")}`); });

    assert.deepEqual(res.runs.map((r) => `${r.app} ${r.rate === undefined ? "saturated" : "paced"}`), ["poi saturated", "kvstore saturated", "poi paced", "kvstore paced"]);
    const rate = res.pacedRates.get(1);
    assert.equal(rate, res.runs[0].txsPerSec / 2, "the paced rate is half of our saturated rate");
    for (const r of res.runs) {
      const what = `${r.app} ${r.rate ?? "saturated"}`;
      assert.equal(r.validators, 1, what);
      assert.equal(r.submitted, 200, what);
      assert.equal(r.succeeded, 200, `${what}: every tx committed with code 0`);
      // The end state holds the 16 warm-up txs (2 a lane) as well as the 200 measured ones.
      assert.match(r.stateCheck, r.app === "poi" ? /^sink holds 216upoi; every sender's balance and sequence \(27\) as expected$/ : /^kvstore size 216$/, what);
      if (r.app === "kvstore") assert.equal(r.txBytes, 308, what);
      else assert.ok(r.txBytes > 280 && r.txBytes < 330, `${what}: MsgSend of ${r.txBytes} bytes`);
      if (r.rate !== undefined) assert.equal(r.rate, rate, what);
      assert.equal(r.timeoutCommit, "300ms");
      assert.equal(r.voteExtensionsHeight, "1", "kvstore runs with our genesis's vote extensions");
      // Measured, not judged: figures exist and are consistent, whatever their size.
      assert.ok(r.txsPerSec > 0 && Number.isFinite(r.txsPerSec), what);
      assert.ok(r.p50LatencyMs > 0 && r.p95LatencyMs >= r.p50LatencyMs, what);
      assert.ok(r.meanTxsPerBlock > 0 && r.meanTxsPerBlock <= 200, what);
      assert.ok(r.blockIntervalMs >= 0 && Number.isFinite(r.blockIntervalMs), what);
      assert.ok(r.cometbftCpuMsPerTx > 0, `${what}: cometbft CPU measured`);
      assert.ok(r.appCpuMsPerTx >= 0 && Number.isFinite(r.appCpuMsPerTx), what);
      if (r.app === "poi") assert.ok(r.appCpuMsPerTx > 0, `${what}: our app's CPU measured`);
    }

    const printed = lines.join("\n");
    assert.ok(printed.includes(res.table), "the table is printed");
    assert.match(res.table, /warm-up: each run first sends and commits 16 more txs the same way, before the clock starts/);
    assert.match(res.table, /^ {2}validators +app +tx\/s +runs \(tx\/s\) +poi\/kvstore +p50 ms +p95 ms +txs\/block +block ms +app CPU ms\/tx +cometbft CPU ms\/tx +client CPU ms\/tx$/m);
    assert.match(res.table, /^ {2}1 +poi +\d+ +\d+ +\d+\.\d{3} +\d+ +\d+ +[\d.]+ +\d+ +[\d.]+ +[\d.]+ +[\d.]+$/m);
    assert.match(res.table, /^ {2}1 +kvstore +\d+ +\d+ +\d+ +\d+ +[\d.]+ +\d+ +[\d.]+ +[\d.]+ +[\d.]+$/m);
    assert.match(res.table, /^ {2}1 +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+ +[\d.]+ +[\d.]+$/m, "the same-rate row");
    assert.match(res.table, /4 runs, 800 txs committed with code 0/);
  });

  it("reads every included tx's code from block_results after the run, one request a block, retrying one that lags", async function () {
    const asked: string[] = [];
    const results: Record<string, unknown> = { "7": { txs_results: [{ code: 0 }, { code: 5, log: "insufficient funds" }] }, "8": { txs_results: [{}] } };
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const { method, params } = JSON.parse(body) as { method: string; params: { height: string } };
        asked.push(`${method} ${params.height}`);
        const lagging = params.height === "8" && asked.filter((a) => a === "block_results 8").length === 1;
        res.end(JSON.stringify(lagging ? { jsonrpc: "2.0", id: 1, error: { message: "height 8 not available yet" } } : { jsonrpc: "2.0", id: 1, result: results[params.height] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const inc = (height: number, index: number): Included => ({ height, index, code: -1, log: "code not read" });
      const included = new Map([["A", inc(7, 0)], ["B", inc(7, 1)], ["C", inc(8, 0)], ["D", inc(8, 3)]]);
      await readCodes(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { included } as LoadResult);
      assert.deepEqual([...included.values()].map((i) => [i.code, i.log]), [[0, ""], [5, "insufficient funds"], [0, ""], [-1, "no result at index 3"]]);
      assert.deepEqual(asked, ["block_results 7", "block_results 8", "block_results 8"]);
    } finally {
      server.close();
    }
  });

  it("refuses bad options with the usage, before starting anything", async function () {
    assert.throws(() => parseThroughputArgs(["--txs", "0"]), /--txs must be an integer >= 1, got "0"\n.*npm run bench -- throughput/);
    assert.throws(() => parseThroughputArgs(["--rate", "fast"]), /--rate must be auto, off or a positive number/);
    assert.throws(() => parseThroughputArgs(["--validators", "1,x"]), /--validators must be an integer/);
    assert.throws(() => parseThroughputArgs(["--bogus"]), /Unknown option '--bogus'/);
    assert.deepEqual(parseThroughputArgs(["--txs", "80", "--validators", "1,4", "--rate", "50"]).validators, [1, 4]);
    assert.throws(() => parseThroughputArgs(["--baseline", "/nonexistent-poi-checkout"]), /--baseline \/nonexistent-poi-checkout: no dist\/src\/cli\/main\.js there/);
    await assert.rejects(runThroughputBench({ txs: 201, lanes: 8, log: () => {} }), /--txs \(201\) must be a multiple of --lanes \(8\)/);
    await assert.rejects(runThroughputBench({ warmup: 12, lanes: 8, log: () => {} }), /--warmup \(12\) must be a multiple of --lanes \(8\)/);
    assert.equal(parseThroughputArgs(["--warmup", "0"]).warmup, 0);
    assert.throws(() => parseThroughputArgs(["--warmup=-8"]), /--warmup must be an integer >= 0/);
    await assert.rejects(runThroughputBench({ runs: 0, rate: "auto", log: () => {} }), /--runs 0 needs a fixed --rate/);
    await assert.rejects(runThroughputBench({ basePort: 32500, validators: [4], log: () => {} }), /ephemeral range/);
  });
});
