/**
 * `poi export` end to end: a real 1-validator chain gets state of every kind, is stopped and
 * exported at its last height H; a NEW 1-validator chain (another validator key) starts from the
 * export at height H+1 and answers every query as the old chain did.
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { PoiQueryClient } from "../src/client/query";
import { PoiTxClient } from "../src/client/tx";
import { PoiWorker } from "../src/worker/worker";
import { TaskStatus } from "../src/x/poi/types";
import { registerMlpAndDigits } from "./helpers/poi-flow";
import { poi, removeHome, rpc, sleep, startSingle, stopSingle, tmpHome, waitForHeight } from "./helpers/chain";

interface Account { name: string; mnemonic: string; address: string }

const OLD_PORT = 26100;
const NEW_PORT = 26200;

/** Everything the test compares, read through the public queries. */
async function snapshot(q: PoiQueryClient, addresses: string[], ids: { model: string; dataset: string; completed: string }) {
  const tasks = await q.tasks();
  return {
    balances: await Promise.all(addresses.map((a) => q.allBalances(a))),
    accounts: await Promise.all(addresses.map(async (a) => {
      const acc = await q.account(a);
      return acc && { address: acc.address, accountNumber: acc.accountNumber, sequence: acc.sequence, pubkey: acc.pubkey };
    })),
    models: await q.models(),
    modelBytes: Buffer.from(await q.modelBytes(ids.model)).toString("base64"),
    dataset: await q.dataset(ids.dataset),
    items: Buffer.from(await q.datasetItems(ids.dataset, 0, 30)).toString("base64"),
    tasks,
    outputs: Buffer.from(await q.taskOutputs(ids.completed)).toString("base64"),
    inputs: await Promise.all(tasks.filter((t) => t.datasetId === "").map(async (t) => Buffer.from(await q.taskInputs(t.id)).toString("base64"))),
    workers: await Promise.all(addresses.map((a) => q.worker(a).catch(() => undefined))),
    params: await q.params(),
  };
}

