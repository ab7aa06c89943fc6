import { strict as assert } from "assert";
import { validateBasicChainInfoType } from "@keplr-wallet/chain-validator";
import { poi } from "./helpers/chain";

// `poi chain-info` with --chain-id contacts no node, so this runs without a chain (the e2e REST test
// checks the same command against a live node's RPC and REST with Keplr's connectivity checks).
describe("poi chain-info: the Keplr ChainInfo", function () {
  this.timeout(30_000);
  const run = (args: string[]) => poi(["chain-info", ...args], { allowFail: true });
  let info: Record<string, any>;

  before(() => {
    const r = run(["--node", "http://127.0.0.1:26657", "--chain-id", "poi-localnet"]);
    assert.equal(r.code, 0, r.stderr);
    info = JSON.parse(r.stdout);
  });

  it("passes @keplr-wallet/chain-validator's schema, unknown keys included", async () => {
    const checked = await validateBasicChainInfoType(info as never, false);
    assert.deepEqual(JSON.parse(JSON.stringify(checked)), info, "the validator accepts it as is");
  });

  it("names the chain, its endpoints, coin type 118 and every bech32 prefix", () => {
    assert.equal(info.chainId, "poi-localnet");
    assert.equal(info.rpc, "http://127.0.0.1:26657");
    assert.equal(info.rest, "http://127.0.0.1:26659", "REST defaults to the node's (RPC port + 2)");
    assert.deepEqual(info.bip44, { coinType: 118 });
    assert.deepEqual(info.bech32Config, {
      bech32PrefixAccAddr: "poi", bech32PrefixAccPub: "poipub", bech32PrefixValAddr: "poivaloper", bech32PrefixValPub: "poivaloperpub",
      bech32PrefixConsAddr: "poivalcons", bech32PrefixConsPub: "poivalconspub",
    });
  });

  it("has POI/upoi with 6 decimals as currency, stake currency and fee currency with rising gas price steps from the nodes' minimum", () => {
    const poiCoin = { coinDenom: "POI", coinMinimalDenom: "upoi", coinDecimals: 6 };
    assert.deepEqual(info.currencies, [poiCoin]);
    assert.deepEqual(info.stakeCurrency, poiCoin);
    assert.equal(info.feeCurrencies.length, 1);
    const { gasPriceStep, ...fee } = info.feeCurrencies[0];
    assert.deepEqual(fee, poiCoin);
    assert.equal(gasPriceStep.low, 0.025, "low is the nodes' min_gas_prices (0.025upoi)");
    assert.ok(gasPriceStep.low < gasPriceStep.average && gasPriceStep.average < gasPriceStep.high, JSON.stringify(gasPriceStep));
  });

  it("takes --rest and refuses a bad --rest, a bad --chain-id and a node it cannot reach, naming the problem", () => {
    const r = run(["--node", "http://127.0.0.1:26657", "--rest", "https://lcd.example.org/", "--chain-id", "poi-1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([JSON.parse(r.stdout).rest, JSON.parse(r.stdout).chainId], ["https://lcd.example.org", "poi-1"]);
    const badRest = run(["--node", "http://127.0.0.1:26657", "--rest", "not a url", "--chain-id", "poi-1"]);
    assert.equal(badRest.code, 2);
    assert.match(badRest.stderr, /--rest "not a url" is not a URL/);
    const badId = run(["--node", "http://127.0.0.1:26657", "--chain-id", "bad id!"]);
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /--chain-id "bad id!" is not a chain id/);
    // Port 9 (discard) on loopback: nothing listens there.
    const down = run(["--node", "http://127.0.0.1:9"]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot read the chain id from http:\/\/127\.0\.0\.1:9/);
  });
});
