/**
 * Training-task messages refused with a clear error and no state change (in process, 4 validators):
 * submissions with a c that does not divide T, overlapping ranges, a model that is not train_step,
 * mismatched parameter sizes and other bad terms; commitments whose root does not hold the initial
 * parameters; reveals of a checkpoint no sampled segment needs, with a proof that does not verify, of
 * checkpoint 0 or of a final checkpoint that is not the committed one. The attempt then completes.
 */
import { strict as assert } from "assert";
import { Harness } from "./helpers/poi-harness";
import { TrainingFlow } from "./helpers/training-flow";
import { parseAddress } from "../src/app/address";
import { commitMsg, revealMsgs } from "../src/ml/training-task";
import { DEFAULT_PARAMS, POI_MODULE, POI_MODULE_ACCOUNT } from "../src/x/poi/keeper";
import { extensionProblem } from "../src/x/poi/extension_rules";
import { exportPoiGenesis, initPoiGenesis } from "../src/x/poi/genesis";
import { Context } from "../src/app/context";
import { Branch, type KVStore } from "../src/store/store";
import { neededCheckpoints } from "../src/x/poi/training";
import {
  MsgClaimTaskCodec, MsgCommitTrainingCodec, MsgRevealCheckpointCodec, MsgSubmitResultCodec, MsgSubmitTrainingTaskCodec, TaskStatus,
  VoteExtensionCodec, type MsgRevealCheckpoint, type MsgSubmitTrainingTask, type PoiCodec, type VoteExtension,
} from "../src/x/poi/types";

/** A store with nothing in it (the parent of a fresh branch). */
const EMPTY: KVStore = { get: async () => undefined, set: () => undefined, delete: () => undefined, iterate: async () => [] };

