/**
 * A validator's verifier: after each Commit it looks for tasks under verification in committed state,
 * re-executes their sampled items on onnxruntime (ReexecRunner: a worker thread, off the ABCI path),
 * compares with the worker's outputs (compare.ts) and keeps a pass/fail verdict per task attempt.
 * ExtendVote takes the ready verdicts. Nothing here writes state: verdicts reach the chain only as
 * signed vote extensions (see ../verdicts.ts).
 */
import type { Context } from "../../../app/context";
import type { VerdictSource } from "../verdict_hooks";
import { itemSize, modelIo, type PoiKeeper } from "../keeper";
import { resultRoot } from "../commitment";
import { TaskStatus, VoteExtensionCodec, type Task, type Verdict } from "../types";
import { MAX_EXTENSION_BYTES } from "../verdicts";
import { compareItem, DEFAULT_TOLERANCE, type Tolerance } from "./compare";
import { ReexecRunner } from "./runner";

/**
 * Test knobs (documented in src/x/poi/README.md), set per node in config/app.json "verifier_fault":
 * `noise_rel` perturbs this validator's onnxruntime outputs (a stand-in for another CPU);
 * `invert_verdicts` makes it vote every verdict the wrong way (a faulty or malicious validator).
 */
export interface VerifierFault {
  noise_rel?: number;
  invert_verdicts?: boolean;
}

export interface VerifierOptions {
  fault?: VerifierFault;
  tolerance?: Tolerance;
  /** Cap on one task's re-execution (model load included). */
  timeoutMs?: number;
  log?: (msg: string) => void;
}

/** One task attempt's re-execution, for logs and measurements. */
export interface VerificationRecord {
  taskId: string;
  attempt: number;
  pass: boolean;
  items: number;
  /** Wall time of onnxruntime's session.run over the sampled items, µs. */
  reexecMicros: number;
  /** Everything: reading state, re-execution, comparison, ms. */
  totalMs: number;
  firstFailure?: string;
}

const MAX_TRIES = 3;

export class VerifierService implements VerdictSource {
  private readonly runner: ReexecRunner;
  private readonly verdicts = new Map<string, boolean>(); // "id/attempt" -> pass (lookups only)
  private readonly tries = new Map<string, number>();
  private scanning = false;
  private rescan = false;
  readonly records: VerificationRecord[] = [];
  private readonly log: (msg: string) => void;

  constructor(private readonly source: { queryContext(): Context; poi: PoiKeeper }, private readonly opts: VerifierOptions = {}) {
    this.runner = new ReexecRunner({ timeoutMs: opts.timeoutMs ?? 30_000, noiseRel: opts.fault?.noise_rel });
    this.log = opts.log ?? (() => undefined);
  }

  onCommit(): void {
    if (this.scanning) { this.rescan = true; return; }
    this.scanning = true;
    void this.scan().catch((err) => this.log(`verifier: scan failed: ${(err as Error).message}`)).finally(() => {
      this.scanning = false;
      if (this.rescan) { this.rescan = false; this.onCommit(); }
    });
  }

  /** Resolves once the verifier is idle (tests). */
  async idle(): Promise<void> {
    while (this.scanning) await new Promise((r) => setTimeout(r, 5));
  }

  async extension(): Promise<Uint8Array> {
    const ctx = this.source.queryContext();
    const verdicts: Verdict[] = [];
    for (const id of await this.source.poi.activeTaskIds(ctx)) {
      const task = await this.source.poi.getTask(ctx, id);
      if (!task || task.status !== TaskStatus.VERIFYING) continue;
      const pass = this.verdicts.get(`${task.id}/${task.attempt}`);
      if (pass === undefined) continue;
      verdicts.push({ taskId: task.id, attempt: task.attempt, pass: this.opts.fault?.invert_verdicts ? !pass : pass });
    }
    let bytes = VoteExtensionCodec.encode({ verdicts }).finish();
    while (bytes.length > MAX_EXTENSION_BYTES) bytes = VoteExtensionCodec.encode({ verdicts: verdicts.splice(0, verdicts.length >> 1) }).finish();
    return bytes;
  }

