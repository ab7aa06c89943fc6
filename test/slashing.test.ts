/**
 * x/slashing lite and the per-height validator set, in process: downtime from decided_last_commit
 * jails and slashes, unjail after the jail period; double signing from misbehavior slashes and
 * tombstones. Blocks keep being accepted across set changes only because each verdict aggregate is
 * checked against the set that signed the previous height (a removed validator's last votes).
 */
import { strict as assert } from "assert";
import { MisbehaviorType } from "cosmjs-types/tendermint/abci/types";
import { QuerySigningInfosRequest, QuerySigningInfosResponse, QueryParamsRequest, QueryParamsResponse } from "cosmjs-types/cosmos/slashing/v1beta1/query";
import { Harness } from "./helpers/poi-harness";
import { Codecs, query, valoper } from "./helpers/staking-msgs";

const SELF_BOND = 100_000_000_000n;
const Q = "/cosmos.slashing.v1beta1.Query/";

describe("x/slashing (in process)", function () {
  this.timeout(120_000);
  let h: Harness;

  beforeEach(async () => {
    h = await Harness.create({
      validators: 4, accounts: ["user0"], verify: false,
      staking: { selfBond: SELF_BOND, params: { epoch_blocks: "2" }, slashing: { signed_blocks_window: "4", min_signed_per_window_bps: "5000", downtime_jail_seconds: "5" } },
    });
  });
  afterEach(async () => h.close());

  const info = async (i: number) => (await h.app.staking.validatorByConsAddr(h.app.queryContext(), h.validators[i].address))!;
  const inSet = async (i: number, height: bigint) => (await h.app.valset.validatorsAt(h.app.queryContext(), height)).some((v) => Buffer.from(v.address).equals(h.validators[i].address));

  it("serves params and signing infos in SDK shapes", async () => {
    await h.blocks(2);
    const p = await query(h.app, Q + "Params", QueryParamsRequest, {}, QueryParamsResponse);
    assert.equal(p.params.signedBlocksWindow, 4n);
    assert.equal(Buffer.from(p.params.minSignedPerWindow).toString(), "500000000000000000");
    assert.equal(p.params.downtimeJailDuration.seconds, 5n);
    const s = await query(h.app, Q + "SigningInfos", QuerySigningInfosRequest, {}, QuerySigningInfosResponse);
    assert.equal(s.info.length, 4);
    assert.ok(s.info.every((x) => x.address.startsWith("poivalcons1") && x.missedBlocksCounter === 0n));
  });

  it("a validator down longer than the window is jailed (power 0 at H+2) and slashed; it unjails only after the jail period", async () => {
    h.validators[3].signs = false;
    h.validators[3].votes = false;
    let jailedAt = 0n;
    for (let i = 0; i < 12 && jailedAt === 0n; i++) {
      const r = await h.block([]);
      assert.equal(r.rejected, false);
      if ((await info(3)).jailed) {
        jailedAt = h.height;
        const zero = (r.validatorUpdates ?? []).find((u) => Buffer.from(u.pubKey!.ed25519!).equals(h.validators[3].pubkey));
        assert.equal(zero?.power, 0n, "power 0 sent in the jailing block");
      }
    }
    assert.ok(jailedAt > 0n, "jailed");
    const v = await info(3);
    assert.equal(v.tokens, SELF_BOND - SELF_BOND / 100n, "1% downtime slash");
    assert.equal(v.power, 0n);
    assert.equal(await inSet(3, jailedAt + 1n), true, "still in CometBFT's set at H+1");
    assert.equal(await inSet(3, jailedAt + 2n), false, "gone at H+2");
    for (const i of [0, 1, 2]) assert.equal((await info(i)).jailed, false, `validator ${i} signs and stays`);
    h.validators[3].signs = true;
    h.validators[3].votes = true;
    const early = await h.send("operator3", Codecs.unjail, { validatorAddr: valoper(h.account("operator3").address) });
    assert.equal(early.stage, "check");
    assert.match(early.log, /is jailed until .*validator still jailed/);
    await h.blocks(5);
    const ok = await h.send("operator3", Codecs.unjail, { validatorAddr: valoper(h.account("operator3").address) });
    assert.equal(ok.code, 0, ok.log);
    assert.equal((await info(3)).jailed, false);
    await h.blocks(6);
    assert.ok((await info(3)).power > 0n, "power back after unjail, from the next epoch end");
    const again = await h.send("operator3", Codecs.unjail, { validatorAddr: valoper(h.account("operator3").address) });
    assert.match(again.log, /validator not jailed/);
  });

  it("double signing slashes, jails and tombstones; the chain goes on across the removal (aggregates checked against the h−1 set)", async () => {
    await h.blocks(2);
    const supplyBefore = await h.app.bank.getSupply(h.app.queryContext(), "upoi");
    const v2 = h.validators[2];
    h.nextMisbehavior = [{ type: MisbehaviorType.DUPLICATE_VOTE, validator: { address: v2.address, power: 100_000n }, height: h.height, time: { seconds: 0n, nanos: 0 }, totalVotingPower: 400_000n }];
    const r = await h.block([]);
    const H = h.height;
    assert.equal(r.rejected, false);
    const v = await info(2);
    assert.equal(v.tombstoned, true);
    assert.equal(v.jailed, true);
    assert.equal(v.tokens, SELF_BOND - SELF_BOND / 20n, "5% double-sign slash");
    assert.equal(await h.app.bank.getSupply(h.app.queryContext(), "upoi"), supplyBefore - SELF_BOND / 20n, "slashed coins are burned");
    // Validator 2 keeps signing extensions while CometBFT still counts it (through H+1); its votes of
    // H+1 are in block H+2's aggregate, valid only against the set of H+1.
    assert.equal(await inSet(2, H + 1n), true);
    assert.equal(await inSet(2, H + 2n), false);
    for (let i = 0; i < 4; i++) assert.equal((await h.block([])).rejected, false, `block ${h.height + 1n} accepted`);
    const blockH2 = await h.app.valset.validatorsAt(h.app.queryContext(), H + 1n);
    assert.equal(blockH2.length, 4, "the set that signed H+1 had 4 validators");
    const un = await h.send("operator2", Codecs.unjail, { validatorAddr: valoper(h.account("operator2").address) });
    assert.match(un.log, /tombstoned/);
    const again = await h.send("user0", Codecs.delegate, { delegatorAddress: h.account("user0").address, validatorAddress: valoper(h.account("operator2").address), amount: { denom: "upoi", amount: "1000" } });
    assert.match(again.log, /tombstoned/);
  });
});
