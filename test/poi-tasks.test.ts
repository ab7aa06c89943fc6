/**
 * x/poi tasks and verification, in process: a real PoiApp with 4 simulated validators whose vote
 * extensions are signed with ed25519 and carried through PrepareProposal/ProcessProposal/
 * FinalizeBlock, real onnxruntime re-execution, real signed txs.
 */
import { strict as assert } from "assert";
import { sha256 } from "@noble/hashes/sha2.js";
import { Harness } from "./helpers/poi-harness";
import { bytesOf, IN, OUT, OUT_BYTES, PoiFlow } from "./helpers/poi-flow";
import { parseAddress } from "../src/app/address";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { randomMlpWeights } from "../src/ml/train";
import { mulberry32 } from "../src/util/random";
import { resultRoot } from "../src/x/poi/commitment";
import { epochOf } from "../src/x/poi/sampling";
import { encodeAggregateTx, decodeAggregateTx, isAggregateTx, voteExtensionSignBytes } from "../src/x/poi/verdicts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { CHAIN_ID } from "./helpers/poi-harness";
import {
  MsgRegisterModelCodec, MsgCreateDatasetCodec, MsgUploadDatasetChunkCodec, MsgSubmitInferenceTaskCodec, MsgClaimTaskCodec,
  MsgSubmitResultCodec, MsgCreateDatasetResponseCodec, TaskStatus, Q, VoteExtensionCodec,
} from "../src/x/poi/types";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";

const N = 60; // digits per task

