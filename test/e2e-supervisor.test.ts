/**
 * The node supervisor (`poi start --with-cometbft`) on a 1-validator localnet of real processes:
 * test knobs need --unsafe-test-knobs, a SIGKILLed cometbft takes its app down and both come
 * back, and `localnet start` clears processes left over from a supervisor that died.
 */
import { strict as assert } from "assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { height, nodeHomes, poi, removeHome, rpcUrls, sleep, statusJson, tmpHome, waitForHeight, waitForPair } from "./helpers/chain";
import { isAlive, isNodeProcess, readPids, writePids } from "../src/cli/node";
import { CRASH_GRACE_MS } from "../src/cli/supervisor";

const BASE_PORT = 26000;

async function waitDead(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  return !isAlive(pid);
}

describe("e2e: node supervisor (1-validator localnet)", function () {
  const home = tmpHome("supervisor");
  let node = "";
  let url = "";

  before(() => {
    poi(["localnet", "start", "--home", home, "--validators", "1", "--base-port", String(BASE_PORT), "--detach"]);
    node = nodeHomes(home)[0];
    url = rpcUrls(home)[0];
  });
  after(() => {
    poi(["localnet", "stop", "--home", home], { allowFail: true });
    removeHome(home);
  });

  it("records the supervisor, app and cometbft pids, each really a process of this node", async () => {
    const p = await waitForPair(node);
    for (const pid of [p.supervisor, p.app, p.cometbft]) assert.ok(isNodeProcess(pid, node), `pid ${pid} is this node's`);
    assert.ok(!isNodeProcess(p.app, path.join(home, "elsewhere")), "another home's process it is not");
    assert.ok(!isNodeProcess(process.pid, node), "mocha is not a node process");
  });

  it("refuses a test knob without --unsafe-test-knobs, naming the knob and the flag; with the flag it starts and warns", async () => {
    poi(["localnet", "stop", "--home", home]);
    const cfgFile = path.join(node, "config", "app.json");
    const cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8"));
    fs.writeFileSync(cfgFile, JSON.stringify({ ...cfg, verifier_fault: { invert_verdicts: true } }, null, 2));
    for (const args of [["start", "--home", node, "--with-cometbft"], ["start", "--home", node]]) {
      const r = poi(args, { allowFail: true });
      assert.equal(r.code, 1, `poi ${args.join(" ")}`);
      assert.match(r.stderr, /sets the test knob "verifier_fault" .*refused unless the node is started with --unsafe-test-knobs/);
    }
    const refused = poi(["localnet", "start", "--home", home, "--detach"], { allowFail: true });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /node0 exited during start[\s\S]*--unsafe-test-knobs/);
    assert.equal(await height(url), -1, "the node did not start");

    poi(["localnet", "start", "--home", home, "--detach", "--unsafe-test-knobs"]);
    assert.match(fs.readFileSync(path.join(node, "app.log"), "utf8"), /WARNING: TEST KNOB IN EFFECT \(--unsafe-test-knobs\): verifier_fault/);
  });

  it("a SIGKILLed cometbft takes its app down (SIGTERM); both come back, with the test-knob flag, and blocks go on", async () => {
    const before = await waitForPair(node);
    const h0 = await height(url);
    const warnings = () => (fs.readFileSync(path.join(node, "app.log"), "utf8").match(/TEST KNOB IN EFFECT/g) ?? []).length;
    const w0 = warnings();
    process.kill(before.cometbft, "SIGKILL");
    assert.ok(await waitDead(before.app, CRASH_GRACE_MS + 2_000), "the app stops once its cometbft is gone");
    const after = await waitForPair(node);
    assert.equal(after.supervisor, before.supervisor);
    assert.notEqual(after.app, before.app);
    await waitForHeight(url, h0 + 3);
    assert.equal(warnings(), w0 + 1, "the restarted app runs with the flag (and warns again)");
    assert.match(fs.readFileSync(path.join(node, "app.log"), "utf8"), /poi app stopping \(SIGTERM\)/);
  });

  it("localnet start clears a hung cometbft left by a SIGKILLed supervisor, but not an unrelated process whose pid is recorded", async () => {
    const p = await waitForPair(node);
    // A cometbft hung for good (SIGSTOP: it can only be SIGKILLed), then its supervisor dies.
    process.kill(p.cometbft, "SIGSTOP");
    process.kill(p.supervisor, "SIGKILL");
    // The app follows its supervisor (IPC channel closed); the cometbft child is an orphan now.
    assert.ok(await waitDead(p.app, 10_000), "the app stops when its supervisor is gone");
    assert.ok(isAlive(p.cometbft), "the hung cometbft outlives its supervisor");
    assert.ok(!statusJson(home)[0].running, "status: not running (no supervisor)");
    const unrelated = spawn("sleep", ["120"], { stdio: "ignore" });
    writePids(node, { ...readPids(node), app: unrelated.pid });
    try {
      const r = poi(["localnet", "start", "--home", home, "--detach", "--unsafe-test-knobs"]);
      assert.match(r.stderr, new RegExp(`stopping leftover processes ${p.cometbft} recorded in its pid file`));
      assert.ok(!isAlive(p.cometbft), "the leftover cometbft is gone");
      assert.ok(isAlive(unrelated.pid), "a process that is not the node's is left alone");
      const now = await waitForPair(node);
      assert.notEqual(now.cometbft, p.cometbft);
      const h = await height(url);
      await waitForHeight(url, h + 3);
      assert.ok(statusJson(home)[0].running);
    } finally {
      unrelated.kill("SIGKILL");
    }
  });

  it("localnet stop ends the supervisor, the app and cometbft", async () => {
    const p = await waitForPair(node);
    poi(["localnet", "stop", "--home", home]);
    for (const pid of [p.supervisor, p.app, p.cometbft]) assert.ok(!isAlive(pid), `pid ${pid} still alive`);
    assert.ok(statusJson(home).every((s) => !s.running && s.height === null));
  });
});
