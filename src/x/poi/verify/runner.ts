/**
 * Parent side of the re-execution runner: one worker_threads thread (runner-thread.ts) running
 * onnxruntime, jobs queued and run one at a time, each with a wall-clock cap.
 *
 * - The thread is created lazily, and again after a timeout or a crash (its session cache is lost).
 * - On timeout the thread is terminated and the job rejects with ReexecTimeoutError at once;
 *   the thread itself only stops when its current native session.run returns (see runner-thread.ts).
 * - The thread is unref'ed while idle, so an idle runner never keeps a process alive.
 */
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { mulberry32 } from "../../../util/random";
import type { ThreadJob, ThreadReply } from "./runner-thread";

export interface ReexecJob {
  /** Must identify the bytes (e.g. their hash): the thread reuses a cached session for the same id. */
  modelId: string;
  onnx: Uint8Array;
  inputName: string;
  inputShape: number[];
  outputNames: string[];
  items: Float32Array[];
}

export interface ReexecResult {
  /** Per item: all outputs concatenated in outputNames order. */
  outputs: Float32Array[];
  /** Wall time of the session.run calls only, in µs. */
  micros: number;
}

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
}

export interface RunnerStats {
  jobs: number;
  threadsStarted: number;
  /** onnxruntime sessions created, over all threads. */
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

const THREAD_SCRIPT = path.join(__dirname, "runner-thread.js");

interface Pending {
  id: number;
  resolve: (r: ReexecResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class ReexecRunner {
  private readonly timeoutMs: number;
  private readonly noiseRel: number;
  private readonly noise?: () => number;
  private worker?: Worker;
  private pending?: Pending;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private closed = false;
  private readonly counters: RunnerStats = { jobs: 0, threadsStarted: 0, sessionsCreated: 0, timeouts: 0, crashes: 0 };

  constructor(opts: RunnerOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.noiseRel = opts.noiseRel ?? 0;
    if (this.noiseRel !== 0) this.noise = mulberry32(opts.noiseSeed ?? 1);
  }

  /** Queues a job; jobs run one at a time in submission order. */
  run(job: ReexecJob): Promise<ReexecResult> {
    const p = this.queue.then(() => this.exec(job));
    this.queue = p.catch(() => undefined);
    return p;
  }

  stats(): RunnerStats {
    return { ...this.counters };
  }

  /** Terminates the thread; a running job rejects, later run() calls reject. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.fail(new Error("ReexecRunner closed"));
    if (w) await w.terminate();
  }

  private exec(job: ReexecJob): Promise<ReexecResult> {
    if (this.closed) return Promise.reject(new Error("ReexecRunner is closed"));
    const w = this.worker ?? this.spawn();
    const id = this.nextId++;
    this.counters.jobs++;
    return new Promise<ReexecResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.counters.timeouts++;
        this.fail(new ReexecTimeoutError(`re-execution of model ${job.modelId} (${job.items.length} items) exceeded ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending = { id, resolve, reject, timer };
      w.ref(); // keep the process alive while a job is in flight
      const msg: ThreadJob = { id, ...job };
      w.postMessage(msg); // structured clone: the caller keeps its arrays
    });
  }

  private spawn(): Worker {
    const w = new Worker(THREAD_SCRIPT);
    w.unref();
    this.counters.threadsStarted++;
    this.worker = w;
    // Events of a thread that was already replaced are ignored.
    w.on("message", (reply: ThreadReply) => {
      if (this.worker === w) this.onReply(reply);
    });
    w.on("error", (err) => {
      if (this.worker !== w) return;
      this.counters.crashes++;
      this.fail(new Error(`re-execution thread crashed: ${err.message}`));
    });
    w.on("exit", (code) => {
      if (this.worker !== w) return;
      this.counters.crashes++;
      this.fail(new Error(`re-execution thread exited unexpectedly (code ${code})`));
    });
    return w;
  }

  private onReply(reply: ThreadReply): void {
    this.counters.sessionsCreated += reply.sessionsCreated;
    const p = this.pending;
    if (!p || p.id !== reply.id) return;
    this.settle();
    if ("error" in reply) {
      p.reject(new Error(`re-execution failed: ${reply.error}`));
      return;
    }
    if (this.noise) {
      for (const out of reply.outputs) {
        for (let i = 0; i < out.length; i++) out[i] *= 1 + this.noiseRel * (this.noise() * 2 - 1);
      }
    }
    p.resolve({ outputs: reply.outputs, micros: reply.micros });
  }

  /** Clears the pending job and lets an idle thread stop holding the process open. */
  private settle(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
    this.worker?.unref();
  }

  /** Rejects the pending job (if any) and discards the thread; the next job spawns a fresh one. */
  private fail(err: Error): void {
    const p = this.pending;
    this.settle();
    const w = this.worker;
    this.worker = undefined;
    if (w) void w.terminate();
    p?.reject(err);
  }
}
