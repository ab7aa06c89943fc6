/**
 * The training messages of the tx fuzzer, built on PoiWorld's view of the chain (fuzz-poi-msgs.ts):
 * a tiny MLP (2 → 4 ReLU → 2) and its train-step graph (batch 1), x / y / initial-parameter datasets
 * shaped for them, and valid MsgSubmitTrainingTask, MsgCommitTraining and MsgRevealCheckpoint. A
 * commitment is of a made-up run (checkpoint 0 is the task's initial parameters, the others random:
 * the fuzz validators re-execute nothing, they only request segments); a reveal is of a checkpoint the
 * validators requested. `bad()` gives named malformed variants of each (c not dividing T, overlapping
 * ranges, mismatched shapes, unknown models, bad Merkle proofs, truncated or oversized chunks, reveals
 * nobody asked for, another account's signature, ...), most of which must fail whatever the state.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { PoiApp } from "../../src/app/app";
import { buildMlp } from "../../src/x/poi/onnx/builder";
import { buildMlpTrainStep } from "../../src/x/poi/onnx/train-step-builder";
import { randomMlpWeights } from "../../src/ml/train";
import { commitMsg, revealMsgs, type TrainingRun } from "../../src/ml/training-task";
import { merkleRoot } from "../../src/x/poi/commitment";
import { checkpointHash, checkpointLeaf, neededCheckpoints, segmentCount } from "../../src/x/poi/training";
import { TrainingKeeper } from "../../src/x/poi/training_keeper";
import { isTraining, type MsgSubmitTrainingTask, type Task, type TensorSpec, type TrainingAttempt, type TrainingSpec } from "../../src/x/poi/types";
import type { Rng } from "./fuzz-gen";

export const TRAINING_TYPES = ["submit-training", "commit-training", "reveal-checkpoint"] as const;
export type TrainingType = (typeof TRAINING_TYPES)[number];

/** The tiny MLP's sizes; its parameters (w1 b1 w2 b2) are 2·4 + 4 + 4·2 + 2 = 22 float32 values. */
const IN = 2, HIDDEN = 4, OUT = 2;
const PARAM_FLOATS = IN * HIDDEN + HIDDEN + HIDDEN * OUT + OUT;
/** Items in the x and y datasets. */
const ITEMS = 8;

/** The parent (inference) MLP and its train-step graph of batch 1. */
export function trainingModels(): { parent: Uint8Array; step: Uint8Array } {
  return {
    parent: buildMlp({ inputSize: IN, hidden: HIDDEN, outputs: OUT, weights: randomMlpWeights(IN, HIDDEN, OUT, 7) }),
    step: buildMlpTrainStep({ inputSize: IN, hidden: HIDDEN, outputs: OUT, batchSize: 1 }),
  };
}

/** A message ready to sign (as fuzz-poi-msgs.ts's BuiltMsg, for a training type). */
export interface TrainingMsg { type: TrainingType; value: Partial<Record<string, unknown>>; signer: string }
/** A malformed one: its name, the key that signs it, and whether it must fail in any state. */
export interface BadTrainingMsg extends TrainingMsg { variant: string; key: string; mustFail: boolean }

/** The datasets a training task needs (planned by PoiWorld from `trainingData`). */
export type TrainingSet = keyof typeof TRAINING_DATASETS;
/** What `build` needs first when the state has nothing to build on: a model registered, a task claimed, a dataset created or completed. */
export type TrainingPrerequisite = "register-model" | "claim" | TrainingSet;

