import { strict as assert } from "assert";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { TxBody, TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { buildMlpTrainStep } from "../src/x/poi/onnx/train-step-builder";
import { loadMnist, trainMnistMlp } from "../src/ml/train";
import { ReexecRunner } from "../src/x/poi/verify/runner";
import { resultRoot } from "../src/x/poi/commitment";
import { MsgSubmitResultCodec } from "../src/x/poi/types";
import { cheatPlan } from "../src/worker/worker";
import { CLI, poi, removeHome, rpc, sleep, startSingle, stopSingle, tmpHome, waitForHeight } from "./helpers/chain";

interface TxJson { txhash: string; height: string; code: number; codespace: string; raw_log: string; gas_wanted: string; gas_used: string; response?: Record<string, string> }
interface TensorSpecJson { name: string; shape: string[]; dtype: string }
interface TaskJson {
  id: string; requester: string; modelId: string; datasetId: string; start: string; numItems: string; rewardPerItem: string; k: number;
  bond: string; escrow: string; createdHeight: string; status: string; attempt: number; worker: string; claimExpiresHeight: string; resultRoot: string; resultHeight: string;
}
interface Account { name: string; mnemonic: string; address: string }

const HEX64 = /^[0-9a-f]{64}$/;
const BOND = "1000000";
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const floatBytes = (f: Float32Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength);

// `poi tx poi ...`, `poi query poi ...` and `poi worker start`, run as a user would, against a real
// 1-validator chain (CometBFT + our app).
describe("cli: poi models, datasets, tasks and the worker daemon against a 1-validator chain", function () {
  const home = tmpHome("cli-poi");
  const url = "http://127.0.0.1:27001"; // base port 27000: p2p 27000, rpc 27001, abci 27002
  const node = ["--node", url];
  const kr = ["--home", home];
  const tx = [...node, ...kr];
  let accounts: Account[] = [];
  const acct = (name: string) => accounts.find((a) => a.name === name)!;

  const modelFile = path.join(home, "mnist-small.onnx");
  let onnx: Uint8Array;
  let modelId = "";
  let datasetId = "";
  const runner = new ReexecRunner();
  const children: ChildProcess[] = [];

  const json = <T>(args: string[]): T => JSON.parse(poi([...args, "--output", "json"]).stdout) as T;
  const fails = (args: string[], exit = 1) => {
    const r = poi(args, { allowFail: true });
    assert.equal(r.code, exit, `poi ${args.join(" ")} should exit ${exit}, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace for a user error");
    return r;
  };
  /** A tx the chain refuses: exit 1, the result (code, codespace, log) as JSON on stdout, and the same on stderr. */
  const refused = (args: string[], code: number, log: RegExp) => {
    const r = fails([...args, "--output", "json"]);
    const res = JSON.parse(r.stdout) as TxJson;
    assert.deepEqual([res.code, res.codespace], [code, "poi"], res.raw_log);
    assert.match(res.raw_log, log);
    assert.match(r.stderr, new RegExp(`with code ${code} \\(codespace poi\\): `));
    return res;
  };
  const task = (id: string) => json<TaskJson>(["query", "poi", "task", id, ...node]);

  /** The digits [start, start+count) of loadMnist() as one float32 array. */
  function digits(start: number, count: number): Float32Array {
    const { images } = loadMnist();
    const f = new Float32Array(count * 784);
    for (let i = 0; i < count; i++) f.set(images[start + i], i * 784);
    return f;
  }

  /** What an honest worker computes for these digits: the same ReexecRunner, so bit for bit. */
  async function expectedOutputs(items: Float32Array): Promise<Float32Array> {
    const n = items.length / 784;
    const res = await runner.run({
      modelId, onnx, inputName: "input", inputShape: [1, 784], outputNames: ["logits"],
      items: Array.from({ length: n }, (_, i) => items.slice(i * 784, (i + 1) * 784)),
    });
    const out = new Float32Array(n * 10);
    res.outputs.forEach((o, i) => out.set(o, i * 10));
    return out;
  }

  /** The outputs a worker submitted, read back from its MsgSubmitResult tx (whatever verification did since). */
  async function submittedOutputs(txhash: string): Promise<Uint8Array> {
    const r = await rpc<{ tx: string; tx_result: { code: number } }>(url, `tx?hash=0x${txhash}`);
    assert.equal(r.tx_result.code, 0);
    const body = TxBody.decode(TxRaw.decode(Buffer.from(r.tx, "base64")).bodyBytes);
    assert.equal(body.messages[0].typeUrl, MsgSubmitResultCodec.typeUrl);
    return MsgSubmitResultCodec.decode(body.messages[0].value).outputs;
  }

  function submitInference(extra: string[]): string {
    const r = json<TxJson>(["tx", "poi", "submit-inference", "requester", "--model", modelId, "--reward-per-item", "1000upoi", "--k", "5", "--deadline", "1000", "--bond", `${BOND}upoi`, ...extra, ...tx]);
    assert.equal(r.code, 0, r.raw_log);
    return r.response!.taskId;
  }

  /** Starts `poi worker start` and collects its stdout. */
  function startWorker(args: string[]): { child: ChildProcess; out: () => string; exited: Promise<number | null> } {
    const child = spawn(process.execPath, [CLI, "worker", "start", ...args, ...tx, "--poll-ms", "200"], { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    child.stdout!.on("data", (d: Buffer) => { out += d.toString(); });
    child.stderr!.on("data", (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, out: () => out, exited };
  }

  async function waitForLine(out: () => string, re: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(out());
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`no line matching ${re} within ${timeoutMs} ms; output:\n${out()}`);
      await sleep(100);
    }
  }

  before(async () => {
    poi(["init", "--home", home, "--base-port", "27000"]);
    // Claims must not lapse while a step of this test runs (each CLI call costs seconds on a busy machine).
    const gfile = path.join(home, "config", "genesis.json");
    const g = JSON.parse(fs.readFileSync(gfile, "utf8"));
    g.app_state.poi = { ...g.app_state.poi, params: { ...g.app_state.poi?.params, claimBlocks: "300" } };
    fs.writeFileSync(gfile, JSON.stringify(g, null, 2));
    accounts = JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8")) as Account[];
    startSingle(home);
    poi(["keys", "import-localnet", "--localnet-home", home, ...kr]);
    // A small MLP (784 → 16 → 10) trained briefly: what matters here is a real model, not its accuracy.
    const trained = trainMnistMlp({ hidden: 16, epochs: 1 });
    onnx = buildMlp({ inputSize: trained.inputSize, hidden: trained.hidden, outputs: trained.outputs, weights: trained.weights });
    fs.writeFileSync(modelFile, onnx);
    await waitForHeight(url, 2);
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await runner.close();
    await stopSingle(home);
    removeHome(home);
  });

  it("register-model reads the inputs and outputs from the ONNX file; query poi model shows them", () => {
    const r = json<TxJson>(["tx", "poi", "register-model", "requester", "--file", modelFile, "--name", "mnist-small", ...tx]);
    assert.equal(r.code, 0, r.raw_log);
    assert.match(r.txhash, /^[0-9A-F]{64}$/);
    assert.ok(Number(r.height) > 0);
    assert.equal(r.response!["@type"], "/poi.v1.MsgRegisterModelResponse");
    modelId = r.response!.modelId;
    assert.equal(modelId, hex(sha256(onnx)), "the model id is the sha256 of the file");
    assert.ok(BigInt(r.response!.workUnitsPerItem) >= BigInt(784 * 16 + 16 * 10));

    const m = json<{ id: string; owner: string; name: string; inputs: TensorSpecJson[]; outputs: TensorSpecJson[]; workUnitsPerItem: string; sizeBytes: string; registeredHeight: string }>(
      ["query", "poi", "model", modelId, ...node]);
    assert.deepEqual(
      { id: m.id, owner: m.owner, name: m.name, inputs: m.inputs, outputs: m.outputs, work: m.workUnitsPerItem, size: m.sizeBytes, height: m.registeredHeight },
      {
        id: modelId, owner: acct("requester").address, name: "mnist-small", inputs: [{ name: "input", shape: ["1", "784"], dtype: "float32" }],
        outputs: [{ name: "logits", shape: ["1", "10"], dtype: "float32" }], work: r.response!.workUnitsPerItem, size: String(onnx.length), height: r.height,
      });
    // Text output, gaiad style.
    const text = poi(["query", "poi", "model", modelId, ...node]).stdout;
    assert.match(text, new RegExp(`^id: "${modelId}"$`, "m"));
    assert.match(text, /^owner: poi1/m);
  });

  it("register-model refuses a file that is not ONNX (the chain's code, codespace and log, exit 1), a model registered twice, and a missing file", () => {
    const junk = path.join(home, "junk.onnx");
    fs.writeFileSync(junk, Buffer.from("this is not an ONNX model, just some text"));
    const r = fails(["tx", "poi", "register-model", "requester", "--file", junk, ...tx, "--output", "json"]);
    const res = JSON.parse(r.stdout) as TxJson;
    assert.deepEqual([res.code, res.codespace], [2, "poi"]);
    assert.match(res.raw_log, /not a valid ONNX model.*invalid model/);
    assert.match(r.stderr, /register-model tx was refused by the node's simulation \(nothing was broadcast\) with code 2 \(codespace poi\): not a valid ONNX model/);
    assert.match(r.stderr, /warning: .*junk\.onnx does not pass local model validation/);
    // Text output shows the same three fields.
    const t = fails(["tx", "poi", "register-model", "requester", "--file", junk, ...tx]);
    assert.match(t.stdout, /^code: 2$/m);
    assert.match(t.stdout, /^codespace: poi$/m);
    assert.match(t.stdout, /^raw_log: not a valid ONNX model/m);

    refused(["tx", "poi", "register-model", "requester", "--file", modelFile, ...tx], 3, new RegExp(`model ${modelId}: model already registered`));
    assert.match(fails(["tx", "poi", "register-model", "requester", "--file", path.join(home, "nope.onnx"), ...tx]).stderr, /cannot read --file .*nope\.onnx: ENOENT/);
    assert.match(fails(["tx", "poi", "register-model", "requester", ...tx], 2).stderr, /register-model needs --file/);
    // Only the good model is on chain.
    const all = json<{ models: Array<{ id: string }> }>(["query", "poi", "models", ...node]);
    assert.deepEqual(all.models.map((m) => m.id), [modelId]);
  });

  it("register-model --train-step-of registers a train-step graph of the model; query poi model shows its kind and parent; a mismatch is refused", () => {
    const stepFile = path.join(home, "mnist-small-step.onnx");
    fs.writeFileSync(stepFile, buildMlpTrainStep({ inputSize: 784, hidden: 16, outputs: 10, batchSize: 32 }));
    const r = json<TxJson>(["tx", "poi", "register-model", "requester", "--file", stepFile, "--train-step-of", modelId, ...tx]);
    assert.equal(r.code, 0, r.raw_log);
    const m = json<{ kind: string; parentModelId: string; inputs: TensorSpecJson[] }>(["query", "poi", "model", r.response!.modelId, ...node]);
    assert.deepEqual([m.kind, m.parentModelId, m.inputs.map((t) => t.name)], ["train_step", modelId, ["w1", "b1", "w2", "b2", "x", "y", "lr"]]);
    assert.equal(json<{ kind: string }>(["query", "poi", "model", modelId, ...node]).kind, "inference");
    const wrongFile = path.join(home, "wrong-step.onnx");
    fs.writeFileSync(wrongFile, buildMlpTrainStep({ inputSize: 784, hidden: 8, outputs: 10, batchSize: 32 }));
    refused(["tx", "poi", "register-model", "requester", "--file", wrongFile, "--train-step-of", modelId, ...tx], 2,
      /train-step graph: input 0 "w1" has shape \[784,8\] but the parent's parameter 0 needs \[784,16\]/);
    assert.match(fails(["tx", "poi", "register-model", "requester", "--file", stepFile, "--train-step-of", "nope", ...tx]).stderr, /invalid --train-step-of model id "nope"/);
  });

  it("register-dataset --mnist 200 uploads the digits in chunks; the id names their content; query poi dataset shows it complete", () => {
    const r = json<{ datasetId: string; numItems: number; itemsPerChunk: number; numChunks: number; create: TxJson; chunks: Array<{ index: number; txhash: string; height: string }> }>(
      ["tx", "poi", "register-dataset", "requester", "--mnist", "200", "--items-per-chunk", "64", ...tx]);
    assert.match(r.datasetId, HEX64);
    assert.deepEqual([r.numItems, r.itemsPerChunk, r.numChunks], [200, 64, 4]);
    assert.equal(r.create.code, 0);
    assert.deepEqual(r.chunks.map((c) => c.index), [0, 1, 2, 3]);
    datasetId = r.datasetId;
    // id = sha256 of the metadata (dtype, shape [784], 200 items, 64 per chunk) and the chunk hashes,
    // chunks of 64 digits (the last one 8), float32 LE (src/x/poi/dataset_id.ts)
    const bytes = floatBytes(digits(0, 200));
    const chunkHashes = [0, 1, 2, 3].map((i) => sha256(bytes.subarray(i * 64 * 3136, Math.min(200, (i + 1) * 64) * 3136)));
    const u64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
    const metadata = Buffer.concat([Buffer.from("poi/dataset/v1"), Buffer.of(7), Buffer.from("float32"), Buffer.of(1), u64(784), u64(200), u64(64), Buffer.of(0, 0, 0, 4)]);
    assert.equal(datasetId, hex(sha256(Buffer.concat([metadata, ...chunkHashes]))));

    const d = json<{ id: string; owner: string; name: string; item: TensorSpecJson; numItems: string; numChunks: number; chunksReceived: number; itemsPerChunk: string; complete: boolean }>(
      ["query", "poi", "dataset", datasetId, ...node]);
    assert.deepEqual(
      [d.id, d.owner, d.name, d.item.shape, d.item.dtype, d.numItems, d.numChunks, d.chunksReceived, d.itemsPerChunk, d.complete],
      [datasetId, acct("requester").address, "mnist-200", ["784"], "float32", "200", 4, 4, "64", true]);
  });

  it("register-dataset --file takes raw float32 items of --shape; bad files and shapes are refused with a message", () => {
    const file = path.join(home, "ten.f32");
    fs.writeFileSync(file, floatBytes(digits(0, 10)));
    const run = poi(["tx", "poi", "register-dataset", "user0", "--file", file, "--shape", "28,28", "--items-per-chunk", "4", ...tx, "--output", "json"]);
    const r = JSON.parse(run.stdout) as { datasetId: string; numItems: number; numChunks: number };
    assert.deepEqual([r.numItems, r.numChunks], [10, 3]);
    // Progress, chunks on chain out of the total, on stderr (stdout is the JSON alone).
    assert.deepEqual(run.stderr.match(/^chunk \d+\/\d+ on chain$/gm), ["chunk 1/3 on chain", "chunk 2/3 on chain", "chunk 3/3 on chain"]);
    const d = json<{ owner: string; item: TensorSpecJson; complete: boolean; name: string }>(["query", "poi", "dataset", r.datasetId, ...node]);
    assert.deepEqual([d.owner, d.item.shape, d.complete, d.name], [acct("user0").address, ["28", "28"], true, "ten.f32"]);

    const odd = path.join(home, "odd.f32");
    fs.writeFileSync(odd, Buffer.alloc(785 * 4));
    assert.match(fails(["tx", "poi", "register-dataset", "user0", "--file", odd, "--shape", "784", ...tx]).stderr, /holds 785 float32 values, not a whole number of items of shape \[784\]/);
    fs.writeFileSync(odd, Buffer.alloc(10));
    assert.match(fails(["tx", "poi", "register-dataset", "user0", "--file", odd, "--shape", "784", ...tx]).stderr, /is 10 bytes, not a whole number of float32 values/);
    assert.match(fails(["tx", "poi", "register-dataset", "user0", "--file", file, "--shape", "28,x", ...tx]).stderr, /invalid --shape "28,x": dimension "x"/);
    assert.match(fails(["tx", "poi", "register-dataset", "user0", "--mnist", "20000", ...tx]).stderr, /invalid --mnist "20000": want a positive integer up to 10000/);
    assert.match(fails(["tx", "poi", "register-dataset", "user0", "--mnist", "5", "--file", file, ...tx], 2).stderr, /either --mnist N or --file F/);
    // The same items in the same chunks again: the chain refuses the duplicate.
    refused(["tx", "poi", "register-dataset", "user0", "--file", file, "--shape", "28,28", "--items-per-chunk", "4", ...tx], 6, /dataset already exists/);
  });

  it("submit-inference over 100 digits escrows the reward; the task is open; bad requests are refused", () => {
    const r = json<TxJson>(["tx", "poi", "submit-inference", "requester", "--model", modelId, "--dataset", datasetId, "--start", "50", "--count", "100",
      "--reward-per-item", "1000upoi", "--k", "5", "--deadline", "1000", "--bond", `${BOND}upoi`, ...tx]);
    assert.equal(r.code, 0, r.raw_log);
    assert.deepEqual(r.response, { "@type": "/poi.v1.MsgSubmitInferenceTaskResponse", taskId: "1", escrow: "100000" });
    const t = task("1");
    assert.deepEqual(
      [t.id, t.requester, t.modelId, t.datasetId, t.start, t.numItems, t.rewardPerItem, t.k, t.bond, t.escrow, t.status, t.worker],
      ["1", acct("requester").address, modelId, datasetId, "50", "100", "1000", 5, BOND, "100000", "open", ""]);
    assert.match(poi(["query", "poi", "task", "1", ...node]).stdout, /^status: open$/m);
    const open = json<{ tasks: TaskJson[] }>(["query", "poi", "tasks", "--status", "open", ...node]);
    assert.deepEqual(open.tasks.map((x) => x.id), ["1"]);
    assert.deepEqual(json<{ tasks: TaskJson[] }>(["query", "poi", "tasks", "--status", "claimed", ...node]).tasks, []);
    assert.deepEqual(json<{ tasks: TaskJson[] }>(["query", "poi", "tasks", "--requester", acct("user0").address, ...node]).tasks, []);

    const base = ["tx", "poi", "submit-inference", "requester", "--model", modelId, "--reward-per-item", "1000", "--k", "5", "--deadline", "1000", "--bond", BOND, ...tx];
    refused([...base, "--dataset", "ab".repeat(32), "--count", "10"], 7, /dataset not found/);
    refused([...base, "--dataset", datasetId, "--start", "150", "--count", "100"], 10, /items \[150, 250\) are outside the dataset's 200 items/);
    assert.match(fails([...base, "--dataset", datasetId, "--count", "10", "--bond", "5uatom"]).stderr, /invalid --bond "5uatom"/);
    assert.match(fails(["query", "poi", "tasks", "--status", "bogus", ...node]).stderr, /invalid --status "bogus": want one of open, claimed, awaiting_sample, verifying, completed, expired/);
    assert.equal(json<{ tasks: TaskJson[] }>(["query", "poi", "tasks", ...node]).tasks.length, 1, "no other task was created");
  });

  it("claim and submit-result by CLI: an unknown task, a claim without funds for the bond, results by the wrong key, then the claimant's result", async () => {
    // Unknown task id
    const q = fails(["query", "poi", "task", "999", ...node]);
    assert.match(q.stderr, /query Task failed with code 9 \(codespace poi\): task 999: task not found/);
    assert.match(fails(["tx", "poi", "claim", "user0", "999", ...tx]).stderr, /task 999: task not found/);
    assert.match(fails(["tx", "poi", "claim", "user0", "abc", ...tx]).stderr, /invalid task id "abc"/);

    // A fresh key has no funds at all: a plain answer naming the bond and the balance.
    const fresh = json<{ address: string }>(["keys", "add", "fresh", ...kr]);
    const noFunds = fails(["tx", "poi", "claim", "fresh", "1", ...tx]);
    assert.match(noFunds.stderr, new RegExp(`claiming task 1 locks a bond of ${BOND}upoi, but fresh \\(${fresh.address}\\) has 0upoi`));
    assert.equal(task("1").status, "open");

    const expected = await expectedOutputs(digits(50, 100));
    const outFile = path.join(home, "task1.f32");
    fs.writeFileSync(outFile, floatBytes(expected));
    // A result for a task nobody claimed
    refused(["tx", "poi", "submit-result", "user1", "1", "--outputs-file", outFile, ...tx], 11, /task 1 is open; a result needs a claim first/);

    const c = json<TxJson>(["tx", "poi", "claim", "user0", "1", ...tx]);
    assert.equal(c.code, 0, c.raw_log);
    assert.equal(c.response!["@type"], "/poi.v1.MsgClaimTaskResponse");
    assert.ok(Number(c.response!.claimExpiresHeight) > Number(c.height));
    let t = task("1");
    assert.deepEqual([t.status, t.worker, t.claimExpiresHeight], ["claimed", acct("user0").address, c.response!.claimExpiresHeight]);
    assert.deepEqual(json<{ tasks: TaskJson[] }>(["query", "poi", "tasks", "--worker", acct("user0").address, ...node]).tasks.map((x) => x.id), ["1"]);

    refused(["tx", "poi", "claim", "user1", "1", ...tx], 11, /only an open task can be claimed/);
    refused(["tx", "poi", "submit-result", "user1", "1", "--outputs-file", outFile, ...tx], 12, new RegExp(`task 1 is claimed by ${acct("user0").address}, not ${acct("user1").address}`));
    const short = path.join(home, "short.f32");
    fs.writeFileSync(short, Buffer.alloc(400));
    assert.match(fails(["tx", "poi", "submit-result", "user0", "1", "--outputs-file", short, ...tx]).stderr, /is 400 bytes; task 1 has 100 items × 10 output values × 4 bytes = 4000 bytes/);
    assert.equal(task("1").status, "claimed", "nothing above changed the task");

    const root = hex(resultRoot(floatBytes(expected), 100, 40));
    const s = json<TxJson & { resultRoot: string }>(["tx", "poi", "submit-result", "user0", "1", "--outputs-file", outFile, ...tx]);
    assert.equal(s.code, 0, s.raw_log);
    assert.deepEqual(s.response, { "@type": "/poi.v1.MsgSubmitResultResponse", resultHeight: s.height });
    assert.equal(s.resultRoot, root);
    t = task("1");
    assert.ok(["awaiting_sample", "verifying", "completed"].includes(t.status), `status ${t.status}`);
    assert.deepEqual([t.attempt, t.worker, t.resultRoot, t.resultHeight], [0, acct("user0").address, root, s.height]);

    const saved = path.join(home, "task1-out.f32");
    const o = json<{ taskId: string; bytes: number; numItems: string; valuesPerItem: number; resultRoot: string }>(["query", "poi", "task-outputs", "1", "--out-file", saved, ...node]);
    assert.deepEqual([o.taskId, o.bytes, o.numItems, o.valuesPerItem, o.resultRoot], ["1", 4000, "100", 10, root]);
    assert.ok(fs.readFileSync(saved).equals(floatBytes(expected)));
    // Too late for anyone else now.
    refused(["tx", "poi", "submit-result", "user0", "1", "--outputs-file", outFile, ...tx], 11, /./);
  });

  it("worker start claims the open tasks, runs every item with onnxruntime, submits the outputs, and stops on SIGINT", async () => {
    const inline = digits(300, 20);
    const inputsFile = path.join(home, "inline.f32");
    fs.writeFileSync(inputsFile, floatBytes(inline));
    const t2 = submitInference(["--inputs-file", inputsFile]);
    const t3 = submitInference(["--dataset", datasetId, "--start", "100", "--count", "100"]);
    assert.deepEqual([t2, t3], ["2", "3"]);
    assert.equal(task(t2).numItems, "20");
    assert.equal(task(t2).datasetId, "");

    const w = startWorker(["--key", "operator0"]);
    const sub2 = await waitForLine(w.out, /task 2: result submitted at height (\d+) \(800 bytes, gas \d+, tx ([0-9A-F]{64})\)/);
    const sub3 = await waitForLine(w.out, /task 3: result submitted at height (\d+) \(4000 bytes, gas \d+, tx ([0-9A-F]{64})\)/);
    assert.match(w.out(), new RegExp(`worker ${acct("operator0").address} on ${url}: balance \\d+upoi`));
    assert.match(w.out(), /task 2: claimed \(20 items, bond 1000000upoi, reward 20000upoi, attempt 0\) at height \d+; claim expires at height \d+/);
    assert.match(w.out(), /task 2: ran 20 items in \d+ ms\n/);
    assert.match(w.out(), /task 3: ran 100 items in \d+ ms\n/);

    // The chain has both results from operator0, and they are exactly what onnxruntime computes.
    const mine = json<{ tasks: TaskJson[] }>(["query", "poi", "tasks", "--worker", acct("operator0").address, ...node]).tasks;
    for (const [id, items, sub] of [[t2, inline, sub2], [t3, digits(100, 100), sub3]] as const) {
      const t = task(id);
      const want = floatBytes(await expectedOutputs(items));
      assert.ok(Buffer.from(await submittedOutputs(sub[2])).equals(want), `task ${id}: the submitted outputs are onnxruntime's`);
      if (t.attempt === 0) {
        assert.equal(t.resultHeight, sub[1]);
        assert.ok(["awaiting_sample", "verifying", "completed"].includes(t.status), `task ${id}: status ${t.status}`);
        assert.equal(t.worker, acct("operator0").address);
        assert.equal(t.resultRoot, hex(resultRoot(want, Number(t.numItems), 40)));
        assert.ok(mine.some((x) => x.id === id) || t.status === "completed");
      }
    }
    const stats = json<{ address: string; tasksPassed: string; tasksFailed: string; earned: string }>(["query", "poi", "worker", acct("operator0").address, ...node]);
    assert.equal(stats.address, acct("operator0").address);
    assert.equal(stats.tasksFailed, "0", "an honest worker is never slashed");

    w.child.kill("SIGINT");
    assert.equal(await w.exited, 0);
    assert.match(w.out(), /stopping \(finishing the current step/);
    assert.match(w.out(), /worker stopped/);
    const claimed = /stats: claimed (\d+), lost claims \d+, submitted (\d+),.* errors (\d+), items run (\d+), fabricated 0,/.exec(w.out());
    assert.ok(claimed, w.out());
    assert.ok(Number(claimed[1]) >= 2 && Number(claimed[2]) >= 2, w.out());
    assert.equal(claimed[3], "0", w.out());
  });

  it("worker start --cheat-fraction fabricates exactly round(f × n) items, the ones its seeded PRNG picks, with a consistent root", async () => {
    const id = submitInference(["--dataset", datasetId, "--start", "0", "--count", "100"]);
    const w = startWorker(["--key", "user2", "--cheat-fraction", "0.25", "--cheat-seed", "7"]);
    const sub = await waitForLine(w.out, new RegExp(`task ${id}: result submitted at height \\d+ \\(4000 bytes, gas \\d+, tx ([0-9A-F]{64})\\)`));
    w.child.kill("SIGINT");
    assert.equal(await w.exited, 0);
    assert.match(w.out(), /CHEATING: fabricating 25% of each task's items \(seed 7\)/);
    assert.match(w.out(), new RegExp(`task ${id}: ran 75 items in \\d+ ms; fabricated 25 items`));

    const got = Buffer.from(await submittedOutputs(sub[1]));
    const want = floatBytes(await expectedOutputs(digits(0, 100)));
    const differing: number[] = [];
    for (let i = 0; i < 100; i++) if (!got.subarray(i * 40, (i + 1) * 40).equals(want.subarray(i * 40, (i + 1) * 40))) differing.push(i);
    const plan = cheatPlan(100, 0.25, 7, id).indices;
    assert.equal(plan.length, 25);
    assert.deepEqual(differing, plan, "exactly the planned items are fabricated; the rest are honest");
    for (const i of plan) {
      const v = new Float32Array(got.buffer.slice(got.byteOffset + i * 40, got.byteOffset + (i + 1) * 40));
      assert.ok(v.every((x) => x >= -5 && x <= 5), `fabricated values are in [-5, 5]: ${v}`);
    }
    // The chain accepted it: the root it checked is the root of the fabricated outputs.
    assert.match(w.out(), /stats: claimed [1-9]/);
    // A different seed picks different items (the plan is not a constant).
    assert.notDeepEqual(cheatPlan(100, 0.25, 8, id).indices, plan);
    assert.equal(cheatPlan(1000, 0.001, 7, "5").indices.length, 1);
    assert.equal(cheatPlan(10, 0.04, 7, "5").indices.length, 0);
  });

  it("query poi validator and seed-record show the validator's verification income and its committed, then revealed, sampling seeds", async () => {
    const consensus = (JSON.parse(fs.readFileSync(path.join(home, "config", "priv_validator_key.json"), "utf8")) as { address: string }).address;
    const stats = json<{ validator: string; operator: string; passesMatched: string }>(["query", "poi", "validator", consensus.toLowerCase(), ...node]);
    assert.equal(stats.validator, consensus.toUpperCase());
    assert.equal(stats.operator, acct("operator0").address, "its income goes to operator0 (genesis valset.operators)");
    assert.ok(Number(stats.passesMatched) >= 1, "it passed the honest results above");
    const rec = json<{ epoch: string; record: { commitment: string; committedHeight: string; seed: string } | null }>(["query", "poi", "seed-record", consensus, "0", ...node]);
    assert.equal(rec.epoch, "0");
    assert.equal(rec.record?.commitment.length, 64, "a 32-byte commitment (hex)");
    assert.equal(rec.record?.seed.length, 64, "epoch 0 is long over: its seed is revealed");
    assert.equal(json<{ record: unknown }>(["query", "poi", "seed-record", consensus, "999999", ...node]).record, null);
    assert.match(fails(["query", "poi", "validator", "xyz", ...node]).stderr, /invalid consensus address "xyz": want 40 hex characters/);
  });

  it("link-worker (operator), accept-link (worker), query poi links and work-score, unlink-worker; refusals print the chain's code", () => {
    const consensus = (JSON.parse(fs.readFileSync(path.join(home, "config", "priv_validator_key.json"), "utf8")) as { address: string }).address;
    const [op, w] = [acct("operator0").address, acct("user1").address];
    refused(["tx", "poi", "link-worker", "user0", w, ...tx], 18, /is not the operator account of any validator in the consensus set/);
    refused(["tx", "poi", "accept-link", "user1", op, ...tx], 19, /has not offered to link worker/);
    assert.equal(json<TxJson>(["tx", "poi", "link-worker", "operator0", w, ...tx]).code, 0);
    assert.deepEqual(json<{ offers: Array<{ worker: string }> }>(["query", "poi", "links", "--operator", op, ...node]).offers.map((o) => o.worker), [w]);
    assert.equal(json<TxJson>(["tx", "poi", "accept-link", "user1", op, ...tx]).code, 0);
    const links = json<{ links: Array<{ worker: string; operator: string }> }>(["query", "poi", "links", "--worker", w, ...node]).links;
    assert.deepEqual(links.map((l) => [l.worker, l.operator]), [[w, op]]);
    const score = json<{ operator: string; score: string }>(["query", "poi", "work-score", consensus, ...node]);
    assert.equal(score.operator, op);
    assert.match(score.score, /^[0-9]+$/);
    assert.equal(json<{ operator: string }>(["query", "poi", "work-score", op, ...node]).operator, op);
    assert.match(fails(["query", "poi", "work-score", "xyz", ...node]).stderr, /invalid validator "xyz"/);
    assert.match(fails(["query", "poi", "links", ...node], 2).stderr, /give exactly one of --operator A/);
    assert.match(fails(["tx", "poi", "link-worker", "operator0", "notanaddress", ...tx]).stderr, /worker address/);
    assert.equal(json<TxJson>(["tx", "poi", "unlink-worker", "user1", w, ...tx]).code, 0);
    assert.deepEqual(json<{ links: unknown[] }>(["query", "poi", "links", "--worker", w, ...node]).links, []);
  });

  it("query poi tasks pages with --limit and --page-key, printing next_key; open-tasks lists by opening height; datasets pages", () => {
    type Page = { tasks: TaskJson[]; pagination: { next_key: string; total: string } };
    const fresh = submitInference(["--dataset", datasetId, "--start", "0", "--count", "10"]); // no worker runs now: it stays open
    const all = json<Page>(["query", "poi", "tasks", "--count-total", ...node]);
    const ids = all.tasks.map((t) => t.id);
    assert.ok(ids.length >= 4, `tasks so far: ${ids}`);
    assert.deepEqual([all.pagination.next_key, all.pagination.total], ["", String(ids.length)]);
    const seen: string[] = [];
    let key = "";
    for (let pages = 0; pages < 10; pages++) {
      const p = json<Page>(["query", "poi", "tasks", "--limit", "2", ...(key ? ["--page-key", key] : []), ...node]);
      assert.ok(p.tasks.length <= 2);
      seen.push(...p.tasks.map((t) => t.id));
      key = p.pagination.next_key;
      if (!key) break;
      assert.match(key, /^[0-9a-f]{16}$/, "next_key: the next task's id, u64 big-endian, in hex");
    }
    assert.deepEqual(seen, ids, "the pages, one after the other, are the whole list in id order");
    assert.deepEqual(json<Page>(["query", "poi", "tasks", "--limit", "2", "--reverse", ...node]).tasks.map((t) => t.id), ids.slice(-2).reverse());
    assert.match(fails(["query", "poi", "tasks", "--page-key", "xyz", ...node]).stderr, /invalid --page-key "xyz"/);
    assert.match(fails(["query", "poi", "tasks", "--limit", "0", ...node]).stderr, /invalid --limit "0"/);
    assert.match(fails(["query", "poi", "tasks", "--page-key", "00", "--offset", "1", ...node]).stderr, /either offset or key is expected, got both/);
    assert.match(fails(["query", "poi", "task", "1", "--limit", "2", ...node], 2).stderr, /--limit does not apply/);

    const open = json<{ tasks: Array<{ openedHeight: string; task: TaskJson }>; height: string; pagination: { next_key: string } }>(["query", "poi", "open-tasks", ...node]);
    assert.ok(Number(open.height) > 0);
    assert.ok(open.tasks.some((x) => x.task.id === fresh && x.openedHeight === task(fresh).createdHeight), "the new task, open since the block it was submitted in");
    assert.ok(open.tasks.every((x) => x.task.status === "open" && Number(x.openedHeight) <= Number(open.height)));
    assert.deepEqual(open.tasks.map((x) => x.task.id).sort(), all.tasks.filter((t) => t.status === "open").map((t) => t.id).sort(), "every open task, once");
    const order = open.tasks.map((x) => [Number(x.openedHeight), Number(x.task.id)]);
    assert.deepEqual(order, [...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]), "in the order they became open");
    assert.deepEqual(json<{ tasks: unknown[] }>(["query", "poi", "open-tasks", "--since-height", String(Number(open.height) + 1), ...node]).tasks, []);
    const ds = json<{ datasets: Array<{ id: string }>; pagination: { next_key: string; total: string } }>(["query", "poi", "datasets", "--count-total", ...node]);
    assert.ok(ds.datasets.some((d) => d.id === datasetId));
    assert.equal(ds.pagination.total, String(ds.datasets.length));
  });

  it("worker start refuses bad options with a message", () => {
    assert.match(fails(["worker", "start", "--key", "operator0", "--cheat-fraction", "1.5", ...tx]).stderr, /invalid --cheat-fraction "1.5": want a number from 0 to 1/);
    assert.match(fails(["worker", "start", "--key", "nobody", ...tx]).stderr, /key "nobody" not found/);
    assert.match(fails(["worker", "start", ...tx], 2).stderr, /worker start needs --key NAME/);
    assert.match(fails(["worker", "start", "--key", "operator0", "--node", "http://127.0.0.1:27003", ...kr]).stderr, /cannot reach node http:\/\/127\.0\.0\.1:27003/);
  });
});
