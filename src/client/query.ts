/**
 * The one query client of poi-chain: a typed method per poi query (/poi.v1.Query/* over the
 * CometBFT RPC's abci_query), and the bank, auth and block queries tools need, through CosmJS's
 * StargateClient over the same connection. A query the node refuses throws QueryRefusedError with
 * the node's code, codespace and log.
 */
import type { Coin } from "@cosmjs/amino";
import {
  QueryClient, StargateClient, setupDistributionExtension, setupMintExtension, setupSlashingExtension, setupStakingExtension, type Account,
} from "@cosmjs/stargate";
import { Decimal } from "@cosmjs/math";
import { connectComet, type CometClient } from "@cosmjs/tendermint-rpc";
import { BOND_DENOM } from "../app/params";
import { POI_CODESPACE, ErrDatasetNotFound, ErrModelNotFound } from "../x/poi/errors";
import { ErrNotFound } from "../app/errors";
import {
  Q, type Dataset, type Model, type TrainingAttempt, type TrainingSpec, type OpenTask, type PageRequest, type PageResponse, type Params, type PoiCodec, type SeedRecord, type Task, type WorkerLink, type WorkScore,
  type TaskStatus, type ValidatorStats, type WorkerStats,
} from "../x/poi/types";
import { QueryRefusedError, errorMessage } from "./results";
import { INVARIANTS_QUERY_PATH, type InvariantResult } from "../app/invariants";

/** One page to ask for (cosmos PageRequest): `key` is a previous page's nextKey; the node's default limit is 100, its maximum 1000. */
export interface PageOptions {
  key?: Uint8Array;
  offset?: number | bigint;
  limit?: number | bigint;
  countTotal?: boolean;
  reverse?: boolean;
}

/** A page of a list: its items, the key of the next page (empty at the end) and, when asked for, the total. */
export interface Paged<T> {
  items: T[];
  nextKey: Uint8Array;
  total?: bigint;
}

export interface TaskFilter {
  status?: TaskStatus;
  requester?: string;
  worker?: string;
}

function pageRequest(p: PageOptions = {}): Partial<PageRequest> {
  return {
    key: p.key ?? new Uint8Array(), offset: String(p.offset ?? 0), limit: String(p.limit ?? 0),
    countTotal: p.countTotal ?? false, reverse: p.reverse ?? false,
  };
}

function paged<T>(items: T[], res: PageResponse | undefined, asked: PageOptions): Paged<T> {
  return { items, nextKey: res?.nextKey ?? new Uint8Array(), ...(asked.countTotal ? { total: BigInt(res?.total ?? "0") } : {}) };
}

export class PoiQueryClient {
  /** CosmJS's own staking, slashing, mint and distribution query extensions over the same connection. */
  private readonly cosmos: ReturnType<typeof cosmosQueries>;