/** What the generator needs of PoiWorld. */
export interface TrainingWorldView {
  readonly requesters: string[];
  readonly workers: string[];
  readonly registered: ReadonlyMap<string, unknown>;
  /** One of the datasets we planned for training tasks: its id and the bytes of all its items, complete or not as the chain says. */
  trainingSet(name: TrainingSet): { id: string; bytes: Uint8Array; complete: boolean };
  /** Our other complete datasets whose items are float32 vectors of `n` values. */
  completeOfWidth(n: number): string[];
  /** Our datasets created but not complete. */
  incomplete(): string[];
  readonly parentId: string;
  readonly stepId: string;
  readonly claimed: Task[];
  readonly verifying: Task[];
  readonly open: Task[];
  /** The committed height. */
  readonly height: bigint;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const floats = (r: Rng, n: number) => { const f = new Float32Array(n); for (let i = 0; i < n; i++) f[i] = r.float() * 2 - 1; return new Uint8Array(f.buffer); };
const flip = (r: Rng, b: Uint8Array) => { const c = Uint8Array.from(b); if (c.length) c[r.int(c.length)] ^= 1 << r.int(8); return c; };

/** The x, y and initial-parameter data (fixed for a seed): x in [-1, 1), y one-hot, 22 initial parameters. */
export function trainingData(r: Rng): { x: Uint8Array; y: Uint8Array; init: Uint8Array } {
  const y = new Float32Array(ITEMS * OUT);
  for (let i = 0; i < ITEMS; i++) y[i * OUT + r.int(OUT)] = 1;
  return { x: floats(r, ITEMS * IN), y: new Uint8Array(y.buffer), init: floats(r, PARAM_FLOATS) };
}
/** Their items and chunking (chunks of at most 64 bytes: the fuzz chain's max_dataset_chunk_bytes). */
export const TRAINING_DATASETS: Record<"x" | "y" | "init", { item: TensorSpec; numItems: number; perChunk: number }> = {
  x: { item: { name: "input", shape: [String(IN)], dtype: "float32" }, numItems: ITEMS, perChunk: 4 },
  y: { item: { name: "logits", shape: [String(OUT)], dtype: "float32" }, numItems: ITEMS, perChunk: 4 },
  init: { item: { name: "params", shape: ["2"], dtype: "float32" }, numItems: PARAM_FLOATS / 2, perChunk: 8 },
};

export class TrainingGen {
  private readonly keeper = new TrainingKeeper();
  /** Training specs and current attempts of the claimed and verifying training tasks, by task id. */
  private specs = new Map<string, TrainingSpec>();
  private attempts = new Map<string, TrainingAttempt>();
  /** Made-up runs we committed (or built a commitment of), by task id and checkpoint root. */
  private readonly runs = new Map<string, TrainingRun>();

  constructor(private readonly r: Rng, private readonly w: TrainingWorldView) {}

  async refresh(app: PoiApp): Promise<void> {
    const ctx = app.queryContext();
    this.specs = new Map();
    this.attempts = new Map();
    for (const t of [...this.w.claimed, ...this.w.verifying].filter(isTraining)) {
      const spec = await this.keeper.spec(ctx, BigInt(t.id));
      if (spec) this.specs.set(t.id, spec);
      const att = await this.keeper.attempt(ctx, t);
      if (att) this.attempts.set(t.id, att);
    }
  }

  // ---- valid messages -------------------------------------------------------------------------------

  /** A valid message of `type`, or what it needs first. */
  build(type: TrainingType, from?: string): TrainingMsg | TrainingPrerequisite {
    switch (type) {
      case "submit-training": return this.submit(from) ?? this.prerequisite();
      case "commit-training": {
        const t = this.mine(this.w.claimed);
        if (!t) return this.w.open.some(isTraining) ? "claim" : this.build("submit-training", from);
        return this.commit(t);
      }
      case "reveal-checkpoint": {
        const ours = this.w.verifying.filter((t) => this.mine([t]) && this.runOf(t) && this.missing(t).length);
        if (ours.length === 0) return this.build("commit-training", from);
        const t = this.r.pick(ours);
        return { type, value: this.reveal(t, this.r.pick(this.missing(t))), signer: t.worker };
      }
    }
  }

