import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { initNetwork, type NodePorts } from "./home";
import { isNodeProcess, ownerPid, readPids } from "./node";
import { UNSAFE_TEST_KNOBS_FLAG } from "./test-knobs";

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

/** Spawns a detached `poi start --with-cometbft` (the node's supervisor) for one node home, logging to <node>/app.log. */
export function spawnNode(nodeHome: string, opts: { unsafeTestKnobs?: boolean } = {}): number {
  const out = fs.openSync(path.join(nodeHome, "app.log"), "a");
  const args = [MAIN, "start", "--home", nodeHome, "--with-cometbft", ...(opts.unsafeTestKnobs ? [UNSAFE_TEST_KNOBS_FLAG] : [])];
  const child = spawn(process.execPath, args, {
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
        running: nodeRunning(n.home),
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

/** process.kill that ignores a process that exited meanwhile. */
function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Whether the node's owner (its supervisor, or a bare app) is alive and really is this node's process. */
export function nodeRunning(home: string): boolean {
  return isNodeProcess(ownerPid(readPids(home)), home);
}

/** Every process recorded in the node's pid file that is alive and really is this node's (see isNodeProcess). */
function recordedProcesses(home: string): number[] {
  const p = readPids(home);
  return [p?.supervisor, p?.app, p?.cometbft].filter((pid): pid is number => isNodeProcess(pid, home));
}

/**
 * SIGTERMs the given processes of the node at `home`, waits up to `graceMs` for them to exit, then
 * SIGKILLs what is left. Only processes that still are this node's are signalled.
 */
async function terminate(home: string, pids: number[], graceMs: number): Promise<void> {
  const ours = () => pids.filter((pid) => isNodeProcess(pid, home));
  for (const pid of ours()) signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (ours().length > 0 && Date.now() < deadline) await sleep(100);
  for (const pid of ours()) signal(pid, "SIGKILL");
  while (pids.some((pid) => isNodeProcess(pid, home))) await sleep(50);
}

/**
 * Kills whatever is left of an earlier run of a node that is not running as a whole (no live
 * supervisor): e.g. a cometbft that outlived a SIGKILLed supervisor and still holds the ports.
 */
export async function clearStrays(home: string, log: (m: string) => void): Promise<number[]> {
  const strays = recordedProcesses(home);
  if (strays.length === 0) return [];
  log(`${home}: stopping leftover processes ${strays.join(", ")} recorded in its pid file`);
  await terminate(home, strays, 5_000);
  return strays;
}

/** Initialises the network if `home` is empty, then starts every node that is not running. */
export async function startLocalnet(
  opts: { home: string; validators: number; basePort: number; timeoutCommit?: string; unsafeTestKnobs?: boolean; economics?: boolean }, log: (m: string) => void,
): Promise<NetworkLayout> {
  const t0 = Date.now();
  if (!readLayout(opts.home)) {
    log(`initialising a ${opts.validators}-validator localnet in ${opts.home}`);
    await initNetwork({ home: opts.home, validators: opts.validators, basePort: opts.basePort, timeoutCommit: opts.timeoutCommit, economics: opts.economics });
  }
  const layout = readLayout(opts.home)!;
  const supervisors = new Map<string, number | undefined>(); // moniker -> pid of its `poi start`
  for (const n of layout.nodes) {
    if (nodeRunning(n.home)) { supervisors.set(n.moniker, ownerPid(readPids(n.home))); continue; }
    await clearStrays(n.home, log);
    const pid = spawnNode(n.home, { unsafeTestKnobs: opts.unsafeTestKnobs });
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
    const dead = layout.nodes.filter((n) => !isNodeProcess(supervisors.get(n.moniker), n.home));
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

/**
 * SIGTERMs every node's supervisor (it stops its app and cometbft), then SIGKILLs whatever recorded
 * process of the node is left after 20 s.
 */
export async function stopLocalnet(home: string, log: (m: string) => void): Promise<void> {
  const layout = readLayout(home);
  if (!layout) return;
  await Promise.all(layout.nodes.map(async (n) => {
    const all = recordedProcesses(n.home);
    const owner = ownerPid(readPids(n.home));
    if (owner && all.includes(owner)) {
      signal(owner, "SIGTERM");
      const deadline = Date.now() + 20_000;
      while (all.some((pid) => isNodeProcess(pid, n.home)) && Date.now() < deadline) await sleep(100);
    }
    await terminate(n.home, all, 0);
  }));
  log(`localnet in ${home} stopped`);
}

export async function resetLocalnet(home: string, log: (m: string) => void): Promise<void> {
  await stopLocalnet(home, log);
  if (fs.existsSync(home)) fs.rmSync(home, { recursive: true, force: true });
  log(`removed ${home}`);
}
