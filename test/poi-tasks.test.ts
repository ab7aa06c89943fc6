/**
 * x/poi tasks and verification, in process: a real PoiApp with 4 simulated validators whose vote
 * extensions are signed with ed25519 and carried through PrepareProposal/ProcessProposal/
 * FinalizeBlock, real onnxruntime re-execution, real signed txs.
 */
import { strict as assert } from "assert";
import * as ort from "onnxruntime-node";
import { sha256 } from "@noble/hashes/sha2.js";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import { Harness } from "./helpers/poi-harness";
import { parseAddress } from "../src/app/address";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { loadMnist, randomMlpWeights } from "../src/ml/train";
import { mulberry32 } from "../src/util/random";
import { POI_MODULE_ACCOUNT } from "../src/x/poi/keeper";
import { resultRoot, sampleIndices, sampleSeed } from "../src/x/poi/commitment";
import { compareItem } from "../src/x/poi/verify/compare";
import { encodeAggregateTx, decodeAggregateTx, isAggregateTx } from "../src/x/poi/verdicts";
import {
  MsgRegisterModelCodec, MsgCreateDatasetCodec, MsgUploadDatasetChunkCodec, MsgSubmitInferenceTaskCodec, MsgClaimTaskCodec,
  MsgSubmitResultCodec, MsgSubmitInferenceTaskResponseCodec, MsgRegisterModelResponseCodec, MsgCreateDatasetResponseCodec, TaskStatus, Q, type Task,
} from "../src/x/poi/types";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";

const IN = [{ name: "input", shape: ["1", "784"], dtype: "float32" }];
const OUT = [{ name: "logits", shape: ["1", "10"], dtype: "float32" }];
const N = 60; // digits per task
const OUT_BYTES = 40;

async function runModel(onnx: Uint8Array, images: Float32Array[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnx, SESSION_OPTIONS);
  const out = new Float32Array(images.length * 10);
  for (const [i, img] of images.entries()) {
    const r = await session.run({ input: new ort.Tensor("float32", img, [1, 784]) });
    out.set(r.logits.data as Float32Array, i * 10);
  }
  await session.release();
  return out;
}

const bytesOf = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);

