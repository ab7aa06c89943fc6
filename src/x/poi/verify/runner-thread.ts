/**
 * worker_threads entry of the re-execution runner (see runner.ts): runs ONNX models with
 * onnxruntime-node off the main thread, one job at a time, one item at a time (batch dim 1).
 *
 * Session options are fixed so a given model behaves identically run to run on this machine.
 * Note onnxruntime-node's session.run and model loading are synchronous native calls: while one is
 * running, this thread's JS is blocked, and Worker.terminate() only takes effect once it returns.
 */
import { parentPort } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import * as ort from "onnxruntime-node";
import { SESSION_OPTIONS } from "./session-options";

export interface ThreadJob {
  id: number;
  /** Must identify the bytes (e.g. their hash): a cached session is reused for the same id. */
  modelId: string;
  onnx?: Uint8Array;
  inputName: string;
  inputShape: number[];
  outputNames: string[];
  items: Float32Array[];
}

/** sessionsCreated: sessions this job created in the thread (0 on a cache hit, 1 on a miss). */
export type ThreadReply =
  | { id: number; outputs: Float32Array[]; micros: number; sessionsCreated: number }
  | { id: number; error: string; sessionsCreated: number };


const CACHE_CAP = 8;
const sessions = new Map<string, ort.InferenceSession>(); // insertion order = LRU order
let sessionsCreated = 0; // in this thread's lifetime

async function getSession(modelId: string, onnx: Uint8Array | undefined): Promise<ort.InferenceSession> {
  const hit = sessions.get(modelId);
  if (hit) {
    sessions.delete(modelId); // move to most-recent
    sessions.set(modelId, hit);
    return hit;
  }
  if (!onnx) throw new Error(`model ${modelId} is not cached in this thread and no bytes were sent`);
  const s = await ort.InferenceSession.create(onnx, SESSION_OPTIONS);
  sessionsCreated++;
  sessions.set(modelId, s);
  while (sessions.size > CACHE_CAP) {
    const [oldId, old] = sessions.entries().next().value as [string, ort.InferenceSession];
    sessions.delete(oldId);
    await old.release();
  }
  return s;
}

async function runJob(job: ThreadJob): Promise<{ outputs: Float32Array[]; micros: number }> {
  const need = job.inputShape.reduce((a, b) => a * b, 1);
  job.items.forEach((x, i) => {
    if (!(x instanceof Float32Array) || x.length !== need) {
      throw new Error(`item ${i}: expected a Float32Array of ${need} elements (shape [${job.inputShape}])`);
    }
  });
  const session = await getSession(job.modelId, job.onnx);
  if (!session.inputNames.includes(job.inputName)) {
    throw new Error(`model has no input "${job.inputName}" (inputs: ${session.inputNames.join(", ")})`);
  }
  for (const name of job.outputNames) {
    if (!session.outputNames.includes(name)) {
      throw new Error(`model has no output "${name}" (outputs: ${session.outputNames.join(", ")})`);
    }
  }

  const outputs: Float32Array[] = [];
  let micros = 0;
  for (const x of job.items) {
    const feeds = { [job.inputName]: new ort.Tensor("float32", x, job.inputShape) };
    const t0 = performance.now();
    const res = await session.run(feeds, job.outputNames);
    micros += (performance.now() - t0) * 1000;
    const parts: Float32Array[] = [];
    let len = 0;
    for (const name of job.outputNames) {
      const t = res[name];
      if (t.type !== "float32") throw new Error(`output "${name}" is ${t.type}, expected float32`);
      parts.push(t.data as Float32Array);
      len += t.data.length;
    }
    const out = new Float32Array(len); // own buffer, so it can be transferred
    let off = 0;
    for (const p of parts) { out.set(p, off); off += p.length; }
    outputs.push(out);
  }
  return { outputs, micros };
}

const port = parentPort;
if (!port) throw new Error("runner-thread.js must be started as a worker thread");

// The parent sends one job at a time; chaining keeps jobs serial even if it did not.
let chain: Promise<void> = Promise.resolve();
port.on("message", (job: ThreadJob) => {
  chain = chain.then(async () => {
    const before = sessionsCreated;
    let reply: ThreadReply;
    let transfer: ArrayBuffer[] = [];
    try {
      const r = await runJob(job);
      reply = { id: job.id, ...r, sessionsCreated: sessionsCreated - before };
      transfer = r.outputs.map((o) => o.buffer as ArrayBuffer);
    } catch (e) {
      reply = { id: job.id, error: e instanceof Error ? e.message : String(e), sessionsCreated: sessionsCreated - before };
    }
    port.postMessage(reply, transfer);
  });
});
