import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { GasPrice, SigningStargateClient, calculateFee, type StdFee } from "@cosmjs/stargate";
import { toBase64 } from "@cosmjs/encoding";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { checkRPCConnectivity, checkRestConnectivity } from "@keplr-wallet/chain-validator";
import { PoiTxClient } from "../src/client/tx";
import { TaskStatus } from "../src/x/poi/types";
import { PoiWorker } from "../src/worker/worker";
import { registerMlpAndDigits } from "./helpers/poi-flow";
import { poi, removeHome, sleep, statusJson, tmpHome, waitForHeight } from "./helpers/chain";
import { COIN, PAGE, assertGrpcError, assertShape, metricValue, rest } from "./helpers/rest";
import { isError, routeCases, type RouteFacts } from "./helpers/rest-routes";

// ws has no bundled types; Keplr's RPC check takes any WebSocket-like constructor.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const WebSocket = require("ws") as new (url: string) => { readyState: number; close(): void; onerror: unknown };

// The REST API, metrics and chain CLI against a real 1-validator localnet (CometBFT included), economics on.
const BASE_PORT = 20000;
const GAS_PRICE = GasPrice.fromString("0.025upoi");

interface Account { name: string; mnemonic: string; address: string }

describe("e2e: REST gateway, Keplr's calls, metrics and chain CLI (1-validator localnet)", function () {
  this.timeout(300_000);
  const home = tmpHome("rest");
  let rpcUrl = "";
  let restUrl = "";
  let accounts: Account[] = [];
  let chainId = "";
  const facts: Partial<RouteFacts> = {};
  const acct = (name: string) => accounts.find((a) => a.name === name)!;
  const get = (p: string) => rest(restUrl, p);
  const post = (p: string, body: unknown) => rest(restUrl, p, body);

  before(async () => {
    // --demo turns mint and distribution on; with --detach no demo requester runs.
    poi(["localnet", "start", "--home", home, "--validators", "1", "--base-port", String(BASE_PORT), "--detach", "--demo"]);
    accounts = JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8")) as Account[];
    rpcUrl = `http://127.0.0.1:${BASE_PORT + 1}`;
    restUrl = `http://127.0.0.1:${BASE_PORT + 3}`;
    await waitForHeight(rpcUrl, 2);

    // PoI state for the /poi/v1 routes: a model, a dataset, a task verified and paid, one left open.
    const requester = await PoiTxClient.connect(rpcUrl, acct("requester").mnemonic);
    chainId = await requester.client.getChainId();
    const { modelId, datasetId } = await registerMlpAndDigits(requester, { seed: 3, digits: 20, perChunk: 10 });
    const task = (start: number) => requester.submitInferenceTask({ modelId, dataset: { id: datasetId, start, count: 10 }, rewardPerItem: 1000n, k: 4, deadlineBlocks: 5000, bond: 100_000n });
    const completed = (await task(0)).taskId;
    const open = (await task(10)).taskId;
    const worker = new PoiWorker({ rpc: rpcUrl, mnemonic: acct("user0").mnemonic, pollMs: 300, taskFilter: (t) => t.id === completed });
    void worker.start();
    const deadline = Date.now() + 120_000;
    while ((await requester.query.task(completed)).status !== TaskStatus.COMPLETED) {
      assert.ok(Date.now() < deadline, `task ${completed} not completed in time`);
      await sleep(300);
    }
    await worker.stop();
    // The demo genesis plants a known-answer audit on 5% of passes (by a draw over the validators'
    // seed commitments, so per localnet): it takes the next task id and completes once decided.
    const audits = async () => (await requester.query.tasks()).filter((t) => t.auditOf === String(completed));
    while ((await audits()).some((t) => t.status !== TaskStatus.COMPLETED)) {
      assert.ok(Date.now() < deadline, `the audit of task ${completed} not decided in time`);
      await sleep(300);
    }
    const completedTasks = [String(completed), ...(await audits()).map((t) => t.id)];
    requester.disconnect();
    Object.assign(facts, {
      chainId, faucet: acct("faucet").address, delegator: acct("operator0").address, modelId, datasetId,
      completedTasks, openTask: String(open), worker: acct("user0").address,
    });
  });
  after(() => {
    poi(["localnet", "stop", "--home", home], { allowFail: true });
    removeHome(home);
  });

  it("localnet status --json lists each node's REST, metrics and CometBFT metrics URLs (base + 3, + 4, + 5)", () => {
    const [node] = statusJson(home);
    assert.deepEqual(
      [node.rpc, node.rest, node.metrics, node.cometbftMetrics, node.running],
      [rpcUrl, restUrl, `http://127.0.0.1:${BASE_PORT + 4}/metrics`, `http://127.0.0.1:${BASE_PORT + 5}/metrics`, true]);
  });

  it("Keplr's calls in order: node_info, account 404 then BaseAccount, balances, simulate, broadcast sync, txs/{hash} until committed", async () => {
    // 1. node_info: Keplr checks the chain id and reads the SDK version.
    const info = await get("/cosmos/base/tendermint/v1beta1/node_info");
    assert.equal(info.status, 200);
    assert.equal(info.body.default_node_info.network, chainId);
    assert.equal(typeof info.body.application_version.cosmos_sdk_version, "string");
    assert.match(info.body.application_version.cosmos_sdk_version, /^v0\.50\.\d+$/);

    // 2. The account of a new address: 404 with gRPC code 5.
    const wallet = await DirectSecp256k1HdWallet.generate(12, { prefix: "poi" });
    const [{ address }] = await wallet.getAccounts();
    assertGrpcError(await get(`/cosmos/auth/v1beta1/accounts/${address}`), 404, 5, new RegExp(`account ${address} not found`));

    // Someone funds it (over RPC, with CosmJS).
    const faucetWallet = await DirectSecp256k1HdWallet.fromMnemonic(acct("faucet").mnemonic, { prefix: "poi" });
    const faucet = await SigningStargateClient.connectWithSigner(rpcUrl, faucetWallet, { gasPrice: GAS_PRICE });
    const funded = await faucet.sendTokens(acct("faucet").address, address, [{ denom: "upoi", amount: "5000000" }], "auto");
    assert.equal(funded.code, 0);
    faucet.disconnect();

    // 3. Now the BaseAccount, in @type form, numbers as strings.
    const account = await get(`/cosmos/auth/v1beta1/accounts/${address}`);
    assert.equal(account.status, 200);
    assertShape(account.body, { account: { "@type": { eq: "/cosmos.auth.v1beta1.BaseAccount" }, address: { eq: address }, pub_key: "null", account_number: "uint", sequence: { eq: "0" } } });

    // 4. Balances.
    const balances = await get(`/cosmos/bank/v1beta1/balances/${address}`);
    assert.equal(balances.status, 200);
    assertShape(balances.body, { balances: [COIN], pagination: PAGE });
    assert.deepEqual(balances.body.balances, [{ denom: "upoi", amount: "5000000" }]);

    // 5. Simulate a MsgSend signed by unmodified CosmJS (offline, from what REST said, as Keplr signs).
    const to = (await (await DirectSecp256k1HdWallet.generate(12, { prefix: "poi" })).getAccounts())[0].address;
    const signer = await SigningStargateClient.offline(wallet);
    const signerData = { accountNumber: BigInt(account.body.account.account_number), sequence: Number(account.body.account.sequence), chainId };
    const msg = { typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: address, toAddress: to, amount: [{ denom: "upoi", amount: "1234" }] } };
    const signed = async (fee: StdFee) => toBase64(TxRaw.encode(await signer.sign(address, [msg], fee, "keplr", signerData)).finish());
    const sim = await post("/cosmos/tx/v1beta1/simulate", { tx_bytes: await signed({ amount: [{ denom: "upoi", amount: "5000" }], gas: "200000" }) });
    assert.equal(sim.status, 200, JSON.stringify(sim.body));
    assertShape(sim.body, { gas_info: { gas_wanted: "uint", gas_used: "uint" }, result: { data: "b64", log: "string", events: "array", msg_responses: [{ "@type": { eq: "/cosmos.bank.v1beta1.MsgSendResponse" } }] } });
    const gasUsed = Number(sim.body.gas_info.gas_used);
    assert.ok(gasUsed > 20_000 && gasUsed < 200_000, `gas_used ${gasUsed}`);

    // 6. Broadcast with the simulated gas (× 1.4, as Keplr does), sync mode.
    const txBytes = await signed(calculateFee(Math.ceil(gasUsed * 1.4), GAS_PRICE));
    const sent = await post("/cosmos/tx/v1beta1/txs", { tx_bytes: txBytes, mode: "BROADCAST_MODE_SYNC" });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assertShape(sent.body, { tx_response: { txhash: /^[0-9A-F]{64}$/, code: { eq: 0 }, codespace: "string", height: "uint", raw_log: "string", gas_wanted: "uint", gas_used: "uint" } });
    const hash = sent.body.tx_response.txhash as string;

    // 7. Poll txs/{hash}: 404 (gRPC 5) until it is in a block, then the TxResponse.
    let found;
    for (const until = Date.now() + 30_000; ; await sleep(300)) {
      found = await get(`/cosmos/tx/v1beta1/txs/${hash}`);
      if (found.status === 200) break;
      assertGrpcError(found, 404, 5);
      assert.ok(Date.now() < until, `tx ${hash} not committed in 30 s`);
    }
    assertShape(found.body, {
      tx: { body: { messages: [{ "@type": { eq: "/cosmos.bank.v1beta1.MsgSend" }, from_address: { eq: address }, to_address: { eq: to }, amount: { eq: [{ denom: "upoi", amount: "1234" }] } }], memo: { eq: "keplr" } } },
      tx_response: { txhash: { eq: hash }, height: "uint", code: { eq: 0 }, gas_used: "uint", gas_wanted: "uint", timestamp: "time", events: "array" },
    });
    assert.ok(Number(found.body.tx_response.height) > 0);
    // The account now has its public key and sequence 1; the recipient its coins.
    const after = await get(`/cosmos/auth/v1beta1/accounts/${address}`);
    assertShape(after.body, { account: { pub_key: { "@type": { eq: "/cosmos.crypto.secp256k1.PubKey" }, key: "b64" }, sequence: { eq: "1" } } });
    assert.deepEqual((await get(`/cosmos/bank/v1beta1/balances/${to}`)).body.balances, [{ denom: "upoi", amount: "1234" }]);
    Object.assign(facts, { txHash: hash, txHeight: found.body.tx_response.height, txSender: address });
  });

  it("every route answers its gateway JSON shape or its SDK error; CORS on each, no 500 anywhere", async () => {
    assert.ok(facts.txHash, "needs the Keplr test's tx");
    const vals = await get("/cosmos/base/tendermint/v1beta1/validatorsets/latest");
    facts.valcons = vals.body.validators[0].address;
    facts.valoper = (await get("/cosmos/staking/v1beta1/validators")).body.validators[0].operator_address;
    const cases = routeCases(facts as RouteFacts);
    const failures: string[] = [];
    for (const c of cases) {
      try {
        const a = c.post === undefined ? await get(c.path) : await post(c.path, c.post);
        if (isError(c.want)) assertGrpcError(a, c.want[0], c.want[1]);
        else {
          assert.equal(a.status, 200, JSON.stringify(a.body).slice(0, 300));
          assertShape(a.body, c.want);
          c.check?.(a.body);
        }
      } catch (err) {
        failures.push(`${c.post === undefined ? "GET" : "POST"} ${c.path}: ${(err as Error).message}`);
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${cases.length} routes failed`);
    // A browser's preflight.
    const pre = await fetch(`${restUrl}/cosmos/tx/v1beta1/txs`, { method: "OPTIONS", headers: { "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    assert.match(pre.headers.get("access-control-allow-methods") ?? "", /POST/);
  });

  it("app /metrics serves ABCI durations, txs per block, tasks by status, verifications, verdicts, slashes and queue depth, moving with blocks; CometBFT's serves its height", async () => {
    const metricsUrl = `http://127.0.0.1:${BASE_PORT + 4}/metrics`;
    const scrape = async () => (await fetch(metricsUrl, { signal: AbortSignal.timeout(10_000) })).text();
    const first = await scrape();
    for (const name of ["poi_abci_duration_seconds", "poi_block_txs", "poi_tasks", "poi_verifications_total", "poi_reexecution_seconds", "poi_verdicts_cast_total", "poi_slashes_total", "poi_verifier_queue_depth", "poi_txs_total"]) {
      assert.match(first, new RegExp(`^# TYPE ${name} `, "m"), `series ${name}`);
    }
    const count = (text: string, method: string) => metricValue(text, "poi_abci_duration_seconds_count", `method="${method}"`) ?? 0;
    for (const m of ["finalize_block", "commit", "check_tx"]) assert.ok(count(first, m) > 0, `${m} timed`);
    assert.ok((metricValue(first, "poi_block_txs_count") ?? 0) > 0);
    // The setup's tasks: one completed (and its audit, if one was planted) and one open; the verifier re-ran it and voted.
    assert.equal(metricValue(first, "poi_tasks", 'status="completed"'), facts.completedTasks!.length);
    assert.equal(metricValue(first, "poi_tasks", 'status="open"'), 1);
    assert.ok((metricValue(first, "poi_verifications_total", 'result="pass"') ?? 0) >= 1, "a re-execution counted");
    assert.ok((metricValue(first, "poi_reexecution_seconds_count") ?? 0) >= 1, "its time observed");
    assert.ok((metricValue(first, "poi_verdicts_cast_total", 'verdict="pass"') ?? 0) >= 1, "a verdict cast");
    assert.equal(metricValue(first, "poi_verifier_queue_depth"), 0);

    const height = metricValue(first, "poi_block_height")!;
    // CometBFT stores block H (its RPC height) before the app finalizes it, and stores H+1 only once
    // the app has committed H: at RPC height + 4 the app has finalized and committed height + 3.
    await waitForHeight(rpcUrl, height + 4);
    const second = await scrape();
    assert.ok(count(second, "finalize_block") >= count(first, "finalize_block") + 3, "FinalizeBlock count moves with blocks");
    assert.ok(count(second, "commit") >= count(first, "commit") + 3, "Commit count moves with blocks");
    assert.ok(metricValue(second, "poi_block_height")! >= height + 3);

    const comet = await (await fetch(`http://127.0.0.1:${BASE_PORT + 5}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    assert.ok((metricValue(comet, "cometbft_consensus_height") ?? 0) > height, "CometBFT's consensus height");
  });

  it("poi status, query block, query tx and query txs print the node's answers as JSON; a bad or unknown hash exits 1 with a message", () => {
    const node = ["--node", rpcUrl, "--output", "json"];
    const status = JSON.parse(poi(["status", ...node]).stdout);
    assert.equal(status.node_info.network, chainId);
    assert.match(status.sync_info.latest_block_height, /^\d+$/);
    assert.equal(status.sync_info.catching_up, false);

    const latest = JSON.parse(poi(["query", "block", ...node]).stdout);
    assert.match(latest.header.height, /^\d+$/);
    assert.equal(latest.header.chain_id, chainId);
    const one = JSON.parse(poi(["query", "block", "1", ...node]).stdout);
    assert.equal(one.header.height, "1");
    assert.ok(Array.isArray(one.data.txs));

    const tx = JSON.parse(poi(["query", "tx", facts.txHash!, ...node]).stdout);
    assert.deepEqual([tx.txhash, tx.height, tx.code], [facts.txHash, facts.txHeight, 0]);
    assert.match(tx.gas_used, /^\d+$/);
    assert.equal(tx.tx["@type"], "/cosmos.tx.v1beta1.Tx");

    const txs = JSON.parse(poi(["query", "txs", "--query", `message.sender='${facts.txSender}'`, ...node]).stdout);
    assert.equal(txs.total_count, "1");
    assert.deepEqual(txs.txs.map((t: { txhash: string }) => t.txhash), [facts.txHash]);

    const bad = poi(["query", "tx", "nothex", ...node], { allowFail: true });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid tx hash "nothex": want 64 hex characters/);
    const missing = poi(["query", "tx", "AB".repeat(32), ...node], { allowFail: true });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /tx not found/);
    const high = poi(["query", "block", "999999999", ...node], { allowFail: true });
    assert.equal(high.code, 1);
    assert.match(high.stderr, /height 999999999 is above the latest height \d+/);
  });

  it("poi chain-info --node: its rest is this node's REST, and Keplr's own RPC and REST connectivity checks pass", async () => {
    const info = JSON.parse(poi(["chain-info", "--node", rpcUrl]).stdout);
    assert.deepEqual([info.chainId, info.rpc, info.rest], [chainId, rpcUrl, restUrl]);
    await checkRestConnectivity(info.chainId, info.rest);
    await checkRPCConnectivity(info.chainId, info.rpc, (url) => new WebSocket(url) as never);
  });
});
