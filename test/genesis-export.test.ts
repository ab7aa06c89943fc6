/**
 * Genesis export and import in process: a real PoiApp (4 simulated validators, real onnxruntime
 * verification) gets state of every kind; its export at a height, imported into a fresh store by
 * InitChain, must reproduce every key and value of every module at that height.
 */
import { strict as assert } from "assert";
import * as ort from "onnxruntime-node";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { MsgWithdrawDelegatorReward } from "cosmjs-types/cosmos/distribution/v1beta1/tx";
import { formatValoperAddress, parseAddress } from "../src/app/address";
import { Harness, CHAIN_ID } from "./helpers/poi-harness";
import { removeHome, tmpHome } from "./helpers/chain";
import { PoiApp } from "../src/app/app";
import { Context, moduleStorePrefix } from "../src/app/context";
import { exportAppState } from "../src/app/export";
import { Branch, type KVStore } from "../src/store/store";
import { prefixEnd } from "../src/store/prefix";
import { chunkDataset } from "../src/client/poi-msgs";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { loadMnist, randomMlpWeights } from "../src/ml/train";
import { resultRoot } from "../src/x/poi/commitment";
import { exportPoiGenesis, initPoiGenesis, POI_GENESIS_TABLE } from "../src/x/poi/genesis";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";
import {
  MsgRegisterModelCodec, MsgRegisterModelResponseCodec, MsgCreateDatasetCodec, MsgUploadDatasetChunkCodec, MsgSubmitInferenceTaskCodec,
  MsgSubmitInferenceTaskResponseCodec, MsgClaimTaskCodec, MsgSubmitResultCodec, TaskStatus, type PoiCodec,
} from "../src/x/poi/types";

const N = 12; // items per task
const MODULES = ["blockinfo", "valset", "auth", "bank", "staking", "slashing", "mint", "distribution", "poi"];
const WithdrawReward = MsgWithdrawDelegatorReward as unknown as PoiCodec<MsgWithdrawDelegatorReward>;
const bytesOf = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
const bankSend = { typeUrl: MsgSend.typeUrl, encode: (m: MsgSend) => MsgSend.encode(m), decode: (b: Uint8Array) => MsgSend.decode(b), fromPartial: MsgSend.fromPartial } as unknown as PoiCodec<MsgSend>;

/** Every key and value under "<module>/", hex-encoded. */
async function moduleState(kv: KVStore, module: string): Promise<Map<string, string>> {
  const p = moduleStorePrefix(module);
  const rows = await kv.iterate(p, prefixEnd(p));
  return new Map(rows.map(([k, v]) => [Buffer.from(k).toString("hex"), Buffer.from(v).toString("hex")]));
}

async function allState(kv: KVStore): Promise<Record<string, Map<string, string>>> {
  const out: Record<string, Map<string, string>> = {};
  for (const m of MODULES) out[m] = await moduleState(kv, m);
  return out;
}

function assertSameState(got: Record<string, Map<string, string>>, want: Record<string, Map<string, string>>): void {
  for (const m of MODULES) {
    const missing = [...want[m].keys()].filter((k) => !got[m].has(k));
    const extra = [...got[m].keys()].filter((k) => !want[m].has(k));
    const differ = [...want[m].keys()].filter((k) => got[m].has(k) && got[m].get(k) !== want[m].get(k));
    assert.deepEqual({ missing, extra, differ }, { missing: [], extra: [], differ: [] }, `module ${m}: imported state differs from the exported height`);
    assert.ok(want[m].size > 0, `module ${m} has state`);
  }
}

