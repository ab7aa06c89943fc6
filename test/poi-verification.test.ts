/**
 * x/poi verification economics and validator accountability, in process (4 signing validators, real
 * onnxruntime): the verification fee goes exactly to the validators whose votes matched, a false
 * escalation costs its reporter the share, a split between honest validators slashes nobody and flags
 * the model, and sampling seeds are committed, revealed and checked (a bad reveal, a report outside
 * the sample, or no reveal forfeits the validator's held income).
 */
import { strict as assert } from "assert";
import { Harness } from "./helpers/poi-harness";
import { PoiFlow } from "./helpers/poi-flow";
import { VoteExtensionCodec, MsgSubmitInferenceTaskCodec, TaskStatus } from "../src/x/poi/types";
import { epochOf } from "../src/x/poi/sampling";
import { parseAddress } from "../src/app/address";
import * as fs from "node:fs";
import * as path from "node:path";
import { VerifierService } from "../src/x/poi/verify/service";

const N = 60;

/** Rewrites a validator's extension: decode, change, encode. */
function rewrite(change: (ext: ReturnType<typeof VoteExtensionCodec.decode>) => void) {
  return (_h: bigint, honest: Uint8Array) => {
    const ext = VoteExtensionCodec.decode(honest);
    change(ext);
    return VoteExtensionCodec.encode(ext).finish();
  };
}

describe("x/poi verification fee and escalation (in process, 4 validators)", function () {
  let h: Harness;
  let f: PoiFlow;
  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["requester", "worker"], params: { claimBlocks: "4" } });
    f = await PoiFlow.create(h, { n: N });
  });
  after(async () => h && (await h.close()));

  it("the verification fee is paid exactly to the validators whose votes matched the outcome, pro rata to power, once each reveals its seed", async () => {
    const model = (await h.app.poi.getModel(h.app.queryContext(), f.modelId))!;
    const fee = (8n * BigInt(model.workUnitsPerItem) * 1000n + 999_999n) / 1_000_000n;
    const op0 = await Promise.all([0, 1, 2, 3].map((i) => f.balance(`operator${i}`)));
    const supply0 = await f.supply();
    const mod0 = await f.moduleBalance();
    // Validator 2 says nothing this time: its precommits carry no extension until the task is done.
    h.validators[2].votes = false;
    const id = await f.submitTask({ k: 8 });
    await f.claimAndSubmit("worker", id, f.honest);
    const t = await f.untilStatus(id, [TaskStatus.COMPLETED], 20);
    h.validators[2].votes = true;
    assert.equal(t.status, TaskStatus.COMPLETED);
    assert.deepEqual(t.votes.map((v) => v.validator).sort(), [0, 1, 3].map((i) => h.validators[i].hex).sort(), "validators 0, 1 and 3 voted; 2 was silent");
    const share = fee / 3n;
    await f.untilRevealed(t.resultEpoch);
    const op1 = await Promise.all([0, 1, 2, 3].map((i) => f.balance(`operator${i}`)));
    assert.deepEqual(op1.map((b, i) => b - op0[i]), [share, share, 0n, share], "equal power: fee/3 each to the matching voters, nothing to the silent one");
    const protocolFee = (BigInt(N) * BigInt(model.workUnitsPerItem) * 20000n + 999_999n) / 1_000_000n; // default protocol_fee_per_mega_unit, rounded up
    assert.equal(supply0 - (await f.supply()), fee - 3n * share + protocolFee, "the remainder of the division is burned, and the protocol fee");
    assert.equal(await f.moduleBalance(), mod0, "nothing is left in the module account");
    for (const i of [0, 1, 3]) assert.equal((await f.validatorStats(i)).passesMatched, "1");
  });

  it("a false escalation costs the reporter its fee share; the honest worker is paid", async () => {
    // Validator 1 reports four items (max_reports_per_validator) of an honest result failing.
    h.validators[1].extensionOverride = rewrite((ext) => {
      for (const v of ext.verdicts) { v.pass = false; v.failedItems = ["0", "1", "2", "3"]; }
    });
    const model = (await h.app.poi.getModel(h.app.queryContext(), f.modelId))!;
    const fee = (8n * BigInt(model.workUnitsPerItem) * 1000n + 999_999n) / 1_000_000n;
    const before = await Promise.all([0, 1, 2, 3].map((i) => f.validatorStats(i)));
    const w0 = await f.balance("worker");
    const id = await f.submitTask({ k: 8 });
    await f.claimAndSubmit("worker", id, f.honest);
    const t = await f.untilStatus(id, [TaskStatus.COMPLETED, TaskStatus.OPEN], 20);
    h.validators[1].extensionOverride = undefined;
    assert.equal(t.status, TaskStatus.COMPLETED, "the worker is paid");
    assert.equal(await f.balance("worker"), w0 + 1000n * BigInt(N) - 2n * 2_500_000n, "reward exactly, bond back");
    assert.deepEqual(t.challenges.map((c) => c.item), ["0", "1", "2", "3"], "its four reports were escalated");
    for (const c of t.challenges) {
      assert.deepEqual(c.reporters, [h.validators[1].hex]);
      assert.ok(c.votes.filter((v) => v.pass).length >= 3, `item ${c.item} found passing by the others`);
    }
    const after = await Promise.all([0, 1, 2, 3].map((i) => f.validatorStats(i)));
    const income = after.map((a, i) => BigInt(a.pending) + BigInt(a.paid) - BigInt(before[i].pending) - BigInt(before[i].paid));
    assert.deepEqual(income, [fee / 3n, 0n, fee / 3n, fee / 3n], "the false reporter's share is gone");
    assert.equal(BigInt(after[1].falseReports) - BigInt(before[1].falseReports), 4n);
  });
});

