/**
 * Training-task steps in-process tests share: an MNIST MLP (parent) and its train-step graph
 * registered, the x (digits), y (one-hot labels) and initial-parameter datasets uploaded, and a worker
 * (honest, or cheating through src/ml/training-task.ts's knobs) that claims, trains, commits and reveals
 * what validators ask for.
 */
import { strict as assert } from "assert";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import type { Harness } from "./poi-harness";
import { buildMlp, MLP_INPUT, MLP_OUTPUT } from "../../src/x/poi/onnx/builder";
import { buildMlpTrainStep } from "../../src/x/poi/onnx/train-step-builder";
import { initMlpWeights, loadMnist, randomMlpWeights } from "../../src/ml/train";
import { encodeCheckpoint, mlpCheckpoint } from "../../src/ml/checkpoint";
import { mnistBatch } from "../../src/ml/train-step-data";
import { TrainStepRunner } from "../../src/ml/train-step-runner";
import { commitMsg, revealMsgs, runTrainingTask, type TrainingKnobs, type TrainingRun } from "../../src/ml/training-task";
import { chunkDataset } from "../../src/client/poi-msgs";
import { validateModel } from "../../src/x/poi/onnx/validate";
import { neededCheckpoints, segmentCount } from "../../src/x/poi/training";
import { TrainingKeeper } from "../../src/x/poi/training_keeper";
import {
  ModelKind, MsgClaimTaskCodec, MsgCommitTrainingCodec, MsgCreateDatasetCodec, MsgRegisterModelCodec, MsgRegisterModelResponseCodec,
  MsgRevealCheckpointCodec, MsgSubmitTrainingTaskCodec, MsgSubmitTrainingTaskResponseCodec, MsgUploadDatasetChunkCodec, TaskStatus,
  type MsgSubmitTrainingTask, type Task, type TensorSpec, type TrainingAttempt, type TrainingSpec,
} from "../../src/x/poi/types";

export const HIDDEN = 64;
export const BATCH = 32;

/** The task once decided, and the poi_* end-of-block events about it meanwhile. */
export interface Decided { task: Task; events: Array<{ type: string; attrs: Record<string, string> }> }

const spec = (t: { name: string; shape: number[]; dtype: string }): TensorSpec => ({ name: t.name, shape: t.shape.map(String), dtype: t.dtype });

export class TrainingFlow {
  parentId = "";
  stepId = "";
  stepOnnx!: Uint8Array;
  /** The train-step graph's batch size. */
  batch = BATCH;
  xId = "";
  yId = "";
  paramsId = "";
  initial!: Uint8Array;
  readonly training = new TrainingKeeper();

  private constructor(readonly h: Harness, readonly owner: string, readonly items: number) {}

  /** Registers the parent MLP (784-`hidden`-10, default 784-64-10) and its train-step graph, and uploads the first `items` digits, their labels and a seeded random init. */
  static async create(h: Harness, opts: { owner?: string; items?: number; initSeed?: number; hidden?: number; batch?: number } = {}): Promise<TrainingFlow> {
    const f = new TrainingFlow(h, opts.owner ?? "requester", opts.items ?? 2000);
    const hidden = opts.hidden ?? HIDDEN;
    f.batch = opts.batch ?? BATCH;
    const parent = buildMlp({ inputSize: 784, hidden, outputs: 10, weights: randomMlpWeights(784, hidden, 10, 7) });
    f.parentId = await f.register(parent, "mlp", ModelKind.INFERENCE, "");
    f.stepOnnx = buildMlpTrainStep({ inputSize: 784, hidden, outputs: 10, batchSize: f.batch });
    f.stepId = await f.register(f.stepOnnx, "mlp-step", ModelKind.TRAIN_STEP, f.parentId);
    const mnist = loadMnist();
    const x = new Float32Array(f.items * 784);
    const y = new Float32Array(f.items * 10);
    for (let i = 0; i < f.items; i++) {
      x.set(mnist.images[i], i * 784);
      y[i * 10 + mnist.labels[i]] = 1;
    }
    f.xId = await f.upload("digits", { name: MLP_INPUT, shape: ["784"], dtype: "float32" }, x, 300);
    f.yId = await f.upload("labels", { name: MLP_OUTPUT, shape: ["10"], dtype: "float32" }, y, 5000);
    f.initial = encodeCheckpoint(mlpCheckpoint(initMlpWeights(784, hidden, 10, opts.initSeed ?? 11)));
    f.paramsId = await f.upload("init", { name: "params", shape: [String(f.initial.length / 4)], dtype: "float32" }, new Float32Array(f.initial.buffer.slice(0)), 1);
    return f;
  }

  async register(onnx: Uint8Array, name: string, kind: ModelKind, parentModelId: string): Promise<string> {
    const info = validateModel(onnx);
    const r = await this.h.send(this.owner, MsgRegisterModelCodec, {
      owner: this.h.account(this.owner).address, name, onnx, inputs: info.inputs.map(spec), outputs: info.outputs.map(spec), kind, parentModelId,
    });
    assert.equal(r.code, 0, r.log);
    return MsgRegisterModelResponseCodec.decode(TxMsgData.decode(r.data!).msgResponses[0].value).modelId;
  }

