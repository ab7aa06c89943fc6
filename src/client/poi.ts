/**
 * Typed client for the poi module: one method per message and per query, over an unmodified
 * CosmJS SigningStargateClient (messages) and the CometBFT RPC's abci_query (queries).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { SigningStargateClient, DeliverTxResponse, StdFee } from "@cosmjs/stargate";
import { QueryClient } from "@cosmjs/stargate";
import { connectComet, type CometClient } from "@cosmjs/tendermint-rpc";
import {
  MsgRegisterModelCodec, MsgRegisterModelResponseCodec, MsgCreateDatasetCodec, MsgCreateDatasetResponseCodec,
  MsgUploadDatasetChunkCodec, Q, type Model, type Dataset, type Params, type TensorSpec, type PoiCodec,
  MsgSubmitInferenceTaskCodec, MsgSubmitInferenceTaskResponseCodec, MsgClaimTaskCodec, MsgClaimTaskResponseCodec,
  MsgSubmitResultCodec, type Task, type TaskStatus, type WorkerStats,
} from "../x/poi/types";
import { resultRoot } from "../x/poi/commitment";

/**
 * Splits float32 items (back to back) into chunks of `itemsPerChunk` items, with each chunk's sha256
 * and the dataset id the chain will give them (sha256 of the chunk hashes).
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
  return { numItems, chunks, hashes, datasetId: Buffer.from(sha256(Buffer.concat(hashes))).toString("hex") };
}

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

export class PoiTxError extends Error {
  constructor(readonly code: number, readonly codespace: string, readonly log: string, readonly txhash: string) {
    super(`tx ${txhash} failed with code ${code} (${codespace}): ${log}`);
  }
}

function check(res: DeliverTxResponse): DeliverTxResponse {
  if (res.code !== 0) throw new PoiTxError(res.code, "", res.rawLog ?? "", res.transactionHash);
  return res;
}

export class PoiQueryClient {
  private constructor(private readonly comet: CometClient, private readonly q: QueryClient) {}

  static async connect(rpcUrl: string): Promise<PoiQueryClient> {
    const comet = await connectComet(rpcUrl);
    return new PoiQueryClient(comet, new QueryClient(comet));
  }

  disconnect(): void {
    this.comet.disconnect();
  }

  private async call<Req, Res>(method: string, reqCodec: PoiCodec<Req>, req: Req, resCodec: PoiCodec<Res>): Promise<Res> {
    const data = await this.q.queryAbci(`/poi.v1.Query/${method}`, reqCodec.encode(req).finish());
    return resCodec.decode(data.value);
  }

  async model(id: string): Promise<Model> {
    return (await this.call("Model", Q.ModelRequest, { id }, Q.ModelResponse)).model!;
  }
  async modelBytes(id: string): Promise<Uint8Array> {
    return (await this.call("ModelBytes", Q.ModelRequest, { id }, Q.ModelBytesResponse)).onnx;
  }
  async models(): Promise<Model[]> {
    return (await this.call("Models", Q.ModelsRequest, {}, Q.ModelsResponse)).models;
  }
  async dataset(id: string): Promise<Dataset> {
    return (await this.call("Dataset", Q.DatasetRequest, { id }, Q.DatasetResponse)).dataset!;
  }
  async datasetItems(id: string, start: number, count: number): Promise<Uint8Array> {
    return (await this.call("DatasetItems", Q.DatasetItemsRequest, { id, start: String(start), count: String(count) }, Q.DatasetItemsResponse)).data;
  }
  async params(): Promise<Params> {
    return (await this.call("Params", Q.ParamsRequest, {}, Q.ParamsResponse)).params!;
  }
  async task(id: string | number | bigint): Promise<Task> {
    return (await this.call("Task", Q.TaskRequest, { id: String(id) }, Q.TaskResponse)).task!;
  }
  /** Tasks in id order; status 0 (or omitted) = any status. */
  async tasks(filter: { status?: TaskStatus; requester?: string; worker?: string } = {}): Promise<Task[]> {
    return (await this.call("Tasks", Q.TasksRequest, { status: filter.status ?? 0, requester: filter.requester ?? "", worker: filter.worker ?? "" }, Q.TasksResponse)).tasks;
  }
  async taskInputs(id: string | number | bigint): Promise<Uint8Array> {
    return (await this.call("TaskInputs", Q.TaskRequest, { id: String(id) }, Q.TaskDataResponse)).data;
  }
  async taskOutputs(id: string | number | bigint): Promise<Uint8Array> {
    return (await this.call("TaskOutputs", Q.TaskRequest, { id: String(id) }, Q.TaskDataResponse)).data;
  }
  async worker(address: string): Promise<WorkerStats> {
    return (await this.call("Worker", Q.WorkerRequest, { address }, Q.WorkerResponse)).stats!;
  }
}

