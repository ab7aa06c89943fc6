/**
 * The training messages PoiTxClient sends, as the chain takes them: a requester's
 * MsgSubmitTrainingTask, and a claimant's checkpoint reveals grouped into txs.
 */
import type { EncodeObject } from "@cosmjs/proto-signing";
import { MsgRevealCheckpointCodec, type MsgRevealCheckpoint, type MsgSubmitTrainingTask } from "../x/poi/types";
import type { TrainingTaskSpec } from "./poi-msgs";

/** Reveal data per tx by default: 3 MiB, under the 4 MiB tx cap. */
const DEFAULT_REVEAL_TX_BYTES = 3 * 1024 * 1024;

/** MsgSubmitTrainingTask's fields for `requester`'s task `s`. */
export function trainingTaskMsg(requester: string, s: TrainingTaskSpec): Partial<MsgSubmitTrainingTask> {
  return {
    requester, modelId: s.modelId, initialParamsDatasetId: s.initialParamsDatasetId, xDatasetId: s.xDatasetId, yDatasetId: s.yDatasetId,
    trainStart: String(s.train.start), trainCount: String(s.train.count), heldOutStart: String(s.heldOut.start), heldOutCount: String(s.heldOut.count),
    steps: String(s.steps), batchSize: s.batchSize, learningRate: s.learningRate, checkpointInterval: String(s.checkpointInterval), k: s.k,
    reward: String(s.reward), bond: String(s.bond), minAccuracyBps: s.minAccuracyBps, deadlineBlocks: String(s.deadlineBlocks),
  };
}

/** One MsgRevealCheckpoint per chunk, several to a tx up to `txBytes` of chunk data. */
export function revealTxs(worker: string, chunks: ReadonlyArray<Omit<MsgRevealCheckpoint, "worker">>, txBytes = DEFAULT_REVEAL_TX_BYTES): EncodeObject[][] {
  const txs: EncodeObject[][] = [];
  let size = Infinity;
  for (const c of chunks) {
    if (size + c.data.length > txBytes) {
      txs.push([]);
      size = 0;
    }
    size += c.data.length;
    txs[txs.length - 1].push({ typeUrl: MsgRevealCheckpointCodec.typeUrl, value: MsgRevealCheckpointCodec.fromPartial({ ...c, worker }) });
  }
  return txs;
}