  /** A valid submission when the models are registered and the datasets complete (or with `over`, whatever the state). */
  private submit(from?: string, over: Partial<MsgSubmitTrainingTask> = {}): TrainingMsg | undefined {
    const r = this.r;
    const [x, y, init] = (["x", "y", "init"] as const).map((n) => this.w.trainingSet(n));
    const ready = this.w.registered.has(this.w.stepId) && x.complete && y.complete && init.complete;
    if (!ready && Object.keys(over).length === 0) return undefined;
    const requester = from ?? r.pick(this.w.requesters);
    const steps = r.pick([1, 2, 4, 6]);
    const c = r.pick([1, 2, 3, 6].filter((d) => steps % d === 0));
    const split = r.range(1, ITEMS - 1);
    const trainFirst = r.chance(0.7);
    const xs = r.chance(0.2) ? this.w.completeOfWidth(IN) : [];
    const value: Partial<MsgSubmitTrainingTask> = {
      requester, modelId: this.w.stepId, initialParamsDatasetId: init.id, xDatasetId: xs.length ? r.pick(xs) : x.id, yDatasetId: y.id,
      trainStart: trainFirst ? "0" : String(split), trainCount: String(trainFirst ? split : ITEMS - split),
      heldOutStart: trainFirst ? String(split) : "0", heldOutCount: String(trainFirst ? ITEMS - split : split),
      steps: String(steps), batchSize: 1, learningRate: r.pick(["0.1", "0.5", "1", "0.003"]), checkpointInterval: String(c),
      k: r.range(1, steps / c), reward: String(r.range(1, 100_000)), bond: String(r.range(1, 500)), minAccuracyBps: r.int(10001),
      deadlineBlocks: String(r.range(16, 40)), ...over,
    };
    return { type: "submit-training", value, signer: requester };
  }

  /** The models first, then the datasets. */
  private prerequisite(): TrainingPrerequisite {
    if (!this.w.registered.has(this.w.stepId)) return "register-model";
    const pending = (["x", "y", "init"] as const).filter((n) => !this.w.trainingSet(n).complete);
    return this.r.pick(pending);
  }

  /** One of our workers' training tasks in `tasks` (a random one), if any. */
  private mine(tasks: Task[]): Task | undefined {
    const ours = tasks.filter((t) => isTraining(t) && this.w.workers.includes(t.worker) && this.specs.has(t.id));
    return ours.length ? this.r.pick(ours) : undefined;
  }

  private runOf(t: Task): TrainingRun | undefined {
    return this.runs.get(`${t.id}/${hex(t.resultRoot)}`);
  }

  /** The checkpoints validators asked for that are not revealed yet. */
  private missing(t: Task): number[] {
    const att = this.attempts.get(t.id);
    if (!att) return [];
    return neededCheckpoints(att.requests.flatMap((q) => q.segments), segmentCount(t.numItems)).filter((i) => !att.revealed.includes(i));
  }

  /** A made-up run of `t` (checkpoint 0 its initial parameters, when we know them) and its commitment. */
  private commit(t: Task): TrainingMsg {
    const spec = this.specs.get(t.id)!;
    const chunkBytes = BigInt(spec.checkpointChunkBytes);
    const init = this.w.trainingSet("init");
    const initial = spec.initialParamsDatasetId === init.id ? init.bytes : this.r.bytes(Number(spec.paramBytes));
    const segments = Number(segmentCount(t.numItems));
    const checkpoints = [initial, ...Array.from({ length: segments }, () => floats(this.r, Number(spec.paramBytes) / 4))];
    const hashes = checkpoints.map((b) => checkpointHash(b, chunkBytes));
    const leaves = hashes.map((h, i) => checkpointLeaf(i, h));
    const run: TrainingRun = { checkpoints, hashes, leaves, root: merkleRoot(leaves), losses: new Float32Array(floats(this.r, Number(spec.steps)).buffer) };
    this.runs.set(`${t.id}/${hex(run.root)}`, run);
    if (this.runs.size > 500) this.runs.delete(this.runs.keys().next().value!);
    return { type: "commit-training", value: { ...commitMsg(run, t.worker, BigInt(t.id)) }, signer: t.worker };
  }

