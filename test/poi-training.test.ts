/**
 * Training tasks end to end in process (4 validators with real verifiers, real onnxruntime): an honest
 * worker's MNIST training passes, the final parameters become a registered model owned by the
 * requester (held-out accuracy, training task and parent recorded) that an inference task then uses;
 * cheating workers (skipped steps, other data, fewer steps, bf16 rounding, no reveal) are slashed.
 */
import { strict as assert } from "assert";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import { Harness } from "./helpers/poi-harness";
import { TrainingFlow } from "./helpers/training-flow";
import { bytesOf, runModel } from "./helpers/poi-flow";
import { parseAddress } from "../src/app/address";
import { loadMnist } from "../src/ml/train";
import { roundCheckpointToBf16 } from "../src/ml/checkpoint";
import { resultRoot } from "../src/x/poi/commitment";
import {
  ModelKind, TrainingAttemptCodec, TrainingSpecCodec, MsgClaimTaskCodec, MsgSubmitInferenceTaskCodec, MsgSubmitInferenceTaskResponseCodec, MsgSubmitResultCodec, Q, TaskStatus,
} from "../src/x/poi/types";

describe("x/poi training tasks (in process, 4 validators, real onnxruntime)", function () {
  this.timeout(600_000);
  let h: Harness;
  let f: TrainingFlow;
  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["requester", "worker", "cheat"], seed: 13 });
    f = await TrainingFlow.create(h);
  });
  after(async () => h && (await h.close()));

  const balance = (name: string) => h.app.bank.getBalance(h.app.queryContext(), parseAddress(h.account(name).address), "upoi");

  it("an honest worker's 300 MNIST steps pass; the final parameters become the requester's model with its held-out accuracy", async () => {
    const w0 = await balance("worker");
    const seq0 = h.account("worker").sequence;
    const id = await f.submit();
    const submitted = await f.task(id);
    assert.equal(submitted.numItems, "31", "30 segments and the accuracy item");
    const run = await f.train(id);
    await f.claimAndCommit("worker", id, run);
    const { task: t, events } = await f.revealUntilDecided("worker", id, run);
    assert.equal(t.status, TaskStatus.COMPLETED, `the task passed (votes ${JSON.stringify(t.votes)})`);
    assert.equal(t.votes.filter((v) => v.pass).length, 4, "every validator passed it");
    const txs = BigInt(h.account("worker").sequence - seq0);
    assert.equal(await balance("worker"), w0 + 5_000_000n - txs * 2_500_000n, "the reward and the bond back (minus its tx fees)");
    const verified = events.find((e) => e.type === "poi_task_verified")!;
    assert.equal(verified.attrs.work_units, String(300n * 3_415_061n), "T steps of the train-step graph are credited");
    assert.equal(verified.attrs.work_credited, "true", "to the worker's epoch work (its fees were paid)");
    const model = (await h.app.poi.getModel(h.app.queryContext(), t.trainedModelId!))!;
    assert.equal(model.owner, h.account("requester").address);
    assert.equal(model.kind, ModelKind.INFERENCE);
    assert.equal(model.parentModelId, f.parentId);
    assert.equal(model.trainingTaskId, id);
    assert.ok(model.heldOutAccuracyBps! >= 8500, `held-out accuracy ${model.heldOutAccuracyBps} bps`);
    for (const v of t.votes) assert.equal(v.accuracyBps, model.heldOutAccuracyBps, "every validator measured the same accuracy");
    const chunks = await h.app.poiModule.keeper.getModelBytes(h.app.queryContext(), model.id);
    assert.ok(chunks, "the model's bytes are stored");
    const q = await h.app.query({ path: "/poi.v1.Query/Model", data: Q.ModelRequest.encode({ id: model.id }).finish(), height: 0n, prove: false });
    assert.equal(Q.ModelResponse.decode(q.value!).model!.heldOutAccuracyBps, model.heldOutAccuracyBps, "the Model query shows it");
    const att = await f.attempt(id);
    assert.ok(att && att.revealed.length > 0, "the attempt's record stays");
    assert.equal(await h.app.poiModule.keeper.getTaskOutputs(h.app.queryContext(), BigInt(id)), undefined);
    assert.equal(await f.training.chunksHeld(h.app.queryContext(), BigInt(id), 30), 0, "revealed checkpoints are pruned");
    const spec = await f.spec(id);
    const records = TrainingSpecCodec.encode(spec).finish().length + TrainingAttemptCodec.encode(att!).finish().length + 4 * 300;
    const revealedBytes = att!.revealed.length * Number(spec.paramBytes);
    console.log(`      held-out accuracy ${model.heldOutAccuracyBps} bps on 1,000 digits; blocks from submission to payout ${BigInt(t.completedHeight) - BigInt(t.createdHeight)}`
      + ` (commitment to payout ${BigInt(t.completedHeight) - BigInt(t.resultHeight)}); ${att!.revealed.length} checkpoints revealed; training bytes on chain ${records + revealedBytes}`
      + ` before pruning, ${records} after (+ the new model's ${model.sizeBytes} bytes)`);

    // The new model takes inference tasks at once, and verifies.
    const onnx = (await h.app.poiModule.keeper.getModelBytes(h.app.queryContext(), model.id))!;
    const images = loadMnist().images.slice(3000, 3040);
    const inline = new Float32Array(40 * 784);
    images.forEach((img, i) => inline.set(img, i * 784));
    const r = await h.send("requester", MsgSubmitInferenceTaskCodec, {
      requester: h.account("requester").address, modelId: model.id, inputs: bytesOf(inline), rewardPerItem: "1000", k: 8, deadlineBlocks: "100", bond: "100000",
    });
    assert.equal(r.code, 0, r.log);
    const infId = MsgSubmitInferenceTaskResponseCodec.decode(TxMsgData.decode(r.data!).msgResponses[0].value).taskId;
    const outputs = bytesOf(await runModel(onnx, images));
    assert.equal((await h.send("worker", MsgClaimTaskCodec, { worker: h.account("worker").address, taskId: infId })).code, 0);
    const res = await h.send("worker", MsgSubmitResultCodec, { worker: h.account("worker").address, taskId: infId, outputs, resultRoot: resultRoot(outputs, 40, 40) });
    assert.equal(res.code, 0, res.log);
    for (let i = 0; i < 15 && (await f.task(infId)).status !== TaskStatus.COMPLETED; i++) await h.block([]);
    assert.equal((await f.task(infId)).status, TaskStatus.COMPLETED, "an inference task with the trained model verifies and pays");
    assert.deepEqual((await h.app.invariants.run(h.app.queryContext())).filter((r) => r.broken), [], "the module account holds what poi's state says");
  });

  const cheats: Array<[string, Parameters<TrainingFlow["train"]>[1], boolean, RegExp]> = [
    ["skipping a step in every segment", { skipSteps: (s) => s % 10 === 5 }, true, /reported items confirmed failing/],
    ["training on other data", { rows: (_s, rows) => rows.map((r) => (r + 500n) % 1000n) }, true, /reported items confirmed failing/],
    ["weights trained for fewer steps (100 of 300)", { stopAfter: 100 }, true, /reported items confirmed failing/],
    ["reduced precision (bf16 after every step)", { afterStep: (p) => roundCheckpointToBf16(p) }, true, /reported items confirmed failing/],
    ["not revealing the requested checkpoints", {}, false, /^checkpoints [0-9,]+ not revealed by height/],
  ];
  for (const [name, knobs, reveal, reason] of cheats) {
    it(`a worker ${name} is slashed and the task reopens`, async () => {
      const s0 = (await h.app.poi.workerStats(h.app.queryContext(), parseAddress(h.account("cheat").address)))?.slashed ?? "0";
      const supply0 = await h.app.bank.getSupply(h.app.queryContext(), "upoi");
      const id = await f.submit();
      const run = await f.train(id, knobs);
      await f.claimAndCommit("cheat", id, run);
      const { task: t, events } = await f.revealUntilDecided("cheat", id, run, { reveal });
      const failed = events.find((e) => e.type === "poi_task_failed");
      assert.ok(failed, "the attempt failed");
      assert.match(failed.attrs.reason, reason);
      assert.equal(t.status, TaskStatus.OPEN, "the attempt failed and the task reopened");
      assert.equal(t.failedAttempts, 1);
      const stats = (await h.app.poi.workerStats(h.app.queryContext(), parseAddress(h.account("cheat").address)))!;
      assert.equal(BigInt(stats.slashed) - BigInt(s0), 5_000_000n, "its whole bond");
      assert.ok(await h.app.bank.getSupply(h.app.queryContext(), "upoi") < supply0, "part of the bond is burned");
      assert.equal(await f.attempt(id), undefined, "the attempt's record is gone");
      assert.equal(await f.training.chunksHeld(h.app.queryContext(), BigInt(id), 30), 0, "its checkpoints are pruned");
      assert.deepEqual((await h.app.invariants.run(h.app.queryContext())).filter((r) => r.broken), []);
    });
  }
});