describe("x/poi: a split between honest validators slashes nobody (in process, 4 validators)", function () {
  let h: Harness;
  let f: PoiFlow;
  before(async () => {
    // Two of four validators see outputs beyond tolerance (5% relative noise on their onnxruntime runs).
    h = await Harness.create({
      validators: 4, accounts: ["requester", "worker"], params: { claimBlocks: "4", verifyTimeoutBlocks: "10" },
      faults: { 0: { noise_rel: 0.05 }, 1: { noise_rel: 0.05 } },
    });
    f = await PoiFlow.create(h, { n: N });
  });
  after(async () => h && (await h.close()));

  it("no 2/3 either way on a reported item: no fault, the worker keeps its bond, the task reopens and the model is flagged for new tasks", async () => {
    const id = await f.submitTask({ k: 8, deadline: 200 });
    const w0 = await f.balance("worker");
    await f.claimAndSubmit("worker", id, f.honest);
    const t = await f.untilStatus(id, [TaskStatus.OPEN, TaskStatus.COMPLETED], 20);
    assert.equal(t.status, TaskStatus.OPEN, "the attempt ended without a verdict");
    assert.equal(t.attempt, 1);
    assert.equal(t.failedAttempts, 0, "not a failure");
    assert.equal(await f.balance("worker"), w0 - 2n * 2_500_000n, "bond returned: the worker paid only its tx fees");
    const stats = await h.app.poi.workerStats(h.app.queryContext(), parseAddress(h.account("worker").address));
    assert.equal(stats?.slashed ?? "0", "0", "nothing slashed");
    const model = (await h.app.poi.getModel(h.app.queryContext(), f.modelId))!;
    assert.equal(model.flagged, true);
    assert.match(model.flagReason, /split on a reported item/);
    const r = await h.send("requester", MsgSubmitInferenceTaskCodec, {
      requester: h.account("requester").address, modelId: f.modelId, inputs: new Uint8Array(f.inline.buffer), rewardPerItem: "1000", k: 8, deadlineBlocks: "100", bond: "100000",
    });
    assert.equal(r.stage, "check");
    assert.equal(r.code, 10);
    assert.match(r.log, new RegExp(`model ${f.modelId} is flagged \\(validators split on a reported item\\)`));
  });
});

