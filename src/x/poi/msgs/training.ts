/**
 * MsgSubmitTrainingTask (README, "Training tasks"): the requester pays for T SGD steps of a train_step
 * model from uploaded initial parameters over a training range, checked on a disjoint held-out range.
 * Every term is checked before anything moves; a refusal changes nothing. The task is an ordinary
 * Task (kind TRAINING) whose items are its T/c segments plus the held-out accuracy item, so claims,
 * sampling, verdicts, escalation and outcomes are the inference ones. Its commitment and reveals:
 * training_commit.ts.
 */
import { type MsgHandler, msgHandler } from "../../../app/module";
import { clip } from "../../../app/errors";
import { parseAddress, formatAddress } from "../../../app/address";
import { BOND_DENOM } from "../../../app/params";
import { parseAmount } from "../../bank/types";
import { ErrDatasetNotFound, ErrInvalidTrainingTask, ErrModelNotFound } from "../errors";
import { isContentId, itemSize, POI_MODULE, POI_MODULE_ACCOUNT, type PoiKeeper } from "../keeper";
import type { BankKeeper } from "../expected_keepers";
import { modelParameters, TRAIN_STEP_X, TRAIN_STEP_Y } from "../onnx/train-step";
import { checkpointHash, isLearningRate } from "../training";
import { TrainingKeeper } from "../training_keeper";
import { trainingTerms } from "./task_terms";
import { sameItemShape, shapeText } from "./tasks";
import {
  MODEL_KIND_NAMES, ModelKind, MsgSubmitTrainingTaskCodec, MsgSubmitTrainingTaskResponseCodec, TaskKind, TaskStatus,
  type Dataset, type Model, type MsgSubmitTrainingTask, type Params, type Task, type TensorSpec,
} from "../types";

type Decoded = MsgSubmitTrainingTask & { requesterBytes: Uint8Array; rewardAmount: bigint; bondAmount: bigint; segments: bigint };

const coins = (amount: bigint) => [{ denom: BOND_DENOM, amount }];
const range = (start: string, count: string) => `[${start}, ${BigInt(start) + BigInt(count)})`;

/** Stateless checks, each naming the field it refuses. */
function decodeSubmit(value: Uint8Array): Decoded {
  const m = MsgSubmitTrainingTaskCodec.decode(value);
  const bad = (msg: string): never => { throw ErrInvalidTrainingTask(msg); };
  const requesterBytes = parseAddress(m.requester, "requester");
  for (const [field, id] of [["model_id", m.modelId], ["initial_params_dataset_id", m.initialParamsDatasetId], ["x_dataset_id", m.xDatasetId], ["y_dataset_id", m.yDatasetId]]) {
    if (!isContentId(id)) bad(`${field} "${clip(id)}" is not 64 lowercase hex characters`);
  }
  let rewardAmount = 0n, bondAmount = 0n;
  try {
    rewardAmount = parseAmount(m.reward);
    bondAmount = parseAmount(m.bond);
  } catch (err) {
    bad(`reward and bond must be positive integers of ${BOND_DENOM}: ${(err as Error).message}`);
  }
  const steps = BigInt(m.steps), c = BigInt(m.checkpointInterval);
  if (steps === 0n) bad("steps must be at least 1");
  if (c === 0n) bad("checkpoint_interval must be at least 1");
  if (steps % c !== 0n) bad(`checkpoint_interval c = ${c} does not divide steps T = ${steps}`);
  const segments = steps / c;
  if (m.k < 1) bad("k (segments each validator re-executes) must be at least 1");
  if (BigInt(m.k) > segments) bad(`k = ${m.k} is more than the task's ${segments} segments (T/c = ${steps}/${c})`);
  if (m.batchSize < 1) bad("batch_size must be at least 1");
  if (!isLearningRate(m.learningRate)) bad(`learning_rate "${clip(m.learningRate)}" is not a positive decimal such as "0.1" (at most 9 digits each side of the point)`);
  if (m.minAccuracyBps > 10000) bad(`min_accuracy_bps ${m.minAccuracyBps} is more than 10000`);
  if (BigInt(m.trainCount) === 0n || BigInt(m.heldOutCount) === 0n) bad("train_count and held_out_count must be positive");
  const [ts, te, hs, he] = [BigInt(m.trainStart), BigInt(m.trainStart) + BigInt(m.trainCount), BigInt(m.heldOutStart), BigInt(m.heldOutStart) + BigInt(m.heldOutCount)];
  if (hs < te && ts < he) bad(`held-out range ${range(m.heldOutStart, m.heldOutCount)} overlaps the training range ${range(m.trainStart, m.trainCount)}`);
  if (BigInt(m.trainCount) < BigInt(m.batchSize)) bad(`the training range holds ${m.trainCount} items, fewer than a batch of ${m.batchSize}`);
  if (BigInt(m.deadlineBlocks) < 2n) bad("deadline_blocks must be at least 2");
  return { ...m, requesterBytes, rewardAmount, bondAmount, segments };
}

