/**
 * The main job (`npm start`): on a running localnet, a demo requester registers the MNIST model
 * (trained here by our own code) and MNIST digits, then keeps submitting inference tasks; one worker
 * per validator claims and runs them (operator3 fabricates 10% of its items, to show slashing); the
 * validators verify by sampled re-execution. node0's worker is user0, linked to node0, and the only
 * linked one: its verified work raises node0's voting power, epoch by epoch, up to the cap. Prints
 * live progress, power and work scores. At start the requester also submits an MNIST training task
 * (demo-training.ts); once it passes, the inference tasks use the model it produced.
 */
import * as path from "node:path";
import * as fs from "node:fs";
import { PoiTxClient } from "../client/tx";
import { validateModel } from "../x/poi/onnx/validate";
import { buildMlp } from "../x/poi/onnx/builder";
import { loadMnist, trainMnistMlp } from "../ml/train";
import { mulberry32 } from "../util/random";
import { isTraining, TaskStatus } from "../x/poi/types";
import { followTrainingDemo, submitTrainingDemo } from "./demo-training";
import { PoiWorker } from "../worker/worker";
import type { TestAccount } from "./home";
import { readLayout } from "./localnet";

export interface DemoOptions {
  home: string;
  /** Digits registered as the demo dataset. */
  digits?: number;
  /** Seconds between task submissions. */
  everySeconds?: number;
  /** Items per task, drawn uniformly from [min, max] (default [100, 499]). */
  taskItems?: { min: number; max: number };
  /** The operator whose worker fabricates 10% of its items (default operator3; null: none). */
  cheater?: string | null;
  /** Seed of the task sizes and positions (default 42). */
  seed?: number;
  log: (line: string) => void;
}

const REWARD = 1000n;
const BOND = 2_000_000n;
const CHEATER = "operator3";
/** The worker account linked to node0: an operator cannot be its own validator's worker. */
export const LINKED_WORKER = "user0";

/** operator offers to link worker, worker accepts; nothing to do when the link exists (a restarted demo). */
async function linkWorker(rpc: string, operator: TestAccount, worker: TestAccount, log: (l: string) => void): Promise<void> {
  const op = await PoiTxClient.connect(rpc, operator.mnemonic);
  const w = await PoiTxClient.connect(rpc, worker.mnemonic);
  try {
    if ((await op.query.links({ worker: worker.address })).links.length > 0) return;
    await op.linkWorker(worker.address);
    await w.acceptWorkerLink(operator.address);
    log(`demo: ${worker.name} is node0's worker: operator0 offered the link and ${worker.name} accepted; its verified work counts for node0's power`);
  } finally {
    op.disconnect();
    w.disconnect();
  }
}
const K = 32;