  private constructor(readonly comet: CometClient, private readonly reader: StargateClient) {
    this.cosmos = cosmosQueries(comet);
  }

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
  async modelsPage(page: PageOptions = {}): Promise<Paged<Model>> {
    const res = await this.call("Models", Q.ModelsRequest, { pagination: pageRequest(page) }, Q.ModelsResponse);
    return paged(res.models, res.pagination, page);
  }
  /** Every model, page by page (for tools; a daemon should keep its place with modelsPage). */
  models(): Promise<Model[]> {
    return allPages((key) => this.modelsPage({ key, limit: 1000 }));
  }
  async dataset(id: string): Promise<Dataset> {
    return (await this.call("Dataset", Q.DatasetRequest, { id }, Q.DatasetResponse)).dataset!;
  }
  /** The dataset, or undefined when none has this id. */
  findDataset(id: string): Promise<Dataset | undefined> {
    return this.orUndefined(ErrDatasetNotFound, () => this.dataset(id));
  }
  async datasetsPage(page: PageOptions = {}): Promise<Paged<Dataset>> {
    const res = await this.call("Datasets", Q.DatasetsRequest, { pagination: pageRequest(page) }, Q.DatasetsResponse);
    return paged(res.datasets, res.pagination, page);
  }
  /** Every dataset, page by page. */
  datasets(): Promise<Dataset[]> {
    return allPages((key) => this.datasetsPage({ key, limit: 1000 }));
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
  /**
   * One page of tasks in id order; status 0 (or omitted) = any status. With more than one filter a
   * page may hold fewer than `limit` tasks (even none) before the end: follow nextKey until it is empty.
   */
  async tasksPage(filter: TaskFilter = {}, page: PageOptions = {}): Promise<Paged<Task>> {
    const req = { status: filter.status ?? 0, requester: filter.requester ?? "", worker: filter.worker ?? "", pagination: pageRequest(page) };
    const res = await this.call("Tasks", Q.TasksRequest, req, Q.TasksResponse);
    return paged(res.tasks, res.pagination, page);
  }
  /** Every task matching the filter, page by page (for tools; the worker daemon follows openTasks). */
  tasks(filter: TaskFilter = {}): Promise<Task[]> {
    return allPages((key) => this.tasksPage(filter, { key, limit: 1000 }));
  }
  /**
   * One page of the tasks open now that became open at or after `sinceHeight`, in the order they
   * became open, with the height the node answered at: ask next with sinceHeight = height + 1 once
   * nextKey is empty (or pass nextKey on to finish the list).
   */
  async openTasks(sinceHeight: number | bigint = 0, page: PageOptions = {}): Promise<Paged<OpenTask> & { height: bigint }> {
    const res = await this.call("OpenTasks", Q.OpenTasksRequest, { sinceHeight: String(sinceHeight), pagination: pageRequest(page) }, Q.OpenTasksResponse);
    return { ...paged(res.tasks, res.pagination, page), height: BigInt(res.height) };
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
  /** An operator's linked workers and open offers, or a worker's link. */
  async links(by: { operator?: string; worker?: string }): Promise<{ links: WorkerLink[]; offers: WorkerLink[] }> {
    return this.call("Links", Q.LinksRequest, { operator: by.operator ?? "", worker: by.worker ?? "" }, Q.LinksResponse);
  }
  /** A validator's work score; `validator` is its operator address (poivaloper1... or poi1...) or its hex consensus address. */
  async workScore(validator: string): Promise<WorkScore> {
    return (await this.call("WorkScore", Q.WorkScoreRequest, { validator }, Q.WorkScoreResponse)).score!;
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

  /** A training task's terms, its current attempt (requests, revealed checkpoints) and its committed loss trace. */
  async training(id: string | number | bigint): Promise<{ spec: TrainingSpec; attempt?: TrainingAttempt; losses: Float32Array }> {
    const r = await this.call("Training", Q.TaskRequest, { id: String(id) }, Q.TrainingResponse);
    const t = r.lossTrace;
    return { spec: r.spec!, attempt: r.attempt, losses: new Float32Array(t.buffer.slice(t.byteOffset, t.byteOffset + t.byteLength)) };
  }
  /** One revealed chunk of a checkpoint (held until the attempt is decided, then pruned). */
  async checkpointChunk(taskId: string | number | bigint, index: number, chunk: number): Promise<Uint8Array> {
    return (await this.call("Checkpoint", Q.CheckpointRequest, { taskId: String(taskId), index, chunk }, Q.TaskDataResponse)).data;
  }
  /** A model and its ancestors, newest first (each trained model's parent, its training task and held-out accuracy). */
  async lineage(modelId: string): Promise<Model[]> {
    const out: Model[] = [];
    const seen = new Set<string>();
    for (let id = modelId; id && !seen.has(id); id = out[out.length - 1].parentModelId) {
      seen.add(id);
      out.push(await this.model(id));
    }
    return out;
  }

  // ---- staking and slashing (CosmJS's extensions) ------------------------------------------------

  /** Validators, optionally of one status ("BOND_STATUS_BONDED", "BOND_STATUS_UNBONDED"). */
  async validators(status: "" | "BOND_STATUS_BONDED" | "BOND_STATUS_UNBONDED" = "") {
    return (await this.cosmos.staking.validators(status as "BOND_STATUS_BONDED")).validators;
  }
  async stakingValidator(valoper: string) {
    return (await this.cosmos.staking.validator(valoper)).validator;
  }
  async delegations(delegator: string) {
    return (await this.cosmos.staking.delegatorDelegations(delegator)).delegationResponses;
  }
  async unbondingDelegations(delegator: string) {
    return (await this.cosmos.staking.delegatorUnbondingDelegations(delegator)).unbondingResponses;
  }
  async stakingPool() {
    return (await this.cosmos.staking.pool()).pool;
  }
  async stakingParams() {
    return (await this.cosmos.staking.params()).params;
  }
  async slashingParams() {
    return (await this.cosmos.slashing.params()).params;
  }
  async signingInfos() {
    return (await this.cosmos.slashing.signingInfos()).info;
  }

  // ---- mint and distribution (CosmJS's extensions; LegacyDec amounts as decimal strings) -------------

  async mintParams() {
    const p = await this.cosmos.mint.params();
    return {
      mint_denom: p.mintDenom, inflation_rate_change: p.inflationRateChange.toString(), inflation_max: p.inflationMax.toString(),
      inflation_min: p.inflationMin.toString(), goal_bonded: p.goalBonded.toString(), blocks_per_year: p.blocksPerYear.toString(),
    };
  }
  async inflation(): Promise<string> {
    return (await this.cosmos.mint.inflation()).toString();
  }
  async annualProvisions(): Promise<string> {
    return (await this.cosmos.mint.annualProvisions()).toString();
  }
  async distributionParams() {
    const { params } = await this.cosmos.distribution.params();
    return { community_tax: decText(params.communityTax), withdraw_addr_enabled: params.withdrawAddrEnabled };
  }
  /** A delegator's rewards: from one validator (poivaloper address), or from each and in total. */
  async delegationRewards(delegator: string, validator?: string) {
    if (validator !== undefined) return { rewards: decCoins((await this.cosmos.distribution.delegationRewards(delegator, validator)).rewards) };
    const r = await this.cosmos.distribution.delegationTotalRewards(delegator);
    return { rewards: r.rewards.map((x) => ({ validator_address: x.validatorAddress, reward: decCoins(x.reward) })), total: decCoins(r.total) };
  }
  async validatorCommission(validator: string) {
    return { commission: decCoins((await this.cosmos.distribution.validatorCommission(validator)).commission?.commission ?? []) };
  }
  async validatorOutstandingRewards(validator: string) {
    return { rewards: decCoins((await this.cosmos.distribution.validatorOutstandingRewards(validator)).rewards?.rewards ?? []) };
  }
  async communityPool() {
    return { pool: decCoins((await this.cosmos.distribution.communityPool()).pool) };
  }

  /** Runs every invariant on the node's latest state (src/app/invariants.ts). */
  async invariants(): Promise<InvariantResult[]> {
    const res = await this.comet.abciQuery({ path: INVARIANTS_QUERY_PATH, data: new Uint8Array() });
    if (res.code) throw new QueryRefusedError("Invariants", res.code, res.codespace ?? "", res.log ?? "");
    return JSON.parse(Buffer.from(res.value).toString("utf8")) as InvariantResult[];
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

function cosmosQueries(comet: CometClient) {
  return QueryClient.withExtensions(comet, setupStakingExtension, setupSlashingExtension, setupMintExtension, setupDistributionExtension);
}

/** A LegacyDec text (18 implied decimals) as a decimal number. */
const decText = (atomics: string) => Decimal.fromAtomics(atomics || "0", 18).toString();
const decCoins = (coins: ReadonlyArray<{ denom: string; amount: string }>) => coins.map((c) => ({ denom: c.denom, amount: decText(c.amount) }));

/** Follows next_key from the first page to the last; refuses a node that hands back the same key twice. */
async function allPages<T>(page: (key: Uint8Array) => Promise<Paged<T>>): Promise<T[]> {
  const out: T[] = [];
  let key = new Uint8Array();
  const seen = new Set<string>();
  for (;;) {
    const p = await page(key);
    out.push(...p.items);
    if (p.nextKey.length === 0) return out;
    const id = Buffer.from(p.nextKey).toString("hex");
    if (seen.has(id)) throw new Error(`the node returned next_key ${id} twice`);
    seen.add(id);
    key = Uint8Array.from(p.nextKey);
  }
}