  private reveal(t: Task, index: number): Partial<Record<string, unknown>> {
    const msgs = revealMsgs(this.runOf(t)!, t.worker, BigInt(t.id), index, BigInt(this.specs.get(t.id)!.checkpointChunkBytes));
    return { ...this.r.pick(msgs) };
  }

  // ---- malformed messages ---------------------------------------------------------------------------

  /** A named malformed training message (it falls back to one that needs no state). */
  bad(): BadTrainingMsg {
    const r = this.r;
    const out = (type: TrainingType, variant: string, value: Partial<Record<string, unknown>>, signer: string, mustFail = true, key = signer): BadTrainingMsg =>
      ({ type, variant, value, signer, key, mustFail });
    const sub = (variant: string, over: Partial<MsgSubmitTrainingTask>) => {
      const m = this.submit(undefined, { modelId: this.w.stepId, ...over })!;
      return out("submit-training", variant, m.value, m.signer);
    };
    const others = (a: string) => [...this.w.requesters, ...this.w.workers].filter((x) => x !== a);
    const pick = r.pick([
      "c-not-dividing", "c-zero", "steps-zero", "k-over-segments", "overlap", "held-out-outside", "train-below-batch", "unknown-model", "inference-model",
      "dataset-shape", "params-size", "incomplete-dataset", "batch-size", "learning-rate", "min-accuracy", "short-deadline", "unaffordable", "wrong-signer",
      "commit-initial-proof", "commit-final-proof", "commit-root", "commit-loss-trace", "commit-hash-length", "commit-not-claimant", "commit-inference-task",
      "commit-unknown-task", "commit-twice", "reveal-unsampled", "reveal-checkpoint-0", "reveal-beyond-last", "reveal-truncated", "reveal-oversized",
      "reveal-wrong-data", "reveal-proof", "reveal-chunk-hashes", "reveal-chunk-index", "reveal-not-worker", "reveal-empty", "reveal-twice", "reveal-before-commit",
    ]);
    const claimed = this.mine(this.w.claimed);
    const verifying = this.w.verifying.filter((t) => isTraining(t) && this.w.workers.includes(t.worker) && this.runOf(t) && this.specs.has(t.id));
    const v = verifying.length ? r.pick(verifying) : undefined;
    switch (pick) {
      case "c-not-dividing": return sub(pick, { steps: "6", checkpointInterval: String(r.pick([4, 5, 7])) });
      case "c-zero": return sub(pick, { checkpointInterval: "0" });
      case "steps-zero": return sub(pick, { steps: "0" });
      case "k-over-segments": return sub(pick, { steps: "4", checkpointInterval: "2", k: r.range(3, 9) });
      case "overlap": return sub(pick, { trainStart: "0", trainCount: "5", heldOutStart: String(r.range(0, 4)), heldOutCount: "3" });
      case "held-out-outside": return sub(pick, { trainStart: "0", trainCount: "4", heldOutStart: "4", heldOutCount: String(r.range(5, 1000)) });
      case "train-below-batch": return sub(pick, { batchSize: 2, trainCount: "1", trainStart: "0", heldOutStart: "1", heldOutCount: "2" });
      case "unknown-model": return sub(pick, { modelId: hex(r.bytes(32)) });
      case "inference-model": return sub(pick, { modelId: this.w.parentId });
      case "dataset-shape": return sub(pick, { [r.pick(["xDatasetId", "yDatasetId"])]: r.pick([...this.w.completeOfWidth(3), hex(r.bytes(32))]) });
      case "params-size": return sub(pick, { initialParamsDatasetId: r.pick([this.w.trainingSet("x").id, ...this.w.completeOfWidth(3).slice(0, 3)]) });
      case "incomplete-dataset": return sub(pick, { [r.pick(["xDatasetId", "yDatasetId", "initialParamsDatasetId"])]: r.pick([...this.w.incomplete(), hex(r.bytes(32))]) });
      case "batch-size": return sub(pick, { batchSize: r.pick([0, 2, 3]) });
      case "learning-rate": return sub(pick, { learningRate: r.pick(["", "0", "0.000", "-0.1", "1e-3", ".5", "1.", "0.1.1", "1234567890.5", "0.1234567890", " 0.1", "NaN", "01.5"]) });
      case "min-accuracy": return sub(pick, { minAccuracyBps: r.pick([10001, 65535, 4294967295]) });
      case "short-deadline": return sub(pick, { deadlineBlocks: String(r.range(0, 14)) });
      case "unaffordable": return sub(pick, { reward: "9".repeat(r.range(16, 30)), bond: "9".repeat(r.range(16, 30)) });
      case "wrong-signer": {
        const good = this.build(r.pick(TRAINING_TYPES));
        if (typeof good === "string") return sub(pick, {});
        return { ...out(good.type, pick, good.value, good.signer), key: r.pick(others(good.signer)) };
      }
      case "commit-inference-task": {
        const t = this.w.claimed.find((x) => !isTraining(x) && this.w.workers.includes(x.worker));
        if (t) return out("commit-training", pick, { ...this.commitValue(claimed), taskId: t.id, worker: t.worker }, t.worker);
        return out("commit-training", "commit-unknown-task", { ...this.commitValue(claimed), taskId: String(1n << 62n) }, claimed?.worker ?? r.pick(this.w.workers));
      }
      case "commit-unknown-task": return out("commit-training", pick, { ...this.commitValue(claimed), taskId: String((1n << 62n) + BigInt(r.int(1000))) }, claimed?.worker ?? r.pick(this.w.workers));
      case "commit-twice":
        if (v) return out("commit-training", pick, this.commit(v).value, v.worker);
        break;
      case "reveal-before-commit":
        if (claimed) {
          const run = this.runs.get([...this.runs.keys()].find((k) => k.startsWith(`${claimed.id}/`)) ?? "") ?? this.fakeRun(claimed);
          return out("reveal-checkpoint", pick, { ...revealMsgs(run, claimed.worker, BigInt(claimed.id), 1, BigInt(this.specs.get(claimed.id)!.checkpointChunkBytes))[0] }, claimed.worker);
        }
        break;
      default:
        if (pick.startsWith("commit-") && claimed) return this.badCommit(pick, claimed, others);
        if (pick.startsWith("reveal-") && v) { const b = this.badReveal(pick, v, others); if (b) return b; }
    }
    return sub("c-not-dividing", { steps: "4", checkpointInterval: "3" });
  }

