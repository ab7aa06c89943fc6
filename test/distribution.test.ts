/**
 * x/distribution in process: a real PoiApp (4 x/staking validators with their commissions, real
 * onnxruntime verification, real signed txs) with x/mint and x/distribution on, the WorkHooks called by
 * x/poi itself (one validator always votes pass and is caught by known-answer audits), delegations
 * through MsgDelegate. Over 60+ blocks with tasks, every worker, delegator, validator commission and the
 * community pool equal the documented rule (test/helpers/economics.ts) to the upoi; every invariant
 * holds at every block; CosmJS's distribution extension decodes the queries; the withdraw messages pay
 * exactly what is owed.
 */
import { DEFAULT_DISTRIBUTION_PARAMS } from "../src/x/distribution/params";
import { strict as assert } from "assert";
import { QueryClient, setupDistributionExtension } from "@cosmjs/stargate";
import { Decimal } from "@cosmjs/math";
import { MsgWithdrawDelegatorReward, MsgWithdrawValidatorCommission, MsgFundCommunityPool } from "cosmjs-types/cosmos/distribution/v1beta1/tx";
import { Harness } from "./helpers/poi-harness";
import { PoiFlow } from "./helpers/poi-flow";
import { inProcessComet } from "./helpers/inproc-query";
import { type Action, type BlockInput, DistributionModel } from "./helpers/economics";
import { Codecs } from "./helpers/staking-msgs";
import { formatAddress, formatValoperAddress, parseAddress } from "../src/app/address";
import type { Context } from "../src/app/context";
import { POI_MODULE_ACCOUNT } from "../src/x/poi/keeper";
import { FEE_COLLECTOR } from "../src/x/auth/ante";
import { DISTRIBUTION_MODULE_ACCOUNT } from "../src/x/distribution/keeper/state";
import { TaskStatus, type PoiCodec } from "../src/x/poi/types";
import { BlockIDFlag } from "cosmjs-types/tendermint/types/validator";

const FEE = 2_500_000n; // the harness's fee per tx
const GENESIS_BALANCE = 1_000_000_000_000n;
const SELF_BOND = 10_000_000n;
// Reward epochs = x/poi's seed epochs (audit failures name a seed epoch); audits of epoch e may come in until e + 3 starts.
const DIST = { community_tax_bps: "300", worker_share_bps: "4000", signing_share_bps: "2500", epoch_blocks: "5", settle_delay_epochs: "2" };
const MINT = { initial_block_reward: "1000000", halving_interval_blocks: "30", max_minted: "1000000000000" };
const mintAt = (h: bigint) => 1_000_000n >> ((h - 1n) / 30n);

function codec<T>(c: { typeUrl: string; encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T; fromPartial(m: Partial<T>): T }): PoiCodec<T> {
  return c as unknown as PoiCodec<T>;
}
const WithdrawReward = codec(MsgWithdrawDelegatorReward);
const WithdrawCommission = codec(MsgWithdrawValidatorCommission);
const FundPool = codec(MsgFundCommunityPool);