describe("x/poi tasks: escrow, claims, results, sampled re-execution and signed verdicts (in process, 4 validators)", function () {
  let h: Harness;
  let modelId = "";
  let onnx: Uint8Array;
  let images: Float32Array[];
  let honest: Float32Array;
  let inline: Float32Array;

  const balance = (name: string) => h.app.bank.getBalance(h.app.queryContext(), parseAddress(h.account(name).address), "upoi");
  const moduleBalance = () => h.app.bank.getBalance(h.app.queryContext(), POI_MODULE_ACCOUNT, "upoi");
  const supply = () => h.app.bank.getSupply(h.app.queryContext(), "upoi");
  const task = async (id: string) => (await h.app.poi.getTask(h.app.queryContext(), BigInt(id)))!;

  async function submitTask(opts: { k?: number; bond?: string; reward?: string; deadline?: number } = {}): Promise<string> {
    const r = await h.send("requester", MsgSubmitInferenceTaskCodec, {
      requester: h.account("requester").address, modelId, inputs: bytesOf(inline), rewardPerItem: opts.reward ?? "1000", k: opts.k ?? 8,
      deadlineBlocks: String(opts.deadline ?? 100), bond: opts.bond ?? "50000",
    });
    assert.equal(r.code, 0, r.log);
    return MsgSubmitInferenceTaskResponseCodec.decode(TxMsgData.decode(r.data!).msgResponses[0].value).taskId;
  }

  async function claimAndSubmit(worker: string, id: string, outputs: Float32Array) {
    const c = await h.send(worker, MsgClaimTaskCodec, { worker: h.account(worker).address, taskId: id });
    assert.equal(c.code, 0, c.log);
    const out = bytesOf(outputs);
    const r = await h.send(worker, MsgSubmitResultCodec, { worker: h.account(worker).address, taskId: id, outputs: out, resultRoot: resultRoot(out, N, OUT_BYTES) });
    assert.equal(r.code, 0, r.log);
  }

  async function untilFinal(id: string, wantStatus: TaskStatus[], maxBlocks = 12): Promise<Task> {
    for (let i = 0; i < maxBlocks; i++) {
      const t = await task(id);
      if (wantStatus.includes(t.status)) return t;
      await h.block([]);
    }
    return task(id);
  }

  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["requester", "worker", "cheater", "poor", "other"], balances: { poor: "10000000" }, params: { maxModelBytes: "150000", claimBlocks: "4" }, faults: { 1: { noise_rel: 1e-6 }, 3: { invert_verdicts: true } } });
    onnx = buildMlp({ inputSize: 784, hidden: 32, outputs: 10, weights: randomMlpWeights(784, 32, 10, 7) });
    const r = await h.send("requester", MsgRegisterModelCodec, { owner: h.account("requester").address, name: "mlp", onnx, inputs: IN, outputs: OUT });
    assert.equal(r.code, 0, r.log);
    modelId = MsgRegisterModelResponseCodec.decode(TxMsgData.decode(r.data!).msgResponses[0].value).modelId;
    images = loadMnist().images.slice(0, N);
    inline = new Float32Array(N * 784);
    images.forEach((img, i) => inline.set(img, i * 784));
    honest = await runModel(onnx, images);
  });
  after(async () => h && (await h.close()));

  it("honest worker: escrow, claim, result, sample from a later beacon, 2/3 pass votes, exact payout and work units", async () => {
    const req0 = await balance("requester"), w0 = await balance("worker"), mod0 = await moduleBalance();
    const id = await submitTask({ k: 8 });
    let t = await task(id);
    assert.equal(t.status, TaskStatus.OPEN);
    assert.equal(t.escrow, String(1000 * N));
    assert.equal(await moduleBalance(), mod0 + BigInt(1000 * N));
    assert.equal(await balance("requester"), req0 - BigInt(1000 * N) - 2_500_000n, "requester pays escrow + fee");

    await claimAndSubmit("worker", id, honest);
    t = await task(id);
    assert.equal(t.status, TaskStatus.AWAITING_SAMPLE, "no sample in the block that carries the result");
    const resultHeight = BigInt(t.resultHeight);
    t = await untilFinal(id, [TaskStatus.VERIFYING, TaskStatus.COMPLETED]);
    assert.ok(BigInt(t.sampleHeight) > resultHeight, "the sample comes from a later block's beacon");
    assert.equal(t.sample.length, 8);
    t = await untilFinal(id, [TaskStatus.COMPLETED]);
    assert.equal(t.status, TaskStatus.COMPLETED, JSON.stringify(t.votes));
    // Validators 0,1(noise),2 passed; 3 (inverted) voted fail but could not change the outcome.
    const byVal = new Map(t.votes.map((v) => [v.validator, v.pass]));
    const hexOf = (i: number) => Buffer.from(h.validators[i].address).toString("hex").toUpperCase();
    assert.equal(byVal.get(hexOf(1)), true, "the noisy validator agrees");
    assert.equal(byVal.get(hexOf(3)) ?? false, false);
    assert.equal(await balance("worker"), w0 - 2n * 2_500_000n + BigInt(1000 * N), "worker: +reward exactly, bond back, two fees");
    assert.equal(await moduleBalance(), mod0, "escrow and bond released");
    const stats = (await h.app.poi.workerStats(h.app.queryContext(), parseAddress(h.account("worker").address)))!;
    const model = (await h.app.poi.getModel(h.app.queryContext(), modelId))!;
    assert.equal(stats.verifiedWorkUnits, (BigInt(model.workUnitsPerItem) * BigInt(N)).toString());
    const blockWork = await h.app.poi.blockWork(h.app.queryContext(), BigInt(t.completedHeight));
    assert.deepEqual(blockWork.map((b) => b.units), [BigInt(model.workUnitsPerItem) * BigInt(N)]);
    // Outputs stay queryable, and their argmax is what a local onnxruntime run gives.
    const q = await h.app.query({ path: "/poi.v1.Query/TaskOutputs", data: Q.TaskRequest.encode({ id }).finish(), height: 0n, prove: false });
    assert.equal(q.code ?? 0, 0, q.log);
    assert.deepEqual(Buffer.from(Q.TaskDataResponse.decode(q.value!).data), Buffer.from(bytesOf(honest)));
  });

  it("cheating worker (10% fabricated, k = all items): caught, bond slashed (half to requester, half burned), then done by an honest worker", async () => {
    const fabricated = honest.slice();
    const rand = mulberry32(99);
    for (let i = 0; i < N / 10; i++) for (let j = 0; j < 10; j++) fabricated[(i * 10 + 3) * 10 + j] = rand() * 10 - 5;
    const id = await submitTask({ k: N, bond: "80000" });
    const req0 = await balance("requester"), cheat0 = await balance("cheater"), supply0 = await supply();
    await claimAndSubmit("cheater", id, fabricated);
    let t = await untilFinal(id, [TaskStatus.OPEN]);
    assert.equal(t.status, TaskStatus.OPEN, "task reopens after the failure");
    assert.equal(t.attempt, 1);
    assert.equal(t.failedAttempts, 1);
    assert.equal(await balance("cheater"), cheat0 - 80000n - 2n * 2_500_000n, "bond lost");
    assert.equal(await balance("requester"), req0 + 40000n, "half the bond to the requester");
    assert.equal(await supply(), supply0 - 40000n, "the other half burned");
    const stats = (await h.app.poi.workerStats(h.app.queryContext(), parseAddress(h.account("cheater").address)))!;
    assert.equal(stats.tasksFailed, "1");
    assert.equal(stats.verifiedWorkUnits, "0");
    await claimAndSubmit("worker", id, honest);
    t = await untilFinal(id, [TaskStatus.COMPLETED]);
    assert.equal(t.status, TaskStatus.COMPLETED);
  });

  it("bad inputs are refused with clear errors and change nothing", async () => {
    const address = (n: string) => h.account(n).address;
    const snapshot = async () => JSON.stringify({
      tasks: await h.app.poi.tasks(h.app.queryContext()), models: (await h.app.poi.models(h.app.queryContext())).length,
      balances: await Promise.all(["requester", "worker", "cheater", "poor", "other"].map(async (n) => String(await balance(n)))),
      module: String(await moduleBalance()), supply: String(await supply()),
    }, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v));
    const refuse = async (from: string, codec: any, msg: any, code: number, re: RegExp) => {
      const before = await snapshot();
      const r = await h.send(from, codec, msg);
      assert.equal(r.code, code, `${r.log} (${r.stage})`);
      assert.match(r.log, re);
      assert.equal(r.stage, "check", "refused before it could cost a fee");
      assert.equal(await snapshot(), before, "a refusal changes nothing");
    };
    const out = bytesOf(honest);
    const root = resultRoot(out, N, OUT_BYTES);
    const task = (k: Partial<Record<string, unknown>>) => ({ requester: address("requester"), modelId, inputs: bytesOf(inline), rewardPerItem: "1", k: 1, deadlineBlocks: "50", bond: "1", ...k });

    // Models: bad bytes, disallowed op and memory bomb are in poi-registry.test.ts; here the size cap.
    const big = buildMlp({ inputSize: 784, hidden: 64, outputs: 10, weights: randomMlpWeights(784, 64, 10, 5) });
    await refuse("requester", MsgRegisterModelCodec, { owner: address("requester"), name: "big", onnx: big, inputs: IN, outputs: OUT }, 2, new RegExp(`model is ${big.length} bytes, limit 150000`));

    // Inputs of the wrong shape: inline bytes that are not whole items, and a dataset of another item shape.
    await refuse("requester", MsgSubmitInferenceTaskCodec, task({ inputs: new Uint8Array(784 * 4 + 8) }), 10, /not a whole number of items of shape \[1,784\]/);
    const chunk = bytesOf(new Float32Array(4 * 10).fill(0.5));
    const created = await h.send("requester", MsgCreateDatasetCodec, { owner: address("requester"), name: "tiny", item: { name: "x", shape: ["10"], dtype: "float32" }, numItems: "4", itemsPerChunk: "4", chunkHashes: [sha256(chunk)] });
    assert.equal(created.code, 0);
    const dsId = MsgCreateDatasetResponseCodec.decode(TxMsgData.decode(created.data!).msgResponses[0].value).datasetId;
    assert.equal((await h.send("requester", MsgUploadDatasetChunkCodec, { owner: address("requester"), datasetId: dsId, index: 0, data: chunk })).code, 0);
    await refuse("requester", MsgSubmitInferenceTaskCodec, task({ inputs: new Uint8Array(), datasetId: dsId, start: "0", count: "4" }), 10, /dataset items have shape \[10\] but the model's input "input" has shape \[1,784\]/);
    await refuse("requester", MsgSubmitInferenceTaskCodec, task({ k: 0 }), 10, /k \(items to re-execute\) must be at least 1/);
    await refuse("poor", MsgSubmitInferenceTaskCodec, task({ requester: address("poor"), rewardPerItem: "1000000" }), 10, /escrow of 60000000upoi \(60 items × 1000000\) exceeds the requester's balance/);

    const id = await submitTask({ k: 4, bond: "9000000" });
    // A claim without the bond; a result for a task nobody claimed; unknown task.
    await refuse("poor", MsgClaimTaskCodec, { worker: address("poor"), taskId: id }, 15, new RegExp(`claiming task ${id} locks a bond of 9000000upoi; ${address("poor")} has 7500000upoi`));
    await refuse("worker", MsgSubmitResultCodec, { worker: address("worker"), taskId: id, outputs: out, resultRoot: root }, 11, /a result needs a claim first/);
    await refuse("worker", MsgClaimTaskCodec, { worker: address("worker"), taskId: "999" }, 9, /task 999/);

    // Claimed by "worker": a result from someone else, a wrong root, then a second result.
    assert.equal((await h.send("worker", MsgClaimTaskCodec, { worker: address("worker"), taskId: id })).code, 0);
    await refuse("other", MsgSubmitResultCodec, { worker: address("other"), taskId: id, outputs: out, resultRoot: root }, 12, new RegExp(`task ${id} is claimed by ${address("worker")}, not ${address("other")}`));
    await refuse("worker", MsgSubmitResultCodec, { worker: address("worker"), taskId: id, outputs: out, resultRoot: new Uint8Array(32) }, 14, /is not the Merkle root of the outputs/);
    await refuse("worker", MsgSubmitResultCodec, { worker: address("worker"), taskId: id, outputs: out.subarray(40), resultRoot: root }, 14, /want 60 items × 40 bytes/);
    assert.equal((await h.send("worker", MsgSubmitResultCodec, { worker: address("worker"), taskId: id, outputs: out, resultRoot: root })).code, 0);
    await refuse("worker", MsgSubmitResultCodec, { worker: address("worker"), taskId: id, outputs: out, resultRoot: root }, 11, /already has a result .* under verification/);
    assert.equal((await untilFinal(id, [TaskStatus.COMPLETED])).status, TaskStatus.COMPLETED);

    // A result after the claim expired (claim_blocks = 4): refused; the lapse then forfeits the bond.
    const late = await submitTask({ k: 4, bond: "30000" });
    assert.equal((await h.send("cheater", MsgClaimTaskCodec, { worker: address("cheater"), taskId: late })).code, 0);
    const expires = BigInt((await h.app.poi.getTask(h.app.queryContext(), BigInt(late)))!.claimExpiresHeight);
    while (h.height + 1n < expires) await h.block([]);
    await refuse("cheater", MsgSubmitResultCodec, { worker: address("cheater"), taskId: late, outputs: out, resultRoot: root }, 13, new RegExp(`the claim on task ${late} expired at height ${expires}`));
    await h.block([]);
    const t = (await h.app.poi.getTask(h.app.queryContext(), BigInt(late)))!;
    assert.deepEqual([t.status, t.attempt, t.worker], [TaskStatus.OPEN, 1, ""], "lapsed claim: task reopened");
    const stats = (await h.app.poi.workerStats(h.app.queryContext(), parseAddress(address("cheater"))))!;
    assert.equal(stats.claimsLapsed, "1");
  });

  it("an aggregate cannot come from the mempool; a block without one, with a forged vote, or under 2/3 is rejected", async () => {
    const check = await h.app.checkTx({ tx: Buffer.concat([Buffer.from("POI/VERDICTS/1\n"), Buffer.from([0x08, 0x01])]), type: 0 });
    assert.equal(check.code, 16);
    assert.match(check.log!, /made by the block proposer/);
    const height0 = h.height;
    // no aggregate
    assert.equal((await h.block([], (txs) => txs.filter((t) => !isAggregateTx(t)))).rejected, true);
    // a forged signature
    assert.equal((await h.block([], (txs) => txs.map((t) => {
      if (!isAggregateTx(t)) return t;
      const a = decodeAggregateTx(t);
      a.votes[1].signature = Uint8Array.from(a.votes[1].signature, (b, i) => (i === 0 ? b ^ 1 : b));
      return encodeAggregateTx(a);
    }))).rejected, true);
    // a duplicated vote standing in for a missing one
    assert.equal((await h.block([], (txs) => txs.map((t) => {
      if (!isAggregateTx(t)) return t;
      const a = decodeAggregateTx(t);
      a.votes[3] = a.votes[0];
      return encodeAggregateTx(a);
    }))).rejected, true);
    // only 2 of 4 validators (not more than 2/3 of the power)
    assert.equal((await h.block([], (txs) => txs.map((t) => {
      if (!isAggregateTx(t)) return t;
      const a = decodeAggregateTx(t);
      a.votes = a.votes.slice(0, 2);
      return encodeAggregateTx(a);
    }))).rejected, true);
    // the aggregate twice
    assert.equal((await h.block([], (txs) => [...txs, txs[0]])).rejected, true);
    assert.equal(h.height, height0, "no rejected block was executed");
    // With one validator silent, 3 of 4 still make a valid block.
    h.validators[2].votes = false;
    assert.equal((await h.block([])).rejected, false);
    h.validators[2].votes = true;
    assert.equal((await h.block([])).rejected, false);
  });

});

