import { strict as assert } from "assert";
import * as fs from "node:fs";
import { sha256 } from "@noble/hashes/sha2.js";
import { DirectSecp256k1HdWallet, encodePubkey, makeAuthInfoBytes, makeSignDoc } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { fromBase64 } from "@cosmjs/encoding";
import { TxRaw, TxBody } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import { PoiApp } from "../src/app/app";
import { buildMlp, GraphBuilder } from "../src/x/poi/onnx/builder";
import { buildMlpTrainStep } from "../src/x/poi/onnx/train-step-builder";
import { validateModel } from "../src/x/poi/onnx/validate";
import {
  MsgRegisterModelCodec, MsgCreateDatasetCodec, MsgUploadDatasetChunkCodec, MsgRegisterModelResponseCodec, MsgCreateDatasetResponseCodec,
  MsgSubmitInferenceTaskCodec, ModelKind, Q, type PoiCodec, type TensorSpec,
} from "../src/x/poi/types";
import { chunkDataset } from "../src/client/poi-msgs";
import { tmpHome } from "./helpers/chain";

// The model and dataset registry of x/poi, driven through the ABCI methods with real signed txs.
const CHAIN_ID = "poi-test";
const MNEMONIC = "test test test test test test test test test test test junk";
const FEE = { amount: [{ denom: "upoi", amount: "250000" }], gas: "10000000" };
const t0 = 1_700_000_000n;

function mlp(seed: number): Uint8Array {
  const rand = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i) * 0.1);
  return buildMlp({ inputSize: 784, hidden: 16, outputs: 10, weights: { w1: rand(784 * 16), b1: rand(16), w2: rand(160), b2: rand(10) } });
}
/** The inputs and outputs a model declares: what the graph has. */
function declared(onnx: Uint8Array): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const s = validateModel(onnx);
  const spec = (t: { name: string; shape: number[]; dtype: string }) => ({ name: t.name, shape: t.shape.map(String), dtype: t.dtype });
  return { inputs: s.inputs.map(spec), outputs: s.outputs.map(spec) };
}
const IN = [{ name: "input", shape: ["1", "784"], dtype: "float32" }];
const OUT = [{ name: "logits", shape: ["1", "10"], dtype: "float32" }];

