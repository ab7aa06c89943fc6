/**
 * Proof of training end to end on a 4-validator localnet of real CometBFT processes, real onnxruntime
 * and unmodified CosmJS: a CosmJS requester registers the MNIST MLP and its train-step graph, uploads
 * random initial parameters and MNIST x / one-hot y datasets, and submits 300 steps of batch 32; the
 * worker daemon trains, commits and reveals the requested checkpoints; the validators' verdict passes,
 * the held-out accuracy is recorded on chain, and the new model serves an inference task that pays.
 */
import { strict as assert } from "assert";
import * as ort from "onnxruntime-node";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { PoiQueryClient } from "../src/client/query";
import { PoiTxClient } from "../src/client/tx";
import { initNetwork } from "../src/cli/home";
import { validateModel } from "../src/x/poi/onnx/validate";
import { buildMlp, MLP_INPUT, MLP_OUTPUT } from "../src/x/poi/onnx/builder";
import { buildMlpTrainStep } from "../src/x/poi/onnx/train-step-builder";
import { argmax, initMlpWeights, loadMnist, randomMlpWeights } from "../src/ml/train";
import { encodeCheckpoint, mlpCheckpoint } from "../src/ml/checkpoint";
import { TaskStatus, TrainingAttemptCodec, TrainingSpecCodec, type Task } from "../src/x/poi/types";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";
import { PoiWorker } from "../src/worker/worker";
import { height, poi, removeHome, rpc, rpcUrls, sleep, tmpHome } from "./helpers/chain";

const BASE_PORT = 29500;
const HIDDEN = 64;
const BATCH = 32;
const STEPS = 300;
const INTERVAL = 10;
const K = 2;
const ITEMS = 2000; // training [0, 1000), held out [1000, 2000)

interface Account { name: string; mnemonic: string; address: string }

