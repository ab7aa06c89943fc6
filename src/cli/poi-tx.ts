/**
 * `poi tx poi ...`: the PoI messages from the command line, sent by PoiTxClient (src/client/tx.ts):
 * simulate (for --gas auto), sign, broadcast, wait for the block. A refusal (by the simulation, by
 * CheckTx or in the block) prints the result with its code, codespace and log (stdout, as JSON with
 * --output json) and exits 1.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { outputValuesPerItem } from "../client/poi-msgs";
import type { PoiTxClient } from "../client/tx";
import { TxRefusedError, type SentTx } from "../client/results";
import { loadMnist, MNIST_PIXELS, MNIST_TOTAL } from "../ml/train";
import { validateModel } from "../x/poi/onnx/validate";
import type { TensorSpec } from "../x/poi/types";
import {
  FEE_OPTIONS, NODE_OPTION, checkAddress, checkNodeUrl, contentIdArg, feeOptions, need, nonNegativeInt, positiveInt, readFile, readFloats, taskIdArg, upoiArg,
} from "./args";
import { withTxClient } from "./clients";
import { OUTPUT_OPTION, type OutputFormat, UsageError, errorMessage, outputFormat, positionals, printJson, printLines } from "./common";
import { KEYRING_OPTIONS, keyringDir } from "./keys";
import { hex, printTx, txJson } from "./render";
import { TRAINING_OPTIONS, reveal, trainingSpecArgs } from "./training-cmds";

/** Default chunk size of `register-dataset`: at most 1 MiB of items a chunk (and the chain's limit). */
const DEFAULT_CHUNK_BYTES = 1024 * 1024;

export const TX_OPTIONS = { ...KEYRING_OPTIONS, ...OUTPUT_OPTION, ...NODE_OPTION, ...FEE_OPTIONS } as const;
export type TxValues = { [K in keyof typeof TX_OPTIONS]?: string };

/** Connects a tx client for key `from` of the keyring, runs `fn`, disconnects. */
export function withSender<T>(values: TxValues, from: string, fn: (s: PoiTxClient) => Promise<T>): Promise<T> {
  const fee = feeOptions(values);
  return withTxClient(checkNodeUrl(values.node), keyringDir(values), from, fee, fn);
}

const TX_HELP = "tx poi register-model | register-dataset | submit-inference | submit-training | claim | submit-result | reveal | link-worker | accept-link | unlink-worker";

/** `poi tx poi ...` */
export async function runPoiTx(argv: string[]): Promise<void> {
  const [sub, ...args] = argv;
  let output: OutputFormat = "text";
  try {
    switch (sub) {
      case "register-model": {
        const { values, positionals: pos } = parseArgs({
          args, allowPositionals: true, options: { ...TX_OPTIONS, file: { type: "string" }, name: { type: "string" }, "train-step-of": { type: "string" } },
        });
        output = outputFormat(values.output);
        const [from] = positionals("tx poi register-model", pos, ["FROM_KEY"]);
        const parent = values["train-step-of"] === undefined ? undefined : contentIdArg(values["train-step-of"], "--train-step-of model id");
        return await registerModel(values, from, need(values.file, "file", "tx poi register-model"), values.name, parent, output);
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
      case "submit-training": {
        const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { ...TX_OPTIONS, ...TRAINING_OPTIONS } });
        output = outputFormat(values.output);
        const [from] = positionals("tx poi submit-training", pos, ["FROM_KEY"]);
        const spec = trainingSpecArgs(values);
        return printSent(await withSender(values, from, (s) => s.submitTrainingTask(spec)), output);
      }
      case "reveal": {
        const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { ...TX_OPTIONS, "checkpoints-file": { type: "string" } } });
        output = outputFormat(values.output);
        const [from, id] = positionals("tx poi reveal", pos, ["FROM_KEY", "TASK_ID"]);
        return await reveal(values, from, taskIdArg(id), need(values["checkpoints-file"], "checkpoints-file", "tx poi reveal"), output);
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
      case "link-worker":
      case "accept-link":
      case "unlink-worker": {
        const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: TX_OPTIONS });
        output = outputFormat(values.output);
        const other = sub === "accept-link" ? "OPERATOR_ADDRESS" : "WORKER_ADDRESS";
        const [from, address] = positionals(`tx poi ${sub}`, pos, ["FROM_KEY", other]);
        checkAddress(address, other === "OPERATOR_ADDRESS" ? "operator address" : "worker address");
        return printSent(await withSender(values, from, (s) =>
          sub === "link-worker" ? s.linkWorker(address) : sub === "accept-link" ? s.acceptWorkerLink(address) : s.unlinkWorker(address)), output);
      }
      default:
        throw new UsageError(`unknown tx "poi ${sub ?? ""}" (want: ${TX_HELP})`);
    }
  } catch (err) {
    // A refused tx: print its result (code, codespace, log), then exit 1 with the refusal.
    if (err instanceof TxRefusedError) {
      printTx(err.result, output);
      throw new Error(err.message);
    }
    throw err;
  }
}

