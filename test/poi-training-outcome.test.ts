/**
 * What a training task's held-out accuracy decides (in process, 4 validators with real verifiers, real
 * onnxruntime): a worker that trains the requester's recipe faithfully is paid even when that recipe
 * cannot reach the task's min_accuracy_bps (no model is registered then, and the task records why),
 * while a worker that cannot reveal the final parameters it committed to is still slashed.
 */
import { strict as assert } from "assert";
import { Harness } from "./helpers/poi-harness";
import { TrainingFlow } from "./helpers/training-flow";
import { parseAddress } from "../src/app/address";
import { trainingOutcomeText } from "../src/cli/poi-query";
import { revealMsgs } from "../src/ml/training-task";
import { contentId } from "../src/x/poi/keeper";
import { withParameters } from "../src/x/poi/onnx/with-parameters";
import { MsgRevealCheckpointCodec, Q, TaskStatus } from "../src/x/poi/types";

describe("x/poi training outcomes: accuracy below the minimum, final parameters not the committed ones (in process)", function () {
  this.timeout(600_000);
  let h: Harness;
  let f: TrainingFlow;
  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["requester", "worker", "cheat"], seed: 19 });
    f = await TrainingFlow.create(h);
  });
  after(async () => h && (await h.close()));

  const ctx = () => h.app.queryContext();
  const balance = (name: string) => h.app.bank.getBalance(ctx(), parseAddress(h.account(name).address), "upoi");
  const stats = async (name: string) => (await h.app.poi.workerStats(ctx(), parseAddress(h.account(name).address)))!;

  it("an honest worker on a recipe that cannot reach 9,999 bps is paid and keeps its bond; no model is registered; the accuracy is recorded", async () => {
    const w0 = await balance("worker");
    const seq0 = h.account("worker").sequence;
    const id = await f.submit({ minAccuracyBps: 9999 });
    const run = await f.train(id);
    await f.claimAndCommit("worker", id, run);
    const { task: t, events } = await f.revealUntilDecided("worker", id, run);
    assert.equal(t.status, TaskStatus.COMPLETED, `the task passed (votes ${JSON.stringify(t.votes)})`);
    assert.equal(t.votes.filter((v) => v.pass).length, 4, "every validator passed it: the accuracy item checks what the worker controls");
    assert.equal(t.failedAttempts, 0);
    const accuracy = t.votes[0].accuracyBps!;
    assert.ok(accuracy > 5000 && accuracy < 9999, `a real accuracy below the minimum: ${accuracy} bps`);
    for (const v of t.votes) assert.equal(v.accuracyBps, accuracy, "every validator measured the same accuracy");

    const txs = BigInt(h.account("worker").sequence - seq0);
    assert.equal(await balance("worker"), w0 + 5_000_000n - txs * 2_500_000n, "the reward and the bond back (minus its tx fees)");
    const s = await stats("worker");
    assert.equal(s.slashed, "0", "not slashed");
    assert.equal(s.tasksPassed, "1");
    assert.equal(s.tasksFailed, "0");

    assert.equal(t.heldOutAccuracyBps, accuracy, "the task records the accuracy");
    assert.equal(t.belowMinAccuracy, true, "and that it is below the minimum");
    assert.equal(t.trainedModelId, "", "no trained model");
    const parentOnnx = (await h.app.poiModule.keeper.getModelBytes(ctx(), f.parentId))!;
    const wouldBe = contentId(withParameters(parentOnnx, run.checkpoints[30]));
    assert.equal(await h.app.poi.getModel(ctx(), wouldBe), undefined, "the final parameters are not registered as a model");

    const verified = events.find((e) => e.type === "poi_task_verified")!;
    assert.equal(verified.attrs.model_registered, "false");
    assert.equal(verified.attrs.held_out_accuracy_bps, String(accuracy));
    assert.equal(verified.attrs.work_units, String(300n * 3_415_061n), "T steps of work credited as for any pass");
    assert.equal(verified.attrs.work_credited, "true");
    const below = events.find((e) => e.type === "poi_training_below_minimum")!;
    assert.ok(below, "a poi_training_below_minimum event");
    assert.equal(below.attrs.model_registered, "false");
    assert.equal(below.attrs.reason, `held-out accuracy ${accuracy} bps below the minimum 9999`);
    assert.equal(events.find((e) => e.type === "poi_model_trained"), undefined, "no poi_model_trained event");
    assert.equal(events.find((e) => e.type === "poi_task_failed"), undefined, "no failure");
    assert.equal(await f.training.chunksHeld(ctx(), BigInt(id), 30), 0, "revealed checkpoints are pruned");

    const q = await h.app.query({ path: "/poi.v1.Query/Task", data: Q.TaskRequest.encode({ id }).finish(), height: 0n, prove: false });
    const queried = Q.TaskResponse.decode(q.value!).task!;
    assert.equal(queried.belowMinAccuracy, true, "the Task query shows it");
    assert.equal(queried.heldOutAccuracyBps, accuracy);
    assert.equal(trainingOutcomeText(queried, await f.spec(id)),
      `passed below minimum: worker paid, held-out accuracy ${accuracy} bps below the minimum 9999, no model registered`, "as `poi query poi training-task` prints it");
    assert.deepEqual((await h.app.invariants.run(ctx())).filter((r) => r.broken), [], "the module account holds what poi's state says");
  });

  it("a worker that cannot reveal the final parameters it committed to is refused and slashed", async () => {
    const id = await f.submit({ minAccuracyBps: 0 });
    const run = await f.train(id);
    await f.claimAndCommit("cheat", id, run);
    // Other final parameters (checkpoint 29's) under the committed root: refused, nothing stored.
    const forged = { ...run, checkpoints: [...run.checkpoints.slice(0, 30), run.checkpoints[29]] };
    const chunk = BigInt((await f.spec(id)).checkpointChunkBytes);
    const r = await h.send("cheat", MsgRevealCheckpointCodec, revealMsgs(forged, h.account("cheat").address, BigInt(id), 30, chunk)[0]);
    assert.equal(r.code, 21, r.log);
    assert.match(r.log, /checkpoint 30 .*(does not lead to the committed checkpoint root|not the committed final_hash)/);
    const { task: t, events } = await f.revealUntilDecided("cheat", id, run, { withhold: [30] });
    const failed = events.find((e) => e.type === "poi_task_failed");
    assert.ok(failed, "the attempt failed");
    assert.match(failed.attrs.reason, /^checkpoints [0-9,]*\b30 not revealed by height/);
    assert.equal(t.status, TaskStatus.OPEN, "the task reopened");
    assert.equal((await stats("cheat")).slashed, "5000000", "its whole bond");
    assert.equal(t.trainedModelId ?? "", "");
    assert.deepEqual((await h.app.invariants.run(ctx())).filter((r) => r.broken), []);
  });
});
