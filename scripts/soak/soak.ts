/**
 * Soak and crash test of real localnets (`npm run soak`; a short variant runs in `npm test`).
 *
 * 1. A 4-validator localnet under bank load (pre-signed sends through several lanes) and PoI load
 *    (the demo's requester submitting small MNIST tasks, a worker per operator, operator3 cheating)
 *    takes `perturbations` perturbations of random nodes (kill -9 of the app, of cometbft or of
 *    both; SIGSTOP/SIGCONT of both for 5–10 s), one node at a time, each once the last one has
 *    caught up, until the chain has also made `minBlocks` blocks.
 * 2. Alongside phase 1 (once the demo is up), a 1-validator node under bank load has its app
 *    SIGKILLed `kills` times at random moments; its supervisor restarts it each time.
 * Both chains are then checked (checks.ts): identical header app hashes on every node at every
 * height, every tx committed once, each lane's committed sends = its account's sequence, supply
 * conserved, no app-hash failure in any log. Randomness is seeded (the seed is printed).
 *
 *   npm run soak -- [--seed N] [--perturbations 20] [--kills 50] [--min-blocks 300] [--base-port 31000]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { startLocalnet, stopLocalnet, readLayout } from "../../src/cli/localnet";
import { LINKED_WORKER, runDemo } from "../../src/cli/demo";
import type { TestAccount } from "../../src/cli/home";
import { mulberry32 } from "../../src/util/random";
import { PoiQueryClient } from "../../src/client/query";
import { TaskStatus } from "../../src/x/poi/types";
import { height, sleep, tmpHome, removeHome, waitForHeight, waitForPair } from "../../test/helpers/chain";
import { BankLoad, accountAt, type Lane } from "./bank-load";
import { checkChain, type ChainCheck } from "./checks";
import { perturb, waitCaughtUp, PERTURBATION_KINDS, type Perturbation } from "./perturb";

export interface SoakOptions {
  seed?: number;
  perturbations?: number;
  kills?: number;
  minBlocks?: number;
  /** The 4-validator localnet uses base..base+302, the 1-validator node base+600..base+602. */
  basePort?: number;
  log?: (line: string) => void;
}

export interface KillRecord { atHeight: number; recoverySec: number }

export interface SoakReport {
  seed: number;
  durationSec: number;
  perturbations: Perturbation[];
  kills: KillRecord[];
  multi: ChainCheck;
  single: ChainCheck;
  /** Problems found by the checks; empty when everything holds. */
  problems: string[];
  summary: string[];
}

