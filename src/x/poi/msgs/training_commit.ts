/**
 * A training worker's commitment and reveals (README, "Training tasks"):
 *   MsgCommitTraining    - before any sample exists: the final parameters' hash, the loss trace and the
 *                          Merkle root over all T/c + 1 checkpoint hashes, with proofs that checkpoint 0
 *                          is the task's initial parameters and the last is the final hash. The
 *                          attempt goes to VERIFYING; validators then ask for their segments.
 *   MsgRevealCheckpoint  - one chunk of a checkpoint a requested segment needs (its start or end) or of
 *                          the final one, with its chunk hashes and Merkle proof, by the reveal deadline.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { type MsgHandler, msgHandler } from "../../../app/module";
import { formatAddress } from "../../../app/address";
import { ErrDeadlinePassed, ErrInvalidResult, ErrInvalidReveal, ErrNotClaimant, ErrTaskNotFound, ErrTaskState } from "../errors";
import { POI_MODULE, type PoiKeeper } from "../keeper";
import { verifyMerkleProof } from "../commitment";
import { epochOf } from "../sampling";
import {
  checkpointChunkCount, checkpointChunkSize, checkpointHashOfChunks, checkpointLeaf, neededCheckpoints, segmentCount,
} from "../training";
import { TrainingKeeper } from "../training_keeper";
import { checkClaimant, statusName, workerAndTask } from "./tasks";
import {
  isTraining, MsgCommitTrainingCodec, MsgCommitTrainingResponseCodec, MsgRevealCheckpointCodec, MsgRevealCheckpointResponseCodec,
  TaskStatus, type MsgCommitTraining, type MsgRevealCheckpoint, type Task,
} from "../types";

/** Sibling hashes in a proof: enough for 2^64 leaves. */
const MAX_PROOF = 64;
const MAX_CHUNKS = 100_000;

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function checkHashes(list: readonly Uint8Array[], what: string, max: number, err: (m: string) => Error): void {
  if (list.length > max) throw err(`${what} has ${list.length} hashes, at most ${max}`);
  if (!list.every((h) => h.length === 32)) throw err(`every hash of ${what} must be 32 bytes (sha256)`);
}

