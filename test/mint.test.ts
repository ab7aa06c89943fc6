/**
 * x/mint in process (real PoiApp on LevelDB): the supply at every height equals genesis plus the
 * schedule exactly (halvings and the cap included), and CosmJS's mint extension decodes the queries.
 */
import { strict as assert } from "assert";
import { QueryClient, setupMintExtension } from "@cosmjs/stargate";
import { Decimal } from "@cosmjs/math";
import { Harness } from "./helpers/poi-harness";
import { inProcessComet } from "./helpers/inproc-query";
import { FEE_COLLECTOR } from "../src/x/auth/ante";
import { MINT_MODULE_ACCOUNT } from "../src/x/mint/keeper";
import { blockReward, parseMintParams, scheduledIssuance } from "../src/x/mint/params";

const PARAMS = { initial_block_reward: "1000", halving_interval_blocks: "7", max_minted: "11900", blocks_per_year: "20" };
const p = parseMintParams(PARAMS);

/** The schedule written out block by block: 1000 × 7, 500 × 7, 250 × 7, ... until 11,900 in all. */
function expectedMinted(height: bigint): bigint {
  let total = 0n;
  for (let h = 1n; h <= height; h++) {
    const era = Number((h - 1n) / 7n);
    const r = 1000n / 2n ** BigInt(era);
    total += total + r > 11_900n ? 11_900n - total : r;
  }
  return total;
}

describe("x/mint: the issuance schedule", function () {
  this.timeout(120_000);
  let h: Harness;
  let genesisSupply: bigint;

  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["user"], verify: false, genesis: { mint: { params: PARAMS } } });
  });
  after(async () => h?.close());

  const ctx = () => h.app.queryContext();
  const supply = () => h.app.bank.getSupply(ctx(), "upoi");

  it("the schedule functions: rewards halve each era and sums agree with a block-by-block loop", () => {
    assert.equal(blockReward(p, 1n), 1000n);
    assert.equal(blockReward(p, 7n), 1000n);
    assert.equal(blockReward(p, 8n), 500n);
    assert.equal(blockReward(p, 22n), 125n);
    for (const [a, b] of [[1n, 1n], [1n, 30n], [5n, 19n], [8n, 8n], [100n, 700n]] as const) {
      let loop = 0n;
      for (let x = a; x <= b; x++) loop += blockReward(p, x);
      assert.equal(scheduledIssuance(p, a, b), loop, `sum over ${a}..${b}`);
    }
  });

  it("minted supply at every height equals genesis + the schedule, to the upoi, through the halvings and up to the cap", async () => {
    // Harness.create ran block 1.
    genesisSupply = (await supply()) - expectedMinted(1n);
    assert.equal((await h.app.bank.ledger(ctx(), "upoi")).genesis, genesisSupply);
    for (let i = 0; i < 29; i++) {
      await h.block([]);
      const height = h.height;
      assert.equal(await supply(), genesisSupply + expectedMinted(height), `supply at height ${height}`);
      assert.equal(await h.app.mint.minted(ctx()), expectedMinted(height));
      assert.equal((await h.app.bank.ledger(ctx(), "upoi")).minted, expectedMinted(height));
    }
    assert.equal(expectedMinted(h.height), 11_900n, "the run reached the cap");
    assert.equal(expectedMinted(19n), 11_750n);
    assert.equal(expectedMinted(20n), 11_900n, "block 20 mints only the 150 the cap leaves");
    // Without x/distribution, the minted coins wait in fee_collector; the mint account passes them on.
    assert.equal(await h.app.bank.getBalance(ctx(), MINT_MODULE_ACCOUNT, "upoi"), 0n);
    assert.equal(await h.app.bank.getBalance(ctx(), FEE_COLLECTOR, "upoi"), 11_900n);
  });

  it("CosmJS setupMintExtension decodes Params, Inflation and AnnualProvisions as the schedule gives them", async () => {
    const q = QueryClient.withExtensions(inProcessComet(h.app), setupMintExtension);
    // At the cap: nothing more will be minted.
    assert.equal((await q.mint.annualProvisions()).toString(), "0");
    assert.equal((await q.mint.inflation()).toString(), "0");
    const params = await q.mint.params();
    assert.equal(params.mintDenom, "upoi");
    assert.equal(params.blocksPerYear, 20n);
    assert.equal(params.inflationRateChange.toString(), "0");
  });

  it("before the cap, annual provisions are the next blocks_per_year blocks of the schedule and inflation that over the supply", async () => {
    const h2 = await Harness.create({ validators: 1, accounts: ["user"], verify: false, genesis: { mint: { params: { ...PARAMS, max_minted: "1000000" } } } });
    try {
      await h2.blocks(4); // height 5
      const q = QueryClient.withExtensions(inProcessComet(h2.app), setupMintExtension);
      const annual = 2n * 1000n + 7n * 500n + 7n * 250n + 4n * 125n; // heights 6..25
      assert.equal((await q.mint.annualProvisions()).toString(), Decimal.fromAtomics(annual.toString(), 0).toString());
      const s = await h2.app.bank.getSupply(h2.app.queryContext(), "upoi");
      const want = Decimal.fromAtomics(((annual * 10n ** 18n) / s).toString(), 18);
      assert.equal((await q.mint.inflation()).toString(), want.toString());
      assert.equal((await q.mint.params()).inflationMax.toString(), want.toString());
    } finally {
      await h2.close();
    }
  });

  it("a chain whose genesis has no mint section mints nothing and answers the queries with not found", async () => {
    const h3 = await Harness.create({ validators: 1, accounts: ["user"], verify: false });
    try {
      const s0 = await h3.app.bank.getSupply(h3.app.queryContext(), "upoi");
      await h3.blocks(3);
      assert.equal(await h3.app.bank.getSupply(h3.app.queryContext(), "upoi"), s0);
      const q = QueryClient.withExtensions(inProcessComet(h3.app), setupMintExtension);
      await assert.rejects(q.mint.inflation(), /mint is not active/);
    } finally {
      await h3.close();
    }
  });
});