/** Prints a successful tx (refusals throw TxRefusedError and are printed by runPoiTx). */
const printSent = (r: { tx: SentTx }, output: OutputFormat, extra: Record<string, unknown> = {}) => printTx(r.tx, output, extra);

async function registerModel(
  values: TxValues, from: string, file: string, nameArg: string | undefined, trainStepOf: string | undefined, output: OutputFormat,
): Promise<void> {
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
  printSent(await withSender(values, from, (s) => s.registerModel(onnx, name, inputs, outputs, { trainStepOf })), output);
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
      const params = await s.query.params();
      perChunk = Math.max(1, Math.floor(Math.min(DEFAULT_CHUNK_BYTES, Number(params.maxDatasetChunkBytes)) / itemBytes));
    }
    perChunk = Math.min(perChunk, numItems);
    return s.uploadDataset(name, { name: "item", shape, dtype: "float32" }, items, perChunk, {
      // Progress goes to stderr in both output formats: stdout stays the result alone.
      onChunk: (done, total) => process.stderr.write(`chunk ${done}/${total} on chain\n`),
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
  const deadlineBlocks = positiveInt(need(values.deadline, "deadline (blocks)", cmd), "--deadline");
  const bond = upoiArg(need(values.bond, "bond", cmd), "--bond");
  let source: { dataset: { id: string; start: number; count: number } } | { inputs: Float32Array };
  if (values.dataset !== undefined) {
    if (values["inputs-file"] !== undefined) throw new UsageError(`${cmd}: give either --dataset ID --start S --count C or --inputs-file F, not both`);
    source = {
      dataset: {
        id: contentIdArg(values.dataset, "--dataset"), start: values.start !== undefined ? nonNegativeInt(values.start, "--start") : 0,
        count: positiveInt(need(values.count, "count (with --dataset)", cmd), "--count"),
      },
    };
  } else {
    if (values.start !== undefined || values.count !== undefined) throw new UsageError(`${cmd}: --start and --count go with --dataset`);
    source = { inputs: readFloats(need(values["inputs-file"], "dataset ID --start S --count C, or --inputs-file F", cmd), "--inputs-file") };
  }
  printSent(await withSender(values, from, (s) => s.submitInferenceTask({ modelId, ...source, rewardPerItem, k, deadlineBlocks, bond })), output);
}

async function claim(values: TxValues, from: string, id: string, output: OutputFormat): Promise<void> {
  printSent(await withSender(values, from, async (s) => {
    const task = await s.query.task(id);
    // The chain checks this too; asking first gives a plain answer, also for an account with no funds at all.
    const balance = await s.query.balance(s.address);
    if (balance < BigInt(task.bond)) {
      throw new Error(`claiming task ${id} locks a bond of ${task.bond}upoi, but ${from} (${s.address}) has ${balance}upoi`);
    }
    return s.claimTask(id);
  }), output);
}

async function submitResult(values: TxValues, from: string, id: string, file: string, output: OutputFormat): Promise<void> {
  const outputs = readFloats(file, "--outputs-file");
  const r = await withSender(values, from, async (s) => {
    const task = await s.query.task(id);
    const model = await s.query.model(task.modelId);
    const n = Number(task.numItems);
    const per = outputValuesPerItem(model) * 4;
    if (outputs.byteLength !== n * per) {
      throw new Error(`--outputs-file ${file} is ${outputs.byteLength} bytes; task ${id} has ${n} items × ${per / 4} output values × 4 bytes = ${n * per} bytes`);
    }
    return s.submitResult(id, outputs, n);
  });
  printSent(r, output, { resultRoot: hex(r.resultRoot) });
}
