/**
 * The two networks the throughput benchmark compares, laid out alike: `initNetwork` writes the node
 * homes (our cometbft/config-overrides.toml and genesis template, node i on base+100i: p2p, RPC, ABCI).
 *   poi:     `poi localnet start --detach` (our app, `poi start --with-cometbft` per node)
 *   kvstore: the same homes, each node's proxy_app address served by its own `abci-cli kvstore`
 *            (CometBFT's example app, over the same socket protocol), then `cometbft start`.
 * A network reports the CPU seconds its app and cometbft processes have used, summed over the nodes.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { initNetwork, portsFor } from "../src/cli/home";
import { readLayout } from "../src/cli/localnet";
import { readPids } from "../src/cli/node";
import { resolveCometbft, PROJECT_ROOT } from "../src/cli/cometbft-bin";
import { height, poi, sleep } from "../test/helpers/chain";
import { portFree, tail } from "./bench-load";

/** poi-base: our app as built in another checkout (`--baseline DIR`), for before/after figures in one run. */
export type AppName = "poi" | "poi-base" | "kvstore";

export interface BenchNet {
  app: AppName;
  home: string;
  rpcUrls: string[];
  nodeHomes: string[];
  /** CPU seconds (user + system) used so far by the app processes and by the cometbft processes, over all nodes */
  cpu(): { app: number; cometbft: number };
  stop(): Promise<void>;
}

let clockTicks: number | undefined;

/** utime + stime of a process in seconds, from /proc/<pid>/stat (0 once it is gone). */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from the 3rd (state) on
    return (Number(fields[11]) + Number(fields[12])) / clockTicks; // utime, stime: the 14th and 15th
  } catch {
    return 0;
  }
}