describe("e2e: proof of training on a 4-validator localnet (MNIST, 300 steps, worker daemon)", function () {
  this.timeout(900_000);
  const home = tmpHome("poi-e2e-training");
  let accounts: Account[] = [];
  let q: PoiQueryClient;
  let requester: PoiTxClient;
  let worker: PoiWorker | undefined;
  const workerLog: string[] = [];
  let trainingId = "";
  let trainedId = "";

  const acct = (name: string) => accounts.find((a) => a.name === name)!;
  const tensor = (s: { name: string; shape: number[]; dtype: string }) => ({ name: s.name, shape: s.shape.map(String), dtype: s.dtype });

  async function until(id: string, done: (t: Task) => boolean, what: string, timeoutMs = 300_000): Promise<Task> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = await q.task(id);
      if (done(t)) return t;
      if (Date.now() > deadline) throw new Error(`task ${id}: ${what} did not happen within ${timeoutMs} ms; status ${t.status}, votes ${JSON.stringify(t.votes)}\n${workerLog.slice(-20).join("\n")}`);
      await sleep(300);
    }
  }

  /** Why attempts of task `id` failed: the reasons of its poi_task_failed events (for failure messages). */
  async function failures(id: string): Promise<string[]> {
    const out: string[] = [];
    const url = rpcUrls(home)[0];
    for (let h = Number((await q.task(id)).createdHeight), to = await height(url); h <= to; h++) {
      const r = await rpc<{ finalize_block_events?: Array<{ type: string; attributes: Array<{ key: string; value: string }> }> }>(url, `block_results?height=${h}`);
      for (const e of r.finalize_block_events ?? []) {
        const attrs = Object.fromEntries(e.attributes.map((a) => [a.key, a.value]));
        if (e.type === "poi_task_failed" && attrs.task_id === id) out.push(`height ${h}: ${attrs.reason}`);
      }
    }
    return out;
  }

  before(async () => {
    const { accounts: accs } = await initNetwork({ home, validators: 4, basePort: BASE_PORT });
    accounts = accs;
    poi(["localnet", "start", "--home", home, "--detach"]);
    const urls = rpcUrls(home);
    q = await PoiQueryClient.connect(urls[0]);
    // A CosmJS wallet as the signer: CosmJS's own SigningStargateClient signs every tx.
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(acct("requester").mnemonic, { prefix: "poi" });
    requester = await PoiTxClient.connectWithSigner(urls[0], wallet);
    worker = new PoiWorker({ rpc: urls[0], mnemonic: acct("operator0").mnemonic, pollMs: 300, taskFilter: (t) => t.requester === requester.address, log: (l) => workerLog.push(l) });
    void worker.start().catch((err) => workerLog.push(`stopped with ${(err as Error).message}`));
  });

  after(async () => {
    await worker?.stop().catch(() => undefined);
    q?.disconnect();
    requester?.disconnect();
    poi(["localnet", "stop", "--home", home], { allowFail: true });
    if (process.env.KEEP_HOMES !== "1") removeHome(home);
    if (workerLog.length) console.log(workerLog.filter((l) => /step|commit|reveal|verified|failed|error/.test(l)).map((l) => `      worker: ${l}`).join("\n"));
  });

  it("a CosmJS requester submits MNIST training (300 steps of batch 32 from random parameters it uploads); the worker daemon's run passes and the trained model is recorded with its held-out accuracy", async () => {
    const parent = buildMlp({ inputSize: 784, hidden: HIDDEN, outputs: 10, weights: randomMlpWeights(784, HIDDEN, 10, 7) });
    const parentInfo = validateModel(parent);
    const parentId = (await requester.registerModel(parent, "mnist-mlp", parentInfo.inputs.map(tensor), parentInfo.outputs.map(tensor))).modelId;
    const step = buildMlpTrainStep({ inputSize: 784, hidden: HIDDEN, outputs: 10, batchSize: BATCH });
    const stepInfo = validateModel(step);
    const stepId = (await requester.registerModel(step, "mnist-mlp-step", stepInfo.inputs.map(tensor), stepInfo.outputs.map(tensor), { trainStepOf: parentId })).modelId;
    assert.equal((await q.model(stepId)).parentModelId, parentId, "the train-step graph is linked to its inference model");

    const mnist = loadMnist();
    const x = new Float32Array(ITEMS * 784), y = new Float32Array(ITEMS * 10);
    for (let i = 0; i < ITEMS; i++) {
      x.set(mnist.images[i], i * 784);
      y[i * 10 + mnist.labels[i]] = 1;
    }
    const xId = (await requester.uploadDataset("mnist-x", { name: MLP_INPUT, shape: ["784"], dtype: "float32" }, x, 300)).datasetId;
    const yId = (await requester.uploadDataset("mnist-y", { name: MLP_OUTPUT, shape: ["10"], dtype: "float32" }, y, 2000)).datasetId;
    const initial = encodeCheckpoint(mlpCheckpoint(initMlpWeights(784, HIDDEN, 10, 11)));
    const paramsId = (await requester.uploadDataset("mnist-init", { name: "params", shape: [String(initial.length / 4)], dtype: "float32" }, new Float32Array(initial.buffer.slice(0)), 1)).datasetId;

    const sub = await requester.submitTrainingTask({
      modelId: stepId, initialParamsDatasetId: paramsId, xDatasetId: xId, yDatasetId: yId, train: { start: 0, count: 1000 }, heldOut: { start: 1000, count: 1000 },
      steps: STEPS, batchSize: BATCH, learningRate: "0.1", checkpointInterval: INTERVAL, k: K, reward: 5_000_000n, bond: 5_000_000n, minAccuracyBps: 8500, deadlineBlocks: 300,
    });
    trainingId = sub.taskId;
    assert.equal(sub.segments, STEPS / INTERVAL);
    const t = await until(trainingId, (x) => x.status === TaskStatus.COMPLETED || x.failedAttempts > 0 || x.status === TaskStatus.EXPIRED, "verification");
    if (t.status !== TaskStatus.COMPLETED) assert.fail(`the training task did not pass: ${(await failures(trainingId)).join("; ")}; votes ${JSON.stringify(t.votes)}\n${workerLog.join("\n")}`);
    assert.equal(t.worker, acct("operator0").address);
    assert.ok(t.votes.filter((v) => v.pass).length >= 3, "the validators passed it");
    assert.ok(workerLog.some((l) => new RegExp(`task ${trainingId}: step ${STEPS}/${STEPS} loss`).test(l)), "the worker logged its steps and losses");
    assert.ok(workerLog.some((l) => new RegExp(`task ${trainingId}: revealed checkpoints`).test(l)), "the worker revealed the requested checkpoints");

    trainedId = t.trainedModelId!;
    const [lineage, training] = await Promise.all([q.lineage(trainedId), q.training(trainingId)]);
    const model = lineage[0];
    assert.equal(model.owner, requester.address, "the trained model is the requester's");
    assert.equal(model.trainingTaskId, trainingId);
    assert.deepEqual(lineage.map((m) => m.id), [trainedId, parentId], "its lineage leads to the parent model");
    assert.ok(model.heldOutAccuracyBps! >= 8500, `held-out accuracy ${model.heldOutAccuracyBps} bps`);
    // The same accuracy here, with onnxruntime over the 1,000 held-out digits (never in a training batch).
    const session = await ort.InferenceSession.create(await q.modelBytes(trainedId), SESSION_OPTIONS);
    let correct = 0;
    for (let i = 1000; i < ITEMS; i++) {
      const r = await session.run({ [MLP_INPUT]: new ort.Tensor("float32", mnist.images[i], [1, 784]) });
      if (argmax(r[MLP_OUTPUT].data as Float32Array) === mnist.labels[i]) correct++;
    }
    assert.equal(model.heldOutAccuracyBps, Math.floor((correct * 10000) / 1000), "the recorded accuracy is what the model scores here");
    assert.equal(training.losses.length, STEPS, "the loss trace is on chain");
    assert.ok(training.losses[STEPS - 1] < training.losses[0], "the loss went down");

    const att = training.attempt!;
    const records = TrainingSpecCodec.encode(training.spec).finish().length + TrainingAttemptCodec.encode(att).finish().length + 4 * STEPS;
    const revealedBytes = att.revealed.length * Number(training.spec.paramBytes);
    await assert.rejects(q.checkpointChunk(trainingId, att.revealed[0], 0), /pruned/, "revealed checkpoints are pruned after the verdict");
    console.log(`      held-out accuracy ${model.heldOutAccuracyBps} bps on 1,000 digits; blocks from submission to payout ${BigInt(t.completedHeight) - BigInt(t.createdHeight)}`
      + ` (commitment to payout ${BigInt(t.completedHeight) - BigInt(t.resultHeight)})`);
    console.log(`      training bytes on chain: ${records + revealedBytes} before pruning (${att.revealed.length} checkpoints revealed), ${records} after (+ the new model's ${model.sizeBytes} bytes)`);
    console.log(`      verification compute per validator: k·c/T = ${K}·${INTERVAL}/${STEPS} = ${((K * INTERVAL) / STEPS * 100).toFixed(1)}% of the training steps (+ one forward pass over 1,000 held-out digits)`);
  });

  it("the CLI shows the training task, its checkpoints and the trained model's lineage (--output json)", () => {
    assert.ok(trainedId, "the training test produced a model");
    const node = rpcUrls(home)[0];
    const cli = (...args: string[]) => JSON.parse(poi(["query", "poi", ...args, "--output", "json", "--node", node]).stdout);
    const task = cli("training-task", trainingId);
    assert.equal(task.task.status, "completed");
    assert.match(task.outcome, new RegExp(`^passed: model ${trainedId} registered, held-out accuracy \\d+ bps \\(minimum 8500\\)$`));
    assert.equal(task.spec.steps, String(STEPS));
    assert.equal(task.losses.steps, STEPS);
    const cps = cli("checkpoints", trainingId);
    assert.equal(cps.checkpoints, STEPS / INTERVAL + 1);
    assert.ok(cps.revealed.length > 0 && cps.revealed.every((c: { pruned: boolean }) => c.pruned), "revealed checkpoints, all pruned after the verdict");
    const lineage = cli("lineage", trainedId).lineage;
    assert.equal(lineage.length, 2);
    assert.equal(lineage[0].trainingTaskId, trainingId);
    assert.ok(lineage[0].heldOutAccuracyBps >= 8500);
    assert.equal(lineage[1].id, lineage[0].parentModelId);
    const missing = poi(["query", "poi", "checkpoint", trainingId, "1", "0", "--output", "json", "--node", node], { allowFail: true });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /pruned/);
  });

  it("the trained model serves an inference task at once, which verifies and pays", async () => {
    assert.ok(trainedId, "the training test produced a model");
    const images = loadMnist().images.slice(3000, 3040);
    const inputs = new Float32Array(40 * 784);
    images.forEach((img, i) => inputs.set(img, i * 784));
    const { taskId } = await requester.submitInferenceTask({ modelId: trainedId, inputs, rewardPerItem: 1000n, k: 8, deadlineBlocks: 100, bond: 100_000n });
    const t = await until(taskId, (x) => x.status === TaskStatus.COMPLETED || x.failedAttempts > 0 || x.status === TaskStatus.EXPIRED, "verification");
    assert.equal(t.status, TaskStatus.COMPLETED, "an inference task with the trained model verifies and pays");
    assert.equal(t.worker, acct("operator0").address);
    assert.equal((await q.worker(acct("operator0").address)).tasksPassed, "2", "the worker's record: the training task and the inference task passed");
  });
});
