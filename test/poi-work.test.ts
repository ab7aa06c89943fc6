/**
 * x/poi work side (issue 12, part C), in process with 4 signing validators and real onnxruntime:
 * worker links (offer + acceptance, one validator per worker, refusals change nothing), work scores as
 * an integer EMA per epoch exactly by the formula, work hooks with their arguments, and no work
 * credit from tasks whose protocol fee was not paid.
 */
import { strict as assert } from "assert";
import { Harness } from "./helpers/poi-harness";
import { PoiFlow } from "./helpers/poi-flow";
import { parseAddress } from "../src/app/address";
import { epochOf } from "../src/x/poi/sampling";
import { emaStep } from "../src/x/poi/work_score";
import { POI_MODULE_ACCOUNT } from "../src/x/poi/keeper";
import type { WorkHooks } from "../src/x/poi/expected_keepers";
import {
  MsgAcceptWorkerLinkCodec, MsgLinkWorkerCodec, MsgUnlinkWorkerCodec, Q, TaskStatus, type Task,
} from "../src/x/poi/types";

const N = 60;
const E = 10n;

/** Records every hook call, addresses as bech32/hex text. */
class RecordingHooks implements WorkHooks {
  verified: Array<{ worker: string; units: bigint; taskId: bigint }> = [];
  decided: Array<{ matched: string[]; missed: string[] }> = [];
  audits: Array<{ validator: string; epoch: bigint }> = [];
  async afterWorkVerified(_ctx: unknown, worker: Uint8Array, units: bigint, taskId: bigint) {
    this.verified.push({ worker: Buffer.from(worker).toString("hex"), units, taskId });
  }
  async afterAttemptDecided(_ctx: unknown, matched: Uint8Array[], missed: Uint8Array[]) {
    this.decided.push({ matched: matched.map((m) => Buffer.from(m).toString("hex").toUpperCase()), missed: missed.map((m) => Buffer.from(m).toString("hex").toUpperCase()) });
  }
  async afterAuditFailed(_ctx: unknown, consAddr: Uint8Array, epoch: bigint) {
    this.audits.push({ validator: Buffer.from(consAddr).toString("hex").toUpperCase(), epoch });
  }
}

async function query<Req, Res>(h: Harness, method: string, req: { encode(m: Req): { finish(): Uint8Array } }, m: Req, res: { decode(b: Uint8Array): Res }) {
  const r = await h.app.query({ path: `/poi.v1.Query/${method}`, data: req.encode(m).finish(), height: 0n, prove: false });
  return { code: r.code ?? 0, log: r.log ?? "", value: r.code ? undefined : res.decode(r.value!) };
}