describe("x/poi sampling seeds: committed, revealed, checked (in process, 4 validators)", function () {
  let h: Harness;
  let f: PoiFlow;
  const E = 30n;
  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["requester", "worker"], params: { claimBlocks: "4", seedEpochBlocks: String(E), revealWindowEpochs: "1" } });
    f = await PoiFlow.create(h, { n: N });
  });
  after(async () => h && (await h.close()));

  const record = (i: number, e: bigint) => h.app.poiModule.verification.seedRecord(h.app.queryContext(), h.validators[i].hex, e);

  it("every validator commits to its seed of the current and the next epoch before they start", async () => {
    const e = epochOf(h.height, E);
    for (let i = 0; i < 4; i++) {
      for (const epoch of [e, e + 1n]) {
        const r = await record(i, epoch);
        assert.ok(r, `validator ${i} committed for epoch ${epoch}`);
        assert.equal(r!.commitment.length, 32);
        assert.equal(r!.seed.length, 0, "not revealed yet");
      }
    }
  });

  it("a reveal that does not match its commitment, and a report outside the validator's own sample, are faults that forfeit the epoch's held income", async () => {
    // Both tasks in one epoch: validator 2 passes task A (a held fee share), then reports task B
    // failing on an item outside its sample; validator 3 passes both, then reveals a wrong seed.
    while (epochOf(h.height + 1n, E) !== epochOf(h.height + 12n, E)) await h.block([]); // at least 12 blocks left in this epoch
    const a = await f.submitTask({ k: 8 });
    await f.claimAndSubmit("worker", a, f.honest);
    const epoch = (await f.task(a)).resultEpoch;
    const b = await f.submitTask({ k: 8 });
    let outside: string | undefined;
    h.validators[2].extensionOverride = rewrite((ext) => {
      for (const v of ext.verdicts) {
        if (v.taskId !== b) continue;
        v.pass = false;
        v.failedItems = [outside!];
      }
    });
    h.validators[3].extensionOverride = rewrite((ext) => { for (const r of ext.reveals) if (r.epoch === epoch) r.seed = new Uint8Array(32).fill(7); });
    await f.claimAndSubmit("worker", b, f.honest);
    const tb = await f.task(b);
    const sample2 = new Set(h.validators[2].verifier!.sampleOf(h.app.queryContext().header.chainId, tb).map(String));
    outside = [...Array(N).keys()].map(String).find((i) => !sample2.has(i));
    const ta = await f.untilStatus(a, [TaskStatus.COMPLETED], 20);
    assert.equal((await f.untilStatus(b, [TaskStatus.COMPLETED], 20)).status, TaskStatus.COMPLETED, "the false report changed nothing for the worker");
    assert.equal(ta.resultEpoch, tb.resultEpoch, "both results in one epoch");
    const held = await Promise.all([2, 3].map(async (i) => BigInt((await f.validatorStats(i)).pending)));
    assert.ok(held[0] > 0n && held[1] > 0n, "both validators hold a fee share of task A");
    const supply0 = await f.supply();
    const op0 = await Promise.all([2, 3].map((i) => f.balance(`operator${i}`)));
    await f.untilRevealed(ta.resultEpoch, 3 * Number(E));
    h.validators[2].extensionOverride = undefined;
    h.validators[3].extensionOverride = undefined;
    for (const [j, i] of [2, 3].entries()) {
      const s = await f.validatorStats(i);
      assert.equal(s.faults, "1", `validator ${i}: one fault`);
      assert.equal(s.forfeited, held[j].toString(), `validator ${i}: its held share is forfeited`);
      assert.equal(await f.balance(`operator${i}`), op0[j], `validator ${i}'s operator got nothing`);
      assert.equal((await record(i, BigInt(ta.resultEpoch)))!.faulty, true);
    }
    assert.equal(supply0 - (await f.supply()), held[0] + held[1], "forfeited income is burned");
    assert.equal((await f.validatorStats(0)).faults, "0", "honest validators have no fault");
  });

  it("income whose seed is never revealed is burned once the reveal window is over", async () => {
    h.validators[1].extensionOverride = rewrite((ext) => { ext.reveals = []; });
    const id = await f.submitTask({ k: 8 });
    await f.claimAndSubmit("worker", id, f.honest);
    const t = await f.untilStatus(id, [TaskStatus.COMPLETED], 20);
    const held = BigInt((await f.validatorStats(1)).pending);
    assert.ok(held > 0n);
    const forfeited0 = BigInt((await f.validatorStats(1)).forfeited);
    // Reveal window 1 epoch: at the start of epoch result_epoch + 2 the income is burned.
    const due = (BigInt(t.resultEpoch) + 2n) * E + 1n;
    while (h.height < due) await h.block([]);
    h.validators[1].extensionOverride = undefined;
    const s = await f.validatorStats(1);
    assert.equal(BigInt(s.forfeited) - forfeited0, held);
    assert.equal(s.pending, "0");
  });
});

