/**
 * `poi query poi ...`: one row of QUERIES per subcommand (its arguments, the flags that apply, the
 * request built from them, the query, and what is printed). Arguments are checked before connecting.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { outputValuesPerItem } from "../client/poi-msgs";
import type { PageOptions, Paged, PoiQueryClient } from "../client/query";
import { resultRoot } from "../x/poi/commitment";
import { MODEL_KIND_NAMES, TASK_STATUS_NAMES, TaskStatus, type Task, type TrainingSpec } from "../x/poi/types";
import { NODE_OPTION, checkAddress, checkNodeUrl, contentIdArg, nonNegativeInt, positiveInt, taskIdArg, taskStatusArg } from "./args";
import { withQueryClient } from "./clients";
import { OUTPUT_OPTION, UsageError, outputFormat, positionals } from "./common";
import { hex, printValue, toJson } from "./render";

/** The flags of `query poi` beyond --output and --node, with their placeholder in the help ("" = a switch). */
const FLAGS = {
  status: "S", requester: "A", worker: "A", operator: "A", "out-file": "F", "since-height": "H",
  limit: "N", "page-key": "HEX", offset: "N", "count-total": "", reverse: "",
} as const;
type Flag = keyof typeof FLAGS;
type FlagValues = { [K in Flag]?: string | boolean };
const PAGE_FLAGS: Flag[] = ["limit", "page-key", "offset", "count-total", "reverse"];
const str = (v: string | boolean | undefined) => (typeof v === "string" ? v : undefined);

/** --limit, --page-key (a next_key as printed: hex), --offset, --count-total, --reverse. */
function pageArgs(f: FlagValues): PageOptions {
  const key = str(f["page-key"]);
  if (key !== undefined && !/^([0-9a-f]{2})+$/i.test(key)) throw new Error(`invalid --page-key "${key}": want the hex next_key a previous page printed`);
  return {
    ...(str(f.limit) !== undefined ? { limit: positiveInt(str(f.limit)!, "--limit") } : {}),
    ...(key !== undefined ? { key: Buffer.from(key, "hex") } : {}),
    ...(str(f.offset) !== undefined ? { offset: nonNegativeInt(str(f.offset)!, "--offset") } : {}),
    countTotal: f["count-total"] === true,
    reverse: f.reverse === true,
  };
}

/** A page as printed: the items under `name`, then pagination {next_key (hex, empty at the end), total}. */
function pageJson<T>(name: string, p: Paged<T>, typeName: string): Record<string, unknown> {
  return { [name]: p.items.map((x) => toJson(x, typeName)), pagination: { next_key: hex(p.nextKey), total: String(p.total ?? 0n) } };
}

export interface QueryRow<Req, Res> {
  name: string;
  /** Positional arguments, by their placeholder. */
  args: string[];
  flags?: Flag[];
  /** Checks the arguments and builds the request. */
  request: (args: string[], flags: FlagValues) => Req;
  query: (q: PoiQueryClient, req: Req) => Promise<Res>;
  /** The value printed (as JSON, or YAML-like text). */
  render: (res: Res, req: Req) => unknown;
}

export const row = <Req, Res>(r: QueryRow<Req, Res>) => r as unknown as QueryRow<unknown, unknown>;

/** A validator's consensus address: 40 hex characters (CometBFT's /validators prints them uppercase). */
function consensusAddressArg(a: string): string {
  if (!/^[0-9a-fA-F]{40}$/.test(a)) throw new Error(`invalid consensus address "${a.slice(0, 64)}": want 40 hex characters, as CometBFT's /validators shows`);
  return a.toUpperCase();
}

/** A validator: its operator address (poivaloper1... or poi1...) or its hex consensus address. */
function validatorArg(v: string): string {
  if (/^[0-9a-fA-F]{40}$/.test(v)) return v.toUpperCase();
  if (/^poi(valoper)?1[02-9ac-hj-np-z]{38}$/.test(v)) return v;
  throw new Error(`invalid validator "${v.slice(0, 64)}": want its operator address (poivaloper1... or poi1...) or its 40-hex consensus address`);
}

function epochArg(e: string): string {
  if (!/^(0|[1-9][0-9]{0,18})$/.test(e)) throw new Error(`invalid epoch "${e.slice(0, 32)}": want a non-negative integer`);
  return e;
}
const noRequest = () => undefined;

/** A training task's state in words: the model it made, or why it made none. */
export function trainingOutcomeText(task: Task, spec: TrainingSpec): string {
  if (task.status !== TaskStatus.COMPLETED) return TASK_STATUS_NAMES[task.status] ?? String(task.status);
  const acc = `held-out accuracy ${task.heldOutAccuracyBps ?? 0} bps`;
  return task.belowMinAccuracy
    ? `passed below minimum: worker paid, ${acc} below the minimum ${spec.minAccuracyBps}, no model registered`
    : `passed: model ${task.trainedModelId} registered, ${acc} (minimum ${spec.minAccuracyBps})`;
}