describe("e2e: poi export, and a new chain started from the export", function () {
  const oldHome = tmpHome("genesis-old");
  const newHome = tmpHome("genesis-new");
  const oldUrl = `http://127.0.0.1:${OLD_PORT + 1}`;
  const newUrl = `http://127.0.0.1:${NEW_PORT + 1}`;
  const exportFile = path.join(oldHome, "exported-genesis.json");
  let accounts: Account[] = [];
  let oldState: Awaited<ReturnType<typeof snapshot>>;
  let ids: { model: string; dataset: string; completed: string };
  let exportedHeight = 0;
  const acct = (name: string) => accounts.find((a) => a.name === name)!;
  const addresses = () => accounts.map((a) => a.address);

  before(async () => {
    poi(["init", "--home", oldHome, "--base-port", String(OLD_PORT)]);
    // Claims must not lapse while the test runs: the claimed task stays claimed.
    const gfile = path.join(oldHome, "config", "genesis.json");
    const g = JSON.parse(fs.readFileSync(gfile, "utf8"));
    g.app_state.poi = { params: { claimBlocks: "5000" } };
    fs.writeFileSync(gfile, JSON.stringify(g, null, 2));
    accounts = JSON.parse(fs.readFileSync(path.join(oldHome, "accounts.json"), "utf8")) as Account[];
    startSingle(oldHome);
    await waitForHeight(oldUrl, 2);
  });
  after(async () => {
    await stopSingle(oldHome);
    await stopSingle(newHome);
    removeHome(oldHome);
    removeHome(newHome);
  });

  it("the old chain gets models, datasets, tasks in several states, worker stats and signed accounts", async () => {
    const requester = await PoiTxClient.connect(oldUrl, acct("requester").mnemonic);
    const claimer = await PoiTxClient.connect(oldUrl, acct("user0").mnemonic);
    const { modelId: model, datasetId: dataset, items } = await registerMlpAndDigits(requester, { seed: 5, digits: 30, perChunk: 10 });
    const task = (count: number, start: number, inline = false) => requester.submitInferenceTask({
      modelId: model, rewardPerItem: 1000n, k: Math.min(4, count), deadlineBlocks: 6000, bond: 100_000n,
      ...(inline ? { inputs: items.slice(start * 784, (start + count) * 784) } : { dataset: { id: dataset, start, count } }),
    });
    const completed = (await task(10, 0)).taskId;
    const claimed = (await task(5, 10)).taskId;
    await task(3, 20, true); // stays open, inline inputs
    await claimer.claimTask(claimed);
    await claimer.client.sendTokens(claimer.address, acct("user1").address, [{ denom: "upoi", amount: "777" }], "auto");
    const worker = new PoiWorker({ rpc: oldUrl, mnemonic: acct("operator0").mnemonic, pollMs: 300, taskFilter: (t) => t.id === completed });
    void worker.start();
    const q = requester.query;
    const deadline = Date.now() + 120_000;
    while ((await q.task(completed)).status !== TaskStatus.COMPLETED) {
      assert.ok(Date.now() < deadline, `task ${completed} not completed in time: ${JSON.stringify(await q.task(completed))}`);
      await sleep(300);
    }
    await worker.stop();
    requester.disconnect();
    claimer.disconnect();
    ids = { model, dataset, completed };
    const statuses = (await q.tasks()).map((t) => t.status).sort();
    assert.deepEqual(statuses, [TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.COMPLETED]);
  });

  it("poi export refuses a running node, then writes the stopped node's state at its last height", async () => {
    const running = poi(["export", "--home", oldHome], { allowFail: true });
    assert.equal(running.code, 1);
    assert.match(running.stderr, /the node at .* is running \(pid \d+/);
    const q = await PoiQueryClient.connect(oldUrl);
    oldState = await snapshot(q, addresses(), ids);
    q.disconnect();
    await stopSingle(oldHome);
    const r = poi(["export", "--home", oldHome, "--out", exportFile]);
    const m = /exported poi-localnet at height (\d+) \(app hash [0-9A-F]{64}\): \d+ accounts, 1 models, 1 datasets, 3 tasks, 1 validators/.exec(r.stderr);
    assert.ok(m, r.stderr);
    exportedHeight = Number(m[1]);
    const doc = JSON.parse(fs.readFileSync(exportFile, "utf8"));
    assert.equal(doc.initial_height, String(exportedHeight + 1));
    assert.equal(doc.chain_id, "poi-localnet");
    assert.equal(doc.validators.length, 1);
    const user0 = doc.app_state.auth.accounts.find((a: { address: string }) => a.address === acct("user0").address);
    assert.equal(user0.sequence, "2");
    assert.ok(user0.pub_key.key, "user0 signed, so its public key is exported");
    // An older height exports too.
    const older = JSON.parse(poi(["export", "--home", oldHome, "--height", String(exportedHeight - 5)]).stdout);
    assert.equal(older.initial_height, String(exportedHeight - 4));
    assert.equal(poi(["export", "--home", oldHome, "--height", String(exportedHeight + 1)], { allowFail: true }).code, 1);
  });

  it("a new 1-validator chain under another key starts at H+1 from the export and answers every query the same", async () => {
    poi(["init", "--home", newHome, "--base-port", String(NEW_PORT)]);
    const gfile = path.join(newHome, "config", "genesis.json");
    const doc = JSON.parse(fs.readFileSync(exportFile, "utf8"));
    const ownValidators = JSON.parse(fs.readFileSync(gfile, "utf8")).validators;
    assert.notEqual(ownValidators[0].pub_key.value, doc.validators[0].pub_key.value, "a new validator key");
    doc.validators = ownValidators; // the documented way to continue under other validators
    fs.writeFileSync(gfile, JSON.stringify(doc, null, 2));
    startSingle(newHome);
    await waitForHeight(newUrl, exportedHeight + 3);
    const status = await rpc<{ sync_info: { earliest_block_height: string } }>(newUrl, "status");
    assert.equal(Number(status.sync_info.earliest_block_height), exportedHeight + 1, "the new chain's first block is H+1");
    const q = await PoiQueryClient.connect(newUrl);
    const newState = await snapshot(q, addresses(), ids);
    q.disconnect();
    assert.deepEqual(newState, oldState);
    assert.ok(oldState.workers.some((w) => w && BigInt(w.verifiedWorkUnits) > 0n), "worker stats are part of the comparison");
    assert.ok(oldState.accounts.some((a) => a && a.sequence > 0 && a.pubkey), "signed accounts are part of the comparison");
  });
});