describe("x/poi training tasks with cross-hardware noise on one validator and a Byzantine one (in process)", function () {
  this.timeout(600_000);
  let h: Harness;
  let f: TrainingFlow;
  before(async () => {
    // Validator 1 perturbs its re-executed parameters and outputs by relative 1e-6 (another CPU);
    // validator 3 votes every verdict the wrong way.
    h = await Harness.create({ validators: 4, accounts: ["requester", "worker", "cheat"], seed: 17, faults: { 1: { noise_rel: 1e-6 }, 3: { invert_verdicts: true } } });
    f = await TrainingFlow.create(h);
  });
  after(async () => h && (await h.close()));

  it("the honest task still passes (the Byzantine report is escalated and cleared), the bf16 cheat is still slashed", async () => {
    const id = await f.submit();
    const run = await f.train(id);
    await f.claimAndCommit("worker", id, run);
    const { task: t } = await f.revealUntilDecided("worker", id, run);
    assert.equal(t.status, TaskStatus.COMPLETED);
    const byzantine = h.validators[3].hex;
    assert.deepEqual(t.votes.filter((v) => !v.pass).map((v) => v.validator), [byzantine], "only the Byzantine validator voted fail");
    assert.ok(t.challenges.length > 0 && t.challenges.every((c) => c.reporters.join() === byzantine && c.votes.filter((v) => v.pass).length >= 3),
      "its reports were re-run by the others and found passing");
    assert.ok(t.votes.find((v) => v.validator === h.validators[1].hex)!.pass, "the noisy validator passed it");

    const cheat = await f.submit();
    const bad = await f.train(cheat, { afterStep: (p) => roundCheckpointToBf16(p) });
    await f.claimAndCommit("cheat", cheat, bad);
    const { task: c, events } = await f.revealUntilDecided("cheat", cheat, bad);
    assert.equal(c.status, TaskStatus.OPEN);
    assert.match(events.find((e) => e.type === "poi_task_failed")!.attrs.reason, /reported items confirmed failing/);
  });
});