const QUERIES: ReadonlyArray<QueryRow<unknown, unknown>> = [
  row({
    name: "model", args: ["ID"], request: ([id]) => contentIdArg(id, "model id"),
    query: (q, id) => q.model(id), render: (m) => toJson(m, "poi.v1.Model"),
  }),
  row({
    name: "models", args: [], flags: PAGE_FLAGS, request: (_, f) => pageArgs(f),
    query: (q, page) => q.modelsPage(page), render: (p) => pageJson("models", p, "poi.v1.Model"),
  }),
  row({
    name: "dataset", args: ["ID"], request: ([id]) => contentIdArg(id, "dataset id"),
    query: (q, id) => q.dataset(id), render: (d) => toJson(d, "poi.v1.Dataset"),
  }),
  row({
    name: "datasets", args: [], flags: PAGE_FLAGS, request: (_, f) => pageArgs(f),
    query: (q, page) => q.datasetsPage(page), render: (p) => pageJson("datasets", p, "poi.v1.Dataset"),
  }),
  row({
    name: "task", args: ["ID"], request: ([id]) => taskIdArg(id),
    query: (q, id) => q.task(id), render: (t) => toJson(t, "poi.v1.Task"),
  }),
  row({
    name: "tasks", args: [], flags: ["status", "requester", "worker", ...PAGE_FLAGS],
    request: (_, f) => ({
      filter: {
        status: str(f.status) !== undefined ? taskStatusArg(str(f.status)!) : TaskStatus.UNSPECIFIED,
        requester: str(f.requester) !== undefined ? checkAddress(str(f.requester)!, "--requester address") : "",
        worker: str(f.worker) !== undefined ? checkAddress(str(f.worker)!, "--worker address") : "",
      },
      page: pageArgs(f),
    }),
    query: (q, { filter, page }) => q.tasksPage(filter, page), render: (p) => pageJson("tasks", p, "poi.v1.Task"),
  }),
  row({
    name: "open-tasks", args: [], flags: ["since-height", ...PAGE_FLAGS],
    request: (_, f) => ({ since: str(f["since-height"]) !== undefined ? nonNegativeInt(str(f["since-height"])!, "--since-height") : 0, page: pageArgs(f) }),
    query: (q, { since, page }) => q.openTasks(since, page),
    render: (p) => ({ ...pageJson("tasks", p, "poi.v1.OpenTask"), height: p.height.toString() }),
  }),
  row({
    name: "task-outputs", args: ["ID"], flags: ["out-file"],
    request: ([id], f) => ({ id: taskIdArg(id), outFile: str(f["out-file"]) }),
    query: async (q, { id }) => {
      const task = await q.task(id);
      return { task, model: await q.model(task.modelId), data: await q.taskOutputs(id) };
    },
    render: ({ task, model, data }, { id, outFile }) => {
      const n = Number(task.numItems);
      const per = outputValuesPerItem(model);
      if (outFile) fs.writeFileSync(outFile, data);
      const root = data.length === n * per * 4 && n > 0 ? hex(resultRoot(data, n, per * 4)) : "";
      return {
        taskId: id, attempt: task.attempt, status: TASK_STATUS_NAMES[task.status], numItems: task.numItems, valuesPerItem: per,
        bytes: data.length, resultRoot: root, ...(outFile ? { file: path.resolve(outFile) } : {}),
      };
    },
  }),
  row({
    name: "training-task", args: ["ID"], request: ([id]) => taskIdArg(id),
    query: async (q, id) => ({ task: await q.task(id), training: await q.training(id) }),
    render: ({ task, training: { spec, attempt, losses } }) => ({
      outcome: trainingOutcomeText(task, spec), task: toJson(task, "poi.v1.Task"), spec: toJson(spec, "poi.v1.TrainingSpec"), attempt: attempt ? toJson(attempt, "poi.v1.TrainingAttempt") : null,
      losses: { steps: losses.length, first: losses.length ? losses[0] : null, last: losses.length ? losses[losses.length - 1] : null },
    }),
  }),
  row({
    name: "checkpoints", args: ["TASK_ID"], request: ([id]) => taskIdArg(id),
    query: async (q, id) => {
      const { spec, attempt } = await q.training(id);
      const chunks = Math.ceil(Number(spec.paramBytes) / Number(spec.checkpointChunkBytes));
      const held = await Promise.all((attempt?.revealed ?? []).map(async (index) => ({
        index, chunksHeld: (await Promise.all(Array.from({ length: chunks }, (_, c) => q.checkpointChunk(id, index, c).then(() => 1, () => 0)))).reduce((a: number, b) => a + b, 0),
      })));
      return { id, spec, attempt, chunks, held };
    },
    render: ({ id, spec, attempt, chunks, held }) => ({
      taskId: id, checkpoints: Number(spec.steps) / Number(spec.checkpointInterval) + 1, paramBytes: spec.paramBytes, chunksPerCheckpoint: chunks,
      requested: (attempt?.requests ?? []).map((r) => ({ validator: r.validator, segments: r.segments, height: r.height })),
      revealed: held.map((h) => ({ ...h, pruned: h.chunksHeld === 0 })),
    }),
  }),
  row({
    name: "checkpoint", args: ["TASK_ID", "INDEX", "CHUNK"], flags: ["out-file"],
    request: ([id, index, chunk], f) => ({ id: taskIdArg(id), index: nonNegativeInt(index, "checkpoint index"), chunk: nonNegativeInt(chunk, "chunk"), outFile: str(f["out-file"]) }),
    query: (q, { id, index, chunk }) => q.checkpointChunk(id, index, chunk),
    render: (data, { id, index, chunk, outFile }) => {
      if (outFile) fs.writeFileSync(outFile, data);
      return { taskId: id, index, chunk, bytes: data.length, ...(outFile ? { file: path.resolve(outFile) } : {}) };
    },
  }),
  row({
    name: "lineage", args: ["MODEL_ID"], request: ([id]) => contentIdArg(id, "model id"),
    query: (q, id) => q.lineage(id),
    render: (models) => ({
      lineage: models.map((m) => ({
        id: m.id, name: m.name, kind: MODEL_KIND_NAMES[m.kind] ?? String(m.kind), owner: m.owner, parentModelId: m.parentModelId,
        trainingTaskId: m.trainingTaskId ?? "", heldOutAccuracyBps: m.heldOutAccuracyBps ?? null,
      })),
    }),
  }),
  row({
    name: "worker", args: ["ADDRESS"], request: ([address]) => checkAddress(address, "worker address"),
    query: (q, address) => q.worker(address), render: (stats) => toJson(stats, "poi.v1.WorkerStats"),
  }),
  row({
    name: "validator", args: ["CONSENSUS_ADDRESS"], request: ([a]) => consensusAddressArg(a),
    query: (q, address) => q.validator(address), render: (stats) => toJson(stats, "poi.v1.ValidatorStats"),
  }),
  row({
    name: "seed-record", args: ["CONSENSUS_ADDRESS", "EPOCH"], request: ([a, e]) => ({ validator: consensusAddressArg(a), epoch: epochArg(e) }),
    query: async (q, { validator, epoch }) => ({ validator, epoch, record: await q.seedRecord(validator, epoch) }),
    render: ({ validator, epoch, record }) => ({ validator, epoch, record: record ? toJson(record, "poi.v1.SeedRecord") : null }),
  }),
  row({
    name: "links", args: [], flags: ["operator", "worker"],
    request: (_, f) => {
      const [op, worker] = [str(f.operator), str(f.worker)];
      if ((op === undefined) === (worker === undefined)) throw new UsageError("query poi links: give exactly one of --operator A (its workers and open offers) and --worker A (its link)");
      return op !== undefined ? { operator: checkAddress(op, "--operator address") } : { worker: checkAddress(worker!, "--worker address") };
    },
    query: (q, by) => q.links(by),
    render: (r) => ({ links: r.links.map((l) => toJson(l, "poi.v1.WorkerLink")), offers: r.offers.map((l) => toJson(l, "poi.v1.WorkerLink")) }),
  }),
  row({
    name: "work-score", args: ["VALOPER_OR_CONSENSUS_ADDRESS"], request: ([v]) => validatorArg(v),
    query: (q, v) => q.workScore(v), render: (s) => toJson(s, "poi.v1.WorkScore"),
  }),
  row({
    name: "params", args: [], request: noRequest,
    query: (q) => q.params(), render: (p) => toJson(p, "poi.v1.Params"),
  }),
];

