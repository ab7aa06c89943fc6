/**
 * `poi tx poi ...`, `poi query poi ...` and `poi worker start`: the PoI module from the command line.
 *
 * Txs go through PoiSender (src/client/sender.ts): simulate (for --gas auto), sign, broadcast, wait
 * for the block. A refusal (by the simulation, by CheckTx or in the block) prints the result with
 * its code, codespace and log (stdout, as JSON with --output json) and exits 1.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as protobuf from "protobufjs";
import { connectComet, type CometClient } from "@cosmjs/tendermint-rpc";
import type { EncodeObject } from "@cosmjs/proto-signing";
import { PoiSender, TxRefusedError, describeRefusal, POI_RESPONSE_CODECS, type FeeOptions, type SentTx } from "../client/sender";
import { resultRoot } from "../x/poi/commitment";
import { loadMnist, MNIST_PIXELS, MNIST_TOTAL } from "../ml/train";
import { validateModel } from "../x/poi/onnx/validate";
import {
  MsgClaimTaskCodec, MsgRegisterModelCodec, MsgSubmitInferenceTaskCodec, MsgSubmitResultCodec, PROTO_DIR, Q, TASK_STATUS_NAMES, TaskStatus,
  type Model, type PoiCodec, type Task, type TensorSpec,
} from "../x/poi/types";
import { PoiWorker } from "../worker/worker";
import { DEFAULT_NODE, NODE_OPTION, checkAddress, checkNodeUrl, gasAdjustmentOption, gasOption, gasPricesOption, parseCoinsArg } from "./bankcmds";
import { OUTPUT_OPTION, type OutputFormat, UsageError, errorMessage, outputFormat, positionals, printJson, printLines } from "./common";
import { KEYRING_OPTIONS, keyringDir, readKey } from "./keys";

const DENOM = "upoi";
/** Default chunk size of `register-dataset`: at most 1 MiB of items a chunk (and the chain's limit). */
const DEFAULT_CHUNK_BYTES = 1024 * 1024;

const FEE_OPTIONS = {
  fees: { type: "string" }, gas: { type: "string" }, "gas-adjustment": { type: "string" }, "gas-prices": { type: "string" },
} as const;
const TX_OPTIONS = { ...KEYRING_OPTIONS, ...OUTPUT_OPTION, ...NODE_OPTION, ...FEE_OPTIONS } as const;
const QUERY_OPTIONS = { ...OUTPUT_OPTION, ...NODE_OPTION } as const;

type TxValues = { [K in keyof typeof TX_OPTIONS]?: string };

// ---- JSON and text output --------------------------------------------------------------------------

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/**
 * Our objects as JSON: the proto3 JSON field names (camelCase) in .proto order, 64-bit integers as
 * decimal strings, bytes (hashes, seeds) as hex, a task's status by its name (open, claimed, ...).
 */
export function toJson(v: unknown, typeName?: string): unknown {
  return typeName ? messageJson(v as Record<string, unknown>, protoRoot.lookupType(typeName)) : plainJson(v);
}

const protoRoot = new protobuf.Root();
protoRoot.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
protoRoot.loadSync(["poi/v1/types.proto", "poi/v1/tx.proto", "poi/v1/query.proto"]);
protoRoot.resolveAll();

function plainJson(v: unknown): unknown {
  if (v instanceof Uint8Array) return hex(v);
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(plainJson);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainJson(x)]));
  return v;
}

function messageJson(obj: Record<string, unknown>, type: protobuf.Type): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of type.fieldsArray) {
    const val = obj[f.name];
    if (val === undefined) continue;
    const one = (x: unknown): unknown => {
      if (f.resolvedType instanceof protobuf.Type) return messageJson(x as Record<string, unknown>, f.resolvedType);
      if (f.resolvedType instanceof protobuf.Enum && typeof x === "number") {
        return f.resolvedType.name === "TaskStatus" ? TASK_STATUS_NAMES[x] ?? String(x) : f.resolvedType.valuesById[x] ?? x;
      }
      return plainJson(x);
    };
    out[f.name] = f.repeated && Array.isArray(val) ? val.map(one) : one(val);
  }
  return out;
}

