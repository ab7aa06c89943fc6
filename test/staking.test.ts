/**
 * x/staking in process: real PoiApp over LevelDB, 4 simulated validators that are staking validators
 * (operator<i> bonds 10^11 upoi each at genesis), real signed txs in Cosmos types.
 */
import { strict as assert } from "assert";
import {
  QueryValidatorsRequest, QueryValidatorsResponse, QueryDelegationRequest, QueryDelegationResponse, QueryPoolRequest, QueryPoolResponse,
  QueryUnbondingDelegationRequest, QueryUnbondingDelegationResponse, QueryDelegatorDelegationsRequest, QueryDelegatorDelegationsResponse,
  QueryValidatorDelegationsRequest, QueryValidatorDelegationsResponse, QueryParamsRequest, QueryParamsResponse,
} from "cosmjs-types/cosmos/staking/v1beta1/query";
import type { ValidatorUpdate } from "cosmjs-types/tendermint/abci/types";
import { Harness } from "./helpers/poi-harness";
import { Codecs, createValidatorMsg, dec, newValidatorKey, query, valoper } from "./helpers/staking-msgs";
import { parseAddress } from "../src/app/address";

const SELF_BOND = 100_000_000_000n;
const S = "/cosmos.staking.v1beta1.Query/";
const hexOf = (u: ValidatorUpdate) => Buffer.from(u.pubKey!.ed25519!).toString("hex");

