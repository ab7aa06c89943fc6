/**
 * Perturbations of one node of a running localnet, and the time the node takes to be back at the
 * others' height. Kills rely on the node's supervisor to restart its processes.
 */
import { height, sigkillUnlessGone, sleep, waitForPair } from "../../test/helpers/chain";

export type PerturbationKind = "kill-app" | "kill-cometbft" | "kill-both" | "stop-cont";
export const PERTURBATION_KINDS: readonly PerturbationKind[] = ["kill-app", "kill-cometbft", "kill-both", "stop-cont"];

export interface Perturbation {
  kind: PerturbationKind;
  node: number;
  /** Height of the node when it was perturbed. */
  atHeight: number;
  /** SIGSTOP's duration (stop-cont), or the time until the supervisor recorded a new app and cometbft (kills), s. */
  downSec: number;
  /** From the kill (or the SIGCONT) until the node's height is back to the others', s. */
  recoverySec: number;
}

const RECOVERY_TIMEOUT_MS = 180_000;

/** Waits until node `i` has made progress past `from` and is at least at every other node's height; returns when. */
export async function waitCaughtUp(rpcs: string[], i: number, from: number, timeoutMs = RECOVERY_TIMEOUT_MS): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hs = await Promise.all(rpcs.map(height));
    const others = Math.max(...hs.filter((_, j) => j !== i));
    if (hs[i] > from && hs[i] >= others) return Date.now();
    if (Date.now() > deadline) throw new Error(`node ${i} did not catch up within ${timeoutMs} ms (at ${hs[i]}, others at ${others}, perturbed at ${from})`);
    await sleep(200);
  }
}

/** Applies `kind` to node `i` (home `homes[i]`) and waits for it to catch up. */
export async function perturb(homes: string[], rpcs: string[], i: number, kind: PerturbationKind, rand: () => number): Promise<Perturbation> {
  const pids = await waitForPair(homes[i]);
  const atHeight = await height(rpcs[i]);
  const t0 = Date.now();
  let downSec: number;
  let from = t0;
  if (kind === "stop-cont") {
    const ms = 5000 + Math.floor(rand() * 5000);
    for (const pid of [pids.app, pids.cometbft]) process.kill(pid, "SIGSTOP");
    await sleep(ms);
    for (const pid of [pids.app, pids.cometbft]) process.kill(pid, "SIGCONT");
    downSec = ms / 1000;
    from = Date.now();
  } else {
    if (kind !== "kill-cometbft") process.kill(pids.app, "SIGKILL");
    if (kind === "kill-cometbft") process.kill(pids.cometbft, "SIGKILL");
    if (kind === "kill-both") sigkillUnlessGone(pids.cometbft); // it may have quit already, its app dead
    for (;;) {
      const p = await waitForPair(homes[i], RECOVERY_TIMEOUT_MS);
      if (p.app !== pids.app && p.cometbft !== pids.cometbft) break;
      await sleep(100);
    }
    downSec = (Date.now() - t0) / 1000;
  }
  const back = await waitCaughtUp(rpcs, i, atHeight);
  return { kind, node: i, atHeight, downSec, recoverySec: (back - from) / 1000 };
}
