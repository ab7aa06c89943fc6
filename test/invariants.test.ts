/**
 * src/app/invariants.ts: each invariant holds on a live chain (mint and distribution on) and reports a
 * state broken on purpose, in a throwaway branch of the committed state; the on-demand query answers
 * the same over ABCI.
 */
import { strict as assert } from "assert";
import { Harness } from "./helpers/poi-harness";
import { removeHome, tmpHome } from "./helpers/chain";
import { PoiApp } from "../src/app/app";
import { RequestInitChain } from "cosmjs-types/tendermint/abci/types";
import { FakeStaking, E18 } from "./helpers/economics";
import { Context } from "../src/app/context";
import { Branch } from "../src/store/store";
import { parseAddress } from "../src/app/address";
import { INVARIANTS_QUERY_PATH, bondedPoolInvariant, type InvariantResult } from "../src/app/invariants";
import { POI_MODULE_ACCOUNT } from "../src/x/poi/keeper";
import { K } from "../src/x/distribution/keeper/state";
import { BONDED_POOL_ADDRESS } from "../src/x/staking/keeper";

describe("invariants: hold on a live chain, and each reports a state broken on purpose", function () {
  this.timeout(120_000);
  let h: Harness;

  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["user", "other"], verify: false, staking: { selfBond: 5_000_000n }, genesis: { mint: { params: { initial_block_reward: "5000" } }, distribution: {} } });
    for (let i = 0; i < 5; i++) await h.block([]);
  });
  after(async () => h?.close());

  const names = ["bank/nonnegative", "bank/supply", "mint/minted", "distribution/account", "staking/bonded-pool", "poi/account"];
  const branch = () => {
    const q = h.app.queryContext();
    return new Context(new Branch(h.app.store.committed), q.header, "query");
  };
  const brokenBy = async (ctx: Context) => (await h.app.invariants.run(ctx)).filter((r) => r.broken).map((r) => r.name);

  it("every registered invariant holds, directly and through the ABCI query `poi debug invariants` uses", async () => {
    assert.deepEqual(h.app.invariants.names, names);
    assert.deepEqual(await brokenBy(h.app.queryContext()), []);
    const res = await h.app.query({ path: INVARIANTS_QUERY_PATH, data: new Uint8Array(), height: 0n, prove: false });
    assert.equal(res.code, 0);
    const results = JSON.parse(Buffer.from(res.value!).toString("utf8")) as InvariantResult[];
    assert.deepEqual(results.map((r) => [r.name, r.broken]), names.map((n) => [n, false]));
    assert.ok(await h.app.distribution.communityPool(h.app.queryContext()) > 0n, "distribution has paid into the pools");
  });

  it("bank/nonnegative: a negative balance", async () => {
    const ctx = branch();
    const key = Buffer.concat([Buffer.from("bank/"), Buffer.from([0x02, 20]), parseAddress(h.account("user").address), Buffer.from("upoi")]);
    ctx.kv.set(key, Buffer.from("-5"));
    assert.ok((await brokenBy(ctx)).includes("bank/nonnegative"));
  });

  it("bank/supply: a supply ledger that no longer adds up", async () => {
    const ctx = branch();
    const l = await h.app.bank.ledger(ctx, "upoi");
    h.app.bank.setLedger(ctx, { ...l, burned: l.burned + 1n });
    assert.deepEqual(await brokenBy(ctx), ["bank/supply"]);
  });

  it("mint/minted: mint counting more than bank minted", async () => {
    const ctx = branch();
    h.app.mint.setMinted(ctx, (await h.app.mint.minted(ctx)) + 1n);
    assert.deepEqual(await brokenBy(ctx), ["mint/minted"]);
  });

  it("distribution/account: a pool that the account does not hold", async () => {
    const ctx = branch();
    await h.app.distribution.state.addAmount(ctx, K.communityPool, 1n);
    assert.deepEqual(await brokenBy(ctx), ["distribution/account"]);
  });

  it("poi/account: coins in the poi account that no task accounts for", async () => {
    const ctx = branch();
    await h.app.bank.sendCoins(ctx, parseAddress(h.account("user").address), POI_MODULE_ACCOUNT, [{ denom: "upoi", amount: 3n }]);
    assert.deepEqual(await brokenBy(ctx), ["poi/account"]);
  });

  it("staking/bonded-pool: coins in the bonded pool that no validator's tokens account for", async () => {
    const ctx = branch();
    await h.app.bank.sendCoins(ctx, parseAddress(h.account("user").address), BONDED_POOL_ADDRESS, [{ denom: "upoi", amount: 1n }]);
    assert.deepEqual(await brokenBy(ctx), ["staking/bonded-pool"]);
  });

  it("bad mint and distribution genesis input is refused with the field named", async () => {
    const fresh = () => new Context(new Branch(h.app.store.committed), h.app.queryContext().header, "genesis");
    const mint = h.app.modules.module("mint")!, dist = h.app.modules.module("distribution")!;
    await assert.rejects(mint.initGenesis(fresh(), { params: { initial_block_reward: "-1" } }), /params\.initial_block_reward must be a non-negative integer string/);
    await assert.rejects(mint.initGenesis(fresh(), { params: { halving_interval_blocks: "0" } }), /halving_interval_blocks must be at least 1/);
    await assert.rejects(mint.initGenesis(fresh(), { params: { mint_denom: "uatom" } }), /mint_denom must be "upoi"/);
    await assert.rejects(dist.initGenesis(fresh(), { params: { community_tax_bps: "6000", worker_share_bps: "5000" } }), /exceeds 10000/);
    await assert.rejects(dist.initGenesis(fresh(), { params: { epoch_blocks: "x" } }), /params\.epoch_blocks must be an integer string/);
    await assert.rejects(dist.initGenesis(fresh(), { community_pool: "5" }), /the distribution account holds \d+upoi but the pools and outstanding rewards add up to 5upoi/);
    await assert.rejects(dist.initGenesis(fresh(), { verdict_points: [{ epoch: "1", validator: "zz", points: "1" }] }), /verdict_points\[0\]\.validator must be 40 uppercase hex/);
    // Reward epochs and x/poi's seed epochs (which audit failures name) must be one numbering.
    const dir = tmpHome("bad-epochs");
    const app = await PoiApp.open(dir);
    try {
      const appStateBytes = Buffer.from(JSON.stringify({ distribution: { params: { epoch_blocks: "5" } }, poi: { params: { seedEpochBlocks: "10" } } }));
      await assert.rejects(app.initChain(RequestInitChain.fromPartial({ chainId: "bad-epochs", initialHeight: 1n, appStateBytes })), /distribution\.params\.epoch_blocks \(5\) must equal poi\.params\.seedEpochBlocks \(10\)/);
      // Minted worker rewards per unit must stay below the protocol fee per unit (self-dealing never pays).
      for (const [max, fee] of [["20000", "20000"], ["0", "20000"], ["5001", "5000"]]) {
        const bytes = Buffer.from(JSON.stringify({ distribution: { params: { max_worker_reward_per_mega_unit: max } }, poi: { params: { protocolFeePerMegaUnit: fee } } }));
        await assert.rejects(app.initChain(RequestInitChain.fromPartial({ chainId: "bad-worker-cap", initialHeight: 1n, appStateBytes: bytes })),
          new RegExp(`max_worker_reward_per_mega_unit \\(${max}\\) must be at least 1 and below poi\\.params\\.protocolFeePerMegaUnit \\(${fee}\\)`));
      }
    } finally {
      await app.close();
      removeHome(dir);
    }
  });

  it("staking/bonded-pool (registered by x/staking): the pool against the bonded validators' tokens", async () => {
    const fake = new FakeStaking(h.validators.map((v, i) => ({ operator: parseAddress(h.account(i % 2 ? "user" : "other").address).map((b) => b ^ i), consAddress: v.address, commissionRateBps: 0n })));
    fake.setShares(new Uint8Array(20), fake.vals[0].operator, 7n * E18);
    const pool = parseAddress(h.account("other").address);
    const ctx = branch();
    const have = await h.app.bank.getBalance(ctx, pool, "upoi");
    const inv = bondedPoolInvariant(fake, h.app.bank, pool, () => true);
    assert.match((await inv.check(ctx))!, new RegExp(`holds ${have}upoi, the bonded validators' tokens add up to 7`));
    await h.app.bank.sendCoins(ctx, pool, parseAddress(h.account("user").address), [{ denom: "upoi", amount: have - 7n }]);
    assert.equal(await inv.check(ctx), undefined);
  });
});