describe("genesis export/import (in process): every module's state at a height, key by key", function () {
  let h: Harness;
  let snapshotHeight = 0n;
  let snapshot: Record<string, Map<string, string>>;
  const apps: PoiApp[] = [];
  const dirs: string[] = [];

  async function send<T>(from: string, codec: PoiCodec<T>, msg: Partial<T>) {
    const r = await h.send(from, codec, msg);
    assert.equal(r.code, 0, r.log);
    return r;
  }

  /** A fresh app initialised from `appState` at the height after `height`, as CometBFT would. */
  async function importInto(appState: unknown, height: bigint): Promise<PoiApp> {
    const dir = tmpHome("genesis-import");
    dirs.push(dir);
    const app = await PoiApp.open(dir);
    apps.push(app);
    await app.initChain({
      time: { seconds: 1_700_000_000n + height, nanos: 0 }, chainId: CHAIN_ID, initialHeight: height + 1n,
      validators: [], // x/staking's exported set is the one CometBFT starts from
      consensusParams: { abci: { voteExtensionsEnableHeight: 1n } },
      appStateBytes: Buffer.from(JSON.stringify(appState)), // through JSON text, as a genesis file
    });
    return app;
  }

  before(async () => {
    h = await Harness.create({
      validators: 4, accounts: ["requester", "worker", "cheater", "claimer", "user"], params: { claimBlocks: "50" }, staking: { selfBond: 5_000_000n },
      genesis: { mint: { params: { initial_block_reward: "1000" } }, distribution: { params: { epoch_blocks: "10", settle_delay_epochs: "10" } } }, // verdict pools still unpaid at the snapshot
    });
    const onnx = buildMlp({ inputSize: 784, hidden: 16, outputs: 10, weights: randomMlpWeights(784, 16, 10, 3) });
    const IN = [{ name: "input", shape: ["1", "784"], dtype: "float32" }];
    const OUT = [{ name: "logits", shape: ["1", "10"], dtype: "float32" }];
    const reg = await send("requester", MsgRegisterModelCodec, { owner: h.account("requester").address, name: "mlp", onnx, inputs: IN, outputs: OUT });
    const modelId = MsgRegisterModelResponseCodec.decode(TxMsgData.decode(reg.data!).msgResponses[0].value).modelId;

    const images = loadMnist().images.slice(0, 30);
    const items = new Float32Array(30 * 784);
    images.forEach((img, i) => items.set(img, i * 784));
    const item = { name: "digit", shape: ["784"], dtype: "float32" };
    const ds = chunkDataset(item, items, 10);
    const owner = h.account("requester").address;
    await send("requester", MsgCreateDatasetCodec, { owner, name: "digits", item, numItems: "30", itemsPerChunk: "10", chunkHashes: ds.hashes });
    for (const [i, c] of ds.chunks.entries()) await send("requester", MsgUploadDatasetChunkCodec, { owner, datasetId: ds.datasetId, index: i, data: c });

    const session = await ort.InferenceSession.create(onnx, SESSION_OPTIONS);
    const outputsOf = async (first: number) => {
      const out = new Float32Array(N * 10);
      for (let i = 0; i < N; i++) out.set((await session.run({ input: new ort.Tensor("float32", images[first + i], [1, 784]) })).logits.data as Float32Array, i * 10);
      return out;
    };
    const submit = async (spec: { dataset?: number; inline?: boolean; k?: number }) => {
      const inline = new Float32Array(N * 784);
      for (let i = 0; i < N; i++) inline.set(images[i], i * 784);
      const r = await send("requester", MsgSubmitInferenceTaskCodec, {
        requester: owner, modelId, rewardPerItem: "1000", k: spec.k ?? 4, deadlineBlocks: "500", bond: "100000",
        ...(spec.inline ? { inputs: bytesOf(inline) } : { datasetId: ds.datasetId, start: String(spec.dataset ?? 0), count: String(N) }),
      });
      return MsgSubmitInferenceTaskResponseCodec.decode(TxMsgData.decode(r.data!).msgResponses[0].value).taskId;
    };
    const claimAndSubmit = async (worker: string, id: string, out: Float32Array) => {
      await send(worker, MsgClaimTaskCodec, { worker: h.account(worker).address, taskId: id });
      const b = bytesOf(out);
      await send(worker, MsgSubmitResultCodec, { worker: h.account(worker).address, taskId: id, outputs: b, resultRoot: resultRoot(b, N, 40) });
    };
    const until = async (id: string, status: TaskStatus) => {
      for (let i = 0; i < 15 && (await h.app.poi.getTask(h.app.queryContext(), BigInt(id)))!.status !== status; i++) await h.block([]);
      assert.equal((await h.app.poi.getTask(h.app.queryContext(), BigInt(id)))!.status, status, `task ${id}`);
    };

    // Completed with outputs (dataset inputs), failed once then reopened (slashed: a burn), claimed, open (inline inputs).
    const done = await submit({ dataset: 0 });
    await claimAndSubmit("worker", done, await outputsOf(0));
    const cheated = await submit({ dataset: 10, k: N });
    const bad = await outputsOf(10);
    bad.fill(3, 0, 30);
    await claimAndSubmit("cheater", cheated, bad);
    await until(done, TaskStatus.COMPLETED);
    await until(cheated, TaskStatus.OPEN);
    const claimed = await submit({ dataset: 5 });
    await send("claimer", MsgClaimTaskCodec, { worker: h.account("claimer").address, taskId: claimed });
    await submit({ inline: true });
    await send("user", bankSend, { fromAddress: h.account("user").address, toAddress: h.account("worker").address, amount: [{ denom: "upoi", amount: "12345" }] });
    await session.release();
    const op0 = h.account("operator0").address;
    await send("operator0", WithdrawReward, { delegatorAddress: op0, validatorAddress: formatValoperAddress(parseAddress(op0)) });

    snapshotHeight = h.height;
    snapshot = await allState(h.app.store.committed);
    // Later changes, so that the snapshot height is an older one when exported.
    await submit({ dataset: 15 });
    await send("user", bankSend, { fromAddress: h.account("user").address, toAddress: h.account("claimer").address, amount: [{ denom: "upoi", amount: "7" }] });
    await h.blocks(2);
  });
  after(async () => {
    for (const a of apps) await a.close();
    for (const d of dirs) removeHome(d);
    await h?.close();
  });

  it("exports every module with full state: accounts with numbers, sequences and keys; every poi prefix in use", async () => {
    const exp = await exportAppState(h.app, snapshotHeight);
    assert.equal(exp.height, snapshotHeight);
    assert.deepEqual(Buffer.from(exp.appHash), Buffer.from((await h.app.store.rootAt(snapshotHeight))!));
    const auth = exp.appState.auth as { accounts: Array<{ address: string; sequence: string; pub_key: unknown }> };
    const user = auth.accounts.find((a) => a.address === h.account("user").address)!;
    assert.equal(user.sequence, "1");
    assert.ok(user.pub_key, "an account that signed carries its public key");
    const poi = exp.appState.poi as Record<string, unknown[]>;
    for (const row of [
      "models", "model_bytes", "datasets", "chunk_hashes", "chunks", "tasks", "task_inputs", "task_outputs", "due_tasks", "workers", "block_work",
      "seed_records", "validator_stats", "task_index_entries", "tasks_by_status", "tasks_by_requester", "open_tasks", "counts",
    ]) {
      assert.ok(Array.isArray(poi[row]) && poi[row].length > 0, `poi.${row} exported`);
    }
    for (const single of ["params", "next_task_id", "vote_extensions_enable_height"]) assert.ok(poi[single] !== undefined, `poi.${single} exported`);
    const statuses = (poi.tasks as Array<{ value: { status?: string } }>).map((t) => t.value.status);
    for (const s of ["TASK_STATUS_COMPLETED", "TASK_STATUS_OPEN", "TASK_STATUS_CLAIMED"]) assert.ok(statuses.includes(s), `a task with status ${s}`);
    assert.equal((exp.appState.bank as { supply: Array<{ amount: string }> }).supply.length, 1);
    const dist = exp.appState.distribution as Record<string, unknown[]>;
    for (const row of ["validators", "delegations", "verdict_pools", "verdict_points"]) assert.ok(Array.isArray(dist[row]) && dist[row].length > 0, `distribution.${row} exported`);
    const staking = exp.appState.staking as { validators: unknown[]; delegations: unknown[] };
    assert.equal(staking.validators.length, 4, "staking.validators exported");
    assert.equal(staking.delegations.length, 4, "staking.delegations exported");
    assert.ok(BigInt((exp.appState.mint as { minted: string }).minted) > 0n, "mint.minted exported");
    assert.ok((exp.appState.bank as { supply_ledger: unknown[] }).supply_ledger.length === 1, "bank.supply_ledger exported");
    // Completed, slashed and reopened, claimed and open tasks, held income, pools: every invariant holds.
    assert.deepEqual((await h.app.invariants.run(h.app.queryContext())).filter((r) => r.broken), []);
  });

  it("an export at an older height, imported into a fresh store, reproduces every key and value of every module at that height", async () => {
    assert.ok(h.height > snapshotHeight + 2n, "the chain moved on after the snapshot");
    const exp = await exportAppState(h.app, snapshotHeight);
    const app = await importInto(exp.appState, snapshotHeight);
    assertSameState(await allState(app.store.working), snapshot);
    // The imported state hashes to the exported height's app hash: nothing was added or lost.
    assert.deepEqual(Buffer.from(await app.store.computeHash()), Buffer.from(exp.appHash));
  });

  it("the latest height round-trips too, and the imported chain goes on from height H+1", async () => {
    const exp = await exportAppState(h.app);
    const app = await importInto(exp.appState, exp.height);
    assertSameState(await allState(app.store.working), await allState(h.app.store.committed));
    const next = exp.height + 1n;
    const res = await app.finalizeBlock({ height: next, time: { seconds: 1_700_000_000n + next, nanos: 0 }, txs: [], hash: Buffer.alloc(32, 1), proposerAddress: h.validators[0].address, decidedLastCommit: { round: 0, votes: [] }, misbehavior: [], nextValidatorsHash: new Uint8Array() });
    await app.commit();
    assert.equal(app.store.lastHeight, next);
    assert.equal(res.txResults?.length, 0);
  });

  it("a key under poi/ that no table row covers stops the export; bad poi genesis input is refused with the row named", async () => {
    const branch = new Branch(h.app.store.committed);
    branch.set(Buffer.concat([moduleStorePrefix("poi"), Buffer.from([0xee, 1, 2])]), Buffer.from("x"));
    const ctx = new Context(branch, h.app.queryContext().header, "query");
    await assert.rejects(exportPoiGenesis(ctx), /no row of POI_GENESIS_TABLE .* covers key ee0102/);
    const fresh = () => new Context(new Branch(h.app.store.committed), h.app.queryContext().header, "genesis");
    await assert.rejects(initPoiGenesis(fresh(), { taskz: [] }), /unknown field "taskz"/);
    await assert.rejects(initPoiGenesis(fresh(), { tasks: [{ id: "x", value: {} }] }), /tasks\[0\]\.id: want a decimal u64 string/);
    await assert.rejects(initPoiGenesis(fresh(), { chunks: [{ dataset_id: "00".repeat(32), index: -1, value: "" }] }), /chunks\[0\]\.index/);
    await assert.rejects(initPoiGenesis(fresh(), { params: { claimBlocks: "0" } }), /params\.claimBlocks must be a positive integer string/);
    assert.equal(new Set(POI_GENESIS_TABLE.map((r) => r.prefix)).size, POI_GENESIS_TABLE.length, "one row per prefix");
  });
});