describe("x/poi worker links and work scores (in process, 4 validators)", function () {
  let h: Harness;
  let f: PoiFlow;
  const hooks = new RecordingHooks();
  const addr = (name: string) => h.account(name).address;
  const links = async (by: { operator?: string; worker?: string }) => (await query(h, "Links", Q.LinksRequest, { operator: by.operator ?? "", worker: by.worker ?? "" }, Q.LinksResponse)).value!;
  const score = async (validator: string) => BigInt((await query(h, "WorkScore", Q.WorkScoreRequest, { validator }, Q.WorkScoreResponse)).value!.score!.score);

  before(async () => {
    h = await Harness.create({
      validators: 4, accounts: ["requester", "worker", "other", "stranger"], balances: { operator0: "1000000000", operator1: "1000000000" },
      params: { claimBlocks: "4", seedEpochBlocks: String(E), auditRateBps: "0" },
    });
    h.app.poiModule.addWorkHooks(hooks);
    f = await PoiFlow.create(h, { n: N });
  });
  after(async () => h && (await h.close()));

  it("links need the operator's offer and the worker's acceptance; one validator per worker; refusals are clear and change nothing", async () => {
    // Not an operator of any consensus validator.
    let r = await h.send("stranger", MsgLinkWorkerCodec, { operator: addr("stranger"), worker: addr("worker") });
    assert.equal(r.code, 18, r.log);
    assert.match(r.log, /is not the operator account of any validator in the consensus set/);
    // The worker cannot attach itself without an offer.
    r = await h.send("worker", MsgAcceptWorkerLinkCodec, { worker: addr("worker"), operator: addr("operator0") });
    assert.equal(r.code, 19, r.log);
    assert.match(r.log, /has not offered to link worker/);
    assert.deepEqual(await links({ worker: addr("worker") }), { links: [], offers: [] });

    r = await h.send("operator0", MsgLinkWorkerCodec, { operator: addr("operator0"), worker: addr("worker") });
    assert.equal(r.code, 0, r.log);
    assert.equal((await links({ worker: addr("worker") })).links.length, 0, "an offer is not a link");
    assert.deepEqual((await links({ operator: addr("operator0") })).offers.map((o) => o.worker), [addr("worker")]);
    r = await h.send("worker", MsgAcceptWorkerLinkCodec, { worker: addr("worker"), operator: addr("operator0") });
    assert.equal(r.code, 0, r.log);
    const l = await links({ worker: addr("worker") });
    assert.deepEqual(l.links.map((x) => [x.worker, x.operator]), [[addr("worker"), addr("operator0")]]);
    assert.deepEqual(await links({ operator: addr("operator0") }), { links: l.links, offers: [] }, "the offer is used up");

    // Linking a worker already linked elsewhere is refused, at the offer and at the acceptance.
    r = await h.send("operator1", MsgLinkWorkerCodec, { operator: addr("operator1"), worker: addr("worker") });
    assert.equal(r.code, 17, r.log);
    assert.match(r.log, new RegExp(`worker ${addr("worker")} is linked to another validator \\(operator ${addr("operator0")}\\)`));
    r = await h.send("operator1", MsgLinkWorkerCodec, { operator: addr("operator1"), worker: addr("other") });
    assert.equal(r.code, 0, r.log);
    r = await h.send("operator0", MsgLinkWorkerCodec, { operator: addr("operator0"), worker: addr("other") });
    assert.equal(r.code, 0, r.log);
    assert.equal((await h.send("other", MsgAcceptWorkerLinkCodec, { worker: addr("other"), operator: addr("operator1") })).code, 0);
    r = await h.send("other", MsgAcceptWorkerLinkCodec, { worker: addr("other"), operator: addr("operator0") });
    assert.equal(r.code, 17, r.log);
    assert.deepEqual((await links({ worker: addr("other") })).links.map((x) => x.operator), [addr("operator1")], "unchanged");
    // Only the worker or its operator may unlink.
    r = await h.send("operator0", MsgUnlinkWorkerCodec, { sender: addr("operator0"), worker: addr("other") });
    assert.equal(r.code, 0, "operator0 withdraws its open offer to `other`");
    r = await h.send("operator0", MsgUnlinkWorkerCodec, { sender: addr("operator0"), worker: addr("other") });
    assert.equal(r.code, 19, r.log);
    assert.match(r.log, new RegExp(`only that operator or the worker may unlink it`));
    r = await h.send("other", MsgUnlinkWorkerCodec, { sender: addr("other"), worker: addr("other") });
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(await links({ worker: addr("other") }), { links: [], offers: [] });
    // Bad queries are refused.
    const q = await query(h, "Links", Q.LinksRequest, { operator: "", worker: "" }, Q.LinksResponse);
    assert.notEqual(q.code, 0);
    assert.match(q.log, /exactly one of operator and worker/);
  });

  it("work scores follow the integer EMA of linked workers' credited units per epoch, exactly; unlinked work counts for nobody; hooks get the right arguments", async () => {
    const params = await h.app.poi.params(h.app.queryContext());
    const alpha = BigInt(params.workScoreAlphaBps);
    const model = (await h.app.poi.getModel(h.app.queryContext(), f.modelId))!;
    const units = BigInt(model.workUnitsPerItem) * BigInt(N);
    const firstEpoch = epochOf(h.height + 1n, E);
    assert.equal(await score(h.validators[0].hex), 0n);
    const done: Task[] = [];
    // Two tasks by the linked worker (in different epochs), one by the unlinked `other`.
    for (const worker of ["worker", "other", "worker"]) {
      hooks.decided = [];
      const id = await f.submitTask({ k: 8 });
      await f.claimAndSubmit(worker, id, f.honest);
      const t = await f.untilStatus(id, [TaskStatus.COMPLETED], 20);
      assert.equal(t.status, TaskStatus.COMPLETED);
      done.push(t);
      // afterAttemptDecided: every validator passed (all four are honest here); nobody silent.
      assert.deepEqual(hooks.decided, [{ matched: h.validators.map((v) => v.hex).sort(), missed: [] }]);
      await h.blocks(Number(E)); // next epoch
    }
    await h.blocks(Number(E));
    assert.deepEqual(hooks.verified, done.map((t) => ({ worker: Buffer.from(parseAddress(t.worker)).toString("hex"), units, taskId: BigInt(t.id) })));

    // Replay the formula over every epoch end since the first task.
    const lastEnded = epochOf(h.height, E) - (h.height % E === 0n ? 0n : 1n);
    let expected = 0n;
    for (let e = firstEpoch; e <= lastEnded; e++) {
      const w = done.filter((t) => t.worker === addr("worker") && epochOf(BigInt(t.completedHeight), E) === e).length;
      expected = emaStep(expected, BigInt(w) * units, alpha);
    }
    assert.ok(expected > 0n);
    assert.equal(await score(h.validators[0].hex), expected, "by consensus address");
    assert.equal(await score(addr("operator0")), expected, "by operator address");
    assert.equal(await h.app.poiModule.work.workScore(h.app.queryContext(), parseAddress(addr("operator0"))), expected, "WorkScoreReader");
    for (const i of [1, 2, 3]) assert.equal(await score(h.validators[i].hex), 0n, `validator ${i} has no linked work`);

    // Decay: with no more work, one more epoch end gives exactly one more EMA step towards 0.
    const before = await score(addr("operator0"));
    await h.blocks(Number(E));
    assert.equal(await score(addr("operator0")), emaStep(before, 0n, alpha));
    const q = await query(h, "WorkScore", Q.WorkScoreRequest, { validator: "nope" }, Q.WorkScoreResponse);
    assert.notEqual(q.code, 0);
    assert.match(q.log, /operator address \(poivaloper1\.\.\. or poi1\.\.\.\) or a 40-hex consensus address/);
  });

  it("a silent eligible validator is reported as missed", async () => {
    hooks.decided = [];
    h.validators[2].votes = false;
    const id = await f.submitTask({ k: 8 });
    await f.claimAndSubmit("worker", id, f.honest);
    const t = await f.untilStatus(id, [TaskStatus.COMPLETED], 20);
    h.validators[2].votes = true;
    assert.equal(t.status, TaskStatus.COMPLETED);
    assert.deepEqual(hooks.decided, [{ matched: [0, 1, 3].map((i) => h.validators[i].hex).sort(), missed: [h.validators[2].hex] }]);
  });
});