const stats = (xs: number[]) => {
  if (xs.length === 0) return "-";
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0].toFixed(1)} s, median ${s[Math.floor(s.length / 2)].toFixed(1)} s, max ${s[s.length - 1].toFixed(1)} s`;
};

function accountsOf(home: string): TestAccount[] {
  return JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8")) as TestAccount[];
}

/** Problems of one chain's check, each a line. */
function problemsOf(name: string, c: ChainCheck, lanes: Lane[], sequences: bigint[]): string[] {
  const p: string[] = [];
  if (c.appHashMismatches.length) p.push(`${name}: app hashes differ at ${c.appHashMismatches.length} heights, e.g. ${c.appHashMismatches.slice(0, 3).join("; ")}`);
  if (c.duplicateTxs.length) p.push(`${name}: ${c.duplicateTxs.length} txs committed more than once, e.g. ${c.duplicateTxs.slice(0, 3).join(", ")}`);
  if (!c.conserved) p.push(`${name}: supply ${c.supply} != genesis ${c.genesisSupply} - burned ${c.burned} + minted ${c.minted}`);
  if (c.logFailures.length) p.push(`${name}: ${c.logFailures.length} failure lines in logs, e.g. ${c.logFailures.slice(0, 3).join(" | ")}`);
  lanes.forEach((l, i) => {
    const ok = [...l.signed].filter((h) => c.txCodes.get(h) === 0).length;
    if (BigInt(ok) !== sequences[i]) {
      const other = [...l.signed].filter((h) => c.txCodes.has(h) && c.txCodes.get(h) !== 0).map((h) => `${h.slice(0, 12)}: code ${c.txCodes.get(h)}`);
      p.push(`${name}: lane ${l.address} has ${ok} sends committed with code 0 but sequence ${sequences[i]}; its other committed sends: ${other.join(", ") || "none"}`);
    }
  });
  return p;
}

/** Stops the load, lets the mempools drain, and checks the chain; lane sequences are read at the checked height. */
async function finish(name: string, rpcs: string[], homes: string[], load: BankLoad, log: (l: string) => void) {
  const lanes = await load.stop();
  await waitForHeight(rpcs[0], (await height(rpcs[0])) + 4);
  log(`${name}: checking every height on ${rpcs.length} node(s)...`);
  const check = await checkChain(rpcs, homes);
  const sequences = await Promise.all(lanes.map(async (l) => (await accountAt(rpcs[0], l.address, check.height))?.sequence ?? 0n));
  return { check, lanes, problems: problemsOf(name, check, lanes, sequences) };
}

/** Both results, once both promises have settled; the first rejection otherwise. */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === "rejected") throw ra.reason;
  if (rb.status === "rejected") throw rb.reason;
  return [ra.value, rb.value];
}

/** Phase 1: bank and PoI load on the 4-validator localnet (demo already running), `nPerturb` perturbations and at least `minBlocks` blocks. */
async function perturbPhase(home: string, stopDemo: () => Promise<void>, nPerturb: number, minBlocks: number, rand: () => number, log: (l: string) => void, noiseLog: (l: string) => void) {
  const layout = readLayout(home)!;
  const homes = layout.nodes.map((n) => n.home);
  const rpcs = layout.nodes.map((n) => `http://127.0.0.1:${n.ports.rpc}`);
  const load = new BankLoad(rpcs, laneAccounts(home), "poi-localnet", rand);
  load.start();
  const startHeight = await height(rpcs[0]);
  const perturbations: Perturbation[] = [];
  while (perturbations.length < nPerturb || (await height(rpcs[0])) < startHeight + minBlocks) {
    await sleep(1000 + Math.floor(rand() * 3000));
    const i = Math.floor(rand() * homes.length);
    const kind = PERTURBATION_KINDS[Math.floor(rand() * PERTURBATION_KINDS.length)];
    const p = await perturb(homes, rpcs, i, kind, rand);
    perturbations.push(p);
    log(`  perturbation ${perturbations.length}: ${p.kind} node${p.node} at height ${p.atHeight}: down ${p.downSec.toFixed(1)} s, caught up ${p.recoverySec.toFixed(1)} s later`);
  }
  // The demo's workers end after their step in progress. One whose tx was lost with a killed node's
  // mempool waits out its inclusion timeout (60 s); the checks need not wait for that, and stopping
  // the localnet ends the wait.
  const demoStopped = stopDemo();
  const q = await PoiQueryClient.connect(rpcs[0]);
  const tasks = await q.tasks();
  q.disconnect();
  const result = await finish("4 validators", rpcs, homes, load, log);
  await stopLocalnet(home, noiseLog);
  await demoStopped;
  return { ...result, perturbations, tasks };
}

/** Phase 2: a 1-validator localnet under bank load, whose app is SIGKILLed `nKills` times at random moments. */
async function killPhase(home: string, basePort: number, nKills: number, rand: () => number, log: (l: string) => void, noiseLog: (l: string) => void) {
  await startLocalnet({ home, validators: 1, basePort }, noiseLog);
  const node = readLayout(home)!.nodes[0];
  const url = `http://127.0.0.1:${node.ports.rpc}`;
  const load = new BankLoad([url], laneAccounts(home), "poi-localnet", rand);
  load.start();
  const kills: KillRecord[] = [];
  let last = await height(url);
  for (let k = 0; k < nKills; k++) {
    await waitForHeight(url, last + 2, 180_000); // the restarted app has committed blocks (its backoff is reset)
    await sleep(Math.floor(rand() * 2500));
    const pids = await waitForPair(node.home);
    const atHeight = await height(url);
    const tk = Date.now();
    process.kill(pids.app, "SIGKILL");
    const back = await waitCaughtUp([url], 0, atHeight);
    last = await height(url);
    kills.push({ atHeight, recoverySec: (back - tk) / 1000 });
  }
  const result = await finish("1 validator", [url], [node.home], load, log);
  const replays = (fs.readFileSync(path.join(node.home, "cometbft.log"), "utf8").match(/Replay last block using real app/g) ?? []).length;
  await stopLocalnet(home, noiseLog);
  return { ...result, kills, replays };
}

/** The bank lanes: the user accounts, less the one the demo's linked worker signs with. */
const laneAccounts = (home: string) => accountsOf(home).filter((a) => /^user\d$/.test(a.name) && a.name !== LINKED_WORKER);