export function trainingSubmitHandler(keeper: PoiKeeper, bank: BankKeeper): MsgHandler {
  const training = new TrainingKeeper();
  type Ctx = Parameters<PoiKeeper["getModel"]>[0];

  async function model(ctx: Ctx, id: string, kind: ModelKind, what: string): Promise<Model> {
    const found = await keeper.getModel(ctx, id);
    if (!found) throw ErrModelNotFound(`${what} ${id}`);
    if (found.kind !== kind) throw ErrInvalidTrainingTask(`${what} ${id} is of kind ${MODEL_KIND_NAMES[found.kind] ?? found.kind}; a training task needs ${MODEL_KIND_NAMES[kind]}`);
    if (found.flagged) throw ErrInvalidTrainingTask(`${what} ${id} is flagged (${found.flagReason}) at height ${found.flaggedHeight}: it takes no new tasks`);
    return found;
  }

  /** A complete dataset whose items have `item`'s shape and cover both ranges. */
  async function dataset(ctx: Ctx, id: string, what: string, item: TensorSpec, m: Decoded): Promise<Dataset> {
    const ds = await keeper.getDataset(ctx, id);
    if (!ds) throw ErrDatasetNotFound(`${what} dataset ${id}`);
    if (!ds.complete) throw ErrInvalidTrainingTask(`${what} dataset ${id} is not complete (${ds.chunksReceived}/${ds.numChunks} chunks)`);
    if (!sameItemShape(ds.item!.shape, item.shape)) {
      throw ErrInvalidTrainingTask(`${what} dataset items have shape ${shapeText(ds.item!)} but the train-step graph's "${item.name}" rows have shape ${shapeText(item)}`);
    }
    for (const [name, start, count] of [["training", m.trainStart, m.trainCount], ["held-out", m.heldOutStart, m.heldOutCount]]) {
      if (BigInt(start) + BigInt(count) > BigInt(ds.numItems)) throw ErrInvalidTrainingTask(`the ${name} range ${range(start, count)} is outside the ${what} dataset's ${ds.numItems} items`);
    }
    return ds;
  }

  /** The initial parameters: a complete dataset holding exactly as many float32 values as the parent's parameters. */
  async function initialParameters(ctx: Ctx, params: Params, parent: Model, m: Decoded): Promise<Uint8Array> {
    const parentBytes = (await keeper.getModelBytes(ctx, parent.id))!;
    const layout = modelParameters(parentBytes);
    const bytes = layout.reduce((n, p) => n + p.shape.reduce((a, d) => a * BigInt(d), 1n), 0n) * 4n;
    if (bytes > BigInt(params.maxInitializerBytes)) throw ErrInvalidTrainingTask(`the parameters are ${bytes} bytes, over max_initializer_bytes ${params.maxInitializerBytes}`);
    const ds = await keeper.getDataset(ctx, m.initialParamsDatasetId);
    if (!ds) throw ErrDatasetNotFound(`initial parameters dataset ${m.initialParamsDatasetId}`);
    if (!ds.complete) throw ErrInvalidTrainingTask(`initial parameters dataset ${ds.id} is not complete (${ds.chunksReceived}/${ds.numChunks} chunks)`);
    const have = BigInt(ds.numItems) * itemSize(ds.item!.shape);
    if (have * 4n !== bytes) {
      const names = layout.map((p) => `${p.name} [${p.shape.join(",")}]`).join(", ");
      throw ErrInvalidTrainingTask(`the initial parameters dataset holds ${have} float32 values; the parent model's parameters (${clip(names, 256)}) are ${bytes / 4n}`);
    }
    return keeper.datasetItems(ctx, ds, 0n, BigInt(ds.numItems));
  }

  const submit: MsgHandler<Decoded> = {
    typeUrl: MsgSubmitTrainingTaskCodec.typeUrl,
    module: POI_MODULE,
    decode: decodeSubmit,
    signers: (m) => [m.requesterBytes],
    async handle(ctx, m) {
      const params = await keeper.params(ctx);
      const bad = (msg: string): never => { throw ErrInvalidTrainingTask(msg); };
      if (BigInt(m.steps) > BigInt(params.maxTrainingSteps)) bad(`steps ${m.steps} is more than the limit ${params.maxTrainingSteps}`);
      if (BigInt(m.k) > BigInt(params.maxK)) bad(`k = ${m.k} is more than the limit ${params.maxK}`);
      if (BigInt(m.heldOutCount) > BigInt(params.maxTaskItems)) bad(`held_out_count ${m.heldOutCount} is more than the limit ${params.maxTaskItems}`);
      if (BigInt(m.deadlineBlocks) > BigInt(params.maxDeadlineBlocks)) bad(`deadline_blocks ${m.deadlineBlocks} is more than the limit ${params.maxDeadlineBlocks}`);
      const step = await model(ctx, m.modelId, ModelKind.TRAIN_STEP, "model");
      const parent = await model(ctx, step.parentModelId, ModelKind.INFERENCE, "parent model");
      const x = step.inputs.find((t) => t.name === TRAIN_STEP_X)!;
      const y = step.inputs.find((t) => t.name === TRAIN_STEP_Y)!;
      if (x.shape[0] !== String(m.batchSize)) bad(`batch_size ${m.batchSize} is not the train-step graph's batch size ${x.shape[0]}`);
      await dataset(ctx, m.xDatasetId, "x", { ...x, shape: x.shape.slice(1) }, m);
      await dataset(ctx, m.yDatasetId, "y", { ...y, shape: y.shape.slice(1) }, m);
      const initial = await initialParameters(ctx, params, parent, m);

      const terms = trainingTerms(params, step, parent, {
        steps: BigInt(m.steps), interval: BigInt(m.checkpointInterval), k: BigInt(m.k), heldOut: BigInt(m.heldOutCount),
        deadlineBlocks: BigInt(m.deadlineBlocks), escrow: m.rewardAmount, bond: m.bondAmount,
      });
      const deposit = BigInt(params.taskDeposit);
      const due = m.rewardAmount + terms.verifyFee + terms.protocolFee + deposit;
      const balance = await bank.getBalance(ctx, m.requesterBytes, BOND_DENOM);
      if (balance < due) {
        bad(`the reward ${m.rewardAmount}${BOND_DENOM} plus the verification fee ${terms.verifyFee}${BOND_DENOM}, the protocol fee ${terms.protocolFee}${BOND_DENOM} and the task deposit ${deposit}${BOND_DENOM} exceeds the requester's balance ${balance}${BOND_DENOM}`);
      }
      const chunkBytes = BigInt(params.maxDatasetChunkBytes);
      await bank.sendCoins(ctx, m.requesterBytes, POI_MODULE_ACCOUNT, coins(due));

      const id = await keeper.nextTaskId(ctx);
      const h = ctx.header.height;
      const task: Task = {
        id: id.toString(), requester: formatAddress(m.requesterBytes), modelId: m.modelId, datasetId: "", start: "0",
        numItems: (m.segments + 1n).toString(), rewardPerItem: "0", k: m.k, bond: m.bondAmount.toString(), escrow: m.rewardAmount.toString(),
        createdHeight: h.toString(), deadlineHeight: (h + BigInt(m.deadlineBlocks)).toString(), status: TaskStatus.OPEN, attempt: 0, worker: "",
        claimExpiresHeight: "0", resultRoot: new Uint8Array(), resultHeight: "0", verifyDeadlineHeight: "0", votes: [], completedHeight: "0",
        failedAttempts: 0, resultEpoch: "0", voteWindowEndHeight: "0", challenges: [], verifyFee: terms.verifyFee.toString(), deposit: deposit.toString(),
        protocolFee: terms.protocolFee.toString(), auditOf: "0", kind: TaskKind.TRAINING,
      };
      keeper.setTask(ctx, task, false);
      training.setSpec(ctx, id, {
        parentModelId: parent.id, initialParamsDatasetId: m.initialParamsDatasetId, xDatasetId: m.xDatasetId, yDatasetId: m.yDatasetId,
        trainStart: m.trainStart, trainCount: m.trainCount, heldOutStart: m.heldOutStart, heldOutCount: m.heldOutCount, steps: m.steps,
        batchSize: m.batchSize, learningRate: m.learningRate, checkpointInterval: m.checkpointInterval, minAccuracyBps: m.minAccuracyBps,
        initialHash: checkpointHash(initial, chunkBytes), paramBytes: String(initial.length), checkpointChunkBytes: chunkBytes.toString(),
      });
      ctx.events.emit("poi_training_submitted", [
        ["task_id", task.id], ["requester", task.requester], ["model_id", m.modelId], ["parent_model_id", parent.id], ["steps", m.steps],
        ["checkpoint_interval", m.checkpointInterval], ["segments", m.segments.toString()], ["k", String(m.k)], ["escrow", `${m.rewardAmount}${BOND_DENOM}`],
        ["verify_fee", `${terms.verifyFee}${BOND_DENOM}`], ["protocol_fee", `${terms.protocolFee}${BOND_DENOM}`], ["deposit", `${deposit}${BOND_DENOM}`],
        ["bond", `${m.bondAmount}${BOND_DENOM}`], ["deadline_height", task.deadlineHeight],
      ]);
      return {
        typeUrl: MsgSubmitTrainingTaskResponseCodec.typeUrl,
        value: MsgSubmitTrainingTaskResponseCodec.encode({ taskId: task.id, segments: Number(m.segments) }).finish(),
      };
    },
  };
  return msgHandler(submit);
}
