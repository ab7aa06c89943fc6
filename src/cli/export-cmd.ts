/**
 * `poi export --home DIR [--height H] [--out FILE]`: a CometBFT genesis.json holding the node's
 * full state at height H (default: its last committed height), from which a new chain starts at
 * height H+1. The node must be stopped (its LevelDB store admits one process).
 *
 * Validators: `validators` (and app_state.valset) is the set at H. A chain started from the file
 * as is needs those validators' keys. To start it under other keys, replace `validators` with the
 * new set: when genesis.json lists validators they replace app_state's; with an empty list, the
 * app hands app_state's set to CometBFT.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { PoiApp, hex } from "../app/app";
import { exportAppState } from "../app/export";
import type { ValsetGenesis } from "../x/valset/module";
import { UsageError } from "./common";
import { isNodeProcess, readPids } from "./node";

export interface GenesisDoc {
  genesis_time: string;
  chain_id: string;
  initial_height: string;
  consensus_params: unknown;
  validators: Array<{ address?: string; pub_key: { type: string; value: string }; power: string; name: string }>;
  app_hash: string;
  app_state: Record<string, unknown>;
}

/** RFC 3339 with nanoseconds, as CometBFT writes times. */
function rfc3339(seconds: bigint, nanos: number): string {
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 19) + "." + String(nanos).padStart(9, "0") + "Z";
}

/** Throws if a process of the node at `home` is running. */
export function assertStopped(home: string): void {
  const p = readPids(home);
  const live = [p?.supervisor, p?.app, p?.cometbft].filter((pid) => isNodeProcess(pid, home));
  if (live.length > 0) {
    throw new Error(`the node at ${home} is running (pid ${live.join(", ")}): stop it first ('poi localnet stop' or SIGTERM to pid ${live[0]}); its store admits one process at a time`);
  }
}

/** The genesis of a new chain that continues from the node's state at `height` (default: latest). */
export async function exportGenesis(home: string, height?: bigint): Promise<{ doc: GenesisDoc; appHash: string }> {
  const dir = path.join(home, "data", "poi-app");
  if (!fs.existsSync(dir)) throw new Error(`${dir} does not exist: ${home} is not a node home that has run`);
  assertStopped(home);
  let app: PoiApp;
  try {
    app = await PoiApp.open(dir);
  } catch (err) {
    const cause = (err as { cause?: Error }).cause?.message ?? "";
    throw new Error(`cannot open the store ${dir}: ${(err as Error).message} ${cause} (is the node running?)`);
  }
  try {
    const exp = await exportAppState(app, height ?? app.store.lastHeight);
    const base = JSON.parse(fs.readFileSync(path.join(home, "config", "genesis.json"), "utf8")) as { consensus_params: unknown };
    const valset = exp.appState.valset as ValsetGenesis;
    const doc: GenesisDoc = {
      genesis_time: rfc3339(exp.lastBlock?.timeSeconds ?? 0n, exp.lastBlock?.timeNanos ?? 0),
      chain_id: exp.chainId,
      initial_height: (exp.height + 1n).toString(),
      consensus_params: base.consensus_params,
      validators: (valset.validators ?? []).map((v, i) => ({ ...v, name: v.name ?? `validator${i}` })),
      app_hash: "",
      app_state: exp.appState,
    };
    return { doc, appHash: hex(exp.appHash) };
  } finally {
    await app.close();
  }
}

export async function runExport(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { home: { type: "string" }, height: { type: "string" }, out: { type: "string" } } });
  if (!values.home) throw new UsageError("export needs --home DIR");
  if (values.height !== undefined && !/^[1-9][0-9]{0,18}$/.test(values.height)) throw new UsageError(`--height must be a positive integer, got "${values.height}"`);
  const home = path.resolve(values.home);
  const { doc, appHash } = await exportGenesis(home, values.height === undefined ? undefined : BigInt(values.height));
  const text = JSON.stringify(doc, null, 2) + "\n";
  if (values.out) fs.writeFileSync(values.out, text);
  else process.stdout.write(text);
  const count = (section: unknown, field: string) => ((section as Record<string, unknown[]>)?.[field] ?? []).length;
  const s = doc.app_state;
  process.stderr.write(
    `exported ${doc.chain_id} at height ${BigInt(doc.initial_height) - 1n} (app hash ${appHash}): ${count(s.auth, "accounts")} accounts, ` +
      `${count(s.poi, "models")} models, ${count(s.poi, "datasets")} datasets, ${count(s.poi, "tasks")} tasks, ${doc.validators.length} validators; ` +
      `a chain started from it begins at height ${doc.initial_height}${values.out ? `; written to ${values.out}` : ""}\n`,
  );
}