  /** Creates and uploads a dataset (chunks straight into blocks: they may pass the 1 MiB CheckTx cap together). */
  async upload(name: string, item: TensorSpec, data: Float32Array, perChunk: number): Promise<string> {
    const ds = chunkDataset(item, data, perChunk);
    const owner = this.h.account(this.owner).address;
    const r = await this.h.send(this.owner, MsgCreateDatasetCodec, { owner, name, item, numItems: String(ds.numItems), itemsPerChunk: String(perChunk), chunkHashes: ds.hashes });
    assert.equal(r.code, 0, r.log);
    for (const [index, chunk] of ds.chunks.entries()) {
      const res = await this.h.send(this.owner, MsgUploadDatasetChunkCodec, { owner, datasetId: ds.datasetId, index, data: chunk });
      assert.equal(res.code, 0, res.log);
    }
    return ds.datasetId;
  }

  /** The default task: T = 300 steps of batch 32, c = 10, lr 0.1, k = 2, training on items [0, 1000), held out [1000, 2000). */
  submitMsg(over: Partial<MsgSubmitTrainingTask> = {}): Partial<MsgSubmitTrainingTask> {
    return {
      requester: this.h.account(this.owner).address, modelId: this.stepId, initialParamsDatasetId: this.paramsId, xDatasetId: this.xId, yDatasetId: this.yId,
      trainStart: "0", trainCount: "1000", heldOutStart: "1000", heldOutCount: "1000", steps: "300", batchSize: this.batch, learningRate: "0.1",
      checkpointInterval: "10", k: 2, reward: "5000000", bond: "5000000", minAccuracyBps: 8500, deadlineBlocks: "200", ...over,
    };
  }

  async submit(over: Partial<MsgSubmitTrainingTask> = {}): Promise<string> {
    const r = await this.h.send(this.owner, MsgSubmitTrainingTaskCodec, this.submitMsg(over));
    assert.equal(r.code, 0, r.log);
    return MsgSubmitTrainingTaskResponseCodec.decode(TxMsgData.decode(r.data!).msgResponses[0].value).taskId;
  }

  async task(id: string): Promise<Task> {
    return (await this.h.app.poi.getTask(this.h.app.queryContext(), BigInt(id)))!;
  }
  async spec(id: string): Promise<TrainingSpec> {
    return (await this.training.spec(this.h.app.queryContext(), BigInt(id)))!;
  }
  async attempt(id: string): Promise<TrainingAttempt | undefined> {
    return this.training.attempt(this.h.app.queryContext(), await this.task(id));
  }

  /** What the worker computes (knobs make it cheat). */
  async train(id: string, knobs: TrainingKnobs = {}): Promise<TrainingRun> {
    const runner = await TrainStepRunner.create(this.stepOnnx);
    const mnist = loadMnist();
    try {
      return await runTrainingTask(runner, BigInt(id), await this.spec(id), this.initial, (rows) => mnistBatch(mnist, rows.map(Number)), knobs);
    } finally {
      await runner.release();
    }
  }

  /** Claims and commits `run`. */
  async claimAndCommit(worker: string, id: string, run: TrainingRun): Promise<void> {
    const c = await this.h.send(worker, MsgClaimTaskCodec, { worker: this.h.account(worker).address, taskId: id });
    assert.equal(c.code, 0, c.log);
    const r = await this.h.send(worker, MsgCommitTrainingCodec, commitMsg(run, this.h.account(worker).address, BigInt(id)));
    assert.equal(r.code, 0, r.log);
  }

  /**
   * Blocks until the attempt is decided (or `maxBlocks`): each block, the worker reveals every checkpoint
   * requested so far that it has not revealed (unless `reveal` is false; never those in `withhold`),
   * several txs in one block.
   */
  async revealUntilDecided(worker: string, id: string, run: TrainingRun, opts: { reveal?: boolean; withhold?: number[]; maxBlocks?: number } = {}): Promise<Decided> {
    const address = this.h.account(worker).address;
    const attempt0 = (await this.task(id)).attempt;
    const events: Decided["events"] = [];
    for (let i = 0; i < (opts.maxBlocks ?? 40); i++) {
      const t = await this.task(id);
      if (t.status !== TaskStatus.VERIFYING || t.attempt !== attempt0) return { task: t, events };
      const att = await this.attempt(id);
      const txs: Uint8Array[] = [];
      if (att && opts.reveal !== false && this.h.height + 1n <= BigInt(t.revealDeadlineHeight ?? "0")) {
        const chunkBytes = BigInt((await this.spec(id)).checkpointChunkBytes);
        const missing = neededCheckpoints(att.requests.flatMap((r) => r.segments), segmentCount(t.numItems)).filter((c) => !att.revealed.includes(c) && !opts.withhold?.includes(c));
        for (const index of missing) {
          for (const msg of revealMsgs(run, address, BigInt(id), index, chunkBytes)) {
            txs.push(await this.h.signTx(worker, MsgRevealCheckpointCodec, msg));
            this.h.account(worker).sequence++;
          }
        }
      }
      const res = await this.h.block(txs);
      if (txs.length) for (const r of (res.txResults ?? []).slice(-txs.length)) assert.equal(r.code, 0, r.log);
      for (const e of res.events ?? []) {
        const attrs = Object.fromEntries(e.attributes.map((a) => [a.key, a.value]));
        if (e.type.startsWith("poi_") && attrs.task_id === id) events.push({ type: e.type, attrs });
      }
    }
    return { task: await this.task(id), events };
  }
}