describe("x/distribution: minted coins and fees to workers, validators, delegators and the community pool, to the upoi", function () {
  this.timeout(600_000);
  let h: Harness;
  let f: PoiFlow;
  const actions = new Map<bigint, Action[]>();
  const inputs: BlockInput[] = [];
  const feeAfter = new Map<bigint, bigint>([[0n, 0n]]);
  const feesPaid = new Map<string, bigint>();
  const broken: string[] = [];
  const VALOPS = ["operator0", "operator1", "operator2", "operator3"];
  const delegated = new Map<string, bigint>();
  let protocolFees = 0n;
  const COMMISSION = [500n, 1000n, 0n, 2000n];
  let model: DistributionModel;
  let modelHeight = 0n;
  const verdictEvents: Array<{ epoch: bigint; forfeited: string }> = [];

  const ctx = () => h.app.queryContext();
  const addr = (name: string) => h.account(name).address;
  const opHex = (i: number) => Buffer.from(parseAddress(addr(VALOPS[i]))).toString("hex").toUpperCase();
  const balance = (name: string) => h.app.bank.getBalance(ctx(), parseAddress(addr(name)), "upoi");

  /** Sends a tx that must succeed; notes its fee and, for the model, its action in the block it lands in. */
  async function send<T>(from: string, c: PoiCodec<T>, msg: Partial<T>, action?: Action) {
    if (action) actions.set(h.height + 1n, [...(actions.get(h.height + 1n) ?? []), action]);
    const r = await h.send(from, c, msg);
    assert.equal(r.code, 0, r.log);
    feesPaid.set(from, (feesPaid.get(from) ?? 0n) + FEE);
    return r;
  }

  /** Records `action` in the block being executed (x/poi's hooks and the block's events; never CheckTx). */
  function record(c: Context, action: Action): void {
    if (c.mode !== "deliver") return;
    actions.set(c.header.height, [...(actions.get(c.header.height) ?? []), action]);
  }

  /** Delegates through MsgDelegate; the model gets the delegation's shares as x/staking keeps them. */
  async function delegate(del: string, i: number, amount: bigint) {
    const op = parseAddress(addr(VALOPS[i]));
    await send(del, Codecs.delegate, { delegatorAddress: addr(del), validatorAddress: formatValoperAddress(op), amount: { denom: "upoi", amount: amount.toString() } });
    delegated.set(del, (delegated.get(del) ?? 0n) + amount);
    const shares = (await h.app.staking.delegationShares(ctx(), parseAddress(addr(del)), op))!;
    actions.set(h.height, [...(actions.get(h.height) ?? []), { kind: "delegate", delegator: addr(del), operator: opHex(i), shares }]);
  }

  /** Feeds the model every block committed so far. */
  function advanceModel(): void {
    for (const b of inputs.filter((x) => x.height > modelHeight)) {
      model.block({ ...b, actions: actions.get(b.height) ?? [] });
      modelHeight = b.height;
    }
  }

  before(async () => {
    h = await Harness.create({
      validators: 4, accounts: ["requester", "worker", "worker2", "del1", "del2", "funder"],
      params: { maxModelBytes: "150000", seedEpochBlocks: DIST.epoch_blocks, auditRateBps: "10000" },
      faults: { 2: { always_pass: true } },
      staking: { selfBond: SELF_BOND, commissionBps: COMMISSION },
      genesis: { mint: { params: MINT }, distribution: { params: DIST } },
    });
    // Block 1 has no last commit: nobody signed before it, so no validator had a share.
    inputs.push({ height: 1n, pot: mintAt(1n), signers: [], actions: [] });
    feeAfter.set(1n, await h.app.bank.getBalance(ctx(), FEE_COLLECTOR, "upoi"));
    // What x/poi reports to distribution, as it calls the hooks (after distribution's own, in the order added).
    const hexOf = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();
    h.app.poiModule.addWorkHooks({
      afterWorkVerified: async (c, worker, units) => record(c, { kind: "work", worker: formatAddress(worker), units }),
      afterAttemptDecided: async (c, matched) => record(c, { kind: "decided", matched: matched.map(hexOf) }),
      afterAuditFailed: async (c, cons, epoch) => record(c, { kind: "auditFailed", cons: hexOf(cons), epoch }),
    });

    const shares = new Map<string, Map<string, bigint>>();
    for (let i = 0; i < 4; i++) {
      const m = new Map<string, bigint>();
      for (const d of await h.app.staking.validatorDelegations(ctx(), parseAddress(addr(VALOPS[i])))) m.set(formatAddress(d.delegator), d.shares);
      assert.deepEqual([...m.values()], [SELF_BOND * 10n ** 18n], `validator ${i} starts with its self-bond alone`);
      shares.set(opHex(i), m);
    }
    model = new DistributionModel(
      { communityTaxBps: 300n, workerShareBps: 4000n, signingShareBps: 2500n, epochBlocks: 5n, settleDelayEpochs: BigInt(DIST.settle_delay_epochs), maxWorkerRewardPerMegaUnit: DEFAULT_DISTRIBUTION_PARAMS.maxWorkerRewardPerMegaUnit },
      new Map(h.validators.map((v, i) => [v.hex, { operator: opHex(i), commissionBps: COMMISSION[i] }])),
      shares, (op) => addrOfHex(op),
    );

    // Every block from now on: what the app was given (decided_last_commit) and fee_collector after it; invariants after each commit.
    const finalize = h.app.finalizeBlock.bind(h.app);
    h.app.finalizeBlock = async (req) => {
      const signers = (req.decidedLastCommit?.votes ?? []).filter((v) => v.blockIdFlag === BlockIDFlag.BLOCK_ID_FLAG_COMMIT)
        .map((v) => ({ cons: Buffer.from(v.validator!.address).toString("hex").toUpperCase(), power: v.validator!.power }));
      inputs.push({ height: req.height, pot: feeAfter.get(req.height - 1n)! + mintAt(req.height), signers, actions: [] });
      const res = await finalize(req);
      // Coins paid into the community pool (MsgFundCommunityPool, x/poi's protocol fees), wherever in the block.
      for (const e of [...(res.txResults ?? []).filter((r) => r.code === 0).flatMap((r) => r.events), ...(res.events ?? [])]) {
        if (e.type !== "fund_community_pool") continue;
        const amount = BigInt(/^(\d+)upoi$/.exec(e.attributes.find((a) => a.key === "amount")!.value)![1]);
        if (e.attributes.find((a) => a.key === "depositor")!.value === formatAddress(POI_MODULE_ACCOUNT)) protocolFees += amount;
        actions.set(req.height, [...(actions.get(req.height) ?? []), { kind: "fund", amount }]);
      }
      for (const e of res.events ?? []) {
        if (e.type === "verdict_rewards") verdictEvents.push({ epoch: BigInt(e.attributes.find((a) => a.key === "epoch")!.value), forfeited: e.attributes.find((a) => a.key === "forfeited")!.value });
      }
      return res;
    };
    const commit = h.app.commit.bind(h.app);
    h.app.commit = async () => {
      const r = await commit();
      feeAfter.set(h.app.store.lastHeight, await h.app.bank.getBalance(ctx(), FEE_COLLECTOR, "upoi"));
      for (const x of await h.app.invariants.run(ctx())) if (x.broken) broken.push(`height ${h.app.store.lastHeight}: ${x.name}: ${x.message}`);
      return r;
    };
    await delegate("del1", 0, 5_000_000n);
    await delegate("del1", 1, 3_000_000n);
    await delegate("del2", 1, 7_000_000n);
    f = await PoiFlow.create(h, { n: 20 });
  });
  after(async () => h && (await h.close()));

  function addrOfHex(hexAddr: string): string {
    for (const a of h.accounts.values()) if (Buffer.from(parseAddress(a.address)).toString("hex").toUpperCase() === hexAddr) return a.address;
    throw new Error(`no account ${hexAddr}`);
  }

  it("60+ blocks with tasks, a silent validator, a delegation change and a failed audit: balances, pools and queries equal the rule", async () => {
    const passed = new Map<string, bigint>();
    const runTask = async (worker: string) => {
      const id = await f.submitTask({ k: 4, reward: "1000" });
      await f.claimAndSubmit(worker, id, f.honest);
      feesPaid.set("requester", (feesPaid.get("requester") ?? 0n) + FEE);
      feesPaid.set(worker, (feesPaid.get(worker) ?? 0n) + 2n * FEE);
      const t = await f.untilStatus(id, [TaskStatus.COMPLETED], 20);
      assert.equal(t.status, TaskStatus.COMPLETED, `task ${id} completes`);
      passed.set(worker, (passed.get(worker) ?? 0n) + 1000n * 20n);
      return BigInt(t.completedHeight);
    };
    await runTask("worker");
    // Each pass plants a known-answer audit; validator 2 (always votes pass) passes it and forfeits that epoch's verdict share.
    h.validators[3].votes = false; // silent for a while: no signing share, no verdicts
    await h.blocks(6);
    h.validators[3].votes = true;
    await runTask("worker2");
    await delegate("del2", 1, 5_000_000n);
    await runTask("worker");
    await send("funder", FundPool, { depositor: addr("funder"), amount: [{ denom: "upoi", amount: "777" }] });
    while (h.height < 62n) await h.block([]);

    // Queries through CosmJS, against the model at this height.
    advanceModel();
    const q = QueryClient.withExtensions(inProcessComet(h.app), setupDistributionExtension);
    const dec = (coins: Array<{ amount: string }>) => (coins.length ? Decimal.fromAtomics(coins[0].amount, 18).toString() : "0");
    assert.equal(dec((await q.distribution.communityPool()).pool), model.community.toString(), "community pool");
    for (let i = 0; i < 4; i++) {
      const val = formatValoperAddress(parseAddress(addr(VALOPS[i])));
      const r = model.vals.get(opHex(i))!;
      assert.equal(dec((await q.distribution.validatorCommission(val)).commission!.commission), r.commission.toString(), `commission of validator ${i}`);
      assert.equal(dec((await q.distribution.validatorOutstandingRewards(val)).rewards!.rewards), r.outstanding.toString(), `outstanding of validator ${i}`);
      assert.equal(dec((await q.distribution.delegationRewards(addr(VALOPS[i]), val)).rewards), model.owed(opHex(i), addr(VALOPS[i])).toString(), `self-delegation rewards of ${i}`);
    }
    const total = await q.distribution.delegationTotalRewards(addr("del1"));
    assert.equal(total.rewards.length, 2);
    assert.equal(dec(total.total), (model.owed(opHex(0), addr("del1")) + model.owed(opHex(1), addr("del1"))).toString());
    assert.equal((await q.distribution.params()).params.communityTax, "30000000000000000", "community_tax 3% as LegacyDec");
    assert.ok(model.owed(opHex(1), addr("del2")) > 0n && model.vals.get(opHex(2))!.outstanding > 0n);

    // Withdraw everything owed, through the messages.
    for (let i = 0; i < 4; i++) {
      const val = formatValoperAddress(parseAddress(addr(VALOPS[i])));
      await send(VALOPS[i], WithdrawReward, { delegatorAddress: addr(VALOPS[i]), validatorAddress: val }, { kind: "withdrawReward", delegator: addr(VALOPS[i]), operator: opHex(i) });
      if (COMMISSION[i] > 0n) await send(VALOPS[i], WithdrawCommission, { validatorAddress: val }, { kind: "withdrawCommission", operator: opHex(i) });
    }
    for (const [del, i] of [["del1", 0], ["del1", 1], ["del2", 1]] as const) {
      await send(del, WithdrawReward, { delegatorAddress: addr(del), validatorAddress: formatValoperAddress(parseAddress(addr(VALOPS[i]))) }, { kind: "withdrawReward", delegator: addr(del), operator: opHex(i) });
    }
    await h.blocks(2);
    advanceModel();

    assert.ok(h.height >= 60n, "at least 50 blocks with distribution on");
    assert.deepEqual(broken, [], "every invariant held at every block");
    for (const [i, name] of VALOPS.entries()) {
      // Operators also receive x/poi's verification income (its own ledger) and bonded SELF_BOND at genesis.
      const poiIncome = BigInt((await h.app.poiModule.verification.stats(ctx(), h.validators[i].hex))?.paid ?? "0");
      const got = (await balance(name)) - (GENESIS_BALANCE - SELF_BOND) + (feesPaid.get(name) ?? 0n) - poiIncome;
      assert.equal(got, model.paid.get(addr(name)) ?? 0n, `${name}: received exactly what the rule gives`);
      assert.ok(got > 0n, `${name} was paid`);
    }
    for (const name of ["del1", "del2"]) {
      const got = (await balance(name)) - GENESIS_BALANCE + (feesPaid.get(name) ?? 0n) + delegated.get(name)!;
      assert.equal(got, model.paid.get(addr(name)) ?? 0n, `${name}: received exactly what the rule gives`);
      assert.ok(got > 0n, `${name} was paid`);
    }
    for (const w of ["worker", "worker2"]) {
      const got = (await balance(w)) - GENESIS_BALANCE + feesPaid.get(w)! - passed.get(w)!;
      assert.equal(got, model.paid.get(addr(w)) ?? 0n, `${w}: worker rewards exactly by verified units`);
      assert.ok(got > 0n, `${w} was paid`);
    }
    assert.equal(await h.app.distribution.communityPool(ctx()), model.community, "community pool");
    assert.equal(await h.app.bank.getBalance(ctx(), DISTRIBUTION_MODULE_ACCOUNT, "upoi"), model.held(), "the module account holds the pools and outstanding rewards");
    const paidOut = [...model.paid.values()].reduce((s, x) => s + x, 0n);
    assert.equal(paidOut + model.held(), model.totalIn, "nothing created or lost");
    assert.ok(protocolFees > 0n, "x/poi's protocol fees went to the community pool");
    assert.equal(model.totalIn, inputs.reduce((s, b) => s + b.pot, 0n) + 777n + protocolFees);
    // The audit took effect: only validator 2 failed audits; it had matched verdicts in the audited epoch and the chain paid it no share of that epoch.
    const failures = [...actions.values()].flat().filter((a): a is Extract<Action, { kind: "auditFailed" }> => a.kind === "auditFailed");
    assert.ok(failures.length > 0, "x/poi reported validator 2's audit failures");
    assert.deepEqual([...new Set(failures.map((a) => a.cons))], [h.validators[2].hex], "honest validators fail no audit");
    const auditEpochSeen = failures[0].epoch;
    const inEpoch = [...actions.entries()].filter(([height]) => (height - 1n) / 5n === auditEpochSeen);
    assert.ok(inEpoch.some(([, list]) => list.some((a) => a.kind === "decided" && a.matched.includes(h.validators[2].hex))), "validator 2 matched verdicts in the audited epoch");
    const ev = verdictEvents.find((e) => e.epoch === auditEpochSeen);
    assert.ok(ev, "the audited epoch was paid");
    assert.equal(ev.forfeited, h.validators[2].hex, "validator 2 forfeited its share of the audited epoch");
  });

  it("bad withdrawals are refused with clear errors and change nothing", async () => {
    const before = await h.app.store.computeHash();
    const r1 = await h.send("del2", WithdrawReward, { delegatorAddress: addr("del2"), validatorAddress: formatValoperAddress(parseAddress(addr("operator3"))) });
    assert.equal(r1.stage, "check");
    assert.match(r1.log, /has no delegation to poivaloper1/);
    const r2 = await h.send("operator2", WithdrawCommission, { validatorAddress: formatValoperAddress(parseAddress(addr("operator2"))) });
    assert.match(r2.log, /no validator commission to withdraw/);
    const r3 = await h.send("del1", WithdrawReward, { delegatorAddress: addr("del1"), validatorAddress: addr("operator0") });
    assert.match(r3.log, /has prefix "poi", want "poivaloper"/);
    const r4 = await h.send("del1", WithdrawReward, { delegatorAddress: addr("del1"), validatorAddress: formatValoperAddress(parseAddress(addr("del2"))) });
    assert.match(r4.log, /validator does not exist/);
    for (const r of [r1, r2, r3, r4]) assert.equal(r.stage, "check", "refused before any fee");
    assert.deepEqual(await h.app.store.computeHash(), before);
  });
});