/** Path of CometBFT's abci-cli v0.38.x, installing it into .bin/ when needed. */
export function resolveAbciCli(): string {
  const r = spawnSync("bash", [path.join(PROJECT_ROOT, "scripts", "install-cometbft.sh"), "abci-cli"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) throw new Error(`scripts/install-cometbft.sh abci-cli failed (${r.status}):\n${r.stderr}`);
  return r.stdout.trim().split("\n").pop()!;
}

async function assertPortsFree(validators: number, basePort: number): Promise<void> {
  for (let i = 0; i < validators; i++) {
    const p = portsFor(basePort, i);
    for (const port of [p.p2p, p.rpc, p.abci]) {
      // A port can stay busy for a moment after the previous run's processes exit.
      let free = await portFree(port);
      for (let tries = 0; !free && tries < 50; tries++) {
        await sleep(200);
        free = await portFree(port);
      }
      if (!free) throw new Error(`port ${port} is in use: the benchmark needs ${basePort}..${basePort + 100 * (validators - 1) + 2} (choose another --base-port)`);
    }
  }
}

/** `baselineDir`: a built checkout whose `poi` (dist/src/cli/main.js) runs the network instead of ours. */
export async function startPoiNet(home: string, validators: number, basePort: number, baselineDir?: string): Promise<BenchNet> {
  await assertPortsFree(validators, basePort);
  const cli = (args: string[]) => {
    if (!baselineDir) return poi(args);
    const r = spawnSync(process.execPath, [path.join(baselineDir, "dist", "src", "cli", "main.js"), ...args], { encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0) throw new Error(`${baselineDir}: poi ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  };
  const stop = async () => {
    cli(["localnet", "stop", "--home", home]);
  };
  // On a failed start, `localnet start` has stopped whatever it started and names the node that failed.
  cli(["localnet", "start", "--validators", String(validators), "--home", home, "--base-port", String(basePort), "--detach"]);
  // The CLI ran synchronously: undici (CosmJS's fetch) has not yet seen that the previous network
  // closed its pooled keep-alive sockets to these same ports. Let the event loop take those closes
  // first, or the next fetch may pick a dead socket ("fetch failed" when a poi run follows a poi run).
  await sleep(500);
  const layout = readLayout(home)!;
  const nodeHomes = layout.nodes.map((n) => n.home);
  const pids = nodeHomes.map((h) => readPids(h) ?? { app: 0 });
  return {
    app: baselineDir ? "poi-base" : "poi", home, nodeHomes, stop,
    rpcUrls: layout.nodes.map((n) => `http://127.0.0.1:${n.ports.rpc}`),
    cpu: () => ({ app: sum(pids.map((p) => cpuSeconds(p.app))), cometbft: sum(pids.map((p) => cpuSeconds(p.cometbft))) }),
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}

const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

async function stopChildren(children: ChildProcess[]): Promise<void> {
  const live = children.filter(running);
  const exited = live.map((c) => new Promise((r) => c.once("exit", r)));
  for (const c of live) c.kill("SIGTERM");
  const timer = setTimeout(() => { for (const c of live) if (running(c)) c.kill("SIGKILL"); }, 15_000);
  await Promise.all(exited);
  clearTimeout(timer);
}

export async function startKvstoreNet(home: string, validators: number, basePort: number, abciCli: string): Promise<BenchNet> {
  await assertPortsFree(validators, basePort);
  const { nodes } = await initNetwork({ home, validators, basePort });
  const cometbft = resolveCometbft();
  const apps: ChildProcess[] = [];
  const comets: ChildProcess[] = [];
  const stop = async () => {
    await stopChildren(comets); // cometbft first: it treats its app going away as fatal
    await stopChildren(apps);
  };
  const spawnLogged = (bin: string, args: string[], log: string) => {
    const out = fs.openSync(log, "a");
    const child = spawn(bin, args, { stdio: ["ignore", out, out] });
    fs.closeSync(out);
    return child;
  };
  const died = () => nodes.filter((_, i) => !running(apps[i]) || (comets[i] && !running(comets[i])));
  const failure = async (what: string) => {
    const logs = nodes.map((n) => `--- ${n.moniker} app.log\n${tail(path.join(n.home, "app.log"))}\n--- ${n.moniker} cometbft.log\n${tail(path.join(n.home, "cometbft.log"))}`).join("\n");
    await stop();
    return new Error(`kvstore network: ${what}\n${logs}`);
  };
  try {
    for (const n of nodes) {
      apps.push(spawnLogged(abciCli, ["kvstore", "--address", `tcp://127.0.0.1:${n.ports.abci}`, "--persist", path.join(n.home, "data", "kvstore")], path.join(n.home, "app.log")));
    }
    // cometbft gives up at once if its app does not answer, so wait for every kvstore to listen.
    const deadline = Date.now() + 30_000;
    for (const n of nodes) {
      while (!(await canConnect(n.ports.abci))) {
        if (died().length || Date.now() > deadline) throw await failure(`abci-cli kvstore of ${n.moniker} did not listen on ${n.ports.abci}`);
        await sleep(100);
      }
    }
    for (const n of nodes) comets.push(spawnLogged(cometbft, ["start", "--home", n.home], path.join(n.home, "cometbft.log")));
    const rpcUrls = nodes.map((n) => `http://127.0.0.1:${n.ports.rpc}`);
    const upBy = Date.now() + 180_000;
    for (;;) {
      const heights = await Promise.all(rpcUrls.map((u) => height(u)));
      if (heights.every((h) => h >= 1)) break;
      const dead = died();
      if (dead.length) throw await failure(`${dead.map((n) => n.moniker).join(", ")} exited during start`);
      if (Date.now() > upBy) throw await failure("no blocks within 180 s");
      await sleep(250);
    }
    return {
      app: "kvstore", home, rpcUrls, stop, nodeHomes: nodes.map((n) => n.home),
      cpu: () => ({ app: sum(apps.map((c) => cpuSeconds(c.pid))), cometbft: sum(comets.map((c) => cpuSeconds(c.pid))) }),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
