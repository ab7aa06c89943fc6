import * as fs from "node:fs";
import * as path from "node:path";
import { AbciServer } from "../abci/server";
import { PoiApp } from "../app/app";
import { readAppConfig } from "./home";
import { testKnobsInEffect } from "./test-knobs";
import { VerifierService } from "../x/poi/verify/service";
import { loadValidatorIdentity } from "./validator-identity";
import { startNodeServices } from "./node-services";

/**
 * Where a node records the pids of its processes, for `localnet start/stop/status` and tests:
 * `supervisor` (`poi start --with-cometbft`), its `app` and `cometbft` children. A bare `poi start`
 * (app only, no supervisor) records only `app`.
 */
export const PID_FILE = "poi.pids.json";

export interface NodePids {
  supervisor?: number;
  app?: number;
  cometbft?: number;
}

export function readPids(home: string): NodePids | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(home, PID_FILE), "utf8")) as NodePids;
  } catch {
    return undefined;
  }
}

/** Written to a temporary file and renamed, so a reader never sees half a file. */
export function writePids(home: string, pids: NodePids): void {
  const file = path.join(home, PID_FILE);
  fs.writeFileSync(file + ".tmp", JSON.stringify(pids));
  fs.renameSync(file + ".tmp", file);
}

/** The process that owns the node: stopping it (SIGTERM) stops the whole node. */
export function ownerPid(p: NodePids | undefined): number | undefined {
  return p?.supervisor ?? p?.app;
}

/** Whether `pid` is a running process (an exited one that its parent has not reaped yet is not). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // "PID (comm) S ...": the state follows the last ')'; Z = zombie.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/**
 * Whether `pid` is a live process of the node at `home`: its command line (/proc/PID/cmdline) is a
 * `start` with `--home` naming this home (relative homes are resolved against the process's cwd).
 * That is true of the supervisor, the app (`poi start`) and `cometbft start`, and false of whatever
 * unrelated process got the pid after ours exited.
 */
export function isNodeProcess(pid: number | undefined, home: string): boolean {
  if (!pid || !isAlive(pid)) return false;
  let args: string[];
  let cwd: string;
  try {
    args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return false; // gone meanwhile, not ours to read, or no /proc
  }
  if (!args.includes("start")) return false;
  const i = args.indexOf("--home");
  const given = i >= 0 ? args[i + 1] : args.find((a) => a.startsWith("--home="))?.slice("--home=".length);
  return given !== undefined && path.resolve(cwd, given) === path.resolve(home);
}

function stamp(msg: string): string {
  return `${new Date().toISOString()} ${msg}`;
}

export const stampedLog = (m: string) => process.stderr.write(stamp(m) + "\n");

/** What a supervised app tells its supervisor over the IPC channel. */
export type AppReport = { type: "listening" } | { type: "progress"; height: string };

/**
 * `poi start` without --with-cometbft: serve ABCI for the node at `home` until SIGINT or SIGTERM
 * (then close the store). Run by a supervisor (an IPC channel is open), it reports when it listens
 * and when it first commits a block, and stops when the supervisor goes away; run bare, it records
 * its own pid in poi.pids.json. Test knobs in config/app.json are refused unless `unsafeTestKnobs`.
 */
export async function startApp(home: string, opts: { unsafeTestKnobs: boolean }): Promise<void> {
  const cfg = readAppConfig(home);
  const log = stampedLog;
  const knobs = testKnobsInEffect(home, cfg, opts.unsafeTestKnobs);
  for (const k of knobs) log(`WARNING: TEST KNOB IN EFFECT (--unsafe-test-knobs): ${k}`);
  const app = await PoiApp.open(path.join(home, "data", "poi-app"), { maxTxBytes: cfg.max_tx_bytes, minGasPrices: cfg.min_gas_prices, log });
  // Every node verifies: it re-executes sampled items and votes through its vote extensions.
  const verifier = new VerifierService(app, loadValidatorIdentity(home), { fault: cfg.verifier_fault, log, stateDir: path.join(home, "data") });
  app.poiModule.setVerifier(verifier);
  const server = new AbciServer(app, { log });
  await server.listen(cfg.abci_listen);
  log(`poi app listening on ${cfg.abci_listen} (height ${app.store.lastHeight}, pid ${process.pid})`);
  // REST API + explorer and Prometheus metrics (src/cli/node-services.ts); they live as long as the process.
  await startNodeServices({ app, verifier, config: cfg, log });

  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`poi app stopping (${why})`);
    await server.close();
    await verifier.close();
    await app.close();
    log(`poi app stopped`);
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  const report = process.send?.bind(process);
  if (!report) {
    writePids(home, { app: process.pid });
    return;
  }
  process.on("disconnect", () => void shutdown("its supervisor is gone"));
  report({ type: "listening" } satisfies AppReport);
  const startHeight = app.store.lastHeight;
  const watch = setInterval(() => {
    if (app.store.lastHeight <= startHeight || !process.connected) return;
    clearInterval(watch);
    report({ type: "progress", height: app.store.lastHeight.toString() } satisfies AppReport);
  }, 250);
}