export function trainingCommitHandlers(keeper: PoiKeeper): MsgHandler[] {
  const training = new TrainingKeeper();

  async function trainingTask(ctx: Parameters<PoiKeeper["getTask"]>[0], id: bigint, err: (m: string) => Error): Promise<Task> {
    const task = await keeper.getTask(ctx, id);
    if (!task) throw ErrTaskNotFound(`task ${id}`);
    if (!isTraining(task)) throw err(`task ${id} is an inference task: its worker sends MsgSubmitResult`);
    return task;
  }

  const commit: MsgHandler<MsgCommitTraining & { workerBytes: Uint8Array; id: bigint }> = {
    typeUrl: MsgCommitTrainingCodec.typeUrl,
    module: POI_MODULE,
    decode(value) {
      const m = MsgCommitTrainingCodec.decode(value);
      const checked = workerAndTask(m, ErrInvalidResult);
      if (m.finalHash.length !== 32) throw ErrInvalidResult(`final_hash is ${m.finalHash.length} bytes, want 32 (sha256)`);
      if (m.checkpointRoot.length !== 32) throw ErrInvalidResult(`checkpoint_root is ${m.checkpointRoot.length} bytes, want 32 (sha256)`);
      if (m.lossTrace.length === 0 || m.lossTrace.length % 4 !== 0) throw ErrInvalidResult(`loss_trace is ${m.lossTrace.length} bytes, not a positive number of float32 values`);
      checkHashes(m.initialProof, "initial_proof", MAX_PROOF, ErrInvalidResult);
      checkHashes(m.finalProof, "final_proof", MAX_PROOF, ErrInvalidResult);
      return { ...m, ...checked };
    },
    signers: (m) => [m.workerBytes],
    async handle(ctx, m) {
      const task = await trainingTask(ctx, m.id, ErrInvalidResult);
      const h = ctx.header.height;
      if (task.status === TaskStatus.VERIFYING) throw ErrTaskState(`task ${m.id} already has a commitment (attempt ${task.attempt} by ${task.worker}) under verification`);
      checkClaimant(task, formatAddress(m.workerBytes), h);
      const spec = (await training.spec(ctx, m.id))!;
      if (BigInt(m.lossTrace.length) !== 4n * BigInt(spec.steps)) throw ErrInvalidResult(`loss_trace is ${m.lossTrace.length} bytes; want one float32 per step, ${4n * BigInt(spec.steps)}`);
      const segments = Number(segmentCount(task.numItems));
      if (!verifyMerkleProof(checkpointLeaf(0, spec.initialHash), 0, segments + 1, m.initialProof, m.checkpointRoot)) {
        throw ErrInvalidResult(`checkpoint_root does not hold the task's initial parameters (hash ${hex(spec.initialHash)}) as checkpoint 0 under initial_proof`);
      }
      if (!verifyMerkleProof(checkpointLeaf(segments, m.finalHash), segments, segments + 1, m.finalProof, m.checkpointRoot)) {
        throw ErrInvalidResult(`checkpoint_root does not hold final_hash as checkpoint ${segments} (the last) under final_proof`);
      }
      const params = await keeper.params(ctx);
      const revealDeadline = h + BigInt(params.revealBlocks);
      const updated: Task = {
        ...task, status: TaskStatus.VERIFYING, resultRoot: m.checkpointRoot, resultHeight: h.toString(), resultEpoch: epochOf(h, BigInt(params.seedEpochBlocks)).toString(),
        requestEndHeight: (h + BigInt(params.segmentRequestBlocks)).toString(), revealDeadlineHeight: revealDeadline.toString(),
        voteWindowEndHeight: (revealDeadline + BigInt(params.verifyVoteBlocks)).toString(), verifyDeadlineHeight: (revealDeadline + BigInt(params.verifyTimeoutBlocks)).toString(),
      };
      keeper.setTask(ctx, updated, false);
      training.setAttempt(ctx, m.id, { attempt: task.attempt, finalHash: m.finalHash, requests: [], revealed: [] });
      training.setLossTrace(ctx, m.id, m.lossTrace);
      ctx.events.emit("poi_training_committed", [
        ["task_id", task.id], ["worker", task.worker], ["attempt", String(task.attempt)], ["checkpoint_root", hex(m.checkpointRoot)], ["final_hash", hex(m.finalHash)],
        ["result_epoch", updated.resultEpoch], ["request_end_height", updated.requestEndHeight!], ["reveal_deadline_height", updated.revealDeadlineHeight!],
      ]);
      return {
        typeUrl: MsgCommitTrainingResponseCodec.typeUrl,
        value: MsgCommitTrainingResponseCodec.encode({ requestEndHeight: updated.requestEndHeight!, revealDeadlineHeight: updated.revealDeadlineHeight! }).finish(),
      };
    },
  };

  const reveal: MsgHandler<MsgRevealCheckpoint & { workerBytes: Uint8Array; id: bigint }> = {
    typeUrl: MsgRevealCheckpointCodec.typeUrl,
    module: POI_MODULE,
    decode(value) {
      const m = MsgRevealCheckpointCodec.decode(value);
      const checked = workerAndTask(m, ErrInvalidReveal);
      if (m.data.length === 0) throw ErrInvalidReveal("data is empty");
      checkHashes(m.chunkHashes, "chunk_hashes", MAX_CHUNKS, ErrInvalidReveal);
      checkHashes(m.proof, "proof", MAX_PROOF, ErrInvalidReveal);
      return { ...m, ...checked };
    },
    signers: (m) => [m.workerBytes],
    async handle(ctx, m) {
      const task = await trainingTask(ctx, m.id, ErrInvalidReveal);
      const h = ctx.header.height;
      if (task.status !== TaskStatus.VERIFYING) throw ErrTaskState(`task ${m.id} is ${statusName(task.status)}; checkpoints are revealed after a commitment`);
      const worker = formatAddress(m.workerBytes);
      if (task.worker !== worker) throw ErrNotClaimant(`task ${m.id} attempt ${task.attempt} is ${task.worker}'s, not ${worker}'s`);
      if (h > BigInt(task.revealDeadlineHeight ?? "0")) throw ErrDeadlinePassed(`the reveals of task ${m.id} closed at height ${task.revealDeadlineHeight}; this block is ${h}`);
      const spec = (await training.spec(ctx, m.id))!;
      const attempt = (await training.attempt(ctx, task))!;
      const segments = segmentCount(task.numItems);
      if (m.index === 0) throw ErrInvalidReveal(`checkpoint 0 is the task's initial parameters, on chain since submission: it needs no reveal`);
      if (BigInt(m.index) > segments) throw ErrInvalidReveal(`checkpoint ${m.index} does not exist: the task has checkpoints 0..${segments}`);
      const needed = neededCheckpoints(attempt.requests.flatMap((r) => r.segments), segments);
      if (!needed.includes(m.index)) {
        throw ErrInvalidReveal(`checkpoint ${m.index} is not needed by any sampled segment: the checkpoints requested so far are ${needed.join(", ")}`);
      }
      if (attempt.revealed.includes(m.index)) throw ErrInvalidReveal(`checkpoint ${m.index} is already revealed`);
      const total = BigInt(spec.paramBytes), chunkBytes = BigInt(spec.checkpointChunkBytes);
      const chunks = checkpointChunkCount(total, chunkBytes);
      if (BigInt(m.chunkHashes.length) !== chunks) throw ErrInvalidReveal(`${m.chunkHashes.length} chunk hashes; a checkpoint of ${total} bytes has ${chunks} chunks of ${chunkBytes}`);
      if (BigInt(m.chunk) >= chunks) throw ErrInvalidReveal(`chunk ${m.chunk} does not exist: a checkpoint has ${chunks} chunks`);
      const size = checkpointChunkSize(total, chunkBytes, BigInt(m.chunk));
      if (BigInt(m.data.length) !== size) throw ErrInvalidReveal(`chunk ${m.chunk} is ${m.data.length} bytes, want ${size}`);
      if (!Buffer.from(sha256(m.data)).equals(Buffer.from(m.chunkHashes[m.chunk]))) throw ErrInvalidReveal(`chunk ${m.chunk} does not match chunk_hashes[${m.chunk}]`);
      const hash = checkpointHashOfChunks(m.chunkHashes, total, chunkBytes);
      if (BigInt(m.index) === segments && !Buffer.from(hash).equals(Buffer.from(attempt.finalHash))) {
        throw ErrInvalidReveal(`checkpoint ${m.index} (the final one) hashes to ${hex(hash)}, not the committed final_hash ${hex(attempt.finalHash)}`);
      }
      if (!verifyMerkleProof(checkpointLeaf(m.index, hash), m.index, Number(segments) + 1, m.proof, task.resultRoot)) {
        throw ErrInvalidReveal(`the Merkle proof of checkpoint ${m.index} (hash ${hex(hash)}) does not lead to the committed checkpoint root ${hex(task.resultRoot)}`);
      }
      if (await training.chunk(ctx, m.id, m.index, m.chunk)) throw ErrInvalidReveal(`chunk ${m.chunk} of checkpoint ${m.index} is already revealed`);
      training.setChunk(ctx, m.id, m.index, m.chunk, m.data);
      const complete = BigInt(await training.chunksHeld(ctx, m.id, m.index)) === chunks;
      if (complete) training.setAttempt(ctx, m.id, { ...attempt, revealed: [...attempt.revealed, m.index].sort((a, b) => a - b) });
      ctx.events.emit("poi_checkpoint_revealed", [
        ["task_id", task.id], ["attempt", String(task.attempt)], ["index", String(m.index)], ["chunk", String(m.chunk)], ["complete", String(complete)],
      ]);
      return { typeUrl: MsgRevealCheckpointResponseCodec.typeUrl, value: MsgRevealCheckpointResponseCodec.encode({ checkpointComplete: complete }).finish() };
    },
  };

  return [msgHandler(commit), msgHandler(reveal)];
}