describe("x/poi registry: models and datasets (in process, signed txs)", () => {
  let app: PoiApp;
  let dir = "";
  let address = "";
  let wallet: DirectSecp256k1HdWallet;
  let pubkey: Uint8Array;
  let sequence = 0;
  let height = 0n;

  async function tx(typeUrl: string, value: Uint8Array): Promise<Uint8Array> {
    const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: [{ typeUrl, value }] })).finish();
    const authInfoBytes = makeAuthInfoBytes([{ pubkey: encodePubkey(encodeSecp256k1Pubkey(pubkey)), sequence }], FEE.amount, Number(FEE.gas), undefined, undefined);
    const { signature } = await wallet.signDirect(address, makeSignDoc(bodyBytes, authInfoBytes, CHAIN_ID, 0));
    return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [fromBase64(signature.signature)] }).finish();
  }

  async function block(txs: Uint8Array[]) {
    height += 1n;
    const res = await app.finalizeBlock({
      txs, height, time: { seconds: t0 + height, nanos: 0 }, hash: Buffer.alloc(32, Number(height)),
      decidedLastCommit: { round: 0, votes: [] }, misbehavior: [], nextValidatorsHash: new Uint8Array(), proposerAddress: Buffer.alloc(20),
    });
    await app.commit();
    return res;
  }

  /** CheckTx, then (if accepted) a block with it; returns the block result. */
  async function run<T>(codec: PoiCodec<T>, msg: Partial<T>) {
    const bytes = await tx(codec.typeUrl, codec.encode(codec.fromPartial(msg)).finish());
    const check = await app.checkTx({ tx: bytes, type: 0 });
    if (check.code) return { code: check.code!, codespace: check.codespace!, log: check.log!, data: new Uint8Array(), stage: "check" };
    const res = await block([bytes]);
    const r = res.txResults![0];
    if (r.code === 0) sequence++;
    return { code: r.code, codespace: r.codespace, log: r.log, data: r.data, stage: "block" };
  }

  async function query<Req, Res>(method: string, req: PoiCodec<Req>, value: Req, res: PoiCodec<Res>) {
    const r = await app.query({ path: `/poi.v1.Query/${method}`, data: req.encode(value).finish(), height: 0n, prove: false });
    return { code: r.code ?? 0, log: r.log ?? "", value: r.code ? undefined : res.decode(r.value!) };
  }

  before(async () => {
    wallet = await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: "poi" });
    const [acc] = await wallet.getAccounts();
    address = acc.address;
    pubkey = acc.pubkey;
    dir = tmpHome("poi-registry");
    app = await PoiApp.open(dir, { minGasPrices: "0.025upoi" });
    await app.initChain({
      time: { seconds: t0, nanos: 0 }, chainId: CHAIN_ID, validators: [], initialHeight: 1n,
      appStateBytes: Buffer.from(JSON.stringify({ bank: { balances: [{ address, coins: [{ denom: "upoi", amount: "100000000000000" }] }] } })),
    });
    await block([]); // genesis state is committed with the first block, as under CometBFT
  });
  after(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("registers a model: id = sha256 of the bytes, metadata and work units from the graph, bytes queryable", async () => {
    const onnx = mlp(1);
    const r = await run(MsgRegisterModelCodec, { owner: address, name: "mnist-mlp", onnx, inputs: IN, outputs: OUT });
    assert.equal(r.code, 0, r.log);
    const resp = MsgRegisterModelResponseCodec.decode(TxMsgDataFirst(r.data!));
    const id = Buffer.from(sha256(onnx)).toString("hex");
    assert.equal(resp.modelId, id);
    // MatMul 784x16 + 16x10 multiply-accumulates, plus element-wise Add/Relu/Add outputs.
    assert.ok(BigInt(resp.workUnitsPerItem) >= BigInt(784 * 16 + 16 * 10));
    const m = await query("Model", Q.ModelRequest, { id }, Q.ModelResponse);
    assert.equal(m.value!.model!.owner, address);
    assert.deepEqual(m.value!.model!.inputs.map((s) => [s.name, s.shape, s.dtype]), [["input", ["1", "784"], "float32"]]);
    assert.equal(m.value!.model!.workUnitsPerItem, resp.workUnitsPerItem);
    const b = await query("ModelBytes", Q.ModelRequest, { id }, Q.ModelBytesResponse);
    assert.ok(Buffer.from(b.value!.onnx).equals(Buffer.from(onnx)));
    const again = await run(MsgRegisterModelCodec, { owner: address, name: "again", onnx, inputs: IN, outputs: OUT });
    assert.deepEqual([again.codespace, again.code, again.stage], ["poi", 3, "check"]);
    assert.match(again.log, /model already registered/);
  });

  it("refuses bad ONNX, a disallowed op, a memory bomb and wrong declared shapes, changing nothing", async () => {
    const before = await app.info({ version: "", blockVersion: 0n, p2pVersion: 0n, abciVersion: "" });
    const bad = await run(MsgRegisterModelCodec, { owner: address, name: "junk", onnx: Uint8Array.from([1, 2, 3, 4, 5]), inputs: IN, outputs: OUT });
    assert.deepEqual([bad.codespace, bad.code], ["poi", 2]);
    // ~287 MB of float32 from a few bytes at load time (onnxruntime #28730's shape).
    const bomb = new GraphBuilder("bomb").addInput("x", [1, 1]).addInitializer("shape", [3], BigInt64Array.from([1000n, 1000n, 72n]))
      .addNode("ConstantOfShape", ["shape"], ["y"], [], "bomb").addOutput("y", [1000, 1000, 72]).toBytes();
    const b = await run(MsgRegisterModelCodec, { owner: address, name: "bomb", onnx: bomb, inputs: [{ name: "x", shape: ["1", "1"], dtype: "float32" }], outputs: [{ name: "y", shape: ["1000", "1000", "72"], dtype: "float32" }] });
    assert.deepEqual([b.codespace, b.code], ["poi", 2]);
    assert.match(b.log, /ConstantOfShape/);
    const loop = new GraphBuilder("loop").addInput("x", [1, 4]).addNode("Loop", ["x"], ["y"], [], "loop").addOutput("y", [1, 4]).toBytes();
    const l = await run(MsgRegisterModelCodec, { owner: address, name: "loop", onnx: loop, inputs: [{ name: "x", shape: ["1", "4"], dtype: "float32" }], outputs: [{ name: "y", shape: ["1", "4"], dtype: "float32" }] });
    assert.deepEqual([l.codespace, l.code], ["poi", 2]);
    assert.match(l.log, /Loop/);
    const wrongShape = await run(MsgRegisterModelCodec, { owner: address, name: "x", onnx: mlp(2), inputs: [{ name: "input", shape: ["1", "785"], dtype: "float32" }], outputs: OUT });
    assert.deepEqual([wrongShape.codespace, wrongShape.code], ["poi", 2]);
    assert.match(wrongShape.log, /declared inputs input\[1,785\]:float32 differ from the graph's input\[1,784\]:float32/);
    const after = await app.info({ version: "", blockVersion: 0n, p2pVersion: 0n, abciVersion: "" });
    assert.equal(after.lastBlockHeight, before.lastBlockHeight, "refused in CheckTx: no block, no fee");
  });

  describe("train_step models", () => {
    let parentId = "";
    let stepId = "";
    const idOf = (onnx: Uint8Array) => Buffer.from(sha256(onnx)).toString("hex");
    const stepGraph = (hidden: number, batchSize = 8) => buildMlpTrainStep({ inputSize: 784, hidden, outputs: 10, batchSize });
    const registerStep = (onnx: Uint8Array, parentModelId: string, kind = ModelKind.TRAIN_STEP) =>
      run(MsgRegisterModelCodec, { owner: address, name: "step", onnx, ...declared(onnx), kind, parentModelId });

    it("registers a train-step graph of a registered inference model: kind and parent stored and queryable; inference tasks refuse it", async () => {
      const parent = mlp(7);
      const p = await run(MsgRegisterModelCodec, { owner: address, name: "parent", onnx: parent, inputs: IN, outputs: OUT });
      assert.equal(p.code, 0, p.log);
      parentId = idOf(parent);
      const onnx = stepGraph(16);
      const r = await registerStep(onnx, parentId);
      assert.equal(r.code, 0, r.log);
      stepId = MsgRegisterModelResponseCodec.decode(TxMsgDataFirst(r.data)).modelId;
      assert.equal(stepId, idOf(onnx));
      const m = (await query("Model", Q.ModelRequest, { id: stepId }, Q.ModelResponse)).value!.model!;
      assert.deepEqual([m.kind, m.parentModelId], [ModelKind.TRAIN_STEP, parentId]);
      assert.deepEqual(m.inputs.map((t) => t.name), ["w1", "b1", "w2", "b2", "x", "y", "lr"]);
      assert.deepEqual(m.outputs.map((t) => [t.name, t.shape]), [["w1.next", ["784", "16"]], ["b1.next", ["16"]], ["w2.next", ["16", "10"]], ["b2.next", ["10"]], ["loss", []]]);
      const pm = (await query("Model", Q.ModelRequest, { id: parentId }, Q.ModelResponse)).value!.model!;
      assert.deepEqual([pm.kind, pm.parentModelId], [ModelKind.INFERENCE, ""]);
      const task = await run(MsgSubmitInferenceTaskCodec, {
        requester: address, modelId: stepId, inputs: new Uint8Array(784 * 4), rewardPerItem: "1", k: 1, deadlineBlocks: "50", bond: "100000",
      });
      assert.deepEqual([task.codespace, task.code], ["poi", 10]);
      assert.match(task.log, /is a train_step model; inference tasks take inference models/);
    });

    it("refuses mismatched parameters (shapes, names), an unknown or train-step parent and inconsistent kind fields, changing nothing", async () => {
      const before = await app.info({ version: "", blockVersion: 0n, p2pVersion: 0n, abciVersion: "" });
      const linear = new GraphBuilder("linear").addInput("input", [1, 784])
        .addInitializer("w", [784, 10], Float32Array.from({ length: 7840 }, (_, i) => Math.sin(i) * 0.01)).addInitializer("b", [10], new Float32Array(10).fill(0.5))
        .addNode("MatMul", ["input", "w"], ["mm"]).addNode("Add", ["mm", "b"], ["logits"]).addOutput("logits", [1, 10]).toBytes();
      assert.equal((await run(MsgRegisterModelCodec, { owner: address, name: "linear", onnx: linear, inputs: IN, outputs: OUT })).code, 0);
      const cases: [string, Awaited<ReturnType<typeof registerStep>>, number, RegExp][] = [
        ["shapes", await registerStep(stepGraph(32), parentId), 2,
          /train-step graph: input 0 "w1" has shape \[784,32\] but the parent's parameter 0 needs \[784,16\]/],
        ["names", await registerStep(stepGraph(16, 2), idOf(linear)), 2,
          /train-step graph: input 0 is "w1" but the parent's parameter 0 needs "w" \[784,10\] there/],
        ["unknown parent", await registerStep(stepGraph(16, 3), "ab".repeat(32)), 4, /^parent model (ab){32} of the train_step model: model not found$/],
        ["train-step parent", await registerStep(stepGraph(16, 4), stepId), 2, /parent model [0-9a-f]{64} is a train_step model; a train_step model trains an inference model/],
        ["parent of an inference model", await registerStep(mlp(8), parentId, ModelKind.INFERENCE), 2, /only a train_step model has a parent/],
        ["bad parent id", await registerStep(stepGraph(16, 5), "xyz"), 2, /parent_model_id "xyz" of the train_step model is not 64 hex characters/],
        ["unknown kind", await registerStep(stepGraph(16, 6), parentId, 5 as ModelKind), 2, /unknown model kind 5/],
      ];
      for (const [what, r, code, log] of cases) {
        assert.deepEqual([r.codespace, r.code, r.stage], ["poi", code, "check"], `${what}: ${r.log}`);
        assert.match(r.log, log, `${what}: ${r.log}`);
      }
      const after = await app.info({ version: "", blockVersion: 0n, p2pVersion: 0n, abciVersion: "" });
      assert.equal(after.lastBlockHeight, before.lastBlockHeight! + 1n, "only the linear parent was registered");
      // Delivered in a block anyway (past CheckTx), the mismatched graph fails there too and is not stored.
      const wrong = stepGraph(32);
      const bytes = await tx(MsgRegisterModelCodec.typeUrl, MsgRegisterModelCodec.encode(MsgRegisterModelCodec.fromPartial({
        owner: address, name: "step", onnx: wrong, ...declared(wrong), kind: ModelKind.TRAIN_STEP, parentModelId: parentId,
      })).finish());
      const res = (await block([bytes])).txResults![0];
      sequence++; // the fee and the sequence are spent even though the message fails
      assert.deepEqual([res.codespace, res.code], ["poi", 2]);
      for (const onnx of [wrong, mlp(8), ...[2, 3, 4, 5, 6].map((b) => stepGraph(16, b))]) {
        const q = await query("Model", Q.ModelRequest, { id: idOf(onnx) }, Q.ModelResponse);
        assert.match(q.log, /model not found/);
      }
      assert.equal((await run(MsgRegisterModelCodec, { owner: address, name: "again", onnx: mlp(9), inputs: IN, outputs: OUT })).code, 0, "the account is still usable");
    });
  });

  it("creates a dataset, accepts chunks that match their announced hashes, serves exact items", async () => {
    const items = Float32Array.from({ length: 7 * 784 }, (_, i) => (i % 255) / 255);
    const bytes = Buffer.from(items.buffer);
    const per = 3 * 784 * 4;
    const chunks = [bytes.subarray(0, per), bytes.subarray(per, 2 * per), bytes.subarray(2 * per)];
    const item = { name: "digit", shape: ["1", "784"], dtype: "float32" };
    const created = await run(MsgCreateDatasetCodec, { owner: address, name: "digits", item, numItems: "7", itemsPerChunk: "3", chunkHashes: chunks.map((c) => sha256(c)) });
    assert.equal(created.code, 0, created.log);
    const id = expectedDatasetId(["1", "784"], 7n, 3n, chunks.map((c) => sha256(c)));
    assert.equal(MsgCreateDatasetResponseCodec.decode(TxMsgDataFirst(created.data)).datasetId, id);
    const wrong = await run(MsgUploadDatasetChunkCodec, { owner: address, datasetId: id, index: 1, data: chunks[0] });
    assert.deepEqual([wrong.codespace, wrong.code], ["poi", 8]);
    assert.match(wrong.log, /does not match its announced sha256/);
    const short = await run(MsgUploadDatasetChunkCodec, { owner: address, datasetId: id, index: 2, data: chunks[1] });
    assert.match(short.log, /chunk 2 is 9408 bytes, want 3136 \(1 items\)/);
    for (const [i, c] of chunks.entries()) assert.equal((await run(MsgUploadDatasetChunkCodec, { owner: address, datasetId: id, index: i, data: c })).code, 0);
    const dup = await run(MsgUploadDatasetChunkCodec, { owner: address, datasetId: id, index: 0, data: chunks[0] });
    assert.match(dup.log, /already uploaded/);
    const ds = await query("Dataset", Q.DatasetRequest, { id }, Q.DatasetResponse);
    assert.equal(ds.value!.dataset!.complete, true);
    assert.equal(ds.value!.dataset!.chunksReceived, 3);
    const got = await query("DatasetItems", Q.DatasetItemsRequest, { id, start: "2", count: "4" }, Q.DatasetItemsResponse);
    assert.ok(Buffer.from(got.value!.data).equals(bytes.subarray(2 * 784 * 4, 6 * 784 * 4)), "items 2..5 span chunks 0, 1 and 2");
    const oob = await query("DatasetItems", Q.DatasetItemsRequest, { id, start: "5", count: "3" }, Q.DatasetItemsResponse);
    assert.notEqual(oob.code, 0);
  });

  it("a squatter copying a dataset's chunk hashes with other metadata gets another id; the creator's dataset registers under its own", async () => {
    // The creator's 6 items of shape [4] in chunks of 2, as the client chunks them.
    const items = Float32Array.from({ length: 6 * 4 }, (_, i) => i / 8);
    const spec = { name: "real", shape: ["4"], dtype: "float32" };
    const c = chunkDataset(spec, items, 2);
    assert.equal(c.datasetId, expectedDatasetId(["4"], 6n, 2n, c.hashes), "the client computes the chain's id");
    // Same three chunk hashes, announced as 3 items of shape [8] per chunk... (the bytes would still fit)
    const squat = await run(MsgCreateDatasetCodec, { owner: address, name: "squat", item: { name: "x", shape: ["8"], dtype: "float32" }, numItems: "3", itemsPerChunk: "1", chunkHashes: c.hashes });
    assert.equal(squat.code, 0, squat.log);
    const squatId = MsgCreateDatasetResponseCodec.decode(TxMsgDataFirst(squat.data)).datasetId;
    assert.notEqual(squatId, c.datasetId);
    // ... or as [2, 2] items, or 5 items: each another id.
    const other = await run(MsgCreateDatasetCodec, { owner: address, name: "squat2", item: { name: "x", shape: ["2", "2"], dtype: "float32" }, numItems: "6", itemsPerChunk: "2", chunkHashes: c.hashes });
    assert.notEqual(MsgCreateDatasetResponseCodec.decode(TxMsgDataFirst(other.data)).datasetId, c.datasetId);
    const fewer = await run(MsgCreateDatasetCodec, { owner: address, name: "squat3", item: spec, numItems: "5", itemsPerChunk: "2", chunkHashes: c.hashes });
    assert.notEqual(MsgCreateDatasetResponseCodec.decode(TxMsgDataFirst(fewer.data)).datasetId, c.datasetId);

    const real = await run(MsgCreateDatasetCodec, { owner: address, name: "real", item: spec, numItems: String(c.numItems), itemsPerChunk: "2", chunkHashes: c.hashes });
    assert.equal(real.code, 0, real.log);
    assert.equal(MsgCreateDatasetResponseCodec.decode(TxMsgDataFirst(real.data)).datasetId, c.datasetId);
    for (const [i, data] of c.chunks.entries()) assert.equal((await run(MsgUploadDatasetChunkCodec, { owner: address, datasetId: c.datasetId, index: i, data })).code, 0);
    const ds = (await query("Dataset", Q.DatasetRequest, { id: c.datasetId }, Q.DatasetResponse)).value!.dataset!;
    assert.deepEqual([ds.name, ds.item!.shape, ds.numItems, ds.complete], ["real", ["4"], "6", true]);
    // The same content and metadata again (any name) is the same dataset: refused.
    const again = await run(MsgCreateDatasetCodec, { owner: address, name: "again", item: { ...spec, name: "other" }, numItems: "6", itemsPerChunk: "2", chunkHashes: c.hashes });
    assert.deepEqual([again.codespace, again.code], ["poi", 6]);
    assert.match(again.log, new RegExp(`dataset ${c.datasetId}`));
  });
});

/** The dataset id as src/x/poi/dataset_id.ts documents it, spelled out byte by byte (float32 items). */
function expectedDatasetId(shape: string[], numItems: bigint, perChunk: bigint, hashes: Uint8Array[]): string {
  const u64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(n); return b; };
  const count = Buffer.alloc(4);
  count.writeUInt32BE(hashes.length);
  return Buffer.from(sha256(Buffer.concat([
    Buffer.from("poi/dataset/v1"), Buffer.of(7), Buffer.from("float32"), Buffer.of(shape.length), ...shape.map((d) => u64(BigInt(d))),
    u64(numItems), u64(perChunk), count, ...hashes,
  ]))).toString("hex");
}

function TxMsgDataFirst(data: Uint8Array): Uint8Array {
  return TxMsgData.decode(data).msgResponses[0].value;
}
