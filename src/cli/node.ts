import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { AbciServer } from "../abci/server";
import { PoiApp } from "../app/app";
import { resolveCometbft } from "./cometbft-bin";
import { readAppConfig } from "./home";
import { VerifierService } from "../x/poi/verify/service";
import { loadValidatorIdentity } from "./validator-identity";
import { startNodeServices } from "./node-services";

/** Where a node's supervisor records its own pid and its cometbft's, for `localnet stop` and tests. */
export const PID_FILE = "poi.pids.json";

export interface NodePids {
  app: number;
  cometbft?: number;
}

export function readPids(home: string): NodePids | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(home, PID_FILE), "utf8")) as NodePids;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function stamp(msg: string): string {
  return `${new Date().toISOString()} ${msg}`;
}

/**
 * `poi start`: serve ABCI for the node at `home`; with `withCometbft`, also run `cometbft start` as a
 * child. If cometbft exits on its own, the app stops too (exit 1) rather than run headless; SIGINT or
 * SIGTERM stops cometbft first, then closes the store.
 */
export async function startNode(home: string, withCometbft: boolean): Promise<void> {
  const cfg = readAppConfig(home);
  const log = (m: string) => process.stderr.write(stamp(m) + "\n");
  const app = await PoiApp.open(path.join(home, "data", "poi-app"), { maxTxBytes: cfg.max_tx_bytes, minGasPrices: cfg.min_gas_prices, log });
  // Every node verifies: it re-executes sampled items and votes through its vote extensions.
  const verifier = new VerifierService(app, loadValidatorIdentity(home), { fault: cfg.verifier_fault, log });
  app.poiModule.setVerifier(verifier);
  if (cfg.verifier_fault) log(`TEST FAULT in effect for this validator's verifier: ${JSON.stringify(cfg.verifier_fault)}`);
  const server = new AbciServer(app, { log });
  await server.listen(cfg.abci_listen);
  log(`poi app listening on ${cfg.abci_listen} (height ${app.store.lastHeight})`);
  // REST API + explorer and Prometheus metrics (src/cli/node-services.ts); they live as long as the process.
  await startNodeServices({ app, verifier, config: cfg, log });

  let child: ChildProcess | undefined;
  let stopping = false;
  const pids: NodePids = { app: process.pid };
  const writePids = () => fs.writeFileSync(path.join(home, PID_FILE), JSON.stringify(pids));

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child!.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await server.close();
    await verifier.close();
    await app.close();
    log(`poi node stopped`);
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));

  if (withCometbft) {
    const out = fs.openSync(path.join(home, "cometbft.log"), "a");
    child = spawn(resolveCometbft(), ["start", "--home", home], { stdio: ["ignore", out, out] });
    pids.cometbft = child.pid;
    child.on("exit", (code, signal) => {
      if (stopping) return;
      log(`cometbft exited (code ${code}, signal ${signal}); see ${path.join(home, "cometbft.log")}`);
      void shutdown(1);
    });
    log(`cometbft started (pid ${child.pid}), log in ${path.join(home, "cometbft.log")}`);
  }
  writePids();
}