/** Sends poi messages as `sender` through a SigningStargateClient built with poiRegistry(). */
export class PoiTxClient {
  constructor(readonly client: SigningStargateClient, readonly sender: string, readonly fee: StdFee | "auto" | number = "auto") {}

  async registerModel(onnx: Uint8Array, name: string, inputs: TensorSpec[], outputs: TensorSpec[]): Promise<{ modelId: string; workUnitsPerItem: string; res: DeliverTxResponse }> {
    const res = check(await this.client.signAndBroadcast(this.sender, [{
      typeUrl: MsgRegisterModelCodec.typeUrl, value: MsgRegisterModelCodec.fromPartial({ owner: this.sender, name, onnx, inputs, outputs }),
    }], this.fee));
    const r = MsgRegisterModelResponseCodec.decode(res.msgResponses[0].value);
    return { ...r, res };
  }

  async createDataset(name: string, item: TensorSpec, numItems: number, itemsPerChunk: number, chunkHashes: Uint8Array[]): Promise<{ datasetId: string; numChunks: number }> {
    const res = check(await this.client.signAndBroadcast(this.sender, [{
      typeUrl: MsgCreateDatasetCodec.typeUrl,
      value: MsgCreateDatasetCodec.fromPartial({ owner: this.sender, name, item, numItems: String(numItems), itemsPerChunk: String(itemsPerChunk), chunkHashes }),
    }], this.fee));
    return MsgCreateDatasetResponseCodec.decode(res.msgResponses[0].value);
  }

  async uploadDatasetChunk(datasetId: string, index: number, data: Uint8Array): Promise<DeliverTxResponse> {
    return check(await this.client.signAndBroadcast(this.sender, [{
      typeUrl: MsgUploadDatasetChunkCodec.typeUrl, value: MsgUploadDatasetChunkCodec.fromPartial({ owner: this.sender, datasetId, index, data }),
    }], this.fee));
  }

  async submitInferenceTask(spec: InferenceTaskSpec): Promise<{ taskId: string; escrow: string; res: DeliverTxResponse }> {
    const inputs = spec.inputs ? new Uint8Array(spec.inputs.buffer, spec.inputs.byteOffset, spec.inputs.byteLength) : new Uint8Array();
    const res = check(await this.client.signAndBroadcast(this.sender, [{
      typeUrl: MsgSubmitInferenceTaskCodec.typeUrl,
      value: MsgSubmitInferenceTaskCodec.fromPartial({
        requester: this.sender, modelId: spec.modelId, datasetId: spec.dataset?.id ?? "", start: String(spec.dataset?.start ?? 0),
        count: String(spec.dataset?.count ?? 0), inputs, rewardPerItem: String(spec.rewardPerItem), k: spec.k,
        deadlineBlocks: String(spec.deadlineBlocks), bond: String(spec.bond),
      }),
    }], this.fee));
    return { ...MsgSubmitInferenceTaskResponseCodec.decode(res.msgResponses[0].value), res };
  }

  async claimTask(taskId: string | number | bigint): Promise<{ claimExpiresHeight: string; res: DeliverTxResponse }> {
    const res = check(await this.client.signAndBroadcast(this.sender, [{
      typeUrl: MsgClaimTaskCodec.typeUrl, value: MsgClaimTaskCodec.fromPartial({ worker: this.sender, taskId: String(taskId) }),
    }], this.fee));
    return { ...MsgClaimTaskResponseCodec.decode(res.msgResponses[0].value), res };
  }

  /**
   * Submits the outputs of every item (each item's outputs concatenated, items back to back) with
   * their Merkle root; `root` defaults to the root computed from `outputs`.
   */
  async submitResult(taskId: string | number | bigint, outputs: Float32Array, numItems: number, root?: Uint8Array): Promise<DeliverTxResponse> {
    const bytes = new Uint8Array(outputs.buffer, outputs.byteOffset, outputs.byteLength);
    const resultRootBytes = root ?? resultRoot(bytes, numItems, bytes.length / numItems);
    return check(await this.client.signAndBroadcast(this.sender, [{
      typeUrl: MsgSubmitResultCodec.typeUrl,
      value: MsgSubmitResultCodec.fromPartial({ worker: this.sender, taskId: String(taskId), outputs: bytes, resultRoot: resultRootBytes }),
    }], this.fee));
  }

  /**
   * Creates a dataset of float32 items and uploads every chunk. `items` is all items back to back;
   * `onChunk` reports progress.
   */
  async uploadDataset(name: string, item: TensorSpec, items: Float32Array, itemsPerChunk: number, onChunk?: (done: number, total: number) => void): Promise<string> {
    const { numItems, chunks, hashes } = chunkDataset(item, items, itemsPerChunk);
    const { datasetId } = await this.createDataset(name, item, numItems, itemsPerChunk, hashes);
    for (const [i, c] of chunks.entries()) {
      await this.uploadDatasetChunk(datasetId, i, c);
      onChunk?.(i + 1, chunks.length);
    }
    return datasetId;
  }
}