/** `poi query poi ...` */
export function runPoiQuery(argv: string[]): Promise<void> {
  return runQueryRows("poi", QUERIES, FLAGS, argv);
}

/**
 * `poi query MODULE SUB ...` for a table of rows: checks the arguments and the flags that apply,
 * connects, queries, prints. `flags`: the module's flags beyond --output and --node.
 */
export async function runQueryRows(module: string, rows: ReadonlyArray<QueryRow<unknown, unknown>>, flags: Readonly<Record<string, string>>, argv: string[]): Promise<void> {
  const [sub, ...args] = argv;
  const help = `query ${module} ` + rows.map((r) => [r.name, ...r.args, ...(r.flags ?? []).map((f) => (flags[f] ? `[--${f} ${flags[f]}]` : `[--${f}]`))].join(" ")).join(" | ");
  const flagOptions = Object.fromEntries(Object.keys(flags).map((f) => [f, { type: flags[f] ? "string" as const : "boolean" as const }]));
  const parsed = parseArgs({ args, allowPositionals: true, options: { ...OUTPUT_OPTION, ...NODE_OPTION, ...flagOptions } });
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const pos = parsed.positionals;
  const output = outputFormat(values.output as string | undefined);
  const r = rows.find((x) => x.name === sub);
  if (!r) throw new UsageError(`unknown query "${module} ${sub ?? ""}" (want: ${help})`);
  for (const f of Object.keys(flags)) {
    if (values[f] !== undefined && !(r.flags as string[] | undefined)?.includes(f)) throw new UsageError(`query ${module} ${sub}: --${f} does not apply`);
  }
  const req = r.request(positionals(`query ${module} ${r.name}`, pos, r.args), values);
  const res = await withQueryClient(checkNodeUrl(values.node as string | undefined), (q) => r.query(q, req));
  printValue(r.render(res, req), output);
}