describe("x/poi tasks: escrow, claims, results, per-validator sampled re-execution and signed verdicts (in process, 4 validators)", function () {
  let h: Harness;
  let f: PoiFlow;
  let modelId = "";
  let honest: Float32Array;
  let inline: Float32Array;

  const balance = (name: string) => f.balance(name);
  const moduleBalance = () => f.moduleBalance();
  const supply = () => f.supply();
  const task = (id: string) => f.task(id);
  const submitTask = (opts: { k?: number; bond?: string; reward?: string; deadline?: number } = {}) => f.submitTask(opts);
  const claimAndSubmit = (worker: string, id: string, outputs: Float32Array) => f.claimAndSubmit(worker, id, outputs);
  const untilFinal = (id: string, want: TaskStatus[], maxBlocks = 12) => f.untilStatus(id, want, maxBlocks);

  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["requester", "worker", "cheater", "poor", "other"], balances: { poor: "10000000" }, params: { maxModelBytes: "150000", claimBlocks: "4" }, faults: { 1: { noise_rel: 1e-6 }, 3: { invert_verdicts: true } } });
    f = await PoiFlow.create(h, { n: N });
    ({ modelId, honest, inline } = f);
  });
  after(async () => h && (await h.close()));

  it("honest worker: escrow and fee, claim, result verified by each validator's own sample, a false report escalated and cleared, exact payout", async () => {
    const req0 = await balance("requester"), w0 = await balance("worker"), mod0 = await moduleBalance();
    const params = await h.app.poi.params(h.app.queryContext());
    const model = (await h.app.poi.getModel(h.app.queryContext(), modelId))!;
    const fee = (8n * BigInt(model.workUnitsPerItem) * BigInt(params.verifyPricePerMegaUnit) + 999_999n) / 1_000_000n;
    const protocolFee = (BigInt(N) * BigInt(model.workUnitsPerItem) * BigInt(params.protocolFeePerMegaUnit) + 999_999n) / 1_000_000n;
    const id = await submitTask({ k: 8 });
    let t = await task(id);
    assert.equal(t.status, TaskStatus.OPEN);
    assert.equal(t.escrow, String(1000 * N));
    assert.equal(t.verifyFee, fee.toString());
    assert.equal(t.deposit, "1000000");
    assert.equal(t.protocolFee, protocolFee.toString());
    assert.ok(protocolFee > 0n);
    assert.equal(await moduleBalance(), mod0 + BigInt(1000 * N) + fee + protocolFee + 1_000_000n);
    assert.equal(await balance("requester"), req0 - BigInt(1000 * N) - fee - protocolFee - 1_000_000n - 2_500_000n, "requester pays escrow + verification fee + protocol fee + deposit + tx fee");

    await claimAndSubmit("worker", id, honest);
    t = await task(id);
    assert.equal(t.status, TaskStatus.VERIFYING, "a result goes straight to verification: samples are private, nothing waits for randomness");
    assert.equal(t.resultEpoch, epochOf(BigInt(t.resultHeight), BigInt(params.seedEpochBlocks)).toString());
    t = await untilFinal(id, [TaskStatus.COMPLETED]);
    assert.equal(t.status, TaskStatus.COMPLETED, JSON.stringify(t.votes));
    // Validators 0, 1 (noise) and 2 passed their own samples; 3 (inverted) reported an item failing.
    const byVal = new Map(t.votes.map((v) => [v.validator, v]));
    assert.equal(byVal.get(h.validators[0].hex)?.pass, true);
    assert.equal(byVal.get(h.validators[1].hex)?.pass, true, "the noisy validator agrees");
    assert.equal(byVal.get(h.validators[2].hex)?.pass, true);
    assert.equal(byVal.get(h.validators[3].hex)?.pass, false);
    assert.equal(byVal.get(h.validators[3].hex)?.failedItems.length, 1, "the inverted validator named one item");
    // Its report was public: everyone re-ran the item, 3 of 4 found it passing, so the worker is paid.
    assert.equal(t.challenges.length, 1);
    assert.equal(t.challenges[0].item, byVal.get(h.validators[3].hex)!.failedItems[0]);
    assert.deepEqual(t.challenges[0].votes.filter((v) => v.pass).map((v) => v.validator).sort(), [0, 1, 2].map((i) => h.validators[i].hex).sort());
    assert.equal(await balance("worker"), w0 - 2n * 2_500_000n + BigInt(1000 * N), "worker: +reward exactly, bond back, two fees");
    assert.equal(await balance("requester"), req0 - BigInt(1000 * N) - fee - protocolFee - 2_500_000n, "the deposit came back with the completion");
    assert.equal((await task(id)).protocolFee, "0", "the protocol fee has left the task");
    const stats = (await h.app.poi.workerStats(h.app.queryContext(), parseAddress(h.account("worker").address)))!;
    assert.equal(stats.verifiedWorkUnits, (BigInt(model.workUnitsPerItem) * BigInt(N)).toString());
    const blockWork = await h.app.poi.blockWork(h.app.queryContext(), BigInt(t.completedHeight));
    assert.deepEqual(blockWork.map((b) => b.units), [BigInt(model.workUnitsPerItem) * BigInt(N)]);
    // Outputs stay queryable, and they are what a local onnxruntime run gives.
    const q = await h.app.query({ path: "/poi.v1.Query/TaskOutputs", data: Q.TaskRequest.encode({ id }).finish(), height: 0n, prove: false });
    assert.equal(q.code ?? 0, 0, q.log);
    assert.deepEqual(Buffer.from(Q.TaskDataResponse.decode(q.value!).data), Buffer.from(bytesOf(honest)));
  });

  it("cheating worker (10% fabricated): a validator's own sample finds an item, every validator confirms it, the bond is slashed (bounty to the confirmers, the rest burned, nothing to the requester)", async () => {
    const fabricated = honest.slice();
    const rand = mulberry32(99);
    for (let i = 0; i < N / 10; i++) for (let j = 0; j < 10; j++) fabricated[(i * 10 + 3) * 10 + j] = rand() * 10 - 5;
    const id = await submitTask({ k: N, bond: "120000" });
    const req0 = await balance("requester"), cheat0 = await balance("cheater"), supply0 = await supply(), mod0 = await moduleBalance();
    const vstats = () => Promise.all(h.validators.map(async (v) => (await h.app.poiModule.verification.stats(h.app.queryContext(), v.hex)) ?? { pending: "0", paid: "0" }));
    const before = await vstats();
    await claimAndSubmit("cheater", id, fabricated);
    let t = await untilFinal(id, [TaskStatus.OPEN]);
    assert.equal(t.status, TaskStatus.OPEN, "task reopens after the failure");
    assert.equal(t.attempt, 1);
    assert.equal(t.failedAttempts, 1);
    assert.equal(await balance("cheater"), cheat0 - 120000n - 2n * 2_500_000n, "bond lost");
    assert.equal(await balance("requester"), req0, "the requester gets nothing from a slash");
    // 50% of the bond is the confirmers' bounty, 20000 to each of validators 0, 1 and 2 (held until they
    // reveal their seeds); the rest is burned.
    assert.equal(supply0 - (await supply()), 60000n, "half the bond burned");
    // Income (pending + paid) grew by the shares; what earlier reveals paid out left the module account.
    const after = await vstats();
    const income = after.map((a, i) => BigInt(a.pending) + BigInt(a.paid) - BigInt(before[i].pending) - BigInt(before[i].paid));
    assert.deepEqual(income, [20000n, 20000n, 20000n, 0n], "bounty shares: the fail voters only");
    const paidOut = after.reduce((s, a, i) => s + BigInt(a.paid) - BigInt(before[i].paid), 0n);
    assert.equal((await moduleBalance()) - mod0 + paidOut, 60000n, "the bounty stays in the module account until paid");
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
    const task = (k: Partial<Record<string, unknown>>) => ({ requester: address("requester"), modelId, inputs: bytesOf(inline), rewardPerItem: "1", k: 1, deadlineBlocks: "50", bond: "100000", ...k });

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
    await refuse("poor", MsgSubmitInferenceTaskCodec, task({ requester: address("poor"), rewardPerItem: "1000000", bond: "60000000" }), 10, /escrow of 60000000upoi \(60 items × 1000000\) plus the verification fee \d+upoi, the protocol fee \d+upoi and the task deposit 1000000upoi exceeds the requester's balance/);
    // Tasks no honest worker could finish, and bonds too small to make claiming costly.
    await refuse("requester", MsgSubmitInferenceTaskCodec, task({ k: 61 }), 10, /k = 61 is more than the task's 60 items/);
    await refuse("requester", MsgSubmitInferenceTaskCodec, task({ deadlineBlocks: "43" }), 10, /deadline_blocks 43 leaves no time to claim, run and verify: at least 44 \(claim 4 \+ verification 30 \+ margin 10\)/);
    await refuse("requester", MsgSubmitInferenceTaskCodec, task({ bond: "99999" }), 10, /bond 99999upoi is below the minimum 100000upoi/);
    await refuse("requester", MsgSubmitInferenceTaskCodec, task({ rewardPerItem: "5000", bond: "299999" }), 10, /bond 299999upoi is below the minimum 300000upoi \(max of min_bond 100000 and 10000 bps of the 300000upoi escrow\)/);

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
    const late = await submitTask({ k: 4, bond: "100000" });
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

  it("junk extensions: rule-breaking or oversized ones are rejected by VerifyVoteExtension, left out of the aggregate, and a block carrying one is rejected; blocks go on with valid aggregates", async () => {
    const { ResponseVerifyVoteExtension_VerifyStatus: S } = await import("cosmjs-types/tendermint/abci/types");
    const junk = VoteExtensionCodec.encode({
      verdicts: Array.from({ length: 2000 }, (_, i) => ({ taskId: String(100000 + i), attempt: 0, pass: true, failedItems: [], cannotVerify: false })),
      itemVerdicts: [], commitments: [], reveals: [],
    }).finish();
    const height = h.height + 1n;
    const verify = async (ext: Uint8Array) => (await h.app.verifyVoteExtension({ voteExtension: ext, height, hash: new Uint8Array(32), validatorAddress: h.validators[3].address })).status;
    assert.equal(await verify(junk), S.REJECT, "verdicts on tasks that are not under verification");
    assert.equal(await verify(new Uint8Array(70 * 1024).fill(7)), S.REJECT, "over 64 KiB");
    assert.equal(await verify(Uint8Array.from([0xff, 0xff, 0xff])), S.REJECT, "does not decode");
    assert.equal(await verify(await h.validators[0].verifier!.extension(height)), S.ACCEPT, "an honest extension passes");

    h.validators[3].extensionOverride = () => junk;
    try {
      const res = await h.block([]);
      assert.equal(res.rejected, false, "the block goes on without the junk");
      const agg = decodeAggregateTx((await h.propose([]))[0]);
      assert.equal(agg.votes.length, 3);
      assert.ok(!agg.votes.some((v) => Buffer.from(v.validatorAddress).equals(Buffer.from(h.validators[3].address))), "the junk extension is left out");
      // A proposer that puts it in anyway has its block rejected.
      const withJunk = await h.block([], (txs) => txs.map((t) => {
        if (!isAggregateTx(t)) return t;
        const a = decodeAggregateTx(t);
        const commit = a.votes[0];
        const sig = ed25519.sign(voteExtensionSignBytes(junk, BigInt(a.height), 0n, CHAIN_ID), h.validators[3].secret);
        a.votes.push({ ...commit, validatorAddress: h.validators[3].address, extension: junk, signature: sig });
        a.votes.sort((x, y) => Buffer.compare(Buffer.from(x.validatorAddress), Buffer.from(y.validatorAddress)));
        return encodeAggregateTx(a);
      }));
      assert.equal(withJunk.rejected, true);
    } finally {
      h.validators[3].extensionOverride = undefined;
    }
    assert.equal((await h.block([])).rejected, false);
  });

  it("PrepareProposal fits the aggregate into max_tx_bytes with the txs: the largest extensions go first while > 2/3 remain; txs that do not fit wait", async () => {
    const height = h.height + 1n;
    const localLastCommit = await h.signedExtensions(height - 1n);
    const base = { height, time: { seconds: 1_700_000_000n + height, nanos: 0 }, proposerAddress: h.validators[0].address, nextValidatorsHash: new Uint8Array(), misbehavior: [], localLastCommit };
    const full = (await h.app.prepareProposal({ ...base, maxTxBytes: 1_000_000n, txs: [] })).txs[0];
    assert.equal(decodeAggregateTx(full).votes.length, 4);
    const tight = await h.app.prepareProposal({ ...base, maxTxBytes: BigInt(full.length - 1), txs: [new Uint8Array(full.length).fill(1)] });
    assert.equal(tight.txs.length, 1, "only the aggregate: the tx does not fit beside it");
    const agg = decodeAggregateTx(tight.txs[0]);
    assert.equal(agg.votes.length, 3, "one extension left out, 3 of 4 still more than 2/3");
    assert.ok(tight.txs[0].length <= full.length - 1);
    const roomy = await h.app.prepareProposal({ ...base, maxTxBytes: BigInt(full.length + 50), txs: [new Uint8Array(50).fill(1), new Uint8Array(10).fill(2)] });
    assert.deepEqual(roomy.txs.map((t) => t.length), [full.length, 50], "the aggregate and what fits after it");
  });
});
