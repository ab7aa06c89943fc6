/**
 * x/distribution's edge rules in process (no verification: the work hooks are scripted): the worker
 * limit per unit, an epoch without matched verdicts carrying its pool over, an audit report after its
 * epoch was paid changing nothing, and a validator unknown to staking leaving its share to the
 * community pool. Balances are checked against the model of test/helpers/economics.ts.
 */
import { strict as assert } from "assert";
import { Harness } from "./helpers/poi-harness";
import { type Action, DistributionModel, E18, FakeStaking, scriptHooks } from "./helpers/economics";
import { parseAddress } from "../src/app/address";
import { FEE_COLLECTOR } from "../src/x/auth/ante";
import { BlockIDFlag } from "cosmjs-types/tendermint/types/validator";

const mintAt = () => 1_000_000n;

describe("x/distribution edge rules: worker limit, carry-over, late audit reports, unknown validators", function () {
  this.timeout(120_000);
  let h: Harness;
  const scripted = new Map<bigint, Action[]>();
  const actions = new Map<bigint, Action[]>();
  const pots = new Map<bigint, { pot: bigint; signers: Array<{ cons: string; power: bigint }> }>();
  const events: Array<{ height: bigint; type: string }> = [];

  before(async () => {
    h = await Harness.create({
      validators: 4, accounts: ["w1", "w2", "v0", "v1", "v2"], verify: false, params: { seedEpochBlocks: "4" },
      genesis: { mint: { params: { initial_block_reward: "1000000" } }, distribution: { params: { epoch_blocks: "4", settle_delay_epochs: "0", max_worker_reward_per_mega_unit: "10000" } } },
    });
    // Three validators known to staking; the fourth is not, so its signing share goes to the community pool.
    const fake = new FakeStaking(h.validators.slice(0, 3).map((v, i) => ({ operator: parseAddress(h.account(`v${i}`).address), consAddress: v.address, commissionRateBps: 0n })));
    for (let i = 0; i < 3; i++) fake.setShares(parseAddress(h.account(`v${i}`).address), parseAddress(h.account(`v${i}`).address), 3n * E18);
    h.app.distribution.useStaking(fake);
    scriptHooks(h.app, h.app.distribution.workHooks(), h.app.distribution.stakingHooks(), fake, scripted, actions);
    const finalize = h.app.finalizeBlock.bind(h.app);
    h.app.finalizeBlock = async (req) => {
      const fees = await h.app.bank.getBalance(h.app.queryContext(), FEE_COLLECTOR, "upoi");
      const signers = (req.decidedLastCommit?.votes ?? []).filter((v) => v.blockIdFlag === BlockIDFlag.BLOCK_ID_FLAG_COMMIT)
        .map((v) => ({ cons: Buffer.from(v.validator!.address).toString("hex").toUpperCase(), power: v.validator!.power }));
      pots.set(req.height, { pot: fees + mintAt(), signers });
      const res = await finalize(req);
      for (const e of res.events ?? []) events.push({ height: req.height, type: e.type });
      return res;
    };
  });
  after(async () => h?.close());

  it("every rule to the upoi over 24 blocks", async () => {
    const v = h.validators.map((x) => x.hex);
    const w1 = h.account("w1").address, w2 = h.account("w2").address;
    // Height 3: w1 verifies 20,000,000 units, w2 60,000,000. Height 4 pays them from the pool (40% of heights 1-3's
    // 3 POI = 1,200,000) 1:3, i.e. 300,000 and 900,000, but the limit of 10,000 upoi per 10^6 units holds them
    // to 200,000 and 600,000; the other 400,000 stay in the pool.
    scripted.set(3n, [{ kind: "work", worker: w1, units: 20_000_000n }, { kind: "work", worker: w2, units: 60_000_000n }]);
    // Epoch 0 (heights 1-4): no matched verdicts, so its pool carries into epoch 1.
    // Epoch 1 (5-8): v0 matched twice, v1 and the unknown validator once.
    scripted.set(6n, [{ kind: "decided", matched: [v[0], v[1], v[3]] }]);
    scripted.set(7n, [{ kind: "decided", matched: [v[0]] }]);
    // Epoch 1 is paid at height 9; a report on it at height 10 comes too late. Epoch 2's report counts.
    scripted.set(10n, [{ kind: "decided", matched: [v[1], v[2]] }, { kind: "auditFailed", cons: v[1], epoch: 1n }, { kind: "auditFailed", cons: v[2], epoch: 2n }]);
    scripted.set(15n, [{ kind: "work", worker: w1, units: 1_000n }]);
    h.validators[2].votes = false;
    await h.blocks(5);
    h.validators[2].votes = true;
    while (h.height < 24n) await h.block([]);

    const shares = new Map([0, 1, 2].map((i) => [Buffer.from(parseAddress(h.account(`v${i}`).address)).toString("hex").toUpperCase(), new Map([[h.account(`v${i}`).address, 3n * E18]])]));
    const ops = [...shares.keys()];
    const model = new DistributionModel(
      { communityTaxBps: 200n, workerShareBps: 4000n, signingShareBps: 2500n, epochBlocks: 4n, settleDelayEpochs: 0n, maxWorkerRewardPerMegaUnit: 10_000n },
      new Map(h.validators.slice(0, 3).map((x, i) => [x.hex, { operator: ops[i], commissionBps: 0n }])), shares, () => "",
    );
    for (let height = 1n; height <= h.height; height++) {
      model.block({ height, pot: height === 1n ? mintAt() : pots.get(height)!.pot, signers: height === 1n ? [] : pots.get(height)!.signers, actions: actions.get(height) ?? [] });
    }
    const ctx = h.app.queryContext();
    const bal = async (a: string) => (await h.app.bank.getBalance(ctx, parseAddress(a), "upoi")) - 1_000_000_000_000n;
    assert.equal(await bal(w2), 600_000n, "w2 held to the limit");
    assert.equal(await bal(w1), 200_010n, "w1 held to the limit twice: 200,000 for 2·10^7 units, then 10 for 1,000 units");
    assert.equal(await bal(w1), model.paid.get(w1));
    assert.equal(await bal(w2), model.paid.get(w2));
    assert.equal(await h.app.distribution.communityPool(ctx), model.community);
    assert.equal(await h.app.distribution.workerPool(ctx), model.workerPool);
    for (const op of ops) assert.deepEqual(await h.app.distribution.state.validatorRewards(ctx, Buffer.from(op, "hex")), model.vals.get(op) ?? { outstanding: 0n, commission: 0n, ratio: 0n });
    assert.deepEqual((await h.app.invariants.run(ctx)).filter((r) => r.broken), []);
    // The late report was noticed and ignored; epoch 2's forfeit left v2's share in the community pool.
    assert.ok(events.some((e) => e.height === 10n && e.type === "audit_failure_after_payout"));
    const paidAt = events.filter((e) => e.type === "verdict_rewards").map((e) => e.height);
    assert.deepEqual(paidAt, [9n, 13n], "epochs 1 and 2 paid at the first block of the next epoch; 0, 3 and 4 had no points and carried over");
    assert.deepEqual((await h.app.distribution.verdictPools(ctx)).map((x) => x.epoch), [5n], "everything unpaid has reached the open epoch");
    assert.ok(model.vals.get(ops[2])!.outstanding > 0n, "v2 earned by signing");
  });
});
