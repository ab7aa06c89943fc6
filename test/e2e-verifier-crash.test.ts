/**
 * A model that crashes the verifier, end to end on a 4-validator localnet: every node's re-execution
 * process aborts on models named "crash-me" (the test knob verifier_fault.abort_models_named, allowed
 * by --unsafe-test-knobs), as on a model that crashes onnxruntime everywhere. The nodes stay up, blocks
 * go on, the attempt ends with no fault and the model is flagged; after a restart a node does not run
 * the model again.
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { initNetwork } from "../src/cli/home";
import { readPids } from "../src/cli/node";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { randomMlpWeights } from "../src/ml/train";
import { validateModel } from "../src/x/poi/onnx/validate";
import { PoiTxClient } from "../src/client/tx";
import { TaskStatus, type Task } from "../src/x/poi/types";
import { PoiWorker } from "../src/worker/worker";
import { height, poi, removeHome, rpcUrls, sleep, tmpHome, waitForHeight } from "./helpers/chain";

const BASE_PORT = 25000;

describe("e2e: a model that crashes every verifier (4-validator localnet)", function () {
  const home = tmpHome("poi-crash");
  let urls: string[] = [];
  let accounts: Array<{ name: string; mnemonic: string; address: string }> = [];
  let nodes: Array<{ home: string }> = [];
  let requester: PoiTxClient;
  const workers: PoiWorker[] = [];
  const acct = (name: string) => accounts.find((a) => a.name === name)!;
  const appLog = (i: number) => fs.readFileSync(path.join(nodes[i].home, "app.log"), "utf8");
  const count = (text: string, re: RegExp) => (text.match(new RegExp(re, "g")) ?? []).length;

  async function until(id: string, done: (t: Task) => boolean, what: string, timeoutMs = 120_000): Promise<Task> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = await requester.query.task(id);
      if (done(t)) return t;
      if (Date.now() > deadline) throw new Error(`task ${id}: ${what} did not happen in ${timeoutMs} ms; status ${t.status}, votes ${JSON.stringify(t.votes)}`);
      await sleep(300);
    }
  }

  function work(name: string, attempt: number): void {
    const w = new PoiWorker({ rpc: urls[0], mnemonic: acct(name).mnemonic, pollMs: 300, taskFilter: (t) => t.attempt === attempt });
    workers.push(w);
    void w.start().catch(() => undefined);
  }

  before(async () => {
    const net = await initNetwork({ home, validators: 4, basePort: BASE_PORT });
    accounts = net.accounts;
    nodes = net.nodes;
    for (const n of nodes) {
      const file = path.join(n.home, "config", "app.json");
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), verifier_fault: { abort_models_named: "crash-me" } }, null, 2));
    }
    poi(["localnet", "start", "--home", home, "--detach", "--unsafe-test-knobs"]);
    urls = rpcUrls(home);
    requester = await PoiTxClient.connect(urls[0], acct("requester").mnemonic);
  });

  after(async () => {
    for (const w of workers) await w.stop().catch(() => undefined);
    requester?.disconnect();
    poi(["localnet", "stop", "--home", home], { allowFail: true });
    removeHome(home);
  });

  it("every verifier's process dies on the model, the nodes stay up and blocks go on; no fault, the model is flagged; a restarted node does not run it again", async () => {
    const onnx = buildMlp({ inputSize: 784, hidden: 8, outputs: 10, weights: randomMlpWeights(784, 8, 10, 5) });
    const info = validateModel(onnx);
    const spec = (s: { name: string; shape: number[]; dtype: string }) => ({ name: s.name, shape: s.shape.map(String), dtype: s.dtype });
    const { modelId } = await requester.registerModel(onnx, "crash-me", info.inputs.map(spec), info.outputs.map(spec));
    const inputs = new Float32Array(20 * 784).fill(0.25);
    const { taskId } = await requester.submitInferenceTask({ modelId, inputs, rewardPerItem: 100n, k: 4, deadlineBlocks: 400, bond: 100_000n });
    const appPids = nodes.map((n) => readPids(n.home)!.app);
    const h0 = await height(urls[0]);

    work("operator0", 0);
    const t = await until(taskId, (x) => x.attempt >= 1, "the end of the first attempt");
    assert.equal(t.failedAttempts, 0, "no fault: the worker was not slashed");
    const model = await requester.query.model(modelId);
    assert.equal(model.flagged, true);
    assert.match(model.flagReason, /cannot run the model/);
    for (let i = 0; i < 4; i++) {
      assert.equal(readPids(nodes[i].home)!.app, appPids[i], `node${i}'s app is the same process: it never went down`);
      assert.ok(count(appLog(i), /crashed the re-execution process/) >= 1, `node${i}'s verifier process crashed`);
      assert.ok(fs.readFileSync(path.join(nodes[i].home, "data", "verifier-crashes.json"), "utf8").includes(modelId), `node${i} recorded the crash on disk`);
    }
    assert.ok((await waitForHeight(urls[0], h0 + 5)) >= h0 + 5, "blocks go on");

    // Restart node0 (both processes), then give the model to the verifiers again (the reopened task).
    const crashes0 = count(appLog(0), /crashed the re-execution process/);
    poi(["localnet", "stop", "--home", home]);
    poi(["localnet", "start", "--home", home, "--detach", "--unsafe-test-knobs"]);
    requester.disconnect();
    // The restart ran synchronously: undici (CosmJS's fetch) has not yet seen the stopped node close
    // its pooled keep-alive sockets. Let the event loop take those closes, or the next request may
    // reuse a dead socket ("fetch failed (other side closed)", seen once in CI).
    await sleep(500);
    requester = await PoiTxClient.connect(urls[0], acct("requester").mnemonic);
    work("operator1", 1);
    const t2 = await until(taskId, (x) => x.attempt >= 2 || x.status === TaskStatus.EXPIRED, "the end of the second attempt");
    assert.equal(t2.failedAttempts, 0);
    assert.equal(count(appLog(0), /crashed the re-execution process/), crashes0, "after the restart node0 did not run the model again");
    assert.match(appLog(0), /cannot verify: model [0-9a-f]{64} crashed or hung this verifier before/);
  });
});
