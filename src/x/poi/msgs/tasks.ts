/**
 * Task messages: submit (escrow of reward and verification fee), claim (bond), submit result
 * (commitment). What happens to a task at the end of every block (tally, payout, slashing, expiry) is
 * in ../abci.ts; how an attempt ends in ../outcomes.ts.
 *
 * Life of a task attempt:
 *   OPEN --claim--> CLAIMED --result--> VERIFYING --2/3 private passes, no confirmed failure--> COMPLETED
 *                     |                     |--> a reported item confirmed failing by 2/3: slash, reopen (OPEN)
 *                     '-- claim lapses:     '--> no decision by the deadline (split or silence): bond back, reopen
 *                         bond burned, reopen
 *   OPEN or a reopen at/after the deadline --> EXPIRED (escrow and verification fee refunded)
 */
import { type MsgHandler, msgHandler } from "../../../app/module";
import { parseAddress, formatAddress } from "../../../app/address";
import { BOND_DENOM } from "../../../app/params";
import { bigMin } from "../../../util/bigint";
import { parseAmount } from "../../bank/types";
import {
  ErrDeadlinePassed, ErrInsufficientBond, ErrInvalidResult, ErrInvalidTask, ErrModelNotFound, ErrDatasetNotFound,
  ErrNotClaimant, ErrTaskNotFound, ErrTaskState,
} from "../errors";
import { isContentId, modelIo, POI_MODULE, POI_MODULE_ACCOUNT, type PoiKeeper } from "../keeper";
import type { BankKeeper } from "../expected_keepers";
import { resultRoot } from "../commitment";
import { epochOf } from "../sampling";
import { taskTerms } from "./task_terms";
import {
  MsgSubmitInferenceTaskCodec, MsgSubmitInferenceTaskResponseCodec, MsgClaimTaskCodec, MsgClaimTaskResponseCodec,
  MsgSubmitResultCodec, MsgSubmitResultResponseCodec, TASK_STATUS_NAMES, TaskStatus, ModelKind, isTraining,
  type MsgSubmitInferenceTask, type MsgClaimTask, type MsgSubmitResult, type Task, type TensorSpec,
} from "../types";

const coins = (amount: bigint) => [{ denom: BOND_DENOM, amount }];
export const statusName = (s: TaskStatus) => TASK_STATUS_NAMES[s] ?? String(s);

