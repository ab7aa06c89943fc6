/**
 * `poi query poi ...`: one row of QUERIES per subcommand (its arguments, the flags that apply, the
 * request built from them, the query, and what is printed). Arguments are checked before connecting.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { outputValuesPerItem } from "../client/poi-msgs";
import type { PoiQueryClient } from "../client/query";
import { resultRoot } from "../x/poi/commitment";
import { TASK_STATUS_NAMES, TaskStatus } from "../x/poi/types";
import { NODE_OPTION, checkAddress, checkNodeUrl, contentIdArg, taskIdArg, taskStatusArg } from "./args";
import { withQueryClient } from "./clients";
import { OUTPUT_OPTION, UsageError, outputFormat, positionals } from "./common";
import { hex, printValue, toJson } from "./render";

/** The flags of `query poi` beyond --output and --node, with their placeholder in the help. */
const FLAGS = { status: "S", requester: "A", worker: "A", "out-file": "F" } as const;
type Flag = keyof typeof FLAGS;
type FlagValues = { [K in Flag]?: string };

interface QueryRow<Req, Res> {
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

const row = <Req, Res>(r: QueryRow<Req, Res>) => r as unknown as QueryRow<unknown, unknown>;

/** A validator's consensus address: 40 hex characters (CometBFT's /validators prints them uppercase). */
function consensusAddressArg(a: string): string {
  if (!/^[0-9a-fA-F]{40}$/.test(a)) throw new Error(`invalid consensus address "${a.slice(0, 64)}": want 40 hex characters, as CometBFT's /validators shows`);
  return a.toUpperCase();
}

function epochArg(e: string): string {
  if (!/^(0|[1-9][0-9]{0,18})$/.test(e)) throw new Error(`invalid epoch "${e.slice(0, 32)}": want a non-negative integer`);
  return e;
}
const noRequest = () => undefined;

const QUERIES: ReadonlyArray<QueryRow<unknown, unknown>> = [
  row({
    name: "model", args: ["ID"], request: ([id]) => contentIdArg(id, "model id"),
    query: (q, id) => q.model(id), render: (m) => toJson(m, "poi.v1.Model"),
  }),
  row({
    name: "models", args: [], request: noRequest,
    query: (q) => q.models(), render: (models) => ({ models: models.map((m) => toJson(m, "poi.v1.Model")) }),
  }),
  row({
    name: "dataset", args: ["ID"], request: ([id]) => contentIdArg(id, "dataset id"),
    query: (q, id) => q.dataset(id), render: (d) => toJson(d, "poi.v1.Dataset"),
  }),
  row({
    name: "task", args: ["ID"], request: ([id]) => taskIdArg(id),
    query: (q, id) => q.task(id), render: (t) => toJson(t, "poi.v1.Task"),
  }),
  row({
    name: "tasks", args: [], flags: ["status", "requester", "worker"],
    request: (_, f) => ({
      status: f.status !== undefined ? taskStatusArg(f.status) : TaskStatus.UNSPECIFIED,
      requester: f.requester !== undefined ? checkAddress(f.requester, "--requester address") : "",
      worker: f.worker !== undefined ? checkAddress(f.worker, "--worker address") : "",
    }),
    query: (q, filter) => q.tasks(filter), render: (tasks) => ({ tasks: tasks.map((t) => toJson(t, "poi.v1.Task")) }),
  }),
  row({
    name: "task-outputs", args: ["ID"], flags: ["out-file"],
    request: ([id], f) => ({ id: taskIdArg(id), outFile: f["out-file"] }),
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
    name: "params", args: [], request: noRequest,
    query: (q) => q.params(), render: (p) => toJson(p, "poi.v1.Params"),
  }),
];

const QUERY_HELP = "query poi " + QUERIES.map((r) =>
  [r.name, ...r.args, ...(r.flags ?? []).map((f) => `[--${f} ${FLAGS[f]}]`)].join(" ")).join(" | ");

/** `poi query poi ...` */
export async function runPoiQuery(argv: string[]): Promise<void> {
  const [sub, ...args] = argv;
  const flagOptions = Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: "string" as const }])) as { [K in Flag]: { type: "string" } };
  const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { ...OUTPUT_OPTION, ...NODE_OPTION, ...flagOptions } });
  const output = outputFormat(values.output);
  const r = QUERIES.find((x) => x.name === sub);
  if (!r) throw new UsageError(`unknown query "poi ${sub ?? ""}" (want: ${QUERY_HELP})`);
  for (const f of Object.keys(FLAGS) as Flag[]) {
    if (values[f] !== undefined && !r.flags?.includes(f)) throw new UsageError(`query poi ${sub}: --${f} does not apply`);
  }
  const req = r.request(positionals(`query poi ${r.name}`, pos, r.args), values);
  const res = await withQueryClient(checkNodeUrl(values.node), (q) => r.query(q, req));
  printValue(r.render(res, req), output);
}
