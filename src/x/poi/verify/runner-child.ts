/**
 * Child-process entry of the re-execution runner (see runner.ts): runs ONNX models with
 * onnxruntime-node in its own process, one job at a time, one item at a time (batch dim 1). A native
 * abort or segfault in onnxruntime kills only this process; the parent kills it at a job's deadline,
 * which also frees the core a runaway native run holds.
 *
 * Session options are fixed so a given model behaves identically run to run on this machine.
 */
import { performance } from "node:perf_hooks";
import * as ort from "onnxruntime-node";
import { SESSION_OPTIONS } from "./session-options";
import { TrainStepRunner } from "../../../ml/train-step-runner";

export interface ChildJob {
  id: number;
  /** TEST knob (verifier_fault.abort_models_named): abort the process, as a crashing model would. */
  abort?: boolean;
  /** Must identify the bytes (e.g. their hash): a cached session is reused for the same id. */
  modelId: string;
  onnx?: Uint8Array;
  inputName: string;
  inputShape: number[];
  outputNames: string[];
  items: Float32Array[];
}

/**
 * A training segment (verify/training.ts): `steps` steps of a train-step graph from the flat parameters
 * `start` (float32, the graph's parameter inputs in order), with batch i = (x[i], y[i]) and learning rate `lr`.
 */
export interface SegmentChildJob {
  id: number;
  kind: "segment";
  modelId: string;
  onnx?: Uint8Array;
  start: Float32Array;
  x: Float32Array[];
  y: Float32Array[];
  lr: number;
}

/** sessionsCreated: sessions this job created in the process (0 on a cache hit, 1 on a miss). */
export type ChildReply =
  | { id: number; outputs: Float32Array[]; micros: number; sessionsCreated: number }
  | { id: number; params: Float32Array; losses: Float32Array; micros: number; sessionsCreated: number }
  | { id: number; error: string; sessionsCreated: number };


const CACHE_CAP = 8;
const sessions = new Map<string, ort.InferenceSession>(); // insertion order = LRU order
let sessionsCreated = 0; // in this process's lifetime

async function getSession(modelId: string, onnx: Uint8Array | undefined): Promise<ort.InferenceSession> {
  const hit = sessions.get(modelId);
  if (hit) {
    sessions.delete(modelId); // move to most-recent
    sessions.set(modelId, hit);
    return hit;
  }
  if (!onnx) throw new Error(`model ${modelId} is not cached in this process and no bytes were sent`);
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

async function runJob(job: ChildJob): Promise<{ outputs: Float32Array[]; micros: number }> {
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

const trainers = new Map<string, TrainStepRunner>(); // insertion order = LRU order

async function getTrainer(modelId: string, onnx: Uint8Array | undefined): Promise<TrainStepRunner> {
  const hit = trainers.get(modelId);
  if (hit) {
    trainers.delete(modelId);
    trainers.set(modelId, hit);
    return hit;
  }
  if (!onnx) throw new Error(`train-step model ${modelId} is not cached in this process and no bytes were sent`);
  const t = await TrainStepRunner.create(onnx);
  sessionsCreated++;
  trainers.set(modelId, t);
  while (trainers.size > CACHE_CAP) {
    const [oldId, old] = trainers.entries().next().value as [string, TrainStepRunner];
    trainers.delete(oldId);
    await old.release();
  }
  return t;
}

async function runSegment(job: SegmentChildJob): Promise<{ params: Float32Array; losses: Float32Array; micros: number }> {
  const trainer = await getTrainer(job.modelId, job.onnx);
  let at = 0;
  const start = trainer.params.map((p) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const data = job.start.slice(at, at + n);
    at += n;
    return { name: p.name, dims: [...p.shape], data };
  });
  if (at !== job.start.length) throw new Error(`the start checkpoint holds ${job.start.length} values, the graph's parameters ${at}`);
  const t0 = performance.now();
  const r = await trainer.run(start, job.x.length, (i) => ({ x: job.x[i], y: job.y[i] }), job.lr);
  const micros = (performance.now() - t0) * 1000;
  const params = new Float32Array(at);
  let off = 0;
  for (const p of r.params) { params.set(p.data, off); off += p.data.length; }
  return { params, losses: Float32Array.from(r.losses), micros };
}

if (!process.send) throw new Error("runner-child.js must be started by the runner with an IPC channel");
const send = process.send.bind(process);

// The parent sends one job at a time; chaining keeps jobs serial even if it did not.
let chain: Promise<void> = Promise.resolve();
process.on("message", (job: ChildJob | SegmentChildJob) => {
  chain = chain.then(async () => {
    if ("abort" in job && job.abort) process.abort();
    const before = sessionsCreated;
    let reply: ChildReply;
    try {
      const result = "kind" in job && job.kind === "segment" ? await runSegment(job) : await runJob(job as ChildJob);
      reply = { id: job.id, ...result, sessionsCreated: sessionsCreated - before };
    } catch (e) {
      reply = { id: job.id, error: e instanceof Error ? e.message : String(e), sessionsCreated: sessionsCreated - before };
    }
    send(reply);
  });
});
// Without a parent there is nothing to do: exit when the IPC channel closes.
process.on("disconnect", () => process.exit(0));
