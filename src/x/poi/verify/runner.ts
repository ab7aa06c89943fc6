/**
 * Parent side of the re-execution runner: one child process (runner-child.ts) running onnxruntime,
 * jobs queued and run one at a time, each with a wall-clock cap.
 *
 * - The child is started lazily, and again after a timeout or a crash (its session cache is lost).
 * - Isolation: a native abort or segfault in onnxruntime ends the child, not this process; the job
 *   rejects with ReexecCrashError. On timeout the child is SIGKILLed at once (freeing its core) and the
 *   job rejects with ReexecTimeoutError.
 * - Memory: where util-linux's prlimit exists, the child runs under an address-space limit.
 * - The child and its IPC channel are unref'ed while idle, so an idle runner never keeps a process alive.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { mulberry32 } from "../../../util/random";
import type { ChildJob, ChildReply, SegmentChildJob } from "./runner-child";

export interface ReexecJob {
  /** Must identify the bytes (e.g. their hash): the child reuses a cached session for the same id. */
  modelId: string;
  onnx: Uint8Array;
  inputName: string;
  inputShape: number[];
  outputNames: string[];
  items: Float32Array[];
  /** TEST knob: the child aborts instead of running (a stand-in for a model that crashes onnxruntime). */
  abort?: boolean;
}

export interface ReexecResult {
  /** Per item: all outputs concatenated in outputNames order. */
  outputs: Float32Array[];
  /** Wall time of the session.run calls only, in µs. */
  micros: number;
}

/** A training segment: steps (x[i], y[i]) of a train-step graph from the flat parameters `start` (runner-child.ts). */
export interface SegmentJob {
  modelId: string;
  onnx: Uint8Array;
  start: Float32Array;
  x: Float32Array[];
  y: Float32Array[];
  lr: number;
}

export interface SegmentResult {
  /** The parameters after the segment, flat. */
  params: Float32Array;
  /** The loss of each step. */
  losses: Float32Array;
  micros: number;
}

type OkReply = Exclude<ChildReply, { error: string }>;

export interface RunnerOptions {
  /** Cap per job, from posting it to the reply (model load included); default 30000. */
  timeoutMs?: number;
  /**
   * TEST knob standing in for "another CPU": each output element is multiplied by (1 + noiseRel·u),
   * u ∈ [−1, 1) from mulberry32(noiseSeed), applied in the parent after the thread returns.
   */
  noiseRel?: number;
  /** Seed of the noise PRNG (default 1). */
  noiseSeed?: number;
  /** Address-space limit of the child, MiB (default 8192; applied where /usr/bin/prlimit exists). */
  memoryLimitMb?: number;
}

export interface RunnerStats {
  jobs: number;
  processesStarted: number;
  /** onnxruntime sessions created, over all child processes. */
  sessionsCreated: number;
  timeouts: number;
  crashes: number;
}

export class ReexecTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReexecTimeoutError";
  }
}

/** The child crashed (native abort, segfault, out of memory) while running a job. */
export class ReexecCrashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReexecCrashError";
  }
}

const CHILD_SCRIPT = path.join(__dirname, "runner-child.js");
const PRLIMIT = "/usr/bin/prlimit";

