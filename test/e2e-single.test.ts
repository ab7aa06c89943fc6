import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { headerAppHash, height, poi, removeHome, startSingle, stopSingle, tmpHome, waitForHeight } from "./helpers/chain";

// One validator: `poi init` + `poi start --with-cometbft`, real CometBFT and real LevelDB.
describe("e2e: 1-validator chain", function () {
  const home = tmpHome("single");
  const url = "http://127.0.0.1:21001"; // base port 21000: p2p 21000, rpc 21001, abci 21002

  before(() => {
    poi(["init", "--home", home, "--base-port", "21000"]);
  });
  after(async () => {
    await stopSingle(home);
    removeHome(home);
  });

  it("init writes CometBFT config from our templates, genesis with funded accounts, and app config", () => {
    const config = fs.readFileSync(path.join(home, "config", "config.toml"), "utf8");
    assert.match(config, /^proxy_app = "tcp:\/\/127\.0\.0\.1:21002"$/m);
    assert.match(config, /^indexer = "kv"$/m);
    const genesis = JSON.parse(fs.readFileSync(path.join(home, "config", "genesis.json"), "utf8"));
    assert.equal(genesis.chain_id, "poi-localnet");
    assert.equal(genesis.consensus_params.abci.vote_extensions_enable_height, "1");
    const accounts = JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8")) as Array<{ name: string; mnemonic: string; address: string }>;
    assert.ok(accounts.length >= 4);
    for (const a of accounts) {
      assert.match(a.address, /^poi1[02-9ac-hj-np-z]{38}$/);
      assert.equal(a.mnemonic.split(" ").length, 24);
      assert.ok(genesis.app_state.bank.balances.some((b: { address: string }) => b.address === a.address));
    }
    assert.equal(fs.statSync(path.join(home, "accounts.json")).mode & 0o077, 0, "accounts.json must be private");
    // A second init must not clobber the chain.
    const again = poi(["init", "--home", home], { allowFail: true });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already holds a chain/);
  });

  it("reaches height 10", async () => {
    startSingle(home);
    await waitForHeight(url, 10);
  });

  it("restarted from a copy of its store taken earlier, replays the missing blocks with the same app hashes and goes on", async () => {
    const store = path.join(home, "data", "poi-app");
    const backup = `${home}-store-backup`;
    await stopSingle(home);
    const copyHeight = await (async () => { startSingle(home); return waitForHeight(url, 12); })();
    await stopSingle(home);
    fs.cpSync(store, backup, { recursive: true });
    startSingle(home);
    const later = await waitForHeight(url, copyHeight + 5);
    const hashesBefore: string[] = [];
    for (let h = 2; h <= later; h++) hashesBefore.push(await headerAppHash(url, h));
    await stopSingle(home);
    const storeHeight = await (async () => { startSingle(home); const h = await waitForHeight(url, later); await stopSingle(home); return h; })();

    // Put the old store back: the app now reports a height several blocks behind CometBFT's block store.
    fs.rmSync(store, { recursive: true, force: true });
    fs.cpSync(backup, store, { recursive: true });
    fs.rmSync(backup, { recursive: true, force: true });
    const logBefore = fs.readFileSync(path.join(home, "cometbft.log"), "utf8").length;
    startSingle(home);
    const resumed = await waitForHeight(url, storeHeight + 5);
    assert.ok(resumed >= storeHeight + 5);

    const log = fs.readFileSync(path.join(home, "cometbft.log"), "utf8").slice(logBefore);
    const replay = /ABCI Replay Blocks\s.*?appHeight=(\d+) storeHeight=(\d+)/.exec(log);
    assert.ok(replay, "cometbft should log its handshake replay");
    assert.ok(Number(replay[1]) < Number(replay[2]), `app (${replay[1]}) should be behind the block store (${replay[2]})`);
    assert.doesNotMatch(log, /app hash mismatch|wrong Block.Header.AppHash/i);
    // Re-executed blocks produced the very same app hashes.
    for (let h = 2; h <= later; h++) assert.equal(await headerAppHash(url, h), hashesBefore[h - 2], `app hash at height ${h}`);
    assert.ok((await height(url)) >= resumed);
  });
});
