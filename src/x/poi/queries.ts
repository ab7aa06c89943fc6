import { grpcQuery, type QueryHandler } from "../../app/module";
import { clip, ErrInvalidRequest, ErrNotFound } from "../../app/errors";
import { parseAddress } from "../../app/address";
import { parsePageRequest } from "../../app/pagination";
import { ErrDatasetNotFound, ErrModelNotFound, ErrTaskNotFound } from "./errors";
import { itemSize, type PoiKeeper } from "./keeper";
import type { VerificationKeeper } from "./verification_keeper";
import type { WorkKeeper } from "./work_keeper";
import type { ValsetKeeper } from "./expected_keepers";
import { fromBech32 } from "@cosmjs/encoding";
import { formatAddress } from "../../app/address";
import { datasetsPage, modelsPage, openTasksPage, tasksPage } from "./pages";
import { isTraining, Q, TASK_STATUS_NAMES, type Task } from "./types";
import { TrainingKeeper } from "./training_keeper";

/** Items per DatasetItems answer: keeps a response far under CometBFT's RPC body cap. */
const MAX_ITEMS_BYTES = 2 * 1024 * 1024;

export function poiQueryHandlers(keeper: PoiKeeper, verification: VerificationKeeper, work: WorkKeeper, valset: ValsetKeeper): QueryHandler[] {
  const S = "/poi.v1.Query/";
  const training = new TrainingKeeper();
  return [
    grpcQuery(S + "Model", Q.ModelRequest, Q.ModelResponse, async (ctx, req) => {
      const model = await keeper.getModel(ctx, req.id);
      if (!model) throw ErrModelNotFound(`model ${clip(req.id)}`);
      return { model };
    }),
    grpcQuery(S + "ModelBytes", Q.ModelRequest, Q.ModelBytesResponse, async (ctx, req) => {
      const onnx = await keeper.getModelBytes(ctx, req.id);
      if (!onnx) throw ErrModelNotFound(`model ${clip(req.id)}`);
      return { onnx };
    }),
    grpcQuery(S + "Models", Q.ModelsRequest, Q.ModelsResponse, (ctx, req) => modelsPage(ctx, parsePageRequest(req.pagination))),
    grpcQuery(S + "Dataset", Q.DatasetRequest, Q.DatasetResponse, async (ctx, req) => {
      const dataset = await keeper.getDataset(ctx, req.id);
      if (!dataset) throw ErrDatasetNotFound(`dataset ${clip(req.id)}`);
      return { dataset };
    }),
    grpcQuery(S + "Datasets", Q.DatasetsRequest, Q.DatasetsResponse, (ctx, req) => datasetsPage(ctx, parsePageRequest(req.pagination))),
    grpcQuery(S + "DatasetItems", Q.DatasetItemsRequest, Q.DatasetItemsResponse, async (ctx, req) => {
      const ds = await keeper.getDataset(ctx, req.id);
      if (!ds) throw ErrDatasetNotFound(`dataset ${clip(req.id)}`);
      if (!ds.complete) throw ErrInvalidRequest(`dataset ${req.id} is not complete (${ds.chunksReceived}/${ds.numChunks} chunks)`);
      const start = BigInt(req.start);
      const count = BigInt(req.count);
      if (count === 0n || start + count > BigInt(ds.numItems)) throw ErrInvalidRequest(`items [${start}, ${start + count}) are not within the dataset's ${ds.numItems}`);
      const itemBytes = itemSize(ds.item!.shape) * 4n;
      if (count * itemBytes > BigInt(MAX_ITEMS_BYTES)) throw ErrInvalidRequest(`ask for at most ${BigInt(MAX_ITEMS_BYTES) / itemBytes} items at a time`);
      return { data: await keeper.datasetItems(ctx, ds, start, count) };
    }),
    grpcQuery(S + "Params", Q.ParamsRequest, Q.ParamsResponse, async (ctx) => ({ params: await keeper.params(ctx) })),
    grpcQuery(S + "Task", Q.TaskRequest, Q.TaskResponse, async (ctx, req) => ({ task: await task(ctx, req.id) })),
    grpcQuery(S + "Tasks", Q.TasksRequest, Q.TasksResponse, async (ctx, req) => {
      if (TASK_STATUS_NAMES[req.status] === undefined) throw ErrInvalidRequest(`unknown task status ${req.status}`);
      const page = parsePageRequest(req.pagination);
      return tasksPage(ctx, {
        status: req.status,
        ...(req.requester ? { requester: parseAddress(req.requester, "requester"), requesterAddress: req.requester } : {}),
        ...(req.worker ? { worker: parseAddress(req.worker, "worker"), workerAddress: req.worker } : {}),
      }, page);
    }),
    grpcQuery(S + "OpenTasks", Q.OpenTasksRequest, Q.OpenTasksResponse, async (ctx, req) => {
      const since = BigInt(req.sinceHeight);
      if (since < 0n) throw ErrInvalidRequest(`since_height ${since} is negative`);
      return openTasksPage(ctx, since, parsePageRequest(req.pagination));
    }),
    grpcQuery(S + "TaskInputs", Q.TaskRequest, Q.TaskDataResponse, async (ctx, req) => {
      const t = await task(ctx, req.id);
      if (t.datasetId !== "") throw ErrInvalidRequest(`task ${t.id} reads dataset ${t.datasetId} items [${t.start}, ${BigInt(t.start) + BigInt(t.numItems)}); query DatasetItems`);
      return { data: (await keeper.getTaskInputs(ctx, BigInt(t.id)))! };
    }),
    grpcQuery(S + "TaskOutputs", Q.TaskRequest, Q.TaskDataResponse, async (ctx, req) => {
      const t = await task(ctx, req.id);
      const data = await keeper.getTaskOutputs(ctx, BigInt(t.id));
      if (!data) throw ErrInvalidRequest(`task ${t.id} has no outputs (no result submitted for its current attempt)`);
      return { data };
    }),
    grpcQuery(S + "Worker", Q.WorkerRequest, Q.WorkerResponse, async (ctx, req) => {
      const stats = await keeper.workerStats(ctx, parseAddress(req.address, "address"));
      return {
        stats: stats ?? { address: req.address, verifiedWorkUnits: "0", tasksPassed: "0", tasksFailed: "0", claimsLapsed: "0", earned: "0", slashed: "0" },
      };
    }),
    grpcQuery(S + "Validator", Q.ValidatorRequest, Q.ValidatorResponse, async (ctx, req) => {
      const v = consensusHex(req.address);
      const stats = await verification.stats(ctx, v);
      return {
        stats: stats ?? { validator: v, operator: "", pending: "0", paid: "0", forfeited: "0", passesMatched: "0", catches: "0", falseReports: "0", faults: "0", auditsFailed: "0" },
      };
    }),
    grpcQuery(S + "SeedRecord", Q.SeedRecordRequest, Q.SeedRecordResponse, async (ctx, req) => {
      const record = await verification.seedRecord(ctx, consensusHex(req.validator), BigInt(req.epoch));
      if (!record) throw ErrNotFound(`no seed commitment of validator ${consensusHex(req.validator)} for epoch ${req.epoch}`);
      return { record };
    }),
    grpcQuery(S + "Links", Q.LinksRequest, Q.LinksResponse, async (ctx, req) => {
      if ((req.operator === "") === (req.worker === "")) throw ErrInvalidRequest("give exactly one of operator and worker");
      if (req.operator) return work.linksOf(ctx, parseAddress(req.operator, "operator"));
      const link = await work.link(ctx, parseAddress(req.worker, "worker"));
      return { links: link ? [link] : [], offers: [] };
    }),
    grpcQuery(S + "Training", Q.TaskRequest, Q.TrainingResponse, async (ctx, req) => {
      const t = await task(ctx, req.id);
      if (!isTraining(t)) throw ErrInvalidRequest(`task ${t.id} is an inference task`);
      const id = BigInt(t.id);
      return { spec: await training.spec(ctx, id), attempt: await training.attempt(ctx, t), lossTrace: (await training.lossTrace(ctx, id)) ?? new Uint8Array() };
    }),
    grpcQuery(S + "Checkpoint", Q.CheckpointRequest, Q.TaskDataResponse, async (ctx, req) => {
      const t = await task(ctx, req.taskId);
      const data = isTraining(t) ? await training.chunk(ctx, BigInt(t.id), req.index, req.chunk) : undefined;
      if (!data) throw ErrNotFound(`task ${t.id} holds no revealed chunk ${req.chunk} of checkpoint ${req.index} (checkpoints are pruned once an attempt is decided)`);
      return { data };
    }),
    grpcQuery(S + "WorkScore", Q.WorkScoreRequest, Q.WorkScoreResponse, async (ctx, req) => {
      const operator = await operatorOf(ctx, req.validator);
      return { score: (await work.score(ctx, operator)) ?? { operator: formatAddress(operator), score: "0", epoch: "0" } };
    }),
  ];

  /** A validator's operator account from its operator address (any bech32 prefix, e.g. poivaloper) or its hex consensus address. */
  async function operatorOf(ctx: Parameters<typeof keeper.getTask>[0], validator: string): Promise<Uint8Array> {
    if (/^[0-9a-fA-F]{40}$/.test(validator)) {
      const op = await valset.operator(ctx, Buffer.from(validator, "hex"));
      if (!op) throw ErrNotFound(`validator ${validator.toUpperCase()} has no known operator account`);
      return op;
    }
    try {
      const { data } = fromBech32(validator, 90);
      if (data.length === 20) return data;
    } catch { /* refused below */ }
    throw ErrInvalidRequest(`validator must be an operator address (poivaloper1... or poi1...) or a 40-hex consensus address, got ${JSON.stringify(clip(validator))}`);
  }

  function consensusHex(address: string): string {
    if (!/^[0-9a-fA-F]{40}$/.test(address)) throw ErrInvalidRequest(`validator address must be 40 hex characters (a consensus address), got ${JSON.stringify(address.slice(0, 64))}`);
    return address.toUpperCase();
  }

  async function task(ctx: Parameters<typeof keeper.getTask>[0], id: string): Promise<Task> {
    const t = BigInt(id) > 0n ? await keeper.getTask(ctx, BigInt(id)) : undefined;
    if (!t) throw ErrTaskNotFound(`task ${clip(id)}`);
    return t;
  }
}
