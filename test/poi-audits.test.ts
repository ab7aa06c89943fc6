/**
 * Known-answer audits (issue 12), in process with 4 signing validators and real onnxruntime: a pass
 * plants a fabricated copy of its result; the validator forced to always vote pass (the always_pass
 * test fault) is caught, slashed through the Slasher and loses its epoch share through the work hooks;
 * honest validators are not; the audit pays and charges nobody.
 */
import { strict as assert } from "assert";
import { Harness } from "./helpers/poi-harness";
import { bytesOf, OUT_BYTES, PoiFlow } from "./helpers/poi-flow";
import { fabricate } from "../src/x/poi/audits";
import { compareItem } from "../src/x/poi/verify/compare";
import { TaskStatus } from "../src/x/poi/types";
import type { Slasher, WorkHooks } from "../src/x/poi/expected_keepers";

const N = 60;

describe("x/poi known-answer audits (in process, 4 validators, one always votes pass)", function () {
  let h: Harness;
  let f: PoiFlow;
  const slashes: Array<{ validator: string; bps: bigint; reason: string }> = [];
  const auditFailed: Array<{ validator: string; epoch: bigint }> = [];
  const slasher: Slasher = {
    slash: async (_ctx, consAddr, bps, reason) => { slashes.push({ validator: Buffer.from(consAddr).toString("hex").toUpperCase(), bps, reason }); return 0n; },
    jail: async () => undefined,
  };
  const hooks: WorkHooks = {
    afterAuditFailed: async (_ctx, consAddr, epoch) => { auditFailed.push({ validator: Buffer.from(consAddr).toString("hex").toUpperCase(), epoch }); },
  };

  before(async () => {
    h = await Harness.create({
      validators: 4, accounts: ["requester", "worker"], params: { claimBlocks: "4", auditRateBps: "10000", auditSlashBps: "250" },
      faults: { 3: { always_pass: true } },
    });
    h.app.poiModule.setSlasher(slasher);
    h.app.poiModule.addWorkHooks(hooks);
    f = await PoiFlow.create(h, { n: N });
  });
  after(async () => h && (await h.close()));

  it("the fabrication alters every item beyond tolerance, so every honest sample catches it", () => {
    const fake = fabricate(bytesOf(f.honest), N, OUT_BYTES, new Uint8Array(32).fill(0xa5));
    for (let i = 0; i < N; i++) {
      const claimed = new Float32Array(fake.buffer.slice(fake.byteOffset + i * OUT_BYTES, fake.byteOffset + (i + 1) * OUT_BYTES));
      assert.equal(compareItem(f.honest.subarray(i * 10, (i + 1) * 10), claimed, [10]).pass, false, `item ${i}`);
    }
  });

  it("a pass plants an audit; the always-pass validator passes it and is slashed and loses its epoch share; honest validators are not; nobody is paid or charged", async () => {
    const id = await f.submitTask({ k: 8 });
    await f.claimAndSubmit("worker", id, f.honest);
    const t = await f.untilStatus(id, [TaskStatus.COMPLETED], 20);
    assert.equal(t.status, TaskStatus.COMPLETED, "the real task passes (3 honest passes + the lazy one)");
    const auditId = (BigInt(id) + 1n).toString();
    const audit0 = await f.task(auditId);
    assert.equal(audit0.auditOf, id, "an audit was planted from the pass");
    assert.equal(audit0.status, TaskStatus.VERIFYING);
    assert.equal(audit0.escrow, "0");
    assert.equal(audit0.verifyFee, "0");
    assert.equal(audit0.bond, "0");
    const balances0 = await Promise.all(["requester", "worker", "operator0", "operator1", "operator2", "operator3"].map((n) => f.balance(n)));
    const supply0 = await f.supply(), mod0 = await f.moduleBalance();

    const audit = await f.untilStatus(auditId, [TaskStatus.COMPLETED], 20);
    assert.equal(audit.status, TaskStatus.COMPLETED, "the audit was decided");
    const byVal = new Map(audit.votes.map((v) => [v.validator, v]));
    for (const i of [0, 1, 2]) assert.equal(byVal.get(h.validators[i].hex)?.pass, false, `honest validator ${i} found the fabrication in its own sample`);
    assert.equal(byVal.get(h.validators[3].hex)?.pass, true, "the lazy validator passed it");
    assert.deepEqual(slashes, [{ validator: h.validators[3].hex, bps: 250n, reason: `passed known-answer audit ${auditId} (a fabricated copy of task ${id})` }]);
    assert.deepEqual(auditFailed, [{ validator: h.validators[3].hex, epoch: BigInt(audit.resultEpoch) }]);
    assert.equal((await f.validatorStats(3)).auditsFailed, "1");
    for (const i of [0, 1, 2]) assert.equal((await f.validatorStats(i)).auditsFailed, "0");
    const balances1 = await Promise.all(["requester", "worker", "operator0", "operator1", "operator2", "operator3"].map((n) => f.balance(n)));
    assert.deepEqual(balances1, balances0, "the audit paid and charged nobody");
    assert.equal(await f.supply(), supply0, "nothing minted or burned");
    assert.equal(await f.moduleBalance(), mod0);
    assert.equal((await f.task(auditId)).auditOf, id);
    assert.equal((await f.task((BigInt(auditId) + 1n).toString())), undefined, "an audit plants no audit of its own");
  });
});
