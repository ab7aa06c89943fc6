/**
 * What goes into poi messages and comes out of them, for the clients: a requester's task spec,
 * dataset chunking (with the id the chain will give), a dataset upload's outcome, the decoders of
 * our msg responses by type URL, and the size of a model's outputs per item.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { datasetId } from "../x/poi/dataset_id";
import {
  MsgClaimTaskResponseCodec, MsgCreateDatasetResponseCodec, MsgRegisterModelResponseCodec, MsgSubmitInferenceTaskResponseCodec,
  MsgSubmitResultResponseCodec, MsgUploadDatasetChunkResponseCodec, MsgSubmitTrainingTaskResponseCodec, MsgCommitTrainingResponseCodec,
  MsgRevealCheckpointResponseCodec, type Model, type PoiCodec, type TensorSpec,
} from "../x/poi/types";
import type { SentTx } from "./results";

/** What a requester asks for; amounts are upoi as decimal strings or bigints. */
export interface InferenceTaskSpec {
  modelId: string;
  /** Dataset range, or inline float32 items back to back. */
  dataset?: { id: string; start: number; count: number };
  inputs?: Float32Array;
  rewardPerItem: bigint | string;
  k: number;
  deadlineBlocks: number;
  bond: bigint | string;
}

/** A training task (MsgSubmitTrainingTask without the requester); amounts are upoi. */
export interface TrainingTaskSpec {
  /** The train_step model. */
  modelId: string;
  initialParamsDatasetId: string;
  xDatasetId: string;
  yDatasetId: string;
  train: { start: number; count: number };
  heldOut: { start: number; count: number };
  steps: number;
  batchSize: number;
  /** A decimal such as "0.1". */
  learningRate: string;
  checkpointInterval: number;
  k: number;
  reward: bigint | string;
  bond: bigint | string;
  minAccuracyBps: number;
  deadlineBlocks: number;
}

/**
 * Splits float32 items (back to back) into chunks of `itemsPerChunk` items, with each chunk's sha256
 * and the dataset id the chain will give them (x/poi/dataset_id.ts: the metadata and the chunk hashes).
 */
export function chunkDataset(item: TensorSpec, items: Float32Array, itemsPerChunk: number): { numItems: number; chunks: Uint8Array[]; hashes: Uint8Array[]; datasetId: string } {
  const itemElems = item.shape.reduce((n, d) => n * Number(d), 1);
  const numItems = items.length / itemElems;
  if (!Number.isInteger(numItems) || numItems === 0) throw new Error(`the items hold ${items.length} floats, not a positive whole number of ${itemElems}-element items`);
  const bytes = new Uint8Array(items.buffer, items.byteOffset, items.byteLength);
  const chunkBytes = itemsPerChunk * itemElems * 4;
  const chunks: Uint8Array[] = [];
  for (let off = 0; off < bytes.length; off += chunkBytes) chunks.push(bytes.subarray(off, off + chunkBytes));
  const hashes = chunks.map((c) => sha256(c));
  return { numItems, chunks, hashes, datasetId: datasetId(item, numItems, itemsPerChunk, hashes) };
}

export interface DatasetUpload {
  datasetId: string;
  numItems: number;
  itemsPerChunk: number;
  numChunks: number;
  /** The dataset was already on chain (complete and reused, or incomplete and resumed). */
  existed: boolean;
  create?: SentTx;
  chunks: Array<{ index: number; txhash: string; height: string; gas_used: string }>;
}

/** Decoders of our msg responses, by type URL (for printing). */
export const POI_RESPONSE_CODECS: Record<string, PoiCodec<unknown>> = Object.fromEntries(
  [MsgRegisterModelResponseCodec, MsgCreateDatasetResponseCodec, MsgUploadDatasetChunkResponseCodec, MsgSubmitInferenceTaskResponseCodec,
    MsgClaimTaskResponseCodec, MsgSubmitResultResponseCodec, MsgSubmitTrainingTaskResponseCodec, MsgCommitTrainingResponseCodec,
    MsgRevealCheckpointResponseCodec].map((c) => [c.typeUrl, c as PoiCodec<unknown>]),
);

/** Output values per item of a model: all its outputs, concatenated. */
export function outputValuesPerItem(model: Model): number {
  return model.outputs.reduce((s, o) => s + o.shape.reduce((n, d) => n * Number(d), 1), 0);
}