  async close(): Promise<void> {
    await this.idle();
    await this.runner.close();
  }

  private async scan(): Promise<void> {
    const ctx = this.source.queryContext();
    const live = new Set<string>();
    for (const id of await this.source.poi.activeTaskIds(ctx)) {
      const task = await this.source.poi.getTask(ctx, id);
      if (!task || task.status !== TaskStatus.VERIFYING) continue;
      const key = `${task.id}/${task.attempt}`;
      live.add(key);
      if (this.verdicts.has(key) || (this.tries.get(key) ?? 0) >= MAX_TRIES) continue;
      this.tries.set(key, (this.tries.get(key) ?? 0) + 1);
      try {
        const rec = await this.verify(ctx, task);
        if (!rec) continue;
        this.verdicts.set(key, rec.pass);
        this.records.push(rec);
        if (this.records.length > 1000) this.records.shift();
        this.log(`verifier: task ${task.id} attempt ${task.attempt}: ${rec.items} sampled items re-executed in ${(rec.reexecMicros / 1000).toFixed(2)} ms `
          + `(${rec.totalMs.toFixed(1)} ms total) -> ${rec.pass ? "PASS" : `FAIL (${rec.firstFailure})`}${this.opts.fault?.invert_verdicts ? " [voting inverted: test fault]" : ""}`);
      } catch (err) {
        this.log(`verifier: task ${task.id} attempt ${task.attempt}: no verdict (try ${this.tries.get(key)} of ${MAX_TRIES}): ${(err as Error).message}`);
      }
    }
    // Forget tasks that left verification.
    for (const key of [...this.verdicts.keys()]) if (!live.has(key)) this.verdicts.delete(key);
    for (const key of [...this.tries.keys()]) if (!live.has(key)) this.tries.delete(key);
  }

  /** Re-executes one task's sample; undefined if committed state moved on while reading it. */
  private async verify(ctx: Context, task: Task): Promise<VerificationRecord | undefined> {
    const t0 = performance.now();
    const keeper = this.source.poi;
    const model = await keeper.getModel(ctx, task.modelId);
    const onnx = await keeper.getModelBytes(ctx, task.modelId);
    const outputs = await keeper.getTaskOutputs(ctx, BigInt(task.id));
    if (!model || !onnx || !outputs) return undefined;
    const io = modelIo(model);
    const outBytes = Number(io.outputElems) * 4;
    const n = Number(task.numItems);
    // The outputs must be the ones the sample was drawn against (a read racing a commit is retried).
    if (!Buffer.from(resultRoot(outputs, n, outBytes)).equals(Buffer.from(task.resultRoot))) return undefined;
    const itemBytes = itemSize(model.inputs[0].shape) * 4n;
    const sample = task.sample.map((s) => BigInt(s));
    const items = await keeper.taskItemsAt(ctx, task, itemBytes, sample);
    const res = await this.runner.run({
      modelId: model.id, onnx, inputName: model.inputs[0].name, inputShape: model.inputs[0].shape.map(Number),
      outputNames: model.outputs.map((o) => o.name), items: items.map(toFloat32),
    });
    const sizes = io.outputSizes.map(Number);
    let pass = true;
    let firstFailure: string | undefined;
    for (const [j, idx] of sample.entries()) {
      const i = Number(idx);
      const claimed = toFloat32(outputs.subarray(i * outBytes, (i + 1) * outBytes));
      const cmp = compareItem(res.outputs[j], claimed, sizes, this.opts.tolerance ?? DEFAULT_TOLERANCE);
      if (!cmp.pass) { pass = false; firstFailure ??= `item ${i}: ${cmp.reason ?? "mismatch"}`; }
    }
    return { taskId: task.id, attempt: task.attempt, pass, items: sample.length, reexecMicros: res.micros, totalMs: performance.now() - t0, firstFailure };
  }
}

/** A Float32Array over a copy (state bytes need not be 4-byte aligned). */
function toFloat32(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes);
  return new Float32Array(copy.buffer, 0, copy.length / 4);
}
