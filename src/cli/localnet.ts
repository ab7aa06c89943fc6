import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { initNetwork, type NodePorts } from "./home";
import { isAlive, readPids } from "./node";

export interface NetworkLayout {
  validators: number;
  basePort: number;
  /** `ports` of homes made before the REST API lack rest, metrics and cometbftMetrics. */
  nodes: Array<{ home: string; moniker: string; ports: Pick<NodePorts, "p2p" | "rpc" | "abci"> & Partial<NodePorts>; nodeId: string }>;
}

export interface NodeStatus {
  moniker: string;
  rpc: string;
  /** REST API (gRPC-gateway JSON); its explorer page is at rest + "/explorer/". */
  rest: string | null;
  /** The app's Prometheus metrics and CometBFT's. */
  metrics: string | null;
  cometbftMetrics: string | null;
  running: boolean;
  height: number | null;
  appHash: string | null;
  catchingUp: boolean | null;
}

const MAIN = path.join(__dirname, "main.js");

export function readLayout(home: string): NetworkLayout | undefined {
  const file = path.join(home, "network.json");
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as NetworkLayout) : undefined;
}

/** Spawns a detached `poi start --with-cometbft` for one node home, logging to <node>/app.log. */
export function spawnNode(nodeHome: string): number {
  const out = fs.openSync(path.join(nodeHome, "app.log"), "a");
  const child = spawn(process.execPath, [MAIN, "start", "--home", nodeHome, "--with-cometbft"], {
    detached: true,
    stdio: ["ignore", out, out],
  });
  child.unref();
  fs.closeSync(out);
  return child.pid!;
}

export async function rpcStatus(rpc: string): Promise<{ height: number; appHash: string; catchingUp: boolean } | undefined> {
  try {
    const res = await fetch(`${rpc}/status`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { result: { sync_info: { latest_block_height: string; latest_app_hash: string; catching_up: boolean } } };
    const s = body.result.sync_info;
    return { height: Number(s.latest_block_height), appHash: s.latest_app_hash, catchingUp: s.catching_up };
  } catch {
    return undefined;
  }
}

export async function networkStatus(home: string): Promise<NodeStatus[]> {
  const layout = readLayout(home);
  if (!layout) throw new Error(`no localnet in ${home}: run 'poi localnet start --home ${home}'`);
  return Promise.all(
    layout.nodes.map(async (n) => {
      const rpc = `http://127.0.0.1:${n.ports.rpc}`;
      const s = await rpcStatus(rpc);
      const url = (port?: number, route = "") => (port ? `http://127.0.0.1:${port}${route}` : null);
      return {
        moniker: n.moniker, rpc, rest: url(n.ports.rest), metrics: url(n.ports.metrics, "/metrics"), cometbftMetrics: url(n.ports.cometbftMetrics, "/metrics"),
        running: isAlive(readPids(n.home)?.app),
        height: s?.height ?? null, appHash: s?.appHash ?? null, catchingUp: s?.catchingUp ?? null,
      };
    }),
  );
}

/** The last lines of a node's app and cometbft logs, for start failures (CI keeps no homes). */
function logTails(n: { home: string; moniker: string }, lines = 15): string {
  const tail = (file: string) => {
    if (!fs.existsSync(file)) return "  (no file)";
    const all = fs.readFileSync(file, "utf8").trimEnd().split("\n");
    return all.slice(-lines).map((l) => `  ${l}`).join("\n");
  };
  return [
    `${n.moniker} app.log (last ${lines} lines):`, tail(path.join(n.home, "app.log")),
    `${n.moniker} cometbft.log (last ${lines} lines):`, tail(path.join(n.home, "cometbft.log")),
  ].join("\n");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Initialises the network if `home` is empty, then starts every node that is not running. */
export async function startLocalnet(opts: { home: string; validators: number; basePort: number; timeoutCommit?: string }, log: (m: string) => void): Promise<NetworkLayout> {
  const t0 = Date.now();
  if (!readLayout(opts.home)) {
    log(`initialising a ${opts.validators}-validator localnet in ${opts.home}`);
    await initNetwork({ home: opts.home, validators: opts.validators, basePort: opts.basePort, timeoutCommit: opts.timeoutCommit });
  }
  const layout = readLayout(opts.home)!;
  const supervisors = new Map<string, number | undefined>(); // moniker -> pid of its `poi start`
  for (const n of layout.nodes) {
    const running = readPids(n.home)?.app;
    if (isAlive(running)) { supervisors.set(n.moniker, running); continue; }
    const pid = spawnNode(n.home);
    supervisors.set(n.moniker, pid);
    const rest = n.ports.rest ? `, rest http://127.0.0.1:${n.ports.rest}` : "";
    log(`started ${n.moniker} (pid ${pid}): rpc http://127.0.0.1:${n.ports.rpc}${rest}, log ${path.join(n.home, "app.log")}`);
  }
  // Up means every node answers RPC and has committed a block. A node whose supervisor exited
  // (e.g. a port already taken) fails the start at once, with the end of its logs.
  const deadline = Date.now() + 180_000;
  for (;;) {
    const st = await networkStatus(opts.home);
    if (st.every((s) => s.height !== null && s.height >= 1)) break;
    const dead = layout.nodes.filter((n) => !isAlive(supervisors.get(n.moniker)));
    if (dead.length > 0) {
      const tails = dead.map(logTails).join("\n"); // read before stopping, which appends to the logs
      await stopLocalnet(opts.home, log); // a half-started network is of no use; stop the rest
      throw new Error(`localnet: ${dead.map((n) => n.moniker).join(", ")} exited during start\n${tails}`);
    }
    if (Date.now() > deadline) {
      const stuck = layout.nodes.filter((_, i) => !(st[i].height !== null && st[i].height! >= 1));
      const tails = stuck.map(logTails).join("\n");
      await stopLocalnet(opts.home, log);
      throw new Error(`localnet did not produce blocks within 180 s (stuck: ${stuck.map((n) => n.moniker).join(", ")})\n${tails}`);
    }
    await sleep(250);
  }
  log(`localnet up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return layout;
}

/** SIGTERM every node supervisor (it stops its cometbft), then SIGKILL whatever is left after 20 s. */
export async function stopLocalnet(home: string, log: (m: string) => void): Promise<void> {
  const layout = readLayout(home);
  if (!layout) return;
  const pids = layout.nodes.map((n) => readPids(n.home)).filter((p) => p !== undefined);
  for (const p of pids) if (isAlive(p.app)) process.kill(p.app, "SIGTERM");
  const deadline = Date.now() + 20_000;
  while (pids.some((p) => isAlive(p.app) || isAlive(p.cometbft)) && Date.now() < deadline) await sleep(100);
  for (const p of pids) for (const pid of [p.app, p.cometbft]) if (isAlive(pid)) process.kill(pid!, "SIGKILL");
  log(`localnet in ${home} stopped`);
}

export async function resetLocalnet(home: string, log: (m: string) => void): Promise<void> {
  await stopLocalnet(home, log);
  if (fs.existsSync(home)) fs.rmSync(home, { recursive: true, force: true });
  log(`removed ${home}`);
}