describe("x/poi sampling: detection rate matches 1-(1-f)^k (1,000+ trials per f, real onnxruntime outputs)", () => {
  it("for f = 0.05 and f = 0.2 with k = 20 over 1,000 digits", async () => {
    const onnx = buildMlp({ inputSize: 784, hidden: 32, outputs: 10, weights: randomMlpWeights(784, 32, 10, 3) });
    const images = loadMnist().images.slice(0, 1000);
    const honest = await runModel(onnx, images);
    const n = 1000, k = 20, trials = 1500;
    for (const f of [0.05, 0.2]) {
      const rand = mulberry32(Math.round(f * 1000));
      let detected = 0;
      for (let t = 0; t < trials; t++) {
        // The cheat fabricates round(f·n) items at random positions.
        const fake = new Set<number>();
        while (fake.size < Math.round(f * n)) fake.add(Math.floor(rand() * n));
        const beacon = sha256(Buffer.from(`trial ${f} ${t}`));
        const sample = sampleIndices(sampleSeed(beacon, BigInt(t + 1), 0, new Uint8Array(32)), BigInt(n), BigInt(k));
        const caught = sample.some((i) => {
          const idx = Number(i);
          const ref = honest.subarray(idx * 10, idx * 10 + 10);
          const claimed = fake.has(idx) ? Float32Array.from({ length: 10 }, () => rand() * 10 - 5) : ref;
          return !compareItem(ref, claimed, [10]).pass;
        });
        if (caught) detected++;
      }
      const rate = detected / trials;
      const formula = 1 - Math.pow(1 - f, k);
      // Distinct indices (no replacement) detect slightly more often: the exact hypergeometric value.
      let miss = 1;
      for (let i = 0; i < k; i++) miss *= (n - Math.round(f * n) - i) / (n - i);
      const exact = 1 - miss;
      const sigma = Math.sqrt((formula * (1 - formula)) / trials);
      console.log(`      f=${f} k=${k}: measured ${rate.toFixed(4)} over ${trials} trials; 1-(1-f)^k = ${formula.toFixed(4)}; exact without replacement ${exact.toFixed(4)}; σ = ${sigma.toFixed(4)}`);
      assert.ok(Math.abs(rate - formula) <= 4 * sigma + (exact - formula), `rate ${rate} vs ${formula} ± ${4 * sigma}`);
      assert.ok(Math.abs(rate - exact) <= 4 * sigma, `rate ${rate} vs exact ${exact} ± ${4 * sigma}`);
    }
  });

  it("sampleIndices: k distinct sorted indices, all when k >= n, uniform over positions", () => {
    const s = sampleIndices(new Uint8Array(32), 100n, 10n);
    assert.equal(s.length, 10);
    assert.equal(new Set(s).size, 10);
    assert.deepEqual(s, [...s].sort((a, b) => (a < b ? -1 : 1)));
    assert.deepEqual(sampleIndices(new Uint8Array(32), 5n, 9n), [0n, 1n, 2n, 3n, 4n]);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 5000; i++) for (const x of sampleIndices(sha256(Buffer.from(String(i))), 10n, 1n)) counts[Number(x)]++;
    for (const c of counts) assert.ok(c > 400 && c < 600, `counts ${counts}`);
  });
});