export async function runSoak(opts: SoakOptions = {}): Promise<SoakReport> {
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const nPerturb = opts.perturbations ?? 20;
  const nKills = opts.kills ?? 50;
  const minBlocks = opts.minBlocks ?? 300;
  const base = opts.basePort ?? 31000;
  const log = opts.log ?? ((l: string) => console.log(l));
  const t0 = Date.now();
  log(`soak: seed ${seed} (rerun with --seed ${seed}); ${nPerturb} perturbations over >= ${minBlocks} blocks of 4 validators, alongside ${nKills} app kills of 1 validator`);
  const multiHome = tmpHome("soak-4");
  const singleHome = tmpHome("soak-1");
  const noise = fs.createWriteStream(path.join(multiHome, "soak-load.log"));
  const noiseLog = (l: string) => void (noise.writable && noise.write(l + "\n")); // the demo's loops may log after the end
  try {
    await startLocalnet({ home: multiHome, validators: 4, basePort: base }, noiseLog);
    // The demo first: it trains its model on this thread, which would stall the lanes' connections.
    // (Phase 2 started during the training once made the demo's first connection fail: "other side closed".)
    const stopDemo = await runDemo({ home: multiHome, digits: 300, everySeconds: 2, taskItems: { min: 20, max: 60 }, seed, log: noiseLog });
    // The two phases then run side by side, each with its own seeded randomness.
    const [multi, single] = await both(
      perturbPhase(multiHome, stopDemo, nPerturb, minBlocks, mulberry32(seed), log, noiseLog),
      killPhase(singleHome, base + 600, nKills, mulberry32(seed + 1), log, noiseLog),
    );

    const { perturbations, tasks } = multi;
    const { kills, replays } = single;
    const byStatus = (s: TaskStatus) => tasks.filter((t) => t.status === s).length;
    const poiLine = `PoI: ${tasks.length} tasks submitted, ${byStatus(TaskStatus.COMPLETED)} verified, ${tasks.reduce((n, t) => n + t.failedAttempts, 0)} failed attempts (slashed), ${byStatus(TaskStatus.EXPIRED)} expired`;
    const durationSec = (Date.now() - t0) / 1000;
    const problems = [...multi.problems, ...single.problems];
    const c4 = multi.check;
    const c1 = single.check;
    const sends = (lanes: Lane[], c: ChainCheck) => lanes.reduce((n, l) => n + [...l.signed].filter((h) => c.txCodes.get(h) === 0).length, 0);
    const summary = [
      `soak summary (seed ${seed}, ${durationSec.toFixed(0)} s):`,
      `  4 validators: ${c4.height} blocks, ${perturbations.length} perturbations (${PERTURBATION_KINDS.map((k) => `${perturbations.filter((p) => p.kind === k).length} ${k}`).join(", ")})`,
      `    recovery (back at the others' height): ${stats(perturbations.map((p) => p.recoverySec))}`,
      ...PERTURBATION_KINDS.map((k) => `      ${k}: ${stats(perturbations.filter((p) => p.kind === k).map((p) => p.recoverySec))}`),
      `    txs committed ${c4.txs} (${sends(multi.lanes, c4)} lane sends), each once: ${c4.duplicateTxs.length === 0 ? "yes" : "NO"}; app hashes equal on ${c4.nodes} nodes at all ${c4.height} heights: ${c4.appHashMismatches.length === 0 ? "yes" : "NO"}`,
      `    supply ${c4.supply} = genesis ${c4.genesisSupply} - burned ${c4.burned} + minted ${c4.minted}: ${c4.conserved ? "yes" : "NO"}; ${poiLine}`,
      `  1 validator: ${c1.height} blocks, ${kills.length} app SIGKILLs (${replays} crashed between FinalizeBlock and Commit: block replayed); recovery: ${stats(kills.map((k) => k.recoverySec))}`,
      `    txs committed ${c1.txs} (${sends(single.lanes, c1)} lane sends), each once: ${c1.duplicateTxs.length === 0 ? "yes" : "NO"}; supply conserved: ${c1.conserved ? "yes" : "NO"} (burned ${c1.burned})`,
      `  app-hash or consensus failures in logs: ${c4.logFailures.length + c1.logFailures.length} (besides ${c4.haltsOnAppDeath + c1.haltsOnAppDeath} cometbft halts on its app's death mid-call, each ended by the supervisor)`,
      problems.length ? `  PROBLEMS:\n${problems.map((p) => `    ${p}`).join("\n")}` : `  all checks hold`,
    ];
    for (const l of summary) log(l);
    return { seed, durationSec, perturbations, kills, multi: c4, single: c1, problems, summary };
  } finally {
    noise.end();
    await stopLocalnet(multiHome, () => undefined).catch(() => undefined);
    await stopLocalnet(singleHome, () => undefined).catch(() => undefined);
    removeHome(multiHome);
    removeHome(singleHome);
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { seed: { type: "string" }, perturbations: { type: "string" }, kills: { type: "string" }, "min-blocks": { type: "string" }, "base-port": { type: "string" } },
  });
  const int = (v: string | undefined) => (v === undefined ? undefined : Number.parseInt(v, 10));
  runSoak({ seed: int(values.seed), perturbations: int(values.perturbations), kills: int(values.kills), minBlocks: int(values["min-blocks"]), basePort: int(values["base-port"]) })
    .then((r) => process.exit(r.problems.length ? 1 : 0))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