/** A YAML-like rendering of a JSON value, as the Cosmos SDK CLI prints by default. */
function yamlLines(v: unknown, indent = ""): string[] {
  const key = (k: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : `'${k}'`);
  const scalar = (x: unknown) => (typeof x === "string" ? (x === "" || /^[0-9]/.test(x) || /[:#]/.test(x) ? JSON.stringify(x) : x) : String(x));
  if (Array.isArray(v)) {
    if (v.length === 0) return [`${indent}[]`];
    return v.flatMap((x) => {
      if (x && typeof x === "object" && !Array.isArray(x)) {
        const inner = yamlLines(x, indent + "  ");
        return [`${indent}- ${inner[0].trimStart()}`, ...inner.slice(1)];
      }
      return [`${indent}- ${scalar(x)}`];
    });
  }
  if (v && typeof v === "object") {
    const entries = Object.entries(v);
    if (entries.length === 0) return [`${indent}{}`];
    return entries.flatMap(([k, x]) => {
      if (Array.isArray(x) && x.length === 0) return [`${indent}${key(k)}: []`];
      if (x && typeof x === "object") return [`${indent}${key(k)}:`, ...yamlLines(x, indent + "  ")];
      return [`${indent}${key(k)}: ${scalar(x)}`];
    });
  }
  return [`${indent}${scalar(v)}`];
}

function printValue(v: unknown, output: OutputFormat): void {
  if (output === "json") printJson(v);
  else printLines(yamlLines(v));
}

/** The tx result as `poi tx` prints it: the bank commands' fields plus the decoded msg response. */
function txJson(r: SentTx, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { stage: _stage, msgResponses, ...result } = r;
  const out: Record<string, unknown> = { ...result };
  if (msgResponses.length) {
    const [first] = msgResponses;
    const codec = POI_RESPONSE_CODECS[first.typeUrl];
    out.response = codec ? { "@type": first.typeUrl, ...(toJson(codec.decode(first.value), first.typeUrl.slice(1)) as object) } : { "@type": first.typeUrl };
  }
  return { ...out, ...extra };
}

function printTx(r: SentTx, output: OutputFormat, extra: Record<string, unknown> = {}): void {
  const j = txJson(r, extra);
  if (output === "json") return printJson(j);
  const lines = r.stage === "simulate" ? [] : [`txhash: ${r.txhash}`, `height: ${r.height}`];
  lines.push(`code: ${r.code}`);
  if (r.code) lines.push(`codespace: ${r.codespace}`, `raw_log: ${r.raw_log}`);
  else lines.push(`gas_used: ${r.gas_used}`, `gas_wanted: ${r.gas_wanted}`);
  const rest = Object.fromEntries(Object.entries(j).filter(([k]) => !["txhash", "height", "code", "codespace", "raw_log", "gas_used", "gas_wanted"].includes(k)));
  printLines([...lines, ...yamlLines(rest)].filter((l) => l !== "{}"));
}

/** Prints the result, and throws (exit 1) unless the tx succeeded. */
function finishTx(r: SentTx, output: OutputFormat, what: string, extra: Record<string, unknown> = {}): void {
  printTx(r, output, extra);
  if (r.code !== 0) throw new Error(`${what} ${describeRefusal(r)}`);
}

// ---- argument parsing --------------------------------------------------------------------------------

function need<T>(v: T | undefined, flag: string, command: string): T {
  if (v === undefined) throw new UsageError(`${command} needs --${flag}`);
  return v;
}

function positiveInt(value: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^[0-9]+$/.test(value) || Number(value) <= 0 || Number(value) > max) {
    throw new Error(`invalid ${what} "${value}": want a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ""}`);
  }
  return Number(value);
}

function nonNegativeInt(value: string, what: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new Error(`invalid ${what} "${value}": want an integer >= 0`);
  return Number(value);
}

function taskIdArg(value: string): string {
  if (!/^[0-9]{1,19}$/.test(value) || BigInt(value) === 0n) throw new Error(`invalid task id "${value}": want a positive integer`);
  return BigInt(value).toString();
}

function contentIdArg(value: string, what: string): string {
  if (!/^[0-9a-f]{64}$/.test(value)) throw new Error(`invalid ${what} "${value}": want 64 lowercase hex characters (a sha256)`);
  return value;
}

/** "1000upoi" or "1000": a positive amount of upoi. */
function upoiArg(value: string, what: string): bigint {
  const m = /^([0-9]+)(upoi)?$/.exec(value.trim());
  if (!m) throw new Error(`invalid ${what} "${value}": want an integer amount of ${DENOM}, e.g. 1000${DENOM}`);
  const n = BigInt(m[1]);
  if (n === 0n) throw new Error(`invalid ${what} "${value}": must be positive`);
  return n;
}

function readFile(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${flag} ${file}: ${errorMessage(err)}`);
  }
}

/** Raw float32 little-endian values from a file. */
function readFloats(file: string, flag: string): Float32Array {
  const bytes = readFile(file, flag);
  if (bytes.length === 0) throw new Error(`${flag} ${file} is empty`);
  if (bytes.length % 4 !== 0) throw new Error(`${flag} ${file} is ${bytes.length} bytes, not a whole number of float32 values (4 bytes each)`);
  const f = new Float32Array(bytes.length / 4);
  for (let i = 0; i < f.length; i++) f[i] = bytes.readFloatLE(i * 4);
  return f;
}

function feeOptions(values: TxValues): FeeOptions {
  if (values.fees !== undefined && values["gas-prices"] !== undefined) throw new Error("give either --fees or --gas-prices, not both");
  return {
    gas: gasOption(values.gas),
    gasAdjustment: gasAdjustmentOption(values["gas-adjustment"]),
    gasPrice: gasPricesOption(values["gas-prices"]),
    fees: values.fees !== undefined ? parseCoinsArg(values.fees, "--fees") : undefined,
  };
}

/** Connects a sender for key `from` of the keyring, runs `fn`, disconnects. */
async function withSender<T>(values: TxValues, from: string, fn: (s: PoiSender) => Promise<T>): Promise<T> {
  const fee = feeOptions(values);
  const node = checkNodeUrl(values.node ?? DEFAULT_NODE);
  const key = readKey(keyringDir(values), from);
  const sender = await PoiSender.connect(node, key.mnemonic, fee);
  try {
    if (sender.address !== key.address) throw new Error(`key "${key.name}": its mnemonic gives ${sender.address}, but the key file says ${key.address}`);
    return await fn(sender);
  } finally {
    sender.disconnect();
  }
}

// ---- queries -------------------------------------------------------------------------------------

/** ABCI queries of /poi.v1.Query/*, keeping the refusal's code and codespace. */
class PoiQuery {
  private constructor(readonly node: string, private readonly comet: CometClient) {}

  static async connect(node: string): Promise<PoiQuery> {
    try {
      const comet = await connectComet(node);
      await comet.status();
      return new PoiQuery(node, comet);
    } catch (err) {
      throw new Error(`cannot reach node ${node}: ${errorMessage(err)}`);
    }
  }

  disconnect(): void {
    this.comet.disconnect();
  }

  async call<Req, Res>(method: string, reqCodec: PoiCodec<Req>, req: Req, resCodec: PoiCodec<Res>): Promise<Res> {
    const res = await this.comet.abciQuery({ path: `/poi.v1.Query/${method}`, data: reqCodec.encode(req).finish() });
    if (res.code) throw new Error(`query ${method} failed with code ${res.code} (codespace ${res.codespace || "-"}): ${res.log ?? ""}`);
    return resCodec.decode(res.value);
  }

  async task(id: string): Promise<Task> {
    return (await this.call("Task", Q.TaskRequest, { id }, Q.TaskResponse)).task!;
  }
  async model(id: string): Promise<Model> {
    return (await this.call("Model", Q.ModelRequest, { id }, Q.ModelResponse)).model!;
  }
}

async function withQuery<T>(node: string | undefined, fn: (q: PoiQuery) => Promise<T>): Promise<T> {
  const q = await PoiQuery.connect(checkNodeUrl(node ?? DEFAULT_NODE));
  try {
    return await fn(q);
  } finally {
    q.disconnect();
  }
}

function parseStatus(value: string): TaskStatus {
  const v = value.toLowerCase().replace(/-/g, "_");
  for (const [n, name] of Object.entries(TASK_STATUS_NAMES)) {
    if (Number(n) !== 0 && (name === v || n === v)) return Number(n) as TaskStatus;
  }
  const names = Object.entries(TASK_STATUS_NAMES).filter(([n]) => n !== "0").map(([, name]) => name);
  throw new Error(`invalid --status "${value}": want one of ${names.join(", ")}`);
}

/** Output values per item of a model (all outputs concatenated). */
function outputElems(model: Model): number {
  return model.outputs.reduce((s, o) => s + o.shape.reduce((n, d) => n * Number(d), 1), 0);
}

const QUERY_HELP = "query poi model ID | models | dataset ID | task ID | tasks [--status S] [--requester A] [--worker A] | task-outputs ID [--out-file F] | worker ADDRESS | params";

/** `poi query poi ...` */
export async function runPoiQuery(argv: string[]): Promise<void> {
  const [sub, ...args] = argv;
  const options = {
    ...QUERY_OPTIONS, status: { type: "string" }, requester: { type: "string" }, worker: { type: "string" }, "out-file": { type: "string" },
  } as const;
  const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options });
  const output = outputFormat(values.output);
  const only = (allowed: string[]) => {
    for (const k of ["status", "requester", "worker", "out-file"] as const) {
      if (values[k] !== undefined && !allowed.includes(k)) throw new UsageError(`query poi ${sub}: --${k} does not apply`);
    }
  };
  switch (sub) {
    case "model": {
      only([]);
      const [id] = positionals("query poi model", pos, ["ID"]);
      contentIdArg(id, "model id");
      return printValue(toJson(await withQuery(values.node, (q) => q.model(id)), "poi.v1.Model"), output);
    }
    case "models": {
      only([]);
      positionals("query poi models", pos, []);
      const r = await withQuery(values.node, (q) => q.call("Models", Q.ModelsRequest, {}, Q.ModelsResponse));
      return printValue({ models: r.models.map((m) => toJson(m, "poi.v1.Model")) }, output);
    }
    case "dataset": {
      only([]);
      const [id] = positionals("query poi dataset", pos, ["ID"]);
      contentIdArg(id, "dataset id");
      const r = await withQuery(values.node, (q) => q.call("Dataset", Q.DatasetRequest, { id }, Q.DatasetResponse));
      return printValue(toJson(r.dataset, "poi.v1.Dataset"), output);
    }
    case "task": {
      only([]);
      const [id] = positionals("query poi task", pos, ["ID"]);
      return printValue(toJson(await withQuery(values.node, (q) => q.task(taskIdArg(id))), "poi.v1.Task"), output);
    }
    case "tasks": {
      only(["status", "requester", "worker"]);
      positionals("query poi tasks", pos, []);
      const req = {
        status: values.status !== undefined ? parseStatus(values.status) : TaskStatus.UNSPECIFIED,
        requester: values.requester !== undefined ? checkAddress(values.requester, "--requester address") : "",
        worker: values.worker !== undefined ? checkAddress(values.worker, "--worker address") : "",
      };
      const r = await withQuery(values.node, (q) => q.call("Tasks", Q.TasksRequest, req, Q.TasksResponse));
      return printValue({ tasks: r.tasks.map((t) => toJson(t, "poi.v1.Task")) }, output);
    }
    case "task-outputs": {
      only(["out-file"]);
      const [idArg] = positionals("query poi task-outputs", pos, ["ID"]);
      const id = taskIdArg(idArg);
      const { task, model, data } = await withQuery(values.node, async (q) => {
        const task = await q.task(id);
        const model = await q.model(task.modelId);
        const data = (await q.call("TaskOutputs", Q.TaskRequest, { id }, Q.TaskDataResponse)).data;
        return { task, model, data };
      });
      const n = Number(task.numItems);
      const per = outputElems(model);
      if (values["out-file"]) fs.writeFileSync(values["out-file"], data);
      const root = data.length === n * per * 4 && n > 0 ? hex(resultRoot(data, n, per * 4)) : "";
      return printValue({
        taskId: id, attempt: task.attempt, status: TASK_STATUS_NAMES[task.status], numItems: task.numItems, valuesPerItem: per,
        bytes: data.length, resultRoot: root, ...(values["out-file"] ? { file: path.resolve(values["out-file"]) } : {}),
      }, output);
    }
    case "worker": {
      only([]);
      const [address] = positionals("query poi worker", pos, ["ADDRESS"]);
      checkAddress(address, "worker address");
      const r = await withQuery(values.node, (q) => q.call("Worker", Q.WorkerRequest, { address }, Q.WorkerResponse));
      return printValue(toJson(r.stats, "poi.v1.WorkerStats"), output);
    }
    case "params": {
      only([]);
      positionals("query poi params", pos, []);
      const r = await withQuery(values.node, (q) => q.call("Params", Q.ParamsRequest, {}, Q.ParamsResponse));
      return printValue(toJson(r.params, "poi.v1.Params"), output);
    }
    default:
      throw new UsageError(`unknown query "poi ${sub ?? ""}" (want: ${QUERY_HELP})`);
  }
}

// ---- txs ---------------------------------------------------------------------------------------------

const TX_HELP = "tx poi register-model | register-dataset | submit-inference | claim | submit-result";

/** `poi tx poi ...` */
export async function runPoiTx(argv: string[]): Promise<void> {
  const [sub, ...args] = argv;
  let output: OutputFormat = "text";
  try {
    switch (sub) {
      case "register-model": {
        const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { ...TX_OPTIONS, file: { type: "string" }, name: { type: "string" } } });
        output = outputFormat(values.output);
        const [from] = positionals("tx poi register-model", pos, ["FROM_KEY"]);
        return await registerModel(values, from, need(values.file, "file", "tx poi register-model"), values.name, output);
      }
      case "register-dataset": {
        const { values, positionals: pos } = parseArgs({
          args, allowPositionals: true,
          options: { ...TX_OPTIONS, file: { type: "string" }, shape: { type: "string" }, mnist: { type: "string" }, "items-per-chunk": { type: "string" }, name: { type: "string" } },
        });
        output = outputFormat(values.output);
        const [from] = positionals("tx poi register-dataset", pos, ["FROM_KEY"]);
        return await registerDataset(values, from, output);
      }
      case "submit-inference": {
        const { values, positionals: pos } = parseArgs({
          args, allowPositionals: true,
          options: {
            ...TX_OPTIONS, model: { type: "string" }, dataset: { type: "string" }, start: { type: "string" }, count: { type: "string" },
            "inputs-file": { type: "string" }, "reward-per-item": { type: "string" }, k: { type: "string" }, deadline: { type: "string" }, bond: { type: "string" },
          },
        });
        output = outputFormat(values.output);
        const [from] = positionals("tx poi submit-inference", pos, ["FROM_KEY"]);
        return await submitInference(values, from, output);
      }
      case "claim": {
        const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: TX_OPTIONS });
        output = outputFormat(values.output);
        const [from, id] = positionals("tx poi claim", pos, ["FROM_KEY", "TASK_ID"]);
        return await claim(values, from, taskIdArg(id), output);
      }
      case "submit-result": {
        const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { ...TX_OPTIONS, "outputs-file": { type: "string" } } });
        output = outputFormat(values.output);
        const [from, id] = positionals("tx poi submit-result", pos, ["FROM_KEY", "TASK_ID"]);
        return await submitResult(values, from, taskIdArg(id), need(values["outputs-file"], "outputs-file", "tx poi submit-result"), output);
      }
      default:
        throw new UsageError(`unknown tx "poi ${sub ?? ""}" (want: ${TX_HELP})`);
    }
  } catch (err) {
    // A tx of a multi-tx command (dataset upload) was refused: show its result too.
    if (err instanceof TxRefusedError) {
      printTx(err.result, output);
      throw new Error(err.message);
    }
    throw err;
  }
}

const send = (s: PoiSender, typeUrl: string, value: unknown): Promise<SentTx> => s.send([{ typeUrl, value } as EncodeObject]);

async function registerModel(values: TxValues, from: string, file: string, nameArg: string | undefined, output: OutputFormat): Promise<void> {
  const onnx = readFile(file, "--file");
  if (onnx.length === 0) throw new Error(`--file ${file} is empty`);
  const name = nameArg ?? path.basename(file).replace(/\.onnx$/i, "");
  let inputs: TensorSpec[] = [];
  let outputs: TensorSpec[] = [];
  try {
    const summary = validateModel(onnx);
    const spec = (t: { name: string; shape: number[]; dtype: string }): TensorSpec => ({ name: t.name, shape: t.shape.map(String), dtype: t.dtype });
    inputs = summary.inputs.map(spec);
    outputs = summary.outputs.map(spec);
  } catch (err) {
    // The chain's own validator (with the chain's limits) has the last word; a refused simulation costs nothing.
    process.stderr.write(`warning: ${file} does not pass local model validation (${errorMessage(err)}); sending it so the chain decides\n`);
  }
  const r = await withSender(values, from, (s) =>
    send(s, MsgRegisterModelCodec.typeUrl, MsgRegisterModelCodec.fromPartial({ owner: s.address, name, onnx, inputs, outputs })));
  finishTx(r, output, "register-model tx");
}

async function registerDataset(values: TxValues & { file?: string; shape?: string; mnist?: string; "items-per-chunk"?: string; name?: string }, from: string, output: OutputFormat): Promise<void> {
  let items: Float32Array;
  let shape: string[];
  let name: string;
  if (values.mnist !== undefined) {
    if (values.file !== undefined || values.shape !== undefined) throw new UsageError("give either --mnist N or --file F --shape S, not both");
    const n = positiveInt(values.mnist, "--mnist", MNIST_TOTAL);
    const { images } = loadMnist();
    items = new Float32Array(n * MNIST_PIXELS);
    for (let i = 0; i < n; i++) items.set(images[i], i * MNIST_PIXELS);
    shape = [String(MNIST_PIXELS)];
    name = values.name ?? `mnist-${n}`;
  } else {
    const file = need(values.file, "file (or --mnist N)", "tx poi register-dataset");
    const shapeText = need(values.shape, "shape (e.g. --shape 784 or --shape 28,28)", "tx poi register-dataset");
    shape = shapeText.split(",").map((d) => String(positiveInt(d.trim(), `--shape "${shapeText}": dimension`)));
    items = readFloats(file, "--file");
    const per = shape.reduce((a, d) => a * Number(d), 1);
    if (items.length % per !== 0) throw new Error(`--file ${file} holds ${items.length} float32 values, not a whole number of items of shape [${shape.join(",")}] (${per} values each)`);
    name = values.name ?? path.basename(file);
  }
  const itemBytes = shape.reduce((a, d) => a * Number(d), 1) * 4;
  const numItems = (items.length * 4) / itemBytes;
  const r = await withSender(values, from, async (s) => {
    let perChunk: number;
    if (values["items-per-chunk"] !== undefined) {
      perChunk = positiveInt(values["items-per-chunk"], "--items-per-chunk");
    } else {
      const q = await PoiQuery.connect(s.node);
      try {
        const params = (await q.call("Params", Q.ParamsRequest, {}, Q.ParamsResponse)).params!;
        perChunk = Math.max(1, Math.floor(Math.min(DEFAULT_CHUNK_BYTES, Number(params.maxDatasetChunkBytes)) / itemBytes));
      } finally {
        q.disconnect();
      }
    }
    perChunk = Math.min(perChunk, numItems);
    return s.uploadDataset(name, { name: "item", shape, dtype: "float32" }, items, perChunk, {
      onChunk: (done, total) => { if (output === "text") process.stderr.write(`chunk ${done}/${total} on chain\n`); },
    });
  });
  const json = {
    datasetId: r.datasetId, name, numItems: r.numItems, itemsPerChunk: r.itemsPerChunk, numChunks: r.numChunks, resumed: r.existed,
    create: r.create ? txJson(r.create) : undefined, chunks: r.chunks,
  };
  if (output === "json") printJson(json);
  else printLines([`dataset_id: ${r.datasetId}`, `num_items: ${r.numItems}`, `items_per_chunk: ${r.itemsPerChunk}`, `num_chunks: ${r.numChunks}`,
    ...(r.existed ? [`resumed: uploaded the ${r.chunks.length} missing chunks`] : []), ...(r.create ? [`create_txhash: ${r.create.txhash}`] : [])]);
}

async function submitInference(values: TxValues & Record<string, string | undefined>, from: string, output: OutputFormat): Promise<void> {
  const cmd = "tx poi submit-inference";
  const modelId = contentIdArg(need(values.model, "model", cmd), "--model");
  const rewardPerItem = upoiArg(need(values["reward-per-item"], "reward-per-item", cmd), "--reward-per-item");
  const k = positiveInt(need(values.k, "k", cmd), "--k", 0xffffffff);
  const deadline = positiveInt(need(values.deadline, "deadline (blocks)", cmd), "--deadline");
  const bond = upoiArg(need(values.bond, "bond", cmd), "--bond");
  let source: { datasetId: string; start: string; count: string; inputs: Uint8Array };
  if (values.dataset !== undefined) {
    if (values["inputs-file"] !== undefined) throw new UsageError(`${cmd}: give either --dataset ID --start S --count C or --inputs-file F, not both`);
    source = {
      datasetId: contentIdArg(values.dataset, "--dataset"), start: String(values.start !== undefined ? nonNegativeInt(values.start, "--start") : 0),
      count: String(positiveInt(need(values.count, "count (with --dataset)", cmd), "--count")), inputs: new Uint8Array(),
    };
  } else {
    if (values.start !== undefined || values.count !== undefined) throw new UsageError(`${cmd}: --start and --count go with --dataset`);
    const f = readFloats(need(values["inputs-file"], "dataset ID --start S --count C, or --inputs-file F", cmd), "--inputs-file");
    source = { datasetId: "", start: "0", count: "0", inputs: new Uint8Array(f.buffer) };
  }
  const r = await withSender(values, from, (s) => send(s, MsgSubmitInferenceTaskCodec.typeUrl, MsgSubmitInferenceTaskCodec.fromPartial({
    requester: s.address, modelId, ...source, rewardPerItem: rewardPerItem.toString(), k, deadlineBlocks: String(deadline), bond: bond.toString(),
  })));
  finishTx(r, output, "submit-inference tx");
}

async function claim(values: TxValues, from: string, id: string, output: OutputFormat): Promise<void> {
  const r = await withSender(values, from, async (s) => {
    const task = await withQuery(s.node, (q) => q.task(id));
    // The chain checks this too; asking first gives a plain answer, also for an account with no funds at all.
    const balance = await s.balance(DENOM);
    if (balance < BigInt(task.bond)) {
      throw new Error(`claiming task ${id} locks a bond of ${task.bond}${DENOM}, but ${from} (${s.address}) has ${balance}${DENOM}`);
    }
    return send(s, MsgClaimTaskCodec.typeUrl, MsgClaimTaskCodec.fromPartial({ worker: s.address, taskId: id }));
  });
  finishTx(r, output, "claim tx");
}

async function submitResult(values: TxValues, from: string, id: string, file: string, output: OutputFormat): Promise<void> {
  const outputs = readFloats(file, "--outputs-file");
  const bytes = new Uint8Array(outputs.buffer);
  let root: Uint8Array = new Uint8Array();
  const r = await withSender(values, from, async (s) => {
    const { task, model } = await withQuery(s.node, async (q) => {
      const task = await q.task(id);
      return { task, model: await q.model(task.modelId) };
    });
    const n = Number(task.numItems);
    const per = outputElems(model) * 4;
    if (bytes.length !== n * per) {
      throw new Error(`--outputs-file ${file} is ${bytes.length} bytes; task ${id} has ${n} items × ${per / 4} output values × 4 bytes = ${n * per} bytes`);
    }
    root = resultRoot(bytes, n, per);
    return send(s, MsgSubmitResultCodec.typeUrl, MsgSubmitResultCodec.fromPartial({ worker: s.address, taskId: id, outputs: bytes, resultRoot: root }));
  });
  finishTx(r, output, "submit-result tx", r.code === 0 ? { resultRoot: hex(root) } : {});
}

// ---- worker --------------------------------------------------------------------------------------------

/** `poi worker start --key NAME ...`: runs a PoiWorker until SIGINT or SIGTERM. */
export async function runWorker(argv: string[]): Promise<void> {
  const [sub, ...args] = argv;
  if (sub !== "start") throw new UsageError(`unknown worker command "${sub ?? ""}" (want: worker start --key NAME)`);
  const { values, positionals: pos } = parseArgs({
    args, allowPositionals: true,
    options: {
      ...KEYRING_OPTIONS, ...NODE_OPTION, key: { type: "string" }, "cheat-fraction": { type: "string" }, "cheat-seed": { type: "string" },
      "poll-ms": { type: "string" }, "gas-prices": { type: "string" },
    },
  });
  positionals("worker start", pos, []);
  const keyName = need(values.key, "key NAME", "worker start");
  const node = checkNodeUrl(values.node ?? DEFAULT_NODE);
  let cheatFraction = 0;
  if (values["cheat-fraction"] !== undefined) {
    cheatFraction = Number(values["cheat-fraction"]);
    if (values["cheat-fraction"].trim() === "" || !(cheatFraction >= 0 && cheatFraction <= 1)) {
      throw new Error(`invalid --cheat-fraction "${values["cheat-fraction"]}": want a number from 0 to 1`);
    }
  }
  const cheatSeed = values["cheat-seed"] !== undefined ? nonNegativeInt(values["cheat-seed"], "--cheat-seed") : 1;
  const pollMs = values["poll-ms"] !== undefined ? positiveInt(values["poll-ms"], "--poll-ms") : 500;
  const key = readKey(keyringDir(values), keyName);
  const worker = new PoiWorker({
    rpc: node, mnemonic: key.mnemonic, cheatFraction, cheatSeed, pollMs, gasPrice: gasPricesOption(values["gas-prices"]),
    log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
  });
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130); // a second Ctrl-C does not wait
    process.stdout.write(`${new Date().toISOString()} stopping (finishing the current step; Ctrl-C again to quit at once)\n`);
    void worker.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  await worker.start();
  const s = worker.stats;
  process.stdout.write(`stats: claimed ${s.claimed}, lost claims ${s.lostClaims}, submitted ${s.submitted}, completed ${s.completed}, failed ${s.failed}, ` +
    `verification timeouts ${s.verifyTimeouts}, lapsed ${s.lapsed}, expired ${s.expired}, errors ${s.errors}, items run ${s.itemsRun}, ` +
    `fabricated ${s.itemsFabricated}, earned ${s.earned}${DENOM}, slashed ${s.slashed}${DENOM}\n`);
}
