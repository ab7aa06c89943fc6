import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readPids, isAlive, ownerPid } from "../../src/cli/node";
import { readLayout, type NodeStatus } from "../../src/cli/localnet";

export const CLI = path.resolve(__dirname, "..", "..", "src", "cli", "main.js");

export function tmpHome(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `poi-${name}-`));
}

/**
 * Runs the real `poi` CLI and returns its output; throws with stderr if it fails.
 * `input` is fed to its stdin (otherwise stdin is empty); `env` is added to the environment.
 */
export function poi(args: string[], opts: { allowFail?: boolean; input?: string; env?: NodeJS.ProcessEnv } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8", timeout: 300_000, input: opts.input ?? "", env: opts.env ? { ...process.env, ...opts.env } : process.env,
  });
  const out = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  if (!opts.allowFail && out.code !== 0) throw new Error(`poi ${args.join(" ")} failed (${out.code}):\n${out.stderr}`);
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function rpc<T = any>(url: string, route: string): Promise<T> {
  const res = await fetch(`${url}/${route}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { result?: T; error?: unknown };
  if (!body.result) throw new Error(`rpc ${route}: ${JSON.stringify(body.error)}`);
  return body.result;
}

export async function height(url: string): Promise<number> {
  try {
    const s = await rpc<{ sync_info: { latest_block_height: string } }>(url, "status");
    return Number(s.sync_info.latest_block_height);
  } catch {
    return -1;
  }
}

export async function waitForHeight(url: string, h: number, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await height(url);
    if (got >= h) return got;
    if (Date.now() > deadline) throw new Error(`${url} did not reach height ${h} in ${timeoutMs} ms (at ${got})`);
    await sleep(200);
  }
}

/** The app hash recorded in the header of block `h` (the state after block h-1). */
export async function headerAppHash(url: string, h: number): Promise<string> {
  const b = await rpc<{ block: { header: { app_hash: string } } }>(url, `block?height=${h}`);
  return b.block.header.app_hash;
}

export function statusJson(home: string): NodeStatus[] {
  return JSON.parse(poi(["localnet", "status", "--home", home, "--json"]).stdout) as NodeStatus[];
}

export function rpcUrls(home: string): string[] {
  return readLayout(home)!.nodes.map((n) => `http://127.0.0.1:${n.ports.rpc}`);
}

export function nodeHomes(home: string): string[] {
  return readLayout(home)!.nodes.map((n) => n.home);
}

/**
 * SIGKILLs `pid` unless it is gone already: a cometbft quits by itself once its app's connection
 * fails, so after its app's SIGKILL it may have exited (and been reaped) before this call.
 */
export function sigkillUnlessGone(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

/** SIGKILLs a node's app and its cometbft, as a crash would, and waits until both are gone (its supervisor then restarts them). */
export async function kill9(nodeHome: string): Promise<void> {
  const p = readPids(nodeHome);
  if (!p) throw new Error(`no pid file in ${nodeHome}`);
  for (const pid of [p.app, p.cometbft]) if (pid) sigkillUnlessGone(pid);
  while (isAlive(p.app) || isAlive(p.cometbft)) await sleep(50);
}

/** The node's pid file once it records live app and cometbft processes (after a start or a restart by its supervisor). */
export async function waitForPair(nodeHome: string, timeoutMs = 60_000): Promise<{ supervisor: number; app: number; cometbft: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = readPids(nodeHome);
    if (p?.supervisor && p.app && p.cometbft && isAlive(p.app) && isAlive(p.cometbft)) return p as { supervisor: number; app: number; cometbft: number };
    if (Date.now() > deadline) throw new Error(`${nodeHome}: no live app and cometbft recorded within ${timeoutMs} ms (${JSON.stringify(p)})`);
    await sleep(100);
  }
}

/** Starts `poi start --home H --with-cometbft` in the background (logs to H/app.log). */
export function startSingle(nodeHome: string): void {
  const out = fs.openSync(path.join(nodeHome, "app.log"), "a");
  const child = spawn(process.execPath, [CLI, "start", "--home", nodeHome, "--with-cometbft"], { detached: true, stdio: ["ignore", out, out] });
  child.unref();
  fs.closeSync(out);
}

/** SIGTERMs a node's supervisor and waits for it, its app and its cometbft to exit. */
export async function stopSingle(nodeHome: string): Promise<void> {
  const p = readPids(nodeHome);
  if (!p) return;
  const owner = ownerPid(p);
  if (owner && isAlive(owner)) process.kill(owner, "SIGTERM");
  const all = [p.supervisor, p.app, p.cometbft].filter((pid): pid is number => pid !== undefined);
  const deadline = Date.now() + 30_000;
  while (all.some(isAlive) && Date.now() < deadline) await sleep(100);
  for (const pid of all) if (isAlive(pid)) process.kill(pid, "SIGKILL");
}

export function removeHome(home: string): void {
  if (!process.env.POI_KEEP_TEST_HOMES) fs.rmSync(home, { recursive: true, force: true });
}