export async function runDemo(opts: DemoOptions): Promise<() => Promise<void>> {
  const layout = readLayout(opts.home);
  if (!layout) throw new Error(`no localnet in ${opts.home}`);
  const accounts = JSON.parse(fs.readFileSync(path.join(opts.home, "accounts.json"), "utf8")) as TestAccount[];
  const acct = (name: string) => {
    const a = accounts.find((x) => x.name === name);
    if (!a) throw new Error(`accounts.json has no ${name}`);
    return a;
  };
  const rpc = `http://127.0.0.1:${layout.nodes[0].ports.rpc}`;
  const log = opts.log;
  // Train before connecting: a busy event loop would outlive CometBFT's RPC idle timeout (10 s).
  log("demo: training the MNIST MLP locally (784 -> 64 -> 10, our own code, seeded)...");
  const trained = trainMnistMlp();
  const requester = await PoiTxClient.connect(rpc, acct("requester").mnemonic);
  const q = requester.query;

  // Model and dataset: reuse what an earlier run of this localnet registered.
  const onnx = buildMlp({ inputSize: 784, hidden: trained.hidden, outputs: 10, weights: trained.weights });
  const info = validateModel(onnx);
  const spec = (x: { name: string; shape: number[]; dtype: string }) => ({ name: x.name, shape: x.shape.map(String), dtype: x.dtype });
  let modelId = (await q.models()).find((m) => m.name === "mnist-mlp" && m.owner === requester.address)?.id;
  if (!modelId) modelId = (await requester.registerModel(onnx, "mnist-mlp", info.inputs.map(spec), info.outputs.map(spec))).modelId;
  log(`demo: model ${modelId.slice(0, 16)}… (held-out accuracy ${(trained.testAccuracy * 100).toFixed(1)}%, ${info.workUnitsPerItem} work units per item)`);
  const digits = opts.digits ?? 2000;
  const images = loadMnist().images.slice(0, digits);
  const items = new Float32Array(digits * 784);
  images.forEach((img, i) => items.set(img, i * 784));
  const t0 = Date.now();
  // The chunks go pipelined; a dataset an earlier run registered is reused.
  const { datasetId } = await requester.uploadDataset(`mnist-${digits}`, { name: "digit", shape: ["784"], dtype: "float32" }, items, 300, {
    reuseComplete: true, onChunk: (done, total) => log(`demo: dataset chunk ${done}/${total} uploaded`),
  });
  log(`demo: dataset ${datasetId.slice(0, 16)}… with ${digits} MNIST digits on chain in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  await linkWorker(rpc, acct("operator0"), acct(LINKED_WORKER), log);
  // One worker per validator: user0 (linked to node0), operator1, operator2, operator3; operator3
  // cheats on 10% of items to show slashing. Tasks are dealt round-robin by id (each worker only
  // claims its share), so every worker gets work; on the chain any worker may claim any open task.
  const workers = layout.nodes.map((_, i) => {
    const name = i === 0 ? LINKED_WORKER : `operator${i}`;
    const cheat = name === (opts.cheater === undefined ? CHEATER : opts.cheater);
    const w = new PoiWorker({
      rpc: `http://127.0.0.1:${layout.nodes[i].ports.rpc}`, mnemonic: acct(name).mnemonic, cheatFraction: cheat ? 0.1 : 0, pollMs: 400,
      taskFilter: (t) => (isTraining(t) ? !cheat : BigInt(t.id) % BigInt(layout.nodes.length) === BigInt(i) || t.attempt > 0),
      log: (l) => { if (/verified|slashed|lapsed|timeout|step|committed|revealed/.test(l)) log(`${name}${cheat ? " (cheats 10%)" : ""}: ${l}`); },
    });
    void w.start().catch((err) => log(`${name}: stopped: ${(err as Error).message}`));
    return { name, w, address: acct(name).address };
  });

  let stopped = false;
  // One requester account: its training setup goes before the inference loop's txs (one sequence).
  const trainingId = digits >= 2000 ? await submitTrainingDemo(requester, datasetId, log).catch((err) => log(`requester: training task not submitted: ${(err as Error).message}`)) : undefined;
  if (trainingId) {
    void followTrainingDemo(q, trainingId, log, () => stopped).then((trainedId) => {
      if (!trainedId) return;
      modelId = trainedId;
      log(`requester: inference tasks now use the trained model ${trainedId.slice(0, 16)}…`);
    }).catch((err) => log(`requester: following training task ${trainingId}: ${(err as Error).message}`));
  }
  const rand = mulberry32(opts.seed ?? 42);
  const sizes = opts.taskItems ?? { min: 100, max: 499 };
  const submit = async () => {
    while (!stopped) {
      const count = sizes.min + Math.floor(rand() * (sizes.max - sizes.min + 1));
      const start = Math.floor(rand() * (digits - count));
      try {
        const { taskId } = await requester.submitInferenceTask({ modelId: modelId!, dataset: { id: datasetId, start, count }, rewardPerItem: REWARD, k: Math.min(K, count), deadlineBlocks: 150, bond: BOND });
        log(`requester: task ${taskId} submitted: digits [${start}, ${start + count}), escrow ${REWARD * BigInt(count)}upoi, k ${Math.min(K, count)}, bond ${BOND}upoi`);
      } catch (err) {
        log(`requester: submit failed: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, (opts.everySeconds ?? 1) * 1000));
    }
  };
  /** Mint and distribution, when the chain runs them (a demo localnet's genesis turns them on). */
  const economics = async () => {
    try {
      const owed = await Promise.all(workers.map(async (x) => {
        const r = await q.delegationRewards(x.address);
        return `${x.name} ${r.total?.[0]?.amount.split(".")[0] ?? "0"}`;
      }));
      return `economics: inflation ${Number(await q.inflation()).toFixed(4)} | community pool ${(await q.communityPool()).pool[0]?.amount.split(".")[0] ?? "0"}upoi`
        + ` | validators' unwithdrawn rewards (upoi): ${owed.join(" ")}`;
    } catch (err) {
      return `economics: off (${(err as Error).message.slice(0, 80)})`;
    }
  };
  /** Each validator's power in CometBFT and its work score; a change of power is called out. */
  const lastPower = new Map<string, string>();
  const consAddress = new Map(layout.nodes.map((n) => [n.moniker, JSON.parse(fs.readFileSync(path.join(n.home, "config", "priv_validator_key.json"), "utf8")).address as string]));
  const power = async () => {
    const res = (await (await fetch(`${rpc}/validators?per_page=100`)).json() as { result: { block_height: string; validators: Array<{ address: string; voting_power: string }> } }).result;
    const parts = await Promise.all(layout.nodes.map(async (n) => {
      const v = res.validators.find((x) => x.address === consAddress.get(n.moniker));
      const p = v?.voting_power ?? "0";
      const score = (await q.workScore(consAddress.get(n.moniker)!).catch(() => undefined))?.score ?? "0";
      const before = lastPower.get(n.moniker);
      if (before !== undefined && before !== p) log(`power change: ${n.moniker} ${before} -> ${p} at height ${res.block_height} (work score ${score})`);
      lastPower.set(n.moniker, p);
      return `${n.moniker} ${p} (work ${score})`;
    }));
    return `power: ${parts.join(" | ")}`;
  };
  const progress = async () => {
    while (!stopped) {
      try {
        const tasks = await q.tasks({ requester: requester.address });
        const by = (st: TaskStatus) => tasks.filter((t) => t.status === st).length;
        const failed = tasks.reduce((n, t) => n + t.failedAttempts, 0);
        const stats = await Promise.all(workers.map(async (x) => ({ name: x.name, s: await q.worker(x.address) })));
        const paid = stats.reduce((n, x) => n + BigInt(x.s.earned), 0n);
        const slashed = stats.reduce((n, x) => n + BigInt(x.s.slashed), 0n);
        log(`progress: submitted ${tasks.length} | open ${by(TaskStatus.OPEN)} claimed ${by(TaskStatus.CLAIMED)} verifying ${by(TaskStatus.AWAITING_SAMPLE) + by(TaskStatus.VERIFYING)} `
          + `| verified ${by(TaskStatus.COMPLETED)} | failed verification ${failed} | slashed ${slashed}upoi | rewards paid ${paid}upoi | `
          + stats.map((x) => `${x.name} ${x.s.tasksPassed}✓ ${x.s.tasksFailed}✗`).join(" "));
        log(await economics());
        log(await power());
      } catch (err) {
        log(`progress: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 5000));
    }
  };
  void submit();
  void progress();
  return async () => {
    stopped = true;
    await Promise.all(workers.map((x) => x.w.stop().catch(() => undefined)));
    requester.disconnect();
  };
}
