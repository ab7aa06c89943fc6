import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { CLI, headerAppHash, height, kill9, nodeHomes, poi, removeHome, rpcUrls, sleep, statusJson, tmpHome, waitForHeight, waitForPair } from "./helpers/chain";
import { isAlive } from "../src/cli/node";
import { CRASH_GRACE_MS } from "../src/cli/supervisor";

async function assertSameAppHashes(urls: string[], from: number, to: number): Promise<void> {
  for (let h = from; h <= to; h++) {
    const hashes = await Promise.all(urls.map((u) => headerAppHash(u, h)));
    assert.ok(hashes[0].length === 64, `app hash at ${h} is a 32-byte hex`);
    for (const x of hashes) assert.equal(x, hashes[0], `app hash at height ${h} differs between nodes`);
  }
}

// Four validators started by `poi localnet start`, each a real cometbft + our app.
describe("e2e: 4-validator localnet", function () {
  const home = tmpHome("localnet");
  let urls: string[] = [];

  before(() => {
    const out = poi(["localnet", "start", "--home", home, "--validators", "4", "--base-port", "22000", "--detach"]);
    assert.match(out.stderr, /localnet up in [\d.]+ s/);
    urls = rpcUrls(home);
  });
  after(() => {
    poi(["localnet", "stop", "--home", home], { allowFail: true });
    removeHome(home);
  });

  it("every node listens on its own loopback ports, peers with the others, and keeps its own logs", () => {
    assert.equal(new Set(urls).size, 4);
    for (const h of nodeHomes(home)) {
      const config = fs.readFileSync(path.join(h, "config", "config.toml"), "utf8");
      const peers = /^persistent_peers = "(.*)"$/m.exec(config)![1].split(",");
      assert.equal(peers.length, 3);
      for (const p of peers) assert.match(p, /^[0-9a-f]{40}@127\.0\.0\.1:\d+$/);
      assert.ok(fs.existsSync(path.join(h, "app.log")) && fs.existsSync(path.join(h, "cometbft.log")));
    }
  });

  it("reaches height 10 and all nodes report the same app hash at every common height", async () => {
    await Promise.all(urls.map((u) => waitForHeight(u, 10)));
    await assertSameAppHashes(urls, 1, 10);
    const hashes = new Set<string>();
    for (let h = 2; h <= 10; h++) hashes.add(await headerAppHash(urls[0], h));
    assert.ok(hashes.size > 1, "the app hash should move as blocks are recorded");
  });

  it("status --json prints each node's RPC URL, height and latest app hash", () => {
    const st = statusJson(home);
    assert.equal(st.length, 4);
    for (const [i, s] of st.entries()) {
      assert.equal(s.rpc, urls[i]);
      assert.ok(s.running);
      assert.ok((s.height ?? 0) >= 10);
      assert.match(s.appHash ?? "", /^[0-9A-F]{64}$/);
    }
  });

  it("a validator killed with -9 (app and cometbft) restarts, catches up and agrees on the app hash", async () => {
    const victim = nodeHomes(home)[2];
    await kill9(victim);
    const killedAt = Math.max(...(await Promise.all([urls[0], urls[1], urls[3]].map(height))));
    // The other three hold more than 2/3 of the power and keep going.
    await waitForHeight(urls[0], killedAt + 5);
    poi(["localnet", "start", "--home", home, "--detach"]);
    const target = (await height(urls[0])) + 3;
    await waitForHeight(urls[2], target);
    await assertSameAppHashes(urls, 1, target);
  });

  it("a validator whose app alone is SIGKILLed: its cometbft is gone within the grace period, both come back, the node catches up", async () => {
    const victim = nodeHomes(home)[1];
    const before = await waitForPair(victim);
    process.kill(before.app, "SIGKILL");
    const t0 = Date.now();
    while (isAlive(before.cometbft) && Date.now() - t0 < CRASH_GRACE_MS + 5_000) await sleep(50);
    const goneAfter = Date.now() - t0;
    assert.ok(!isAlive(before.cometbft), "the supervisor stops the cometbft of a dead app");
    assert.ok(goneAfter <= CRASH_GRACE_MS + 2_000, `cometbft gone after ${goneAfter} ms (grace ${CRASH_GRACE_MS} ms)`);
    const after = await waitForPair(victim);
    assert.equal(after.supervisor, before.supervisor, "the same supervisor");
    assert.ok(after.app !== before.app && after.cometbft !== before.cometbft, "a new app and a new cometbft");
    const target = (await height(urls[0])) + 3;
    await waitForHeight(urls[1], target);
    await assertSameAppHashes(urls, 1, target);
    const log = fs.readFileSync(path.join(victim, "app.log"), "utf8");
    // The supervisor saw the app's SIGKILL, whether it handled that exit first (then it stopped cometbft) or
    // cometbft's, which quits on its own once its app connection drops (then the app's exit is logged too).
    assert.match(log, new RegExp(`supervisor: app \\(pid ${before.app}\\) exited (too )?\\(code null, signal SIGKILL\\)`));
    assert.match(log, /supervisor: restarting the app and cometbft in \d+ ms/);
    assert.doesNotMatch(fs.readFileSync(path.join(victim, "cometbft.log"), "utf8"), /wrong Block\.Header\.AppHash|app hash mismatch/i);
  });

  it("stop ends every process and reset removes the home", async () => {
    poi(["localnet", "stop", "--home", home]);
    const st = statusJson(home);
    assert.ok(st.every((s) => !s.running && s.height === null));
    poi(["localnet", "reset", "--home", home]);
    assert.ok(!fs.existsSync(home));
  });
});