  private commitValue(t: Task | undefined): Partial<Record<string, unknown>> {
    if (t) return this.commit(t).value;
    return { worker: this.r.pick(this.w.workers), taskId: "1", finalHash: this.r.bytes(32), checkpointRoot: this.r.bytes(32), lossTrace: this.r.bytes(16), initialProof: [this.r.bytes(32)], finalProof: [this.r.bytes(32)] };
  }

  private fakeRun(t: Task): TrainingRun {
    this.commit(t);
    return [...this.runs.values()].at(-1)!;
  }

  private badCommit(variant: string, t: Task, others: (a: string) => string[]): BadTrainingMsg {
    const r = this.r;
    const m = this.commit(t).value as { initialProof: Uint8Array[]; finalProof: Uint8Array[]; lossTrace: Uint8Array };
    const proof = (p: Uint8Array[]) => {
      if (p.length === 0 || r.chance(0.5)) return r.pick([p.slice(1), [...p, r.bytes(32)], p.length ? [] : [r.bytes(32)]]);
      const at = r.int(p.length);
      return p.map((x, i) => (i === at ? flip(r, x) : x));
    };
    const over: Record<string, unknown> = {
      "commit-initial-proof": { initialProof: proof(m.initialProof) },
      "commit-final-proof": { finalProof: proof(m.finalProof) },
      "commit-root": { checkpointRoot: r.bytes(32) },
      "commit-loss-trace": { lossTrace: r.pick([m.lossTrace.subarray(4), Buffer.concat([m.lossTrace, r.bytes(4)]), m.lossTrace.subarray(1), new Uint8Array()]) },
      "commit-hash-length": { [r.pick(["finalHash", "checkpointRoot"])]: r.bytes(r.pick([0, 31, 33])) },
    }[variant] as Record<string, unknown> ?? {};
    if (variant === "commit-not-claimant") {
      const by = r.pick(others(t.worker).filter((a) => this.w.workers.includes(a)));
      return { type: "commit-training", variant, value: { ...m, worker: by }, signer: by, key: by, mustFail: true };
    }
    return { type: "commit-training", variant, value: { ...m, ...over }, signer: t.worker, key: t.worker, mustFail: true };
  }

