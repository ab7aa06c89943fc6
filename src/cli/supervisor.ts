/**
 * `poi start --with-cometbft`: a supervisor process that runs the node's app (`poi start`) and
 * `cometbft start` as two children and keeps them running as a pair.
 *
 * - The app starts first; cometbft starts once the app listens (it reports so over IPC).
 * - When either child dies, the other is stopped (SIGTERM, SIGKILL after CRASH_GRACE_MS: a
 *   cometbft whose app died can hang in its own shutdown for good), then both are started again
 *   after a backoff: 1 s, doubled for each restart in a row in which the app committed no block,
 *   up to 30 s.
 * - If a child exits by itself (not by a signal) before the node ever committed a block under this
 *   supervisor (a port taken, a bad config), it gives up and exits 1: a restart would fail the same
 *   way. A child killed by a signal is a crash: restarted.
 * - SIGTERM or SIGINT stops cometbft, then the app (each SIGTERM, SIGKILL after STOP_GRACE_MS),
 *   and exits 0.
 * poi.pids.json holds the supervisor's pid and its current children's.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { resolveCometbft } from "./cometbft-bin";
import { readAppConfig } from "./home";
import { stampedLog, writePids, type AppReport } from "./node";
import { testKnobsInEffect, UNSAFE_TEST_KNOBS_FLAG } from "./test-knobs";

export const CRASH_GRACE_MS = 5_000;
export const STOP_GRACE_MS = 15_000;
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
const MAIN = path.join(__dirname, "main.js");

type Which = "app" | "cometbft";

const running = (c: ChildProcess | undefined): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null;

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
async function stopChild(child: ChildProcess | undefined, graceMs: number, log: (m: string) => void, name: string): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => {
    if (!running(child)) return;
    log(`supervisor: ${name} (pid ${child.pid}) still running ${graceMs} ms after SIGTERM: SIGKILL`);
    child.kill("SIGKILL");
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

export class NodeSupervisor {
  private app?: ChildProcess;
  private comet?: ChildProcess;
  private readonly cometbft: string;
  private readonly log = stampedLog;
  private stopping = false;
  /** Set while a crash is handled: the partner's exit then is expected. */
  private recovering = false;
  private progressed = false;
  private failuresInARow = 0;
  private restartTimer?: NodeJS.Timeout;
  private readonly home: string;

  constructor(home: string, private readonly unsafeTestKnobs: boolean) {
    this.home = path.resolve(home);
    // Refuse a bad setup before anything starts: missing config, forbidden knobs, no cometbft.
    testKnobsInEffect(this.home, readAppConfig(this.home), unsafeTestKnobs);
    this.cometbft = resolveCometbft();
  }

  start(): void {
    process.on("SIGINT", () => void this.stop("SIGINT"));
    process.on("SIGTERM", () => void this.stop("SIGTERM"));
    this.log(`supervisor: pid ${process.pid} runs the app and cometbft of ${this.home}`);
    this.launch();
  }

  private recordPids(): void {
    writePids(this.home, { supervisor: process.pid, app: running(this.app) ? this.app.pid : undefined, cometbft: running(this.comet) ? this.comet.pid : undefined });
  }

  private launch(): void {
    this.recovering = false;
    const args = [MAIN, "start", "--home", this.home, ...(this.unsafeTestKnobs ? [UNSAFE_TEST_KNOBS_FLAG] : [])];
    // Own process groups: a Ctrl-C in a terminal reaches the supervisor only, which stops the pair in order.
    const app = spawn(process.execPath, args, { stdio: ["ignore", "inherit", "inherit", "ipc"], detached: true });
    this.app = app;
    app.on("message", (m: AppReport) => {
      if (app !== this.app) return;
      if (m.type === "listening") this.startCometbft();
      if (m.type === "progress") {
        this.progressed = true;
        this.failuresInARow = 0;
      }
    });
    app.on("exit", (code, signal) => void this.exited("app", app, code, signal));
    app.on("error", (err) => this.log(`supervisor: app: ${err.message}`));
    this.recordPids();
    this.log(`supervisor: app started (pid ${app.pid})`);
  }

  private startCometbft(): void {
    if (this.stopping || this.recovering || running(this.comet)) return;
    const out = fs.openSync(path.join(this.home, "cometbft.log"), "a");
    const comet = spawn(this.cometbft, ["start", "--home", this.home], { stdio: ["ignore", out, out], detached: true });
    fs.closeSync(out);
    this.comet = comet;
    comet.on("exit", (code, signal) => void this.exited("cometbft", comet, code, signal));
    comet.on("error", (err) => this.log(`supervisor: cometbft: ${err.message}`));
    this.recordPids();
    this.log(`supervisor: cometbft started (pid ${comet.pid}), log in ${path.join(this.home, "cometbft.log")}`);
  }

  private async exited(which: Which, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (child !== this.app && child !== this.comet) return;
    if (this.stopping || this.recovering) {
      // The other child's death is being handled; still say how this one ended (when both die at
      // once, e.g. a SIGKILLed app and the cometbft that then quits, either exit may be seen first).
      if (this.recovering) this.log(`supervisor: ${which} (pid ${child.pid}) exited too (code ${code}, signal ${signal})`);
      return;
    }
    this.recovering = true;
    const other: Which = which === "app" ? "cometbft" : "app";
    this.log(`supervisor: ${which} (pid ${child.pid}) exited (code ${code}, signal ${signal}); stopping ${other}`);
    await stopChild(which === "app" ? this.comet : this.app, CRASH_GRACE_MS, this.log, other);
    this.recordPids();
    if (this.stopping) return;
    if (!this.progressed && signal === null) {
      this.log(`supervisor: ${which} failed before the node committed any block; not restarting (see app.log and cometbft.log in ${this.home})`);
      process.exit(1);
    }
    const delay = Math.min(FIRST_BACKOFF_MS * 2 ** this.failuresInARow, MAX_BACKOFF_MS);
    this.failuresInARow++;
    this.log(`supervisor: restarting the app and cometbft in ${delay} ms`);
    this.restartTimer = setTimeout(() => this.launch(), delay);
  }

  async stop(why: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.log(`supervisor: stopping the node (${why})`);
    // cometbft first, so that it sends nothing more to an app that is closing its store.
    await stopChild(this.comet, STOP_GRACE_MS, this.log, "cometbft");
    await stopChild(this.app, STOP_GRACE_MS, this.log, "app");
    this.recordPids();
    this.log(`supervisor: node stopped`);
    process.exit(0);
  }
}
