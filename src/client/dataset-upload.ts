/**
 * Dataset upload through PoiTxClient: MsgCreateDataset, then every chunk, pipelined; an incomplete
 * dataset of ours is resumed.
 */
import { MsgUploadDatasetChunkCodec, type MsgUploadDatasetChunk, type TensorSpec } from "../x/poi/types";
import { chunkDataset, type DatasetUpload } from "./poi-msgs";
import type { SentTx } from "./results";
import type { PoiTxClient } from "./tx";

export interface UploadDatasetOptions {
  reuseComplete?: boolean;
  window?: number;
  onChunk?: (done: number, total: number) => void;
}

/** MsgUploadDatasetChunk's fields. */
export function datasetChunkMsg(owner: string, datasetId: string, index: number, data: Uint8Array): Partial<MsgUploadDatasetChunk> {
  return { owner, datasetId, index, data };
}

/** PoiTxClient.uploadDataset: see there. */
export async function uploadDataset(
  client: PoiTxClient, name: string, item: TensorSpec, items: Float32Array, itemsPerChunk: number, opts: UploadDatasetOptions,
): Promise<DatasetUpload> {
  const { numItems, chunks, hashes, datasetId } = chunkDataset(item, items, itemsPerChunk);

  const existing = await client.query.findDataset(datasetId);
  let create: SentTx | undefined;
  if (existing?.complete && opts.reuseComplete) {
    return { datasetId, numItems, itemsPerChunk, numChunks: chunks.length, existed: true, create, chunks: [] };
  }
  if (!existing || existing.complete) {
    create = (await client.createDataset(name, item, numItems, itemsPerChunk, hashes)).tx;
  } else if (existing.owner !== client.address) {
    throw new Error(`dataset ${datasetId} (the same items) was created by ${existing.owner} and is incomplete (${existing.chunksReceived}/${existing.numChunks} chunks); only its owner can upload them`);
  }
  let done = 0;
  const results = await client.sendPipelined(
    chunks.map((data, index) => [{ typeUrl: MsgUploadDatasetChunkCodec.typeUrl, value: MsgUploadDatasetChunkCodec.fromPartial(datasetChunkMsg(client.address, datasetId, index, data)) }]),
    {
      window: opts.window,
      // Resuming: a chunk that is already on chain is not an error.
      skip: (r) => existing !== undefined && /already uploaded/.test(r.raw_log),
      onDone: () => opts.onChunk?.(++done, chunks.length),
      what: (i) => `chunk ${i} upload tx`,
    },
  );
  return {
    datasetId, numItems, itemsPerChunk, numChunks: chunks.length, existed: existing !== undefined, create,
    chunks: results.flatMap((r, index) => (r ? [{ index, txhash: r.txhash, height: r.height, gas_used: r.gas_used }] : [])),
  };
}