  private badReveal(variant: string, t: Task, others: (a: string) => string[]): BadTrainingMsg | undefined {
    const r = this.r;
    const segments = Number(segmentCount(t.numItems));
    const att = this.attempts.get(t.id);
    const needed = att ? neededCheckpoints(att.requests.flatMap((q) => q.segments), BigInt(segments)) : [];
    const base = (index: number) => this.reveal(t, index) as { data: Uint8Array; proof: Uint8Array[]; chunkHashes: Uint8Array[]; chunk: number };
    const m = base(needed.length ? r.pick(needed) : r.range(1, segments));
    const bad = (value: Partial<Record<string, unknown>>, mustFail = true, signer = t.worker): BadTrainingMsg =>
      ({ type: "reveal-checkpoint", variant, value: { ...m, ...value }, signer, key: signer, mustFail });
    switch (variant) {
      case "reveal-unsampled": {
        const idle = Array.from({ length: segments }, (_, i) => i + 1).filter((i) => !needed.includes(i));
        // Requests may still arrive with the block's own aggregate while they are open.
        return idle.length ? bad(base(r.pick(idle)), this.w.height + 1n > BigInt(t.requestEndHeight ?? "0")) : undefined;
      }
      case "reveal-checkpoint-0": return bad({ index: 0 });
      case "reveal-beyond-last": return bad({ index: segments + r.range(1, 3) });
      case "reveal-truncated": return bad({ data: m.data.subarray(0, m.data.length - r.range(1, m.data.length - 1)) });
      case "reveal-oversized": return bad({ data: Buffer.concat([m.data, r.bytes(r.range(1, 64))]) });
      case "reveal-wrong-data": return bad({ data: flip(r, m.data) });
      case "reveal-proof": return bad({ proof: m.proof.length && r.chance(0.6) ? m.proof.map((x, i) => (i === 0 ? flip(r, x) : x)) : r.pick([m.proof.slice(1), [...m.proof, r.bytes(32)]]) });
      case "reveal-chunk-hashes": return bad({ chunkHashes: r.chance(0.5) ? m.chunkHashes.slice(1) : [...m.chunkHashes, sha256(r.bytes(8))] });
      case "reveal-chunk-index": return bad({ chunk: m.chunkHashes.length + r.int(3) });
      case "reveal-not-worker": { const by = r.pick(others(t.worker)); return bad({ worker: by }, true, by); }
      case "reveal-empty": return bad({ data: new Uint8Array() });
      case "reveal-twice": {
        const done = att?.revealed ?? [];
        return done.length ? bad(base(r.pick(done))) : undefined;
      }
      default: return undefined;
    }
  }
}
