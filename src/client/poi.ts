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
} from "../x/poi/types";

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

  /**
   * Creates a dataset of float32 items and uploads every chunk. `items` is all items back to back;
   * `onChunk` reports progress.
   */
  async uploadDataset(name: string, item: TensorSpec, items: Float32Array, itemsPerChunk: number, onChunk?: (done: number, total: number) => void): Promise<string> {
    const itemElems = item.shape.reduce((n, d) => n * Number(d), 1);
    const numItems = items.length / itemElems;
    if (!Number.isInteger(numItems)) throw new Error(`items hold ${items.length} floats, not a whole number of ${itemElems}-element items`);
    const bytes = new Uint8Array(items.buffer, items.byteOffset, items.byteLength);
    const chunkBytes = itemsPerChunk * itemElems * 4;
    const chunks: Uint8Array[] = [];
    for (let off = 0; off < bytes.length; off += chunkBytes) chunks.push(bytes.slice(off, off + chunkBytes));
    const { datasetId } = await this.createDataset(name, item, numItems, itemsPerChunk, chunks.map((c) => sha256(c)));
    for (const [i, c] of chunks.entries()) {
      await this.uploadDatasetChunk(datasetId, i, c);
      onChunk?.(i + 1, chunks.length);
    }
    return datasetId;
  }
}