describe("e2e: localnet start with a port already taken", function () {
  const home = tmpHome("localnet-busy");
  let blocker: net.Server;

  before(async () => {
    // Hold node1's RPC port (base 22500 + 100 + 1) as another program would.
    blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(22601, "127.0.0.1", resolve));
  });
  after(async () => {
    poi(["localnet", "stop", "--home", home], { allowFail: true });
    await new Promise((r) => blocker.close(r));
    removeHome(home);
  });

  it("fails at once, naming the node that exited and showing the end of its logs", () => {
    const t0 = Date.now();
    const r = poi(["localnet", "start", "--home", home, "--validators", "2", "--base-port", "22500", "--detach"], { allowFail: true });
    const seconds = (Date.now() - t0) / 1000;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /localnet: node1 exited during start/);
    assert.match(r.stderr, /node1 cometbft\.log \(last \d+ lines\):/);
    assert.match(r.stderr, /127\.0\.0\.1:22601.*address already in use/);
    // The node that did start was stopped again: nothing is left running.
    assert.ok(statusJson(home).every((s) => !s.running), "no node left running after a failed start");
    // Not the 180 s wait for blocks that can never come.
    assert.ok(seconds < 120, `took ${seconds.toFixed(1)} s`);
  });
});

// `npm start` is `localnet start --demo` in the foreground; Ctrl-C is SIGINT.
describe("e2e: localnet start --demo in the foreground, stopped with Ctrl-C", function () {
  const home = tmpHome("localnet-demo");
  after(() => {
    poi(["localnet", "stop", "--home", home], { allowFail: true });
    removeHome(home);
  });

  it("the first Ctrl-C says the demo's workers finish their tasks first; a second stops at once, leaving nothing running", async () => {
    const child = spawn(process.execPath, [CLI, "localnet", "start", "--demo", "--home", home, "--validators", "1", "--base-port", "18500"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const waitFor = async (re: RegExp, ms: number) => {
      const deadline = Date.now() + ms;
      while (!re.test(out)) {
        if (child.exitCode !== null || Date.now() > deadline) assert.fail(`no ${re} within ${ms} ms; output:\n${out.slice(-3000)}`);
        await sleep(200);
      }
    };
    try {
      // The demo runs (its workers started) once the status lines follow its dataset.
      await waitFor(/demo: dataset[^]*node0 h=\d+/, 240_000);
      child.kill("SIGINT");
      await waitFor(/stopping: each demo worker first finishes and submits the task it holds \(Ctrl-C again to stop at once\)/, 10_000);
      child.kill("SIGINT");
      const code = await Promise.race([exited, sleep(60_000).then(() => "still running")]);
      assert.equal(code, 0, out.slice(-3000));
      assert.match(out, /localnet in .* stopped/);
      assert.ok(statusJson(home).every((s) => !s.running), "no node left running");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
