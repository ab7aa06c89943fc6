/**
 * Proof of inference end to end on a 4-validator localnet of real CometBFT processes, real
 * onnxruntime and unmodified CosmJS. Two validators run with the documented test faults
 * (verifier_fault): node1 adds 1e-6 relative noise to its onnxruntime outputs (another CPU), node3
 * votes every verdict the wrong way. Outcomes must not change and app hashes must agree.
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ort from "onnxruntime-node";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { QueryClient, setupBankExtension, StargateClient } from "@cosmjs/stargate";
import { connectComet } from "@cosmjs/tendermint-rpc";
import { Tx } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { PoiQueryClient } from "../src/client/query";
import { PoiTxClient } from "../src/client/tx";
import { initNetwork } from "../src/cli/home";
import { formatAddress } from "../src/app/address";
import { POI_MODULE_ACCOUNT } from "../src/x/poi/keeper";
import { validateModel } from "../src/x/poi/onnx/validate";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { argmax, loadMnist, trainMnistMlp } from "../src/ml/train";
import { TaskStatus, type Task } from "../src/x/poi/types";
import { PoiWorker } from "../src/worker/worker";
import { headerAppHash, height, poi, removeHome, rpc, rpcUrls, sleep, tmpHome } from "./helpers/chain";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";

const BASE_PORT = 28000;
const DIGITS = 1000;
const REWARD = 1000n; // upoi per item
const BOND = 2_000_000n;

interface Account { name: string; mnemonic: string; address: string }

describe("e2e: proof of inference on a 4-validator localnet (honest, cheating, faulty validators)", function () {
  const home = tmpHome("poi-e2e");
  let urls: string[] = [];
  let accounts: Account[] = [];
  let q: PoiQueryClient;
  let reader: StargateClient;
  let requester: PoiTxClient;
  let modelId = "";
  let datasetId = "";
  let onnx: Uint8Array;
  let trained: ReturnType<typeof trainMnistMlp>;
  const workers: PoiWorker[] = [];
  const workerLog: string[] = [];
  const validatorHex: string[] = [];

  const acct = (name: string) => accounts.find((a) => a.name === name)!;
  const balance = async (address: string) => BigInt((await reader.getBalance(address, "upoi")).amount);

  async function until(id: string, done: (t: Task) => boolean, what: string, timeoutMs = 120_000): Promise<Task> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = await q.task(id);
      if (done(t)) return t;
      if (Date.now() > deadline) throw new Error(`task ${id}: ${what} did not happen within ${timeoutMs} ms; status ${t.status}, votes ${JSON.stringify(t.votes)}`);
      await sleep(250);
    }
  }

  /** Waits until every validator has revealed its sampling seed of `epoch`. */
  async function untilRevealed(epoch: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const recs = await Promise.all(validatorHex.map((v) => q.seedRecord(v, epoch)));
      if (recs.every((r) => r && r.seed.length > 0)) return;
      if (Date.now() > deadline) throw new Error(`seeds of epoch ${epoch} not all revealed within ${timeoutMs} ms`);
      await sleep(300);
    }
  }

  async function totalSupply(): Promise<bigint> {
    const comet = await connectComet(urls[0]);
    try {
      return BigInt((await QueryClient.withExtensions(comet, setupBankExtension).bank.supplyOf("upoi")).amount);
    } finally {
      comet.disconnect();
    }
  }

  /** Every block event about task `id` (finalize_block_events), from its creation to the latest block. */
  async function taskEvents(id: string): Promise<Array<{ type: string; height: number; attrs: Record<string, string> }>> {
    const from = Number((await q.task(id)).createdHeight);
    const to = await height(urls[0]);
    const out: Array<{ type: string; height: number; attrs: Record<string, string> }> = [];
    for (let h = from; h <= to; h++) {
      const r = await rpc<{ finalize_block_events?: Array<{ type: string; attributes: Array<{ key: string; value: string }> }>; txs_results?: Array<{ events: Array<{ type: string; attributes: Array<{ key: string; value: string }> }> }> }>(urls[0], `block_results?height=${h}`);
      const events = [...(r.txs_results ?? []).flatMap((t) => t.events ?? []), ...(r.finalize_block_events ?? [])];
      for (const e of events) {
        const attrs = Object.fromEntries(e.attributes.map((a) => [a.key, a.value]));
        if (attrs.task_id === id) out.push({ type: e.type, height: h, attrs });
      }
    }
    return out;
  }

  /** upoi paid in fees by `address`, from the auth_info of every tx it signed. */
  async function feesPaid(address: string): Promise<bigint> {
    const txs = await reader.searchTx(`message.sender='${address}'`);
    return txs.reduce((sum, t) => sum + BigInt(Tx.decode(t.tx).authInfo!.fee!.amount.find((c) => c.denom === "upoi")?.amount ?? "0"), 0n);
  }

  function startWorker(name: string, opts: { cheatFraction?: number; filter: (t: Task) => boolean }): PoiWorker {
    const w = new PoiWorker({ rpc: urls[0], mnemonic: acct(name).mnemonic, cheatFraction: opts.cheatFraction, pollMs: 300, taskFilter: opts.filter, log: (l) => workerLog.push(`${name}: ${l}`) });
    workers.push(w);
    void w.start().catch((err) => workerLog.push(`${name}: stopped with ${(err as Error).message}`));
    return w;
  }

  before(async () => {
    // CPU-bound training first: an event loop blocked for longer than CometBFT's RPC idle timeout
    // (10 s) would find its kept-alive connections closed by the server ("other side closed").
    trained = trainMnistMlp({ trainCount: 8000 });
    const { nodes, accounts: accs } = await initNetwork({ home, validators: 4, basePort: BASE_PORT });
    accounts = accs;
    for (const n of nodes) validatorHex.push(n.validator.address.toUpperCase());
    // The documented test knobs (src/x/poi/README.md): another CPU, and a validator that votes wrong.
    const setFault = (i: number, fault: object) => {
      const file = path.join(nodes[i].home, "config", "app.json");
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, "utf8")), verifier_fault: fault }, null, 2));
    };
    setFault(1, { noise_rel: 1e-6 });
    setFault(3, { invert_verdicts: true });
    poi(["localnet", "start", "--home", home, "--detach", "--unsafe-test-knobs"]);
    urls = rpcUrls(home);
    q = await PoiQueryClient.connect(urls[0]);
    reader = await StargateClient.connect(urls[0]);
    // A CosmJS wallet as the signer: CosmJS's own SigningStargateClient signs every tx.
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(acct("requester").mnemonic, { prefix: "poi" });
    requester = await PoiTxClient.connectWithSigner(urls[0], wallet);
  });

  after(async () => {
    for (const w of workers) await w.stop().catch(() => undefined);
    q?.disconnect();
    reader?.disconnect();
    requester?.disconnect();
    poi(["localnet", "stop", "--home", home], { allowFail: true });
    if (process.env.KEEP_HOMES !== "1") removeHome(home);
    if (workerLog.length) console.log(workerLog.filter((l) => /ran|verified|slashed|failed/.test(l)).map((l) => `      ${l}`).join("\n"));
  });

  it("a CosmJS requester registers the MNIST model (trained here) and 1,000 MNIST digits as a dataset", async () => {
    onnx = buildMlp({ inputSize: 784, hidden: trained.hidden, outputs: 10, weights: trained.weights });
    const info = validateModel(onnx);
    const spec = (s: { name: string; shape: number[]; dtype: string }) => ({ name: s.name, shape: s.shape.map(String), dtype: s.dtype });
    const reg = await requester.registerModel(onnx, "mnist-mlp", info.inputs.map(spec), info.outputs.map(spec));
    modelId = reg.modelId;
    assert.equal((await q.model(modelId)).workUnitsPerItem, info.workUnitsPerItem.toString());
    const images = loadMnist().images.slice(8000, 8000 + DIGITS); // held-out digits
    const items = new Float32Array(DIGITS * 784);
    images.forEach((img, i) => items.set(img, i * 784));
    datasetId = (await requester.uploadDataset("mnist-heldout-1000", { name: "digit", shape: ["784"], dtype: "float32" }, items, 300)).datasetId;
    const ds = await q.dataset(datasetId);
    assert.equal(ds.complete, true);
    assert.equal(ds.numItems, String(DIGITS));
  });

  it("honest task over 1,000 digits: verified by each validator's own sample, worker paid exactly the reward, the verification fee paid exactly to the matching voters", async () => {
    const worker = acct("operator0").address;
    const w0 = await balance(worker), fees0 = await feesPaid(worker);
    const moduleAddr = formatAddress(POI_MODULE_ACCOUNT);
    const mod0 = await balance(moduleAddr);
    const paid0 = await Promise.all(validatorHex.map(async (v) => BigInt((await q.validator(v)).paid)));
    const { taskId } = await requester.submitInferenceTask({ modelId, dataset: { id: datasetId, start: 0, count: DIGITS }, rewardPerItem: REWARD, k: 32, deadlineBlocks: 200, bond: BOND });
    const fee = BigInt((await q.task(taskId)).verifyFee);
    const units = BigInt((await q.model(modelId)).workUnitsPerItem);
    assert.equal(fee, (32n * units * 1000n + 999_999n) / 1_000_000n, "verify_fee = ceil(k × work units × 1000 upoi per 10^6 units)");
    const protocolFee = BigInt((await q.task(taskId)).protocolFee);
    assert.equal(protocolFee, (BigInt(DIGITS) * units * BigInt((await q.params()).protocolFeePerMegaUnit) + 999_999n) / 1_000_000n, "protocol_fee = ceil(items × work units × price per 10^6 units)");
    assert.equal(await balance(moduleAddr), mod0 + REWARD * BigInt(DIGITS) + fee + protocolFee + 1_000_000n, "escrow, verification fee, protocol fee and task deposit held by the module account");
    startWorker("operator0", { filter: (t) => t.id === taskId });
    const t = await until(taskId, (x) => x.status === TaskStatus.COMPLETED || x.status === TaskStatus.EXPIRED, "verification");
    assert.equal(t.status, TaskStatus.COMPLETED);
    assert.equal(t.worker, worker);
    const fees = (await feesPaid(worker)) - fees0;
    // operator0 is also node0's operator: node0's share of the fee reaches it once node0 reveals its seed,
    // which may already have happened. Read that income and the balance at one height (income unchanged
    // around the balance read).
    const incomeOf0 = async () => BigInt((await q.validator(validatorHex[0])).paid) - paid0[0];
    let income: bigint, workerBalance: bigint;
    do {
      income = await incomeOf0();
      workerBalance = await balance(worker);
    } while ((await incomeOf0()) !== income);
    assert.equal(workerBalance, w0 + REWARD * BigInt(DIGITS) - fees + income, "worker +reward exactly (less its own tx fees, plus node0's verification income)");
    const votes = new Map(t.votes.map((v) => [v.validator, v.pass]));
    assert.equal(votes.get(validatorHex[0]), true);
    assert.equal(votes.get(validatorHex[1]), true, "the noisy validator (1e-6) agrees");
    assert.equal(votes.get(validatorHex[2]), true);
    if (votes.has(validatorHex[3])) assert.equal(votes.get(validatorHex[3]), false, "node3 votes the wrong way, without effect");
    const stats = await q.worker(worker);
    assert.equal(stats.tasksPassed, "1");
    assert.equal(BigInt(stats.verifiedWorkUnits), units * BigInt(DIGITS));
    // The fee: pass voters' shares pro rata to power (equal here), held until each reveals its seed of
    // the result's epoch; the floor's remainder is burned. node3's false report earns it nothing.
    const passers = validatorHex.filter((v) => votes.get(v) === true);
    const share = fee / BigInt(passers.length);
    await untilRevealed(t.resultEpoch);
    const paid = await Promise.all(validatorHex.map(async (v) => BigInt((await q.validator(v)).paid)));
    validatorHex.forEach((v, i) => assert.equal(paid[i] - paid0[i], passers.includes(v) ? share : 0n, `validator ${i} fee share`));
    assert.equal(await balance(moduleAddr), mod0, "escrow, bond, deposit and the whole fee have left the module account");
    // The outputs are queryable and their argmax is what onnxruntime gives here.
    const out = await q.taskOutputs(taskId);
    const logits = new Float32Array(new Uint8Array(out).buffer);
    const session = await ort.InferenceSession.create(onnx, SESSION_OPTIONS);
    const images = loadMnist().images.slice(8000, 8000 + DIGITS);
    let agree = 0;
    for (let i = 0; i < DIGITS; i++) {
      const r = await session.run({ input: new ort.Tensor("float32", images[i], [1, 784]) });
      if (argmax(r.logits.data as Float32Array) === argmax(logits.subarray(i * 10, i * 10 + 10))) agree++;
    }
    assert.equal(agree, DIGITS, "argmax of every queried output matches a local onnxruntime run");
    console.log(`      verification fee ${fee}upoi (k = 32 × ${units} units), ${share}upoi to each of ${passers.length} pass voters`);
    console.log(`      blocks from submission to payout: ${BigInt(t.completedHeight) - BigInt(t.createdHeight)} (created ${t.createdHeight}, result ${t.resultHeight}, paid ${t.completedHeight})`);
  });

  it("escalation: a worker fabricating 10% is caught by a validator's own sample, every validator re-runs the reported items, the worker is slashed; the fail voters get exactly the bounty, the rest is burned, the requester nothing", async () => {
    const cheater = acct("operator1").address;
    const { taskId } = await requester.submitInferenceTask({ modelId, dataset: { id: datasetId, start: 0, count: DIGITS }, rewardPerItem: REWARD, k: 32, deadlineBlocks: 300, bond: BOND });
    const req0 = await balance(acct("requester").address);
    const supply0 = await totalSupply();
    const pending0 = await Promise.all(validatorHex.map(async (v) => BigInt((await q.validator(v)).pending) + BigInt((await q.validator(v)).paid)));
    const cheat = startWorker("operator1", { cheatFraction: 0.1, filter: (t) => t.id === taskId && t.attempt === 0 });
    const failed = await until(taskId, (x) => x.failedAttempts >= 1, "the cheat's failure");
    await cheat.stop();
    assert.equal(failed.attempt, 1, "the task reopened for a new attempt");
    const stats = await q.worker(cheater);
    assert.equal(stats.tasksFailed, "1");
    assert.equal(stats.slashed, BOND.toString());
    assert.equal(stats.verifiedWorkUnits, "0");
    assert.equal(await balance(acct("requester").address), req0, "the requester receives nothing from the slash");
    // The failing attempt, from the chain's events: which items were reported, who voted them failing.
    const ev = await taskEvents(taskId);
    const failedEv = ev.find((e) => e.type === "poi_task_failed")!;
    assert.ok(failedEv, "a poi_task_failed event");
    const confirmed = failedEv.attrs.items.split(",");
    const failVoters = new Set(ev.filter((e) => e.type === "poi_item_verdict" && e.attrs.attempt === "0" && confirmed.includes(e.attrs.item) && e.attrs.pass === "false").map((e) => e.attrs.validator));
    const allVoters = new Set(ev.filter((e) => e.type === "poi_item_verdict" && e.attrs.attempt === "0").map((e) => e.attrs.validator));
    assert.ok(allVoters.size >= 3, `the reported items were re-run and voted on by ${allVoters.size} validators`);
    assert.ok(failVoters.size >= 3 && !failVoters.has(validatorHex[3]), "the honest validators confirmed; node3 (inverted) did not");
    const bounty = BOND / 2n; // catch_bounty_bps = 5000
    const share = bounty / BigInt(failVoters.size);
    const shares = Object.fromEntries(failedEv.attrs.bounty_shares.split(",").map((x) => x.split(":")));
    assert.deepEqual(Object.keys(shares).sort(), [...failVoters].sort(), "the bounty goes to the fail voters only");
    for (const v of failVoters) assert.equal(BigInt(shares[v]), share, `bounty share of ${v}`);
    const burned = BOND - share * BigInt(failVoters.size);
    assert.equal(failedEv.attrs.burned, `${burned}upoi`);
    assert.equal(await totalSupply(), supply0 - burned, "the rest of the bond is burned");
    const after = await Promise.all(validatorHex.map(async (v) => BigInt((await q.validator(v)).pending) + BigInt((await q.validator(v)).paid)));
    validatorHex.forEach((v, i) => assert.equal(after[i] - pending0[i], failVoters.has(v) ? share : 0n, `validator ${i} income from the bounty`));
    startWorker("operator2", { filter: (t) => t.id === taskId });
    const done = await until(taskId, (x) => x.status === TaskStatus.COMPLETED, "completion by the honest worker");
    assert.equal(done.worker, acct("operator2").address);
    assert.equal(done.failedAttempts, 1);
  });

  it("all four nodes agree on every app hash (noise and a wrong voter split nothing)", async () => {
    const top = Math.min(...(await Promise.all(urls.map(height))));
    assert.ok(top > 10);
    for (let h = 1; h <= top; h++) {
      const hashes = await Promise.all(urls.map((u) => headerAppHash(u, h)));
      assert.equal(new Set(hashes).size, 1, `height ${h}: ${hashes.join(" ")}`);
    }
    // The fault knobs were in effect: node3's log shows inverted voting.
    const log3 = fs.readFileSync(path.join(home, "node3", "app.log"), "utf8");
    assert.match(log3, /voting inverted: test fault/);
    // Re-execution figures from the validators' logs.
    const lines = fs.readFileSync(path.join(home, "node0", "app.log"), "utf8").split("\n").filter((l) => /verifier: task/.test(l));
    for (const l of lines) console.log(`      node0 ${l.replace(/^\S+ /, "")}`);
  });
});
