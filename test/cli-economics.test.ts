/**
 * Mint and distribution against a real 1-validator chain (CometBFT + our app) whose genesis turns
 * them on: the `poi query mint|distribution`, `poi tx distribution` and `poi debug invariants`
 * commands as a user runs them, and unmodified CosmJS (setupMintExtension, setupDistributionExtension,
 * SigningStargateClient.withdrawRewards).
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { GasPrice, QueryClient, SigningStargateClient, setupDistributionExtension, setupMintExtension } from "@cosmjs/stargate";
import { connectComet } from "@cosmjs/tendermint-rpc";
import { walletFromMnemonic } from "../src/client";
import { formatValoperAddress, parseAddress } from "../src/app/address";
import { poi, removeHome, startSingle, stopSingle, tmpHome, waitForHeight } from "./helpers/chain";

interface TxJson { code: number; raw_log: string; height: string }

describe("cli: mint, distribution and invariants against a 1-validator chain with economics on", function () {
  this.timeout(240_000);
  const home = tmpHome("cli-economics");
  const url = "http://127.0.0.1:23501"; // base port 23500: p2p 23500, rpc 23501, abci 23502
  const node = ["--node", url];
  const kr = ["--home", home];
  let operator: { name: string; mnemonic: string; address: string };
  let valoper = "";

  const json = <T>(args: string[]): T => JSON.parse(poi([...args, "--output", "json"]).stdout) as T;
  const balance = (address: string) => BigInt(json<{ amount: string }>(["query", "bank", "balances", address, "--denom", "upoi", ...node]).amount);

  before(async () => {
    poi(["init", "--home", home, "--base-port", "23500"]);
    const file = path.join(home, "config", "genesis.json");
    const genesis = JSON.parse(fs.readFileSync(file, "utf8"));
    genesis.app_state.mint = { params: { initial_block_reward: "2000000" } };
    genesis.app_state.distribution = { params: { epoch_blocks: "5" } };
    genesis.app_state.poi = { ...genesis.app_state.poi, params: { ...genesis.app_state.poi?.params, seedEpochBlocks: "5" } }; // the same epochs
    fs.writeFileSync(file, JSON.stringify(genesis, null, 2));
    const accounts = JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8")) as Array<{ name: string; mnemonic: string; address: string }>;
    operator = accounts.find((a) => a.name === "operator0")!;
    valoper = formatValoperAddress(parseAddress(operator.address));
    poi(["keys", "add", "op", "--recover", ...kr], { input: operator.mnemonic + "\n" });
    startSingle(home);
    await waitForHeight(url, 4);
  });
  after(async () => {
    await stopSingle(home);
    removeHome(home);
  });

  it("query mint params | inflation | annual-provisions", () => {
    const p = json<{ mint_denom: string; blocks_per_year: string }>(["query", "mint", "params", ...node]);
    assert.equal(p.mint_denom, "upoi");
    assert.equal(p.blocks_per_year, "6311520");
    assert.ok(Number(json<{ inflation: string }>(["query", "mint", "inflation", ...node]).inflation) > 0);
    const annual = BigInt(json<{ annual_provisions: string }>(["query", "mint", "annual-provisions", ...node]).annual_provisions);
    // The next 6,311,520 blocks: 2 POI each until the first halving at 6,311,521, 1 POI after.
    assert.ok(annual > 6_311_520n * 1_000_000n && annual < 6_311_520n * 2_000_000n, String(annual));
  });

  it("query distribution params | community-pool | commission | outstanding-rewards | rewards: the validator is paid for signing", () => {
    assert.equal(json<{ community_tax: string }>(["query", "distribution", "params", ...node]).community_tax, "0.02");
    assert.ok(Number(json<{ pool: Array<{ amount: string }> }>(["query", "distribution", "community-pool", ...node]).pool[0].amount) > 0);
    const commission = json<{ commission: Array<{ denom: string; amount: string }> }>(["query", "distribution", "commission", valoper, ...node]).commission;
    assert.equal(commission[0].denom, "upoi");
    assert.ok(Number(commission[0].amount) > 0);
    const outstanding = Number(json<{ rewards: Array<{ amount: string }> }>(["query", "distribution", "outstanding-rewards", valoper, ...node]).rewards[0].amount);
    assert.ok(outstanding > Number(commission[0].amount));
    const one = json<{ rewards: Array<{ amount: string }> }>(["query", "distribution", "rewards", operator.address, valoper, ...node]);
    const all = json<{ rewards: Array<{ validator_address: string }>; total: Array<{ amount: string }> }>(["query", "distribution", "rewards", operator.address, ...node]);
    assert.equal(all.rewards[0].validator_address, valoper);
    assert.ok(Number(one.rewards[0].amount) > 0 && Number(all.total[0].amount) > 0);
  });

  it("tx distribution withdraw-commission and withdraw-rewards pay the operator; bad input is refused with a message", () => {
    const b0 = balance(operator.address);
    const c = json<TxJson>(["tx", "distribution", "withdraw-commission", "op", ...kr, ...node, "--fees", "5000upoi"]);
    assert.equal(c.code, 0, c.raw_log);
    const r = json<TxJson>(["tx", "distribution", "withdraw-rewards", "op", valoper, ...kr, ...node, "--fees", "5000upoi"]);
    assert.equal(r.code, 0, r.raw_log);
    assert.ok(balance(operator.address) > b0 - 10_000n, "the withdrawals paid more than their fees");
    const bad = poi(["tx", "distribution", "withdraw-rewards", "op", operator.address, ...kr, ...node], { allowFail: true });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /has prefix "poi", want "poivaloper"/);
  });

  it("poi debug invariants: every invariant holds on the node", () => {
    const results = json<Array<{ name: string; broken: boolean }>>(["debug", "invariants", ...node]);
    assert.deepEqual(results.map((r) => [r.name, r.broken]), [["bank/nonnegative", false], ["bank/supply", false], ["mint/minted", false], ["distribution/account", false], ["staking/bonded-pool", false], ["poi/account", false]]);
    assert.match(poi(["debug", "invariants", ...node]).stdout, /^ok\tbank\/nonnegative/);
  });

  it("unmodified CosmJS: the mint and distribution extensions read the chain, SigningStargateClient.withdrawRewards withdraws", async () => {
    const comet = await connectComet(url);
    const q = QueryClient.withExtensions(comet, setupMintExtension, setupDistributionExtension);
    assert.equal((await q.mint.params()).mintDenom, "upoi");
    assert.ok((await q.mint.inflation()).toFloatApproximation() > 0);
    const before = await q.distribution.delegationRewards(operator.address, valoper);
    assert.equal(before.rewards[0].denom, "upoi");
    const wallet = await walletFromMnemonic(operator.mnemonic);
    const client = await SigningStargateClient.connectWithSigner(url, wallet, { gasPrice: GasPrice.fromString("0.025upoi") });
    const b0 = BigInt((await client.getBalance(operator.address, "upoi")).amount);
    const res = await client.withdrawRewards(operator.address, valoper, "auto");
    assert.equal(res.code, 0);
    const ev = res.events.find((e) => e.type === "withdraw_rewards")!;
    const paid = BigInt(ev.attributes.find((a) => a.key === "amount")!.value.replace("upoi", ""));
    assert.ok(paid > 0n);
    const fee = (BigInt(res.gasWanted) * 25n + 999n) / 1000n; // CosmJS's calculateFee rounds up
    const b1 = BigInt((await client.getBalance(operator.address, "upoi")).amount);
    assert.equal(b1 - b0, paid - fee, "the balance moved by the reward less the fee");
    client.disconnect();
    comet.disconnect();
  });
});