describe("x/staking (in process)", function () {
  this.timeout(120_000);
  let h: Harness;

  beforeEach(async () => {
    h = await Harness.create({
      validators: 4, accounts: ["user0", "user1"], verify: false,
      staking: { selfBond: SELF_BOND, params: { epoch_blocks: "2", unbonding_blocks: "3" } },
    });
  });
  afterEach(async () => h.close());

  const balance = (name: string) => h.app.bank.getBalance(h.app.queryContext(), parseAddress(h.account(name).address), "upoi");
  const validators = async () => (await query(h.app, S + "Validators", QueryValidatorsRequest, {}, QueryValidatorsResponse)).validators;

  it("genesis validators are bonded staking validators with self-delegations; queries answer in SDK shapes", async () => {
    const vals = await validators();
    assert.equal(vals.length, 4);
    for (const v of vals) {
      assert.match(v.operatorAddress, /^poivaloper1/);
      assert.equal(v.tokens, SELF_BOND.toString());
      assert.equal(v.delegatorShares, (SELF_BOND * 10n ** 18n).toString(), "shares: LegacyDec as a 10^18-scaled integer");
      assert.equal(v.status, 3, "BOND_STATUS_BONDED");
      assert.equal(v.commission.commissionRates.rate, dec("0.1"));
    }
    const set = await h.app.valset.validatorsAt(h.app.queryContext(), 1n);
    assert.deepEqual(set.map((v) => v.power), [100_000n, 100_000n, 100_000n, 100_000n]);
    const pool = await query(h.app, S + "Pool", QueryPoolRequest, {}, QueryPoolResponse);
    assert.equal(pool.pool.bondedTokens, (4n * SELF_BOND).toString());
    assert.equal(pool.pool.notBondedTokens, "0");
    const params = await query(h.app, S + "Params", QueryParamsRequest, {}, QueryParamsResponse);
    assert.equal(params.params.bondDenom, "upoi");
    const op0 = h.account("operator0").address;
    const dd = await query(h.app, S + "DelegatorDelegations", QueryDelegatorDelegationsRequest, { delegatorAddr: op0 }, QueryDelegatorDelegationsResponse);
    assert.equal(dd.delegationResponses.length, 1);
    assert.equal(dd.delegationResponses[0].balance.amount, SELF_BOND.toString());
  });

  it("delegate, then undelegate: coins move through the pools and come back after unbonding_blocks", async () => {
    const user = h.account("user0").address;
    const val = valoper(h.account("operator0").address);
    const before = await balance("user0");
    const d = await h.send("user0", Codecs.delegate, { delegatorAddress: user, validatorAddress: val, amount: { denom: "upoi", amount: "50000000000" } });
    assert.equal(d.code, 0, d.log);
    const del = await query(h.app, S + "Delegation", QueryDelegationRequest, { delegatorAddr: user, validatorAddr: val }, QueryDelegationResponse);
    assert.equal(del.delegationResponse!.delegation.shares, (50_000_000_000n * 10n ** 18n).toString());
    assert.equal(del.delegationResponse!.balance.amount, "50000000000");
    assert.equal(await balance("user0"), before - 50_000_000_000n - 2_500_000n);
    const vd = await query(h.app, S + "ValidatorDelegations", QueryValidatorDelegationsRequest, { validatorAddr: val }, QueryValidatorDelegationsResponse);
    assert.equal(vd.delegationResponses.length, 2);

    const u = await h.send("user0", Codecs.undelegate, { delegatorAddress: user, validatorAddress: val, amount: { denom: "upoi", amount: "20000000000" } });
    assert.equal(u.code, 0, u.log);
    const unbondHeight = h.height;
    const ub = await query(h.app, S + "UnbondingDelegation", QueryUnbondingDelegationRequest, { delegatorAddr: user, validatorAddr: val }, QueryUnbondingDelegationResponse);
    assert.equal(ub.unbond.entries.length, 1);
    assert.equal(ub.unbond.entries[0].balance, "20000000000");
    const pool = await query(h.app, S + "Pool", QueryPoolRequest, {}, QueryPoolResponse);
    assert.equal(pool.pool.notBondedTokens, "20000000000");
    assert.equal(pool.pool.bondedTokens, (4n * SELF_BOND + 30_000_000_000n).toString());
    const mid = await balance("user0");
    await h.blocks(2);
    assert.equal(await balance("user0"), mid, "not back before completion");
    await h.block([]);
    assert.equal(h.height, unbondHeight + 3n);
    assert.equal(await balance("user0"), mid + 20_000_000_000n);
    await assert.rejects(query(h.app, S + "UnbondingDelegation", QueryUnbondingDelegationRequest, { delegatorAddr: user, validatorAddr: val }, QueryUnbondingDelegationResponse), /not found/);
  });

  it("refuses bad input with clear errors and no state change", async () => {
    const user1 = h.account("user1").address;
    const hashBefore = Buffer.from(h.app.store.lastAppHash).toString("hex");
    const balBefore = await balance("user1");
    const cases: Array<[string, Promise<{ code: number; log: string; codespace: string; stage: string }>, RegExp]> = [
      ["duplicate consensus key", h.send("user1", Codecs.create, createValidatorMsg(user1, h.validators[0].pubkey, 10_000_000_000n)), /already exist for this pubkey/],
      ["self-bond below the minimum", h.send("user1", Codecs.create, createValidatorMsg(user1, newValidatorKey().pubkey, 10n)), /self-bond 10upoi is below the minimum 1000000upoi/],
      ["commission above its maximum", h.send("user1", Codecs.create, createValidatorMsg(user1, newValidatorKey().pubkey, 10_000_000_000n, { rate: "0.3", max: "0.2", change: "0.01" })), /rate 300000000000000000 is above the max rate 200000000000000000/],
      ["undelegating more than delegated", h.send("operator1", Codecs.undelegate, { delegatorAddress: h.account("operator1").address, validatorAddress: valoper(h.account("operator1").address), amount: { denom: "upoi", amount: (SELF_BOND + 1n).toString() } }), /undelegating 100000000001upoi but the delegation is worth 100000000000upoi/],
      ["undelegating with no delegation", h.send("user1", Codecs.undelegate, { delegatorAddress: user1, validatorAddress: valoper(h.account("operator1").address), amount: { denom: "upoi", amount: "5" } }), /has no delegation/],
      ["commission change above max change rate", h.send("operator2", Codecs.edit, { validatorAddress: valoper(h.account("operator2").address), commissionRate: dec("0.15"), minSelfDelegation: "" }), /above the max change rate/],
    ];
    for (const [what, p, re] of cases) {
      const r = await p;
      assert.notEqual(r.code, 0, what);
      assert.equal(r.stage, "check", `${what}: refused in CheckTx`);
      assert.match(r.log, re, what);
    }
    assert.equal(Buffer.from(h.app.store.lastAppHash).toString("hex"), hashBefore, "no block ran: state unchanged");
    assert.equal(await balance("user1"), balBefore);
    assert.equal((await validators()).length, 4);
    const ok = await h.send("operator2", Codecs.edit, { validatorAddress: valoper(h.account("operator2").address), commissionRate: dec("0.105"), minSelfDelegation: "" });
    assert.equal(ok.code, 0, ok.log);
  });

  it("a new validator enters at an epoch end, stepping up within the per-epoch bound to the 25% cap; updates obey CometBFT's rules and x/valset follows at H+2", async () => {
    const key = newValidatorKey();
    h.validators.push(key); // it signs once it is in the set
    const user1 = h.account("user1").address;
    const bond = 900_000_000_000n; // 9x a genesis validator: uncapped it would hold 69%
    const r = await h.send("user1", Codecs.create, createValidatorMsg(user1, key.pubkey, bond));
    assert.equal(r.code, 0, r.log);
    assert.ok(Buffer.from((await h.app.valset.operator(h.app.queryContext(), key.address))!).equals(parseAddress(user1)), "poi pays its income to the operator");
    // CometBFT's view: the set at each height, from the updates returned at H taking effect at H+2.
    const cometSet = new Map<bigint, Map<string, bigint>>();
    // Up to the tx's block (whose own updates may already be recorded for its H+2), from x/valset.
    for (let x = 1n; x <= h.height + 2n; x++) cometSet.set(x, new Map((await h.app.valset.validatorsAt(h.app.queryContext(), x)).map((v) => [Buffer.from(v.pubkey).toString("hex"), v.power])));
    const newPowers: bigint[] = [];
    for (let i = 0; i < 16; i++) {
      const res = await h.block([]);
      assert.equal(res.rejected, false, `block ${h.height} accepted`);
      const H = h.height;
      const ups = res.validatorUpdates ?? [];
      const keys = ups.map(hexOf);
      assert.equal(new Set(keys).size, keys.length, "one update per key");
      const setAtH1 = cometSet.get(H + 1n)!;
      const next = new Map(setAtH1);
      for (const u of ups) {
        if (u.power === 0n) { assert.ok(setAtH1.has(hexOf(u)), "power 0 only for a validator in the set"); next.delete(hexOf(u)); } else next.set(hexOf(u), u.power);
      }
      assert.ok([...next.values()].reduce((s, p) => s + p, 0n) < ((1n << 63n) - 1n) / 8n);
      if (ups.length) assert.equal(H % 2n, 0n, "power changes only at epoch ends (no one became ineligible)");
      cometSet.set(H + 2n, next);
      const recorded = await h.app.valset.validatorsAt(h.app.queryContext(), H + 2n);
      assert.deepEqual(new Map(recorded.map((v) => [Buffer.from(v.pubkey).toString("hex"), v.power])), next, `x/valset's set at ${H + 2n}`);
      const p = next.get(Buffer.from(key.pubkey).toString("hex")) ?? 0n;
      const total = [...next.values()].reduce((s, x) => s + x, 0n);
      assert.ok(p * 10_000n <= 2_500n * total, `share ${p}/${total} within the cap`);
      if (ups.length) {
        const prevTotal = [...setAtH1.values()].reduce((s, x) => s + x, 0n);
        const prev = setAtH1.get(Buffer.from(key.pubkey).toString("hex")) ?? 0n;
        assert.ok(p - prev <= prevTotal / 10n, `step ${p - prev} within 10% of ${prevTotal}`);
        newPowers.push(p);
      }
    }
    assert.ok(newPowers.length >= 3, `several steps: ${newPowers}`);
    assert.ok(newPowers[0] < newPowers[newPowers.length - 1], "power rose over epochs");
    assert.equal(newPowers[newPowers.length - 1], 133_333n, "stops at the cap: 25% of 4·100,000 + X, X = 2500·400000/7500");
  });
});