interface Pending {
  id: number;
  resolve: (r: OkReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class ReexecRunner {
  private readonly timeoutMs: number;
  private readonly noiseRel: number;
  private readonly noise?: () => number;
  private child?: ChildProcess;
  private readonly memoryLimitMb: number;
  private pending?: Pending;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private closed = false;
  private readonly counters: RunnerStats = { jobs: 0, processesStarted: 0, sessionsCreated: 0, timeouts: 0, crashes: 0 };

  constructor(opts: RunnerOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.noiseRel = opts.noiseRel ?? 0;
    if (this.noiseRel !== 0) this.noise = mulberry32(opts.noiseSeed ?? 1);
    this.memoryLimitMb = opts.memoryLimitMb ?? 8192;
  }

  /** Queues a job; jobs run one at a time in submission order. */
  async run(job: ReexecJob): Promise<ReexecResult> {
    const r = await this.enqueue(job, `model ${job.modelId} (${job.items.length} items)`);
    if (!("outputs" in r)) throw new Error("re-execution failed: the child answered an inference job with no outputs");
    for (const out of r.outputs) this.addNoise(out);
    return { outputs: r.outputs, micros: r.micros };
  }

  /** Queues a training segment (same queue, one job at a time). */
  async runSegment(job: SegmentJob): Promise<SegmentResult> {
    const msg: Omit<SegmentChildJob, "id"> = { kind: "segment", ...job };
    const r = await this.enqueue(msg, `train-step model ${job.modelId} (${job.x.length} steps)`);
    if (!("params" in r)) throw new Error("re-execution failed: the child answered a segment job with no parameters");
    this.addNoise(r.params);
    return { params: r.params, losses: r.losses, micros: r.micros };
  }

  private enqueue(msg: Omit<ChildJob, "id"> | Omit<SegmentChildJob, "id">, what: string): Promise<OkReply> {
    const p = this.queue.then(() => this.exec(msg, what));
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** The "another CPU" test knob: each value times (1 + noiseRel·u), u ∈ [−1, 1). */
  private addNoise(values: Float32Array): void {
    if (!this.noise) return;
    for (let i = 0; i < values.length; i++) values[i] *= 1 + this.noiseRel * (this.noise() * 2 - 1);
  }

  stats(): RunnerStats {
    return { ...this.counters };
  }

  /** Stops the child; a running job rejects, later run() calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    const c = this.child;
    const exited = c && c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined;
    // An idle child is unref'ed: ref it so the event loop lives until its exit is seen (otherwise the
    // process can end here, with the caller's work after close() undone).
    this.fail(new Error("ReexecRunner closed"));
    if (c && exited) c.ref();
    await exited;
  }

  private exec(job: Omit<ChildJob, "id"> | Omit<SegmentChildJob, "id">, what: string): Promise<OkReply> {
    if (this.closed) return Promise.reject(new Error("ReexecRunner is closed"));
    const c = this.child ?? this.spawn();
    const id = this.nextId++;
    this.counters.jobs++;
    return new Promise<OkReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.counters.timeouts++;
        this.fail(new ReexecTimeoutError(`re-execution of ${what} exceeded ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending = { id, resolve, reject, timer };
      this.hold(c, true); // keep this process alive while a job is in flight
      c.send({ id, ...job });
    });
  }

  private spawn(): ChildProcess {
    const node = [process.execPath, CHILD_SCRIPT];
    const argv = fs.existsSync(PRLIMIT) ? [PRLIMIT, `--as=${this.memoryLimitMb * 1024 * 1024}`, ...node] : node;
    const c = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" });
    this.counters.processesStarted++;
    this.child = c;
    this.hold(c, false);
    // Events of a child that was already replaced are ignored.
    c.on("message", (reply: ChildReply) => {
      if (this.child === c) this.onReply(reply);
    });
    c.on("error", (err) => {
      if (this.child !== c) return;
      this.counters.crashes++;
      this.fail(new ReexecCrashError(`re-execution process failed: ${err.message}`));
    });
    c.on("exit", (code, signal) => {
      if (this.child !== c) return;
      this.counters.crashes++;
      this.fail(new ReexecCrashError(`re-execution process died (${signal ? `signal ${signal}` : `exit code ${code}`})`));
    });
    return c;
  }

  /** ref/unref the child and its IPC channel together. */
  private hold(c: ChildProcess, busy: boolean): void {
    const ch = c.channel as unknown as { ref(): void; unref(): void } | undefined;
    if (busy) { c.ref(); ch?.ref(); } else { c.unref(); ch?.unref(); }
  }

  private onReply(reply: ChildReply): void {
    this.counters.sessionsCreated += reply.sessionsCreated;
    const p = this.pending;
    if (!p || p.id !== reply.id) return;
    this.settle();
    if ("error" in reply) {
      p.reject(new Error(`re-execution failed: ${reply.error}`));
      return;
    }
    p.resolve(reply);
  }

  /** Clears the pending job and lets an idle child stop holding the process open. */
  private settle(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
    if (this.child) this.hold(this.child, false);
  }

  /** Rejects the pending job (if any) and SIGKILLs the child; the next job spawns a fresh one. */
  private fail(err: Error): void {
    const p = this.pending;
    this.settle();
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    p?.reject(err);
  }
}