/** Shapes match when they agree after dropping leading 1s (a dataset item [784] feeds a model input [1,784]). */
export function sameItemShape(a: readonly string[], b: readonly string[]): boolean {
  const strip = (s: readonly string[]) => { let i = 0; while (i < s.length - 1 && s[i] === "1") i++; return s.slice(i); };
  const x = strip(a), y = strip(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

export const shapeText = (s: TensorSpec) => `[${s.shape.join(",")}]`;

/** The stateless checks claims and results share: the worker's address and a positive task id. */
export function workerAndTask(m: { worker: string; taskId: string }, invalid: (msg: string) => Error): { workerBytes: Uint8Array; id: bigint } {
  const workerBytes = parseAddress(m.worker, "worker");
  const id = BigInt(m.taskId);
  if (id === 0n) throw invalid("task_id must be positive");
  return { workerBytes, id };
}

/** The worker holds the task's claim and the claim has not expired: what a result or a training commitment needs. */
export function checkClaimant(task: Task, worker: string, h: bigint): void {
  if (task.status !== TaskStatus.CLAIMED) throw ErrTaskState(`task ${task.id} is ${statusName(task.status)}; a result needs a claim first`);
  if (task.worker !== worker) throw ErrNotClaimant(`task ${task.id} is claimed by ${task.worker}, not ${worker}`);
  if (h >= BigInt(task.claimExpiresHeight)) throw ErrDeadlinePassed(`the claim on task ${task.id} expired at height ${task.claimExpiresHeight}; this block is ${h}`);
}

export function taskMsgHandlers(keeper: PoiKeeper, bank: BankKeeper): MsgHandler[] {

  const submit: MsgHandler<MsgSubmitInferenceTask & { requesterBytes: Uint8Array; reward: bigint; bondAmount: bigint }> = {
    typeUrl: MsgSubmitInferenceTaskCodec.typeUrl,
    module: POI_MODULE,
    decode(value) {
      const m = MsgSubmitInferenceTaskCodec.decode(value);
      const requesterBytes = parseAddress(m.requester, "requester");
      if (!isContentId(m.modelId)) throw ErrInvalidTask(`model id "${m.modelId}" is not 64 lowercase hex characters`);
      if (m.datasetId !== "") {
        if (!isContentId(m.datasetId)) throw ErrInvalidTask(`dataset id "${m.datasetId}" is not 64 lowercase hex characters`);
        if (BigInt(m.count) === 0n) throw ErrInvalidTask("count must be positive for a dataset task");
        if (m.inputs.length) throw ErrInvalidTask("give either a dataset range or inline inputs, not both");
      } else {
        if (m.inputs.length === 0) throw ErrInvalidTask("no inputs: give a dataset id and range, or inline inputs");
        if (BigInt(m.start) !== 0n || BigInt(m.count) !== 0n) throw ErrInvalidTask("start and count apply to dataset tasks only");
      }
      let reward: bigint, bondAmount: bigint;
      try {
        reward = parseAmount(m.rewardPerItem);
        bondAmount = parseAmount(m.bond);
      } catch (err) {
        throw ErrInvalidTask(`reward_per_item and bond must be positive integers of ${BOND_DENOM}: ${(err as Error).message}`);
      }
      if (m.k < 1) throw ErrInvalidTask("k (items to re-execute) must be at least 1");
      if (BigInt(m.deadlineBlocks) < 2n) throw ErrInvalidTask("deadline_blocks must be at least 2");
      return { ...m, requesterBytes, reward, bondAmount };
    },
    signers: (m) => [m.requesterBytes],
    async handle(ctx, m) {
      const params = await keeper.params(ctx);
      const model = await keeper.getModel(ctx, m.modelId);
      if (!model) throw ErrModelNotFound(`model ${m.modelId}`);
      if (model.flagged) throw ErrInvalidTask(`model ${m.modelId} is flagged (${model.flagReason}) at height ${model.flaggedHeight}: it takes no new tasks`);
      if (model.kind === ModelKind.TRAIN_STEP) throw ErrInvalidTask(`model ${m.modelId} is a train_step model; inference tasks take inference models`);
      if (model.inputs.length !== 1) throw ErrInvalidTask(`model ${m.modelId} has ${model.inputs.length} inputs; tasks support single-input models`);
      const io = modelIo(model);
      const itemBytes = io.inputElems * 4n;
      let numItems: bigint;
      if (m.datasetId !== "") {
        const ds = await keeper.getDataset(ctx, m.datasetId);
        if (!ds) throw ErrDatasetNotFound(`dataset ${m.datasetId}`);
        if (!ds.complete) throw ErrInvalidTask(`dataset ${ds.id} is not complete (${ds.chunksReceived}/${ds.numChunks} chunks)`);
        if (!sameItemShape(ds.item!.shape, model.inputs[0].shape)) {
          throw ErrInvalidTask(`dataset items have shape ${shapeText(ds.item!)} but the model's input "${model.inputs[0].name}" has shape ${shapeText(model.inputs[0])}`);
        }
        numItems = BigInt(m.count);
        if (BigInt(m.start) + numItems > BigInt(ds.numItems)) throw ErrInvalidTask(`items [${m.start}, ${BigInt(m.start) + numItems}) are outside the dataset's ${ds.numItems} items`);
      } else {
        if (BigInt(m.inputs.length) > BigInt(params.maxInlineInputBytes)) throw ErrInvalidTask(`inline inputs are ${m.inputs.length} bytes, limit ${params.maxInlineInputBytes}`);
        if (BigInt(m.inputs.length) % itemBytes !== 0n) {
          throw ErrInvalidTask(`inline inputs are ${m.inputs.length} bytes, not a whole number of items of shape ${shapeText(model.inputs[0])} (${itemBytes} bytes each)`);
        }
        numItems = BigInt(m.inputs.length) / itemBytes;
      }
      if (numItems > BigInt(params.maxTaskItems)) throw ErrInvalidTask(`${numItems} items is more than the limit ${params.maxTaskItems}`);
      if (BigInt(m.k) > BigInt(params.maxK)) throw ErrInvalidTask(`k = ${m.k} is more than the limit ${params.maxK}`);
      if (BigInt(m.deadlineBlocks) > BigInt(params.maxDeadlineBlocks)) throw ErrInvalidTask(`deadline_blocks ${m.deadlineBlocks} is more than the limit ${params.maxDeadlineBlocks}`);

      const escrow = m.reward * numItems;
      const { verifyFee, protocolFee } = taskTerms(params, model, numItems, BigInt(m.k), BigInt(m.deadlineBlocks), escrow, m.bondAmount);
      const deposit = BigInt(params.taskDeposit);
      const balance = await bank.getBalance(ctx, m.requesterBytes, BOND_DENOM);
      if (balance < escrow + verifyFee + protocolFee + deposit) {
        throw ErrInvalidTask(`escrow of ${escrow}${BOND_DENOM} (${numItems} items × ${m.reward}) plus the verification fee ${verifyFee}${BOND_DENOM}, the protocol fee ${protocolFee}${BOND_DENOM} and the task deposit ${deposit}${BOND_DENOM} exceeds the requester's balance ${balance}${BOND_DENOM}`);
      }
      await bank.sendCoins(ctx, m.requesterBytes, POI_MODULE_ACCOUNT, coins(escrow + verifyFee + protocolFee + deposit));

      const id = await keeper.nextTaskId(ctx);
      const h = ctx.header.height;
      const task: Task = {
        id: id.toString(), requester: formatAddress(m.requesterBytes), modelId: m.modelId, datasetId: m.datasetId,
        start: m.datasetId === "" ? "0" : String(m.start), numItems: numItems.toString(), rewardPerItem: m.reward.toString(), k: m.k,
        bond: m.bondAmount.toString(), escrow: escrow.toString(), createdHeight: h.toString(), deadlineHeight: (h + BigInt(m.deadlineBlocks)).toString(),
        status: TaskStatus.OPEN, attempt: 0, worker: "", claimExpiresHeight: "0", resultRoot: new Uint8Array(), resultHeight: "0",
        verifyDeadlineHeight: "0", votes: [], completedHeight: "0", failedAttempts: 0, resultEpoch: "0", voteWindowEndHeight: "0", challenges: [],
        verifyFee: verifyFee.toString(), deposit: deposit.toString(), protocolFee: protocolFee.toString(), auditOf: "0",
      };
      keeper.setTask(ctx, task, false);
      if (m.datasetId === "") keeper.setTaskInputs(ctx, id, m.inputs);
      ctx.events.emit("poi_task_submitted", [
        ["task_id", task.id], ["requester", task.requester], ["model_id", task.modelId], ["dataset_id", task.datasetId], ["num_items", task.numItems],
        ["escrow", `${escrow}${BOND_DENOM}`], ["verify_fee", `${verifyFee}${BOND_DENOM}`], ["protocol_fee", `${protocolFee}${BOND_DENOM}`], ["deposit", `${deposit}${BOND_DENOM}`], ["k", String(m.k)], ["bond", `${m.bondAmount}${BOND_DENOM}`],
        ["deadline_height", task.deadlineHeight],
      ]);
      return { typeUrl: MsgSubmitInferenceTaskResponseCodec.typeUrl, value: MsgSubmitInferenceTaskResponseCodec.encode({ taskId: task.id, escrow: task.escrow }).finish() };
    },
  };

  const claim: MsgHandler<MsgClaimTask & { workerBytes: Uint8Array; id: bigint }> = {
    typeUrl: MsgClaimTaskCodec.typeUrl,
    module: POI_MODULE,
    decode(value) {
      const m = MsgClaimTaskCodec.decode(value);
      return { ...m, ...workerAndTask(m, ErrInvalidTask) };
    },
    signers: (m) => [m.workerBytes],
    async handle(ctx, m) {
      const task = await keeper.getTask(ctx, m.id);
      if (!task) throw ErrTaskNotFound(`task ${m.id}`);
      const h = ctx.header.height;
      if (task.status !== TaskStatus.OPEN) throw ErrTaskState(`task ${m.id} is ${statusName(task.status)}${task.worker ? ` by ${task.worker}` : ""}; only an open task can be claimed`);
      if (h >= BigInt(task.deadlineHeight)) throw ErrDeadlinePassed(`task ${m.id} reached its deadline at height ${task.deadlineHeight}`);
      const bond = BigInt(task.bond);
      const balance = await bank.getBalance(ctx, m.workerBytes, BOND_DENOM);
      if (balance < bond) throw ErrInsufficientBond(`claiming task ${m.id} locks a bond of ${bond}${BOND_DENOM}; ${m.worker} has ${balance}${BOND_DENOM}`);
      await bank.sendCoins(ctx, m.workerBytes, POI_MODULE_ACCOUNT, coins(bond));
      const params = await keeper.params(ctx);
      const expires = bigMin(h + BigInt(params.claimBlocks), BigInt(task.deadlineHeight));
      const updated: Task = { ...task, status: TaskStatus.CLAIMED, worker: formatAddress(m.workerBytes), claimExpiresHeight: expires.toString() };
      keeper.setTask(ctx, updated, false);
      ctx.events.emit("poi_task_claimed", [["task_id", task.id], ["worker", updated.worker], ["attempt", String(task.attempt)], ["bond", `${bond}${BOND_DENOM}`], ["claim_expires_height", updated.claimExpiresHeight]]);
      return { typeUrl: MsgClaimTaskResponseCodec.typeUrl, value: MsgClaimTaskResponseCodec.encode({ claimExpiresHeight: updated.claimExpiresHeight }).finish() };
    },
  };

  const result: MsgHandler<MsgSubmitResult & { workerBytes: Uint8Array; id: bigint }> = {
    typeUrl: MsgSubmitResultCodec.typeUrl,
    module: POI_MODULE,
    decode(value) {
      const m = MsgSubmitResultCodec.decode(value);
      const checked = workerAndTask(m, ErrInvalidResult);
      if (m.outputs.length === 0) throw ErrInvalidResult("outputs are empty");
      if (m.resultRoot.length !== 32) throw ErrInvalidResult(`result_root is ${m.resultRoot.length} bytes, want 32 (sha256)`);
      return { ...m, ...checked };
    },
    signers: (m) => [m.workerBytes],
    async handle(ctx, m) {
      const task = await keeper.getTask(ctx, m.id);
      if (!task) throw ErrTaskNotFound(`task ${m.id}`);
      const h = ctx.header.height;
      const worker = formatAddress(m.workerBytes);
      if (task.status === TaskStatus.AWAITING_SAMPLE || task.status === TaskStatus.VERIFYING) {
        throw ErrTaskState(`task ${m.id} already has a result (attempt ${task.attempt} by ${task.worker}) under verification`);
      }
      if (isTraining(task)) throw ErrInvalidResult(`task ${m.id} is a training task: its worker sends MsgCommitTraining`);
      checkClaimant(task, worker, h);
      const model = await keeper.getModel(ctx, task.modelId);
      if (!model) throw ErrModelNotFound(`model ${task.modelId}`);
      const outBytes = modelIo(model).outputElems * 4n;
      const n = BigInt(task.numItems);
      if (BigInt(m.outputs.length) !== n * outBytes) throw ErrInvalidResult(`outputs are ${m.outputs.length} bytes; want ${n} items × ${outBytes} bytes`);
      const root = resultRoot(m.outputs, Number(n), Number(outBytes));
      if (!Buffer.from(root).equals(Buffer.from(m.resultRoot))) {
        throw ErrInvalidResult(`result_root ${Buffer.from(m.resultRoot).toString("hex")} is not the Merkle root of the outputs (${Buffer.from(root).toString("hex")})`);
      }
      const params = await keeper.params(ctx);
      keeper.setTaskOutputs(ctx, m.id, m.outputs);
      keeper.setTask(ctx, {
        ...task, status: TaskStatus.VERIFYING, resultRoot: root, resultHeight: h.toString(), resultEpoch: epochOf(h, BigInt(params.seedEpochBlocks)).toString(),
        voteWindowEndHeight: (h + BigInt(params.verifyVoteBlocks)).toString(), verifyDeadlineHeight: (h + BigInt(params.verifyTimeoutBlocks)).toString(),
      }, false);
      ctx.events.emit("poi_result_submitted", [
        ["task_id", task.id], ["worker", worker], ["attempt", String(task.attempt)], ["result_root", Buffer.from(root).toString("hex")],
        ["result_epoch", epochOf(h, BigInt(params.seedEpochBlocks)).toString()],
      ]);
      return { typeUrl: MsgSubmitResultResponseCodec.typeUrl, value: MsgSubmitResultResponseCodec.encode({ resultHeight: h.toString() }).finish() };
    },
  };

  return [msgHandler(submit), msgHandler(claim), msgHandler(result)];
}

