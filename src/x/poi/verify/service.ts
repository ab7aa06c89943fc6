/**
 * A validator's verifier. After each Commit it looks at the attempts under verification in committed
 * state and, off the ABCI path:
 *   - private round: re-executes the k items of ITS OWN sample (drawn from its secret seed of the
 *     result's epoch, README "Sampling nobody can steer") and keeps a pass, or a fail naming the failing
 *     items (at most params.max_reports_per_validator);
 *   - public round: re-executes every item another validator reported, and keeps a vote per item.
 * ExtendVote then takes what is ready (extension.ts). Nothing here writes state: verdicts reach the
 * chain only as signed vote extensions.
 */
import type { Context } from "../../../app/context";
import type { VerdictSource } from "../verdict_hooks";
import { itemSize, modelIo, type PoiKeeper } from "../keeper";
import { VerificationKeeper } from "../verification_keeper";
import { resultRoot } from "../commitment";
import { seedFor, validatorSample } from "../sampling";
import { isTraining, TaskStatus, type Model, type Params, type Task } from "../types";
import { TrainingKeeper } from "../training_keeper";
import { segmentCount } from "../training";
import { TrainingChecks } from "./training";
import { compareItem, toFloat32, toleranceFromParams, type Tolerance } from "./compare";
import { ReexecCrashError, ReexecRunner, ReexecTimeoutError } from "./runner";
import { CrashRecords } from "./crash-records";
import { buildExtension, type LocalVerdicts } from "./extension";
import { taskIdsWithStatus } from "../indexes";

/**
 * Test knobs (documented in src/x/poi/README.md), set per node in config/app.json "verifier_fault":
 * `noise_rel` perturbs this validator's onnxruntime outputs (a stand-in for another CPU);
 * `invert_verdicts` makes it vote every verdict the wrong way (a faulty or malicious validator);
 * `always_pass` makes it approve every attempt and reported item without re-executing (a lazy validator).
 */
export interface VerifierFault {
  noise_rel?: number;
  invert_verdicts?: boolean;
  always_pass?: boolean;
  /** The re-execution process aborts on models with this name (a stand-in for a model that crashes onnxruntime). */
  abort_models_named?: string;
}

/** Who this verifier votes as. */
export interface VerifierIdentity {
  /** This validator's consensus address, uppercase hex. */
  validator: string;
  /** 32 secret bytes: the root of this validator's sampling seeds. Never leaves the node. */
  secret: Uint8Array;
}

export interface VerifierOptions {
  fault?: VerifierFault;
  /** Overrides the chain's tolerance (tests only). */
  tolerance?: Tolerance;
  /** Cap on one re-execution job (model load included). */
  timeoutMs?: number;
  /** Where crash records live (the node's data dir); in memory when absent. */
  stateDir?: string;
  log?: (msg: string) => void;
}

/** One re-execution, for logs and measurements. */
export interface VerificationRecord {
  taskId: string;
  attempt: number;
  round: "private" | "public";
  pass: boolean;
  items: number;
  /** Wall time of onnxruntime's session.run over the items, µs. */
  reexecMicros: number;
  /** Everything: reading state, re-execution, comparison, ms. */
  totalMs: number;
  firstFailure?: string;
}

const MAX_TRIES = 3;

export class VerifierService implements VerdictSource {
  private readonly runner: ReexecRunner;
  private readonly local: LocalVerdicts = { verdicts: new Map(), items: new Map() };
  private readonly tries = new Map<string, number>();
  private readonly verification = new VerificationKeeper();
  private readonly crashes: CrashRecords;
  private readonly training = new TrainingKeeper();
  private readonly trainingChecks: TrainingChecks;
  private scanning = false;
  private rescan = false;
  readonly records: VerificationRecord[] = [];
  /** Attempts waiting for this verifier's re-execution (as of its last scan, counting down as it works). */
  queueDepth = 0;
  private readonly recordListeners: Array<(r: VerificationRecord) => void> = [];
  private readonly log: (msg: string) => void;

