/**
 * e2e: verified work moves CometBFT's voting power, up to the cap, on a real 4-validator localnet.
 * Only validator A (node0) has a linked worker (user0), and only that worker runs tasks. A's power in RPC
 * `/validators` must rise over successive epochs and stop exactly at the cap; every change stays
 * within the per-epoch bound; and each update returned by FinalizeBlock at H changes the header's
 * `validators_hash` at exactly H+2. The localnet's power params: src/cli/home.ts (33% cap, 5% a step).
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { PoiQueryClient } from "../src/client/query";
import { PoiTxClient } from "../src/client/tx";
import { LOCALNET_STAKING_PARAMS } from "../src/cli/home";
import { validateModel } from "../src/x/poi/onnx/validate";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { loadMnist, trainMnistMlp } from "../src/ml/train";
import { PoiWorker } from "../src/worker/worker";
import { TaskStatus } from "../src/x/poi/types";
import { height, poi, removeHome, rpc, rpcUrls, sleep, tmpHome, waitForHeight } from "./helpers/chain";

const BASE_PORT = 28500;
const EPOCH = 10; // x/staking's default epoch_blocks
const CAP_BPS = BigInt(LOCALNET_STAKING_PARAMS.max_power_share_bps);
const STEP_BPS = BigInt(LOCALNET_STAKING_PARAMS.max_power_change_bps);

interface Account { name: string; mnemonic: string; address: string }
type Powers = Map<string, bigint>; // consensus address (hex) -> power

describe("e2e: power follows verified work, up to the cap (4-validator localnet)", function () {
  this.timeout(900_000);
  const home = tmpHome("power-localnet");
  let url = "";
  let accounts: Account[] = [];
  let q: PoiQueryClient;
  const clients: PoiTxClient[] = [];
  let worker: PoiWorker | undefined;
  const workerLog: string[] = [];
  let stopSubmitting = false;
  const acct = (n: string) => accounts.find((a) => a.name === n)!;

  const powersAt = async (h?: number): Promise<Powers> => {
    const r = await rpc<{ validators: Array<{ address: string; voting_power: string }> }>(url, `validators?per_page=100${h ? `&height=${h}` : ""}`);
    return new Map(r.validators.map((v) => [v.address, BigInt(v.voting_power)]));
  };
  const validatorsHash = async (h: number) => (await rpc<{ header: { validators_hash: string } }>(url, `header?height=${h}`)).header.validators_hash;
  const updatesAt = async (h: number) => (await rpc<{ validator_updates: Array<{ power: string }> | null }>(url, `block_results?height=${h}`)).validator_updates ?? [];

  before(async () => {
    poi(["localnet", "start", "--home", home, "--validators", "4", "--base-port", String(BASE_PORT), "--detach"]);
    url = rpcUrls(home)[0];
    accounts = JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8"));
    await waitForHeight(url, 2);
    q = await PoiQueryClient.connect(url);
  });
  after(async () => {
    stopSubmitting = true;
    await worker?.stop().catch(() => undefined);
    for (const c of clients) c.disconnect();
    q?.disconnect();
    poi(["localnet", "stop", "--home", home], { allowFail: true });
    if (process.env.KEEP_HOMES !== "1") removeHome(home);
  });

  it("A's power rises over epochs and stops at the cap; every change is within the bound; validators_hash changes exactly 2 blocks after each update", async () => {
    const consA = JSON.parse(fs.readFileSync(path.join(home, "node0", "config", "priv_validator_key.json"), "utf8")).address as string;
    const start = await powersAt();
    assert.deepEqual([...start.values()], [100_000n, 100_000n, 100_000n, 100_000n], "equal genesis powers");
    const others = [...start.keys()].filter((a) => a !== consA);
    // Water filling with A the only one capped: X = floor(c·R / (10000 − c)), R the others' powers.
    const R = others.reduce((s, a) => s + start.get(a)!, 0n);
    const cap = (CAP_BPS * R) / (10_000n - CAP_BPS);
    assert.ok(cap > 100_000n, "the cap leaves room above an equal share");

    // A's operator offers to link the worker account user0, and user0 accepts.
    const op0 = await PoiTxClient.connect(url, acct("operator0").mnemonic);
    const w0 = await PoiTxClient.connect(url, acct("user0").mnemonic);
    clients.push(op0, w0);
    await op0.linkWorker(w0.address);
    await w0.acceptWorkerLink(op0.address);
    assert.equal((await q.links({ worker: w0.address })).links[0]?.operator, op0.address);

    // A requester's model and 200 digits; a stream of small tasks for the one worker.
    const trained = trainMnistMlp({ trainCount: 1000 });
    const requester = await PoiTxClient.connect(url, acct("requester").mnemonic);
    clients.push(requester);
    const onnx = buildMlp({ inputSize: 784, hidden: trained.hidden, outputs: 10, weights: trained.weights });
    const info = validateModel(onnx);
    const spec = (s: { name: string; shape: number[]; dtype: string }) => ({ name: s.name, shape: s.shape.map(String), dtype: s.dtype });
    const { modelId } = await requester.registerModel(onnx, "mnist-mlp", info.inputs.map(spec), info.outputs.map(spec));
    const images = loadMnist().images.slice(0, 200);
    const items = new Float32Array(200 * 784);
    images.forEach((img, i) => items.set(img, i * 784));
    const { datasetId } = await requester.uploadDataset("mnist-200", { name: "digit", shape: ["784"], dtype: "float32" }, items, 100);
    worker = new PoiWorker({ rpc: url, mnemonic: acct("user0").mnemonic, pollMs: 300, log: (l) => workerLog.push(l) });
    void worker.start().catch((err) => workerLog.push(`stopped: ${(err as Error).message}`));
    const submitted: string[] = [];
    void (async () => {
      for (let i = 0; !stopSubmitting; i++) {
        const r = await requester.submitInferenceTask({ modelId, dataset: { id: datasetId, start: (i * 50) % 150, count: 50 }, rewardPerItem: 1000n, k: 4, deadlineBlocks: 150, bond: 1_000_000n })
          .catch((err: Error) => ({ taskId: `error: ${err.message}` }));
        submitted.push(r.taskId);
        await sleep(1500);
      }
    })();

    // Until A has been at the cap for two full epochs.
    const deadline = Date.now() + 600_000;
    let capSince = 0;
    for (;;) {
      const now = await height(url);
      const a = (await powersAt()).get(consA)!;
      if (a === cap && capSince === 0) capSince = now;
      if (capSince > 0 && now >= capSince + 2 * EPOCH + 2) break;
      assert.ok(Date.now() < deadline, `A's power ${a} did not reach the cap ${cap} within 600 s (height ${now}; worker: ${workerLog.slice(-5).join(" | ")}; submitted: ${submitted.slice(-3).join(", ")})`);
      await sleep(1000);
    }
    stopSubmitting = true;
    const end = await height(url) - 2;

    // The history, read back from CometBFT: the set at each height, the updates each block returned,
    // and each header's validators_hash.
    const sets: Powers[] = [];
    const hashes: string[] = [];
    const updateHeights: number[] = [];
    for (let h = 1; h <= end + 2; h++) {
      sets[h] = await powersAt(h);
      hashes[h] = await validatorsHash(h);
      if (h <= end && (await updatesAt(h)).length > 0) updateHeights.push(h);
    }
    assert.ok(updateHeights.length >= 2, `at least two power updates (got heights ${updateHeights.join(", ")})`);
    for (let h = 2; h <= end + 2; h++) {
      const changed = hashes[h] !== hashes[h - 1];
      assert.equal(changed, updateHeights.includes(h - 2), `validators_hash at ${h} ${changed ? "changed" : "unchanged"}, updates at ${h - 2}: ${updateHeights.includes(h - 2)}`);
    }
    for (const h of updateHeights) {
      assert.equal(h % EPOCH, 0, `update at ${h}, not at an epoch end`);
      const ups = await updatesAt(h);
      const after = [...sets[h + 2].values()].sort();
      for (const u of ups) assert.ok(after.includes(BigInt(u.power)) || u.power === "0", `update power ${u.power} in the set at ${h + 2}`);
    }

    // A's trajectory: never down, at least two steps up before the cap, ends at the cap exactly.
    const trajectory = [...new Set(sets.slice(1).map((s) => s.get(consA)!))];
    assert.deepEqual([...trajectory].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)), trajectory, `A's power never falls: ${trajectory.join(" → ")}`);
    assert.ok(trajectory.length >= 3, `A rises over successive epochs: ${trajectory.join(" → ")}`);
    assert.equal(trajectory[0], 100_000n);
    assert.equal(trajectory[trajectory.length - 1], cap, `A stops at the cap ${cap}: ${trajectory.join(" → ")}`);
    // Every move of every validator, from one set to the next, within the bound of the previous total.
    for (let h = 2; h <= end + 2; h++) {
      const prev = sets[h - 1], cur = sets[h];
      const total = [...prev.values()].reduce((s, x) => s + x, 0n);
      const bound = (total * STEP_BPS) / 10_000n;
      for (const [addr, p] of cur) {
        const d = p - (prev.get(addr) ?? 0n);
        assert.ok(d <= bound && -d <= bound, `${addr} moved ${d} at ${h}, bound ${bound}`);
      }
      const share = (cur.get(consA)! * 10_000n) / [...cur.values()].reduce((s, x) => s + x, 0n);
      assert.ok(share <= CAP_BPS, `A's share ${share} bps at ${h} is within the cap`);
    }
    for (const o of others) assert.equal(sets[end + 2].get(o), 100_000n, "validators without work keep their stake power");
    assert.ok(BigInt((await q.workScore(consA)).score) > 0n, "A has a work score");
    for (const o of others) assert.equal((await q.workScore(o)).score, "0", "the others have none");
    // What A's work credit would have cost a self-dealer (requester = worker): at least the protocol fee
    // of each credited task, ceil(items × units per item × price / 10^6), burned or pooled.
    const model = await q.model(modelId);
    const price = BigInt((await q.params()).protocolFeePerMegaUnit);
    const done = (await q.tasks({ requester: requester.address })).filter((t) => t.status === TaskStatus.COMPLETED);
    const taskUnits = done.map((t) => BigInt(t.numItems) * BigInt(model.workUnitsPerItem));
    const units = taskUnits.reduce((u, x) => u + x, 0n);
    const fees = taskUnits.reduce((f, x) => f + (x * price + 999_999n) / 1_000_000n, 0n);
    assert.ok(done.length > 0 && units > 0n, "tasks were verified");
    console.log(`      ${done.length} tasks verified (${units} work units, protocol fees ${fees} upoi) gave A a work score of ${(await q.workScore(consA)).score}`);
    const steps: string[] = [];
    for (let h = 1; h <= end + 2; h++) if (h === 1 || sets[h].get(consA) !== sets[h - 1].get(consA)) steps.push(`${h}:${sets[h].get(consA)}`);
    console.log(`      A's power by height: ${steps.join(" → ")}; updates at ${updateHeights.join(", ")}`);
  });
});
