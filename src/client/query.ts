/**
 * The one query client of poi-chain: a typed method per poi query (/poi.v1.Query/* over the
 * CometBFT RPC's abci_query), and the bank, auth and block queries tools need, through CosmJS's
 * StargateClient over the same connection. A query the node refuses throws QueryRefusedError with
 * the node's code, codespace and log.
 */
import type { Coin } from "@cosmjs/amino";
import { StargateClient, type Account } from "@cosmjs/stargate";
import { connectComet, type CometClient } from "@cosmjs/tendermint-rpc";
import { BOND_DENOM } from "../app/params";
import { POI_CODESPACE, ErrDatasetNotFound, ErrModelNotFound } from "../x/poi/errors";
import { ErrNotFound } from "../app/errors";
import {
  Q, type Dataset, type Model, type Params, type PoiCodec, type SeedRecord, type Task, type TaskStatus, type ValidatorStats, type WorkerStats,
} from "../x/poi/types";
import { QueryRefusedError, errorMessage } from "./results";

export class PoiQueryClient {
  private constructor(readonly comet: CometClient, private readonly reader: StargateClient) {}

  /** Connects to a node's CometBFT RPC; "cannot reach node URL: ..." when it does not answer. */
  static async connect(node: string): Promise<PoiQueryClient> {
    let comet: CometClient;
    try {
      comet = await connectComet(node);
    } catch (err) {
      throw new Error(`cannot reach node ${node}: ${errorMessage(err)}`);
    }
    return PoiQueryClient.create(comet);
  }

  /** A query client over a connection someone else opened (disconnect() closes it). */
  static create(comet: CometClient): PoiQueryClient {
    return new PoiQueryClient(comet, StargateClient.create(comet));
  }

  disconnect(): void {
    this.comet.disconnect();
  }

  private async call<Req, Res>(method: string, reqCodec: PoiCodec<Req>, req: Req, resCodec: PoiCodec<Res>): Promise<Res> {
    const res = await this.comet.abciQuery({ path: `/poi.v1.Query/${method}`, data: reqCodec.encode(req).finish() });
    if (res.code) throw new QueryRefusedError(method, res.code, res.codespace ?? "", res.log ?? "");
    return resCodec.decode(res.value);
  }

  /** Undefined when the node answers with `notFound` (codespace poi); other refusals throw. */
  private async orUndefined<T>(notFound: { code: number }, query: () => Promise<T>): Promise<T | undefined> {
    try {
      return await query();
    } catch (err) {
      if (err instanceof QueryRefusedError && err.codespace === POI_CODESPACE && err.code === notFound.code) return undefined;
      throw err;
    }
  }

  // ---- poi ---------------------------------------------------------------------------------------

  async model(id: string): Promise<Model> {
    return (await this.call("Model", Q.ModelRequest, { id }, Q.ModelResponse)).model!;
  }
  /** The model, or undefined when none has this id. */
  findModel(id: string): Promise<Model | undefined> {
    return this.orUndefined(ErrModelNotFound, () => this.model(id));
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
  /** The dataset, or undefined when none has this id. */
  findDataset(id: string): Promise<Dataset | undefined> {
    return this.orUndefined(ErrDatasetNotFound, () => this.dataset(id));
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
  /** What verification earned or cost a validator; `address` is its hex consensus address. */
  async validator(address: string): Promise<ValidatorStats> {
    return (await this.call("Validator", Q.ValidatorRequest, { address }, Q.ValidatorResponse)).stats!;
  }
  /** A validator's sampling-seed record of an epoch (commitment, reveal), or undefined when it has none. */
  async seedRecord(validator: string, epoch: bigint | string): Promise<SeedRecord | undefined> {
    try {
      return (await this.call("SeedRecord", Q.SeedRecordRequest, { validator, epoch: String(epoch) }, Q.SeedRecordResponse)).record;
    } catch (err) {
      if (err instanceof QueryRefusedError && err.codespace === "sdk" && err.code === ErrNotFound.code) return undefined;
      throw err;
    }
  }

  // ---- bank, auth, blocks (CosmJS) ---------------------------------------------------------------

  async balance(address: string, denom = BOND_DENOM): Promise<bigint> {
    return BigInt((await this.reader.getBalance(address, denom)).amount);
  }
  allBalances(address: string): Promise<readonly Coin[]> {
    return this.reader.getAllBalances(address);
  }
  /** The account, or null when it has never received tokens. */
  account(address: string): Promise<Account | null> {
    return this.reader.getAccount(address);
  }
  height(): Promise<number> {
    return this.reader.getHeight();
  }
  chainId(): Promise<string> {
    return this.reader.getChainId();
  }
}