describe("x/poi: a model that crashes the verifier (in process, 4 validators, real child processes)", function () {
  let h: Harness;
  let f: PoiFlow;
  before(async () => {
    // Every validator's re-execution process aborts on models named "crash-me", as on a model that
    // crashes onnxruntime everywhere.
    const crash = { abort_models_named: "crash-me" };
    h = await Harness.create({ validators: 4, accounts: ["requester", "worker"], params: { claimBlocks: "6" }, faults: { 0: crash, 1: crash, 2: crash, 3: crash }, verifierStateDirs: true });
    f = await PoiFlow.create(h, { n: N, name: "crash-me" });
  });
  after(async () => h && (await h.close()));

  it("each verifier's child process dies, the node lives on; ≥ 2/3 vote 'cannot verify': no fault, bond back, model flagged; after a restart the verifier does not run the model again", async () => {
    const a = await f.submitTask({ k: 8 });
    const b = await f.submitTask({ k: 8 });
    const w0 = await f.balance("worker");
    await f.claimAndSubmit("worker", a, f.honest);
    const ta = await f.untilStatus(a, [TaskStatus.OPEN, TaskStatus.COMPLETED], 20);
    assert.equal(ta.status, TaskStatus.OPEN, "no verdict either way");
    assert.equal(ta.failedAttempts, 0);
    assert.equal(await f.balance("worker"), w0 - 2n * 2_500_000n, "the bond came back");
    const model = (await h.app.poi.getModel(h.app.queryContext(), f.modelId))!;
    assert.equal(model.flagged, true);
    assert.match(model.flagReason, /cannot run the model/);
    for (const v of h.validators) {
      assert.equal(v.verifier!.runnerStats().crashes, 1, "its re-execution process crashed once");
      assert.ok(fs.existsSync(path.join(v.stateDir!, "verifier-crashes.json")), "the crash is recorded on disk");
    }
    // Restart validator 0's verifier (same identity, same state dir): it votes "cannot verify" on the
    // next attempt of this model without starting a re-execution process.
    const v0 = h.validators[0];
    const identity = v0.verifier!.identity;
    await v0.verifier!.close();
    v0.verifier = new VerifierService(h.app, identity, { fault: v0.fault, stateDir: v0.stateDir });
    await f.claimAndSubmit("worker", b, f.honest);
    const tb = await f.untilStatus(b, [TaskStatus.OPEN, TaskStatus.COMPLETED], 20);
    assert.equal(tb.status, TaskStatus.OPEN);
    const votes = (await h.app.poi.getTask(h.app.queryContext(), BigInt(b)))!;
    assert.equal(votes.failedAttempts, 0);
    assert.equal(v0.verifier.runnerStats().processesStarted, 0, "the restarted verifier never ran the model");
  });
});