describe("x/poi training messages: bad inputs are refused and change nothing (in process)", function () {
  this.timeout(600_000);
  let h: Harness;
  let f: TrainingFlow;
  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["requester", "worker"], seed: 21 });
    f = await TrainingFlow.create(h, { items: 1200 });
  });
  after(async () => h && (await h.close()));

  const ctx = () => h.app.queryContext();
  const balance = (name: string) => h.app.bank.getBalance(ctx(), parseAddress(h.account(name).address), "upoi");

  /**
   * Delivers `msg` in a block (past CheckTx); it must fail with `code` and `log`, costing its sender at
   * most the fee (a message that does not decode is refused before the fee is taken).
   */
  async function refused<T>(from: string, codec: PoiCodec<T>, msg: Partial<T>, code: number, log: RegExp): Promise<void> {
    const tasks0 = (await h.app.poi.tasks(ctx())).length;
    const mod0 = await h.app.bank.getBalance(ctx(), POI_MODULE_ACCOUNT, "upoi");
    const bal0 = await balance(from);
    const tx = await h.signTx(from, codec, msg);
    const res = await h.block([tx]);
    const acc = await h.app.accounts.getAccount(ctx(), parseAddress(h.account(from).address));
    const charged = Number(acc!.sequence) > h.account(from).sequence;
    h.account(from).sequence = Number(acc!.sequence);
    const r = res.txResults!.at(-1)!;
    assert.equal(r.code, code, r.log);
    assert.equal(r.codespace, "poi");
    assert.match(r.log, log);
    assert.ok(r.log.length < 600, "a bounded log");
    assert.equal((await h.app.poi.tasks(ctx())).length, tasks0, "no task");
    assert.equal(await h.app.bank.getBalance(ctx(), POI_MODULE_ACCOUNT, "upoi"), mod0, "nothing escrowed");
    assert.equal(await balance(from), bal0 - (charged ? 2_500_000n : 0n), "at most the fee");
  }

  /** A valid task on 1,200 digits: training on [0, 600), held out [600, 1200). */
  const ok: Partial<MsgSubmitTrainingTask> = { trainCount: "600", heldOutStart: "600", heldOutCount: "600", minAccuracyBps: 5000 };
  const bad = (over: Partial<MsgSubmitTrainingTask>, log: RegExp, code = 20) => refused("requester", MsgSubmitTrainingTaskCodec, f.submitMsg({ ...ok, ...over }), code, log);

  it("submissions with bad terms", async () => {
    await bad({ checkpointInterval: "7" }, /checkpoint_interval c = 7 does not divide steps T = 300/);
    await bad({ heldOutStart: "500" }, /held-out range \[500, 1100\) overlaps the training range \[0, 600\)/);
    await bad({ trainStart: "1100", trainCount: "100" }, /held-out range \[600, 1200\) overlaps the training range \[1100, 1200\)/);
    await bad({ modelId: f.parentId }, new RegExp(`model ${f.parentId} is of kind inference; a training task needs train_step`));
    await bad({ batchSize: 16 }, /batch_size 16 is not the train-step graph's batch size 32/);
    await bad({ k: 31 }, /k = 31 is more than the task's 30 segments/);
    await bad({ learningRate: "1e-3" }, /learning_rate "1e-3" is not a positive decimal/);
    await bad({ learningRate: "0.000" }, /learning_rate "0.000" is not a positive decimal/);
    await bad({ xDatasetId: f.yId }, /x dataset items have shape \[10\] but the train-step graph's "x" rows have shape \[784\]/);
    await bad({ yDatasetId: f.xId }, /y dataset items have shape \[784\]/);
    await bad({ heldOutCount: "5000" }, /the held-out range \[600, 5600\) is outside the x dataset's 1200 items/);
    await bad({ minAccuracyBps: 10001 }, /min_accuracy_bps 10001 is more than 10000/);
    await bad({ steps: "0" }, /steps must be at least 1/);
    await bad({ deadlineBlocks: "40" }, /deadline_blocks 40 leaves no time to claim, run and verify: at least 90 \(claim 30 \+ verification 50 \+ margin 10\)/, 10);
  });

  it("initial parameters whose size does not match the parent's parameters", async () => {
    const wrong = await f.upload("wrong-init", { name: "params", shape: ["100"], dtype: "float32" }, new Float32Array(100).fill(0.5), 1);
    await bad({ initialParamsDatasetId: wrong }, /the initial parameters dataset holds 100 float32 values; the parent model's parameters \(w1 \[784,64\], b1 \[64\], w2 \[64,10\], b2 \[10\]\) are 50890/);
  });

  it("commitments that do not hold the task's initial parameters, results of the wrong kind", async () => {
    const id = await f.submit(ok);
    const run = await f.train(id);
    const worker = h.account("worker").address;
    assert.equal((await h.send("worker", MsgClaimTaskCodec, { worker, taskId: id })).code, 0);
    const commit = commitMsg(run, worker, BigInt(id));
    const refusedCommit = (over: object, log: RegExp) => refused("worker", MsgCommitTrainingCodec, { ...commit, ...over }, 14, log);
    await refusedCommit({ initialProof: commit.finalProof }, /checkpoint_root does not hold the task's initial parameters \(hash [0-9a-f]{64}\) as checkpoint 0 under initial_proof/);
    await refusedCommit({ finalHash: run.hashes[29] }, /checkpoint_root does not hold final_hash as checkpoint 30 \(the last\) under final_proof/);
    await refusedCommit({ lossTrace: new Uint8Array(1196) }, /loss_trace is 1196 bytes; want one float32 per step, 1200/);
    await refusedCommit({ checkpointRoot: new Uint8Array(31) }, /checkpoint_root is 31 bytes, want 32/);
    await refused("worker", MsgSubmitResultCodec, { worker, taskId: id, outputs: new Uint8Array(40), resultRoot: new Uint8Array(32) }, 14, /training task: its worker sends MsgCommitTraining/);
    assert.equal((await f.task(id)).status, TaskStatus.CLAIMED, "still claimed, nothing committed");
    assert.equal(await f.attempt(id), undefined);
  });

  it("reveals of an unneeded checkpoint, with a bad proof, of checkpoint 0 or of another final checkpoint; then the honest reveals pass", async () => {
    const id = await f.submit(ok);
    const run = await f.train(id);
    await f.claimAndCommit("worker", id, run);
    // Segment requests in vote extensions follow the rules (extension_rules.ts), else the extension is refused.
    const t = await f.task(id);
    const problem = (ext: Partial<VoteExtension>, height = h.height) => extensionProblem(ctx(), h.app.poi, h.app.poiModule.verification, DEFAULT_PARAMS, height,
      VoteExtensionCodec.encode({ verdicts: [], itemVerdicts: [], commitments: [], reveals: [], ...ext }).finish());
    const req = (segments: string[], taskId = id) => ({ taskId, attempt: t.attempt, segments });
    assert.equal(await problem({ segmentRequests: [req(["3", "7"])] }), undefined, "a request of k segments while requests are open");
    assert.match((await problem({ segmentRequests: [req(["3"], "999")] }))!, /a segment request on task 999 attempt 0, which is not a training attempt under verification/);
    assert.match((await problem({ segmentRequests: [req(["3"]), req(["4"])] }))!, /two segment requests on task/);
    assert.match((await problem({ segmentRequests: [req(["1", "2", "3"])] }))!, /3 segments requested on task \d+, want 1\.\.2/);
    assert.match((await problem({ segmentRequests: [req(["30"])] }))!, /segment 30 is not a segment of task/);
    assert.match((await problem({ segmentRequests: [req(["5", "5"])] }))!, /a segment requested twice/);
    assert.match((await problem({ segmentRequests: [req(["5"])] }, BigInt(t.requestEndHeight!)))!, /after its requests closed at height/);
    assert.match((await problem({ verdicts: [{ taskId: id, attempt: t.attempt, pass: true, failedItems: [], cannotVerify: false, accuracyBps: 10001 }] }))!, /accuracy 10001 bps/);
    while ((await f.attempt(id))!.requests.length < 4) await h.block([]);
    const att = (await f.attempt(id))!;
    const needed = neededCheckpoints(att.requests.flatMap((r) => r.segments), 30n);
    const unneeded = [...Array(30).keys()].find((i) => i > 0 && !needed.includes(i))!;
    const worker = h.account("worker").address;
    const chunk = BigInt((await f.spec(id)).checkpointChunkBytes);
    const reveal = (index: number): MsgRevealCheckpoint => revealMsgs(run, worker, BigInt(id), index, chunk)[0];
    const refusedReveal = async (msg: MsgRevealCheckpoint, log: RegExp) => {
      await refused("worker", MsgRevealCheckpointCodec, msg, 21, log);
      assert.deepEqual((await f.attempt(id))!.revealed, [], "nothing revealed");
      assert.equal(await f.training.chunksHeld(ctx(), BigInt(id), msg.index), 0, "no chunk stored");
    };
    await refusedReveal(reveal(unneeded), new RegExp(`checkpoint ${unneeded} is not needed by any sampled segment: the checkpoints requested so far are ${needed.join(", ")}`));
    const target = needed[0];
    await refusedReveal({ ...reveal(target), proof: reveal(unneeded).proof }, new RegExp(`the Merkle proof of checkpoint ${target} \\(hash [0-9a-f]{64}\\) does not lead to the committed checkpoint root`));
    await refusedReveal({ ...reveal(unneeded), index: target }, new RegExp(`the Merkle proof of checkpoint ${target} .* does not lead to the committed checkpoint root`));
    await refusedReveal({ ...reveal(1), index: 0 }, /checkpoint 0 is the task's initial parameters, on chain since submission: it needs no reveal/);
    await refusedReveal({ ...reveal(29), index: 30, proof: reveal(30).proof }, /checkpoint 30 \(the final one\) hashes to [0-9a-f]{64}, not the committed final_hash/);
    await refusedReveal({ ...reveal(target), chunk: 1 }, /chunk 1 does not exist: a checkpoint has 1 chunks/);
    await refusedReveal({ ...reveal(target), data: new Uint8Array(reveal(target).data.length) }, /chunk 0 does not match chunk_hashes\[0\]/);
    // An honest reveal; the attempt in the middle of its reveals round-trips through genesis.
    const revealed = await h.send("worker", MsgRevealCheckpointCodec, reveal(target));
    assert.equal(revealed.code, 0, revealed.log);
    assert.deepEqual((await f.attempt(id))!.revealed, [target]);
    const exported = await exportPoiGenesis(ctx());
    for (const row of ["training_specs", "training_attempts", "loss_traces", "checkpoint_chunks"]) assert.ok((exported[row] as unknown[]).length > 0, `${row} exported`);
    const fresh = new Context(new Branch(EMPTY), ctx().header, "genesis");
    await initPoiGenesis(fresh, JSON.parse(JSON.stringify(exported)));
    const dump = async (c: Context) => (await c.store(POI_MODULE).iterate(new Uint8Array())).map(([k, v]) => `${Buffer.from(k).toString("hex")}=${Buffer.from(v).toString("hex")}`);
    assert.deepEqual(await dump(fresh), await dump(ctx()), "every poi key and value imports back as it was");
    const { task } = await f.revealUntilDecided("worker", id, run);
    assert.equal(task.status, TaskStatus.COMPLETED, "the honest reveals then complete the attempt");
  });
});