  constructor(
    private readonly source: { queryContext(): Context; poi: PoiKeeper },
    readonly identity: VerifierIdentity,
    private readonly opts: VerifierOptions = {},
  ) {
    this.runner = new ReexecRunner({ timeoutMs: opts.timeoutMs ?? 30_000, noiseRel: opts.fault?.noise_rel });
    this.crashes = new CrashRecords(opts.stateDir);
    this.trainingChecks = new TrainingChecks(source.poi, this.runner);
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

  /** Calls `listener` after every re-execution (metrics). */
  onRecord(listener: (r: VerificationRecord) => void): void {
    this.recordListeners.push(listener);
  }

  /** Resolves once the verifier is idle (tests). */
  async idle(): Promise<void> {
    while (this.scanning) await new Promise((r) => setTimeout(r, 5));
  }

  /** This validator's vote extension for `height`: seeds to commit and reveal, and ready verdicts. */
  async extension(height: bigint): Promise<Uint8Array> {
    return buildExtension(this.source.queryContext(), this.source.poi, this.verification, this.identity, this.local, height, {
      invert: this.opts.fault?.invert_verdicts === true, alwaysPass: this.opts.fault?.always_pass === true,
    });
  }

  async close(): Promise<void> {
    await this.idle();
    await this.runner.close();
  }

  /** The re-execution runner's counters (processes started, crashes, timeouts, ...). */
  runnerStats() {
    return this.runner.stats();
  }

  private async scan(): Promise<void> {
    if (this.opts.fault?.always_pass) return; // the lazy test fault checks nothing
    const ctx = this.source.queryContext();
    const keeper = this.source.poi;
    const params = await keeper.params(ctx);
    const live = new Set<string>();
    // First what is to do (its length is the queue depth metrics report), then the re-executions.
    const work: Array<{ task: Task; key: string; needPrivate: boolean; pendingItems: string[] }> = [];
    for (const id of await taskIdsWithStatus(ctx, TaskStatus.VERIFYING)) {
      const task = await keeper.getTask(ctx, id);
      if (!task || task.status !== TaskStatus.VERIFYING) continue;
      const key = `${task.id}/${task.attempt}`;
      live.add(key);
      if ((this.tries.get(key) ?? 0) >= MAX_TRIES) continue;
      if (isTraining(task)) {
        try {
          await this.verifyTraining(ctx, params, task);
        } catch (err) {
          this.tries.set(key, (this.tries.get(key) ?? 0) + 1);
          this.log(`verifier: training task ${task.id} attempt ${task.attempt}: no verdict (try ${this.tries.get(key)} of ${MAX_TRIES}): ${(err as Error).message}`);
        }
        continue;
      }
      const needPrivate = !this.local.verdicts.has(key) && !task.votes.some((v) => v.validator === this.identity.validator)
        && (await this.eligible(ctx, task));
      const pendingItems = task.challenges.map((c) => c.item)
        .filter((item) => !this.local.items.has(`${key}/${item}`) && !task.challenges.find((c) => c.item === item)!.votes.some((v) => v.validator === this.identity.validator));
      if (needPrivate || pendingItems.length > 0) work.push({ task, key, needPrivate, pendingItems });
    }
    this.queueDepth = work.length;
    for (const { task, key, needPrivate, pendingItems } of work) {
      try {
        if (needPrivate) await this.verifyPrivate(ctx, params, task);
        if (pendingItems.length) await this.verifyItems(ctx, params, task, pendingItems.map(BigInt));
      } catch (err) {
        this.tries.set(key, (this.tries.get(key) ?? 0) + 1);
        this.log(`verifier: task ${task.id} attempt ${task.attempt}: no verdict (try ${this.tries.get(key)} of ${MAX_TRIES}): ${(err as Error).message}`);
      }
      this.queueDepth--;
    }
    // Forget attempts that left verification.
    for (const k of [...this.local.verdicts.keys()]) if (!live.has(k)) this.local.verdicts.delete(k);
    for (const k of [...this.local.items.keys()]) if (!live.has(k.split("/").slice(0, 2).join("/"))) this.local.items.delete(k);
    for (const k of [...this.tries.keys()]) if (!live.has(k)) this.tries.delete(k);
  }

  private async eligible(ctx: Context, task: Task): Promise<boolean> {
    const rec = await this.verification.seedRecord(ctx, this.identity.validator, BigInt(task.resultEpoch));
    return rec !== undefined && BigInt(rec.committedHeight) < BigInt(task.resultHeight);
  }

  /** The items this validator samples for an attempt (its seed of the result's epoch). */
  sampleOf(chainId: string, task: Task): bigint[] {
    const seed = seedFor(this.identity.secret, chainId, BigInt(task.resultEpoch));
    return validatorSample(seed, BigInt(task.id), task.attempt, task.resultRoot, BigInt(task.numItems), BigInt(task.k));
  }

  private async verifyPrivate(ctx: Context, params: Params, task: Task): Promise<void> {
    const sample = this.sampleOf(ctx.header.chainId, task);
    const key = `${task.id}/${task.attempt}`;
    const gaveUp = this.crashes.unusable(task.modelId);
    if (gaveUp) {
      this.local.verdicts.set(key, { pass: false, failedItems: [], sample: sample.map(String), cannotVerify: true });
      this.log(`verifier: task ${task.id} attempt ${task.attempt}: cannot verify: model ${task.modelId} crashed or hung this verifier before (${gaveUp.last}); not running it again`);
      return;
    }
    const rec = await this.reexecute(ctx, params, task, sample, "private");
    if (!rec) return;
    const failed = rec.failing.slice(0, Number(params.maxReportsPerValidator)).map(String);
    this.local.verdicts.set(key, { pass: failed.length === 0, failedItems: failed, sample: sample.map(String) });
  }

  /**
   * A training attempt (verify/training.ts): once this validator's segment request is recorded and the
   * checkpoints its segments and the accuracy item need are revealed, its private verdict; and a vote on
   * each reported item whose checkpoints are revealed.
   */
  private async verifyTraining(ctx: Context, params: Params, task: Task): Promise<void> {
    const key = `${task.id}/${task.attempt}`;
    const attempt = await this.training.attempt(ctx, task);
    if (!attempt) return;
    const me = this.identity.validator;
    const request = attempt.requests.find((r) => r.validator === me);
    const needPrivate = request !== undefined && !this.local.verdicts.has(key) && !task.votes.some((v) => v.validator === me);
    const pending = task.challenges.filter((c) => !this.local.items.has(`${key}/${c.item}`) && !c.votes.some((v) => v.validator === me)).map((c) => BigInt(c.item));
    if (this.crashes.unusable(task.modelId)) {
      if (needPrivate) this.local.verdicts.set(key, { pass: false, failedItems: [], sample: request.segments, cannotVerify: true });
      return;
    }
    const run = async (items: bigint[], round: "private" | "public") => {
      const t0 = performance.now();
      let res;
      try {
        res = await this.trainingChecks.check(ctx, params, task, attempt, items);
      } catch (err) {
        if (err instanceof ReexecCrashError || err instanceof ReexecTimeoutError) this.crashes.record(task.modelId, err instanceof ReexecCrashError ? "crash" : "timeout", err.message);
        throw err;
      }
      const rec = { taskId: task.id, attempt: task.attempt, round, pass: res.failing.length === 0, items: items.length, reexecMicros: res.micros, totalMs: performance.now() - t0, firstFailure: res.firstFailure };
      this.records.push(rec);
      if (this.records.length > 1000) this.records.shift();
      this.log(`verifier: training task ${task.id} attempt ${task.attempt} (${round}): items ${items.join(",")} in ${rec.totalMs.toFixed(1)} ms`
        + `${res.accuracyBps !== undefined ? `, held-out accuracy ${res.accuracyBps} bps` : ""} -> ${rec.pass ? "PASS" : `FAIL (${res.firstFailure})`}`);
      return res;
    };
    if (needPrivate) {
      const items = [...request.segments.map(BigInt), segmentCount(task.numItems)];
      if (this.trainingChecks.ready(task, attempt, items)) {
        const res = await run(items, "private");
        const failed = res.failing.slice(0, Number(params.maxReportsPerValidator)).map(String);
        this.local.verdicts.set(key, { pass: failed.length === 0, failedItems: failed, sample: items.map(String), accuracyBps: res.accuracyBps ?? 0 });
      }
    }
    const ready = pending.filter((i) => this.trainingChecks.ready(task, attempt, [i]));
    if (ready.length > 0) {
      const failing = new Set((await run(ready, "public")).failing);
      for (const item of ready) this.local.items.set(`${key}/${item}`, !failing.has(item));
    }
  }

  private async verifyItems(ctx: Context, params: Params, task: Task, items: bigint[]): Promise<void> {
    if (this.crashes.unusable(task.modelId)) return; // no item verdicts on a model this node cannot run
    const rec = await this.reexecute(ctx, params, task, items, "public");
    if (!rec) return;
    const failing = new Set(rec.failing);
    for (const item of items) this.local.items.set(`${task.id}/${task.attempt}/${item}`, !failing.has(item));
  }

  /** Re-runs `items` of an attempt and compares; undefined if committed state moved on while reading. */
  private async reexecute(ctx: Context, params: Params, task: Task, items: readonly bigint[], round: "private" | "public"): Promise<(VerificationRecord & { failing: bigint[] }) | undefined> {
    const t0 = performance.now();
    const keeper = this.source.poi;
    const model = await keeper.getModel(ctx, task.modelId);
    const onnx = await keeper.getModelBytes(ctx, task.modelId);
    const outputs = await keeper.getTaskOutputs(ctx, BigInt(task.id));
    if (!model || !onnx || !outputs) return undefined;
    const io = modelIo(model);
    const outBytes = Number(io.outputElems) * 4;
    // The outputs must be the ones the attempt committed to (a read racing a commit is retried).
    if (!Buffer.from(resultRoot(outputs, Number(task.numItems), outBytes)).equals(Buffer.from(task.resultRoot))) return undefined;
    const inputs = await keeper.taskItemsAt(ctx, task, itemSize(model.inputs[0].shape) * 4n, items);
    let res;
    try {
      res = await this.runner.run({ ...job(model, onnx, inputs), abort: this.opts.fault?.abort_models_named === model.name });
    } catch (err) {
      // A crash or a hang is recorded on disk first, so a restart does not run the model again.
      if (err instanceof ReexecCrashError || err instanceof ReexecTimeoutError) {
        this.crashes.record(model.id, err instanceof ReexecCrashError ? "crash" : "timeout", (err as Error).message);
        this.log(`verifier: model ${model.id} ${err instanceof ReexecCrashError ? "crashed" : "timed out in"} the re-execution process: ${(err as Error).message}`);
        if (this.crashes.unusable(model.id)) {
          if (round === "private") await this.verifyPrivate(ctx, params, task); // now a "cannot verify" vote
          return undefined;
        }
      }
      throw err;
    }
    const sizes = io.outputSizes.map(Number);
    const tol = this.opts.tolerance ?? toleranceFromParams(params);
    const failing: bigint[] = [];
    let firstFailure: string | undefined;
    for (const [j, idx] of items.entries()) {
      const i = Number(idx);
      const cmp = compareItem(res.outputs[j], toFloat32(outputs.subarray(i * outBytes, (i + 1) * outBytes)), sizes, tol);
      if (!cmp.pass) { failing.push(idx); firstFailure ??= `item ${i}: ${cmp.reason ?? "mismatch"}`; }
    }
    const rec = { taskId: task.id, attempt: task.attempt, round, pass: failing.length === 0, items: items.length, reexecMicros: res.micros, totalMs: performance.now() - t0, firstFailure };
    this.records.push(rec);
    if (this.records.length > 1000) this.records.shift();
    for (const l of this.recordListeners) l(rec);
    this.log(`verifier: task ${task.id} attempt ${task.attempt} (${round}): ${items.length} items re-executed in ${(res.micros / 1000).toFixed(2)} ms `
      + `(${rec.totalMs.toFixed(1)} ms total) -> ${rec.pass ? "PASS" : `FAIL (${firstFailure})`}${this.opts.fault?.invert_verdicts ? " [voting inverted: test fault]" : ""}`);
    return { ...rec, failing };
  }
}

function job(model: Model, onnx: Uint8Array, inputs: Uint8Array[]) {
  return {
    modelId: model.id, onnx, inputName: model.inputs[0].name, inputShape: model.inputs[0].shape.map(Number),
    outputNames: model.outputs.map((o) => o.name), items: inputs.map(toFloat32),
  };
}