describe("x/poi: the protocol fee goes to the community pool when the app provides one (in process, 4 validators)", function () {
  let h: Harness;
  let f: PoiFlow;
  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["requester", "worker", "pool"], params: { claimBlocks: "4" } });
    f = await PoiFlow.create(h, { n: N });
  });
  after(async () => h && (await h.close()));

  it("a pass sends exactly the escrowed protocol fee from the poi module account to the pool; nothing of it is burned", async () => {
    const funded: Array<{ from: string; amount: bigint }> = [];
    const pool = parseAddress(h.account("pool").address);
    h.app.poiModule.setCommunityPool({
      active: async () => true,
      fundCommunityPool: async (ctx, from, amount) => {
        funded.push({ from: Buffer.from(from).toString("hex"), amount });
        await h.app.bank.sendCoins(ctx, from, pool, [{ denom: "upoi", amount }]);
      },
    });
    const id = await f.submitTask({ k: 8 });
    const fee = BigInt((await f.task(id)).protocolFee);
    assert.ok(fee > 0n);
    await f.claimAndSubmit("worker", id, f.honest);
    assert.equal((await f.untilStatus(id, [TaskStatus.COMPLETED], 20)).status, TaskStatus.COMPLETED);
    assert.deepEqual(funded, [{ from: Buffer.from(POI_MODULE_ACCOUNT).toString("hex"), amount: fee }]);
    assert.equal(await f.balance("pool"), 1_000_000_000_000n + fee);
  });
});

describe("x/poi: work without the protocol fee earns no credit (in process, 4 validators)", function () {
  let h: Harness;
  let f: PoiFlow;
  const hooks = new RecordingHooks();
  before(async () => {
    h = await Harness.create({
      validators: 4, accounts: ["requester", "worker"], balances: { operator0: "1000000000" },
      params: { claimBlocks: "4", seedEpochBlocks: String(E), protocolFeePerMegaUnit: "0", auditRateBps: "0" },
    });
    h.app.poiModule.addWorkHooks(hooks);
    f = await PoiFlow.create(h, { n: N });
  });
  after(async () => h && (await h.close()));

  it("the worker is paid, but no work is credited: no afterWorkVerified, the linked validator's score stays 0", async () => {
    const a = (n: string) => h.account(n).address;
    assert.equal((await h.send("operator0", MsgLinkWorkerCodec, { operator: a("operator0"), worker: a("worker") })).code, 0);
    assert.equal((await h.send("worker", MsgAcceptWorkerLinkCodec, { worker: a("worker"), operator: a("operator0") })).code, 0);
    const w0 = await f.balance("worker");
    const id = await f.submitTask({ k: 8 });
    assert.equal((await f.task(id)).protocolFee, "0");
    await f.claimAndSubmit("worker", id, f.honest);
    const t = await f.untilStatus(id, [TaskStatus.COMPLETED], 20);
    assert.equal(t.status, TaskStatus.COMPLETED);
    assert.equal(await f.balance("worker"), w0 + 1000n * BigInt(N) - 2n * 2_500_000n, "paid the reward");
    await h.blocks(2 * Number(E));
    assert.deepEqual(hooks.verified, []);
    assert.equal(hooks.decided.length, 1, "the attempt was still decided");
    assert.equal(await h.app.poiModule.work.workScore(h.app.queryContext(), parseAddress(a("operator0"))), 0n);
  });
});
