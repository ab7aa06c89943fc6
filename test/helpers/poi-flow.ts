/**
 * The inference-task steps in-process tests share: a registered MNIST-shaped MLP, its honest outputs
 * on real digits (local onnxruntime), and submit / claim / result / wait helpers over a Harness.
 */
import { strict as assert } from "assert";
import * as ort from "onnxruntime-node";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import type { Harness } from "./poi-harness";
import { parseAddress } from "../../src/app/address";
import type { PoiTxClient } from "../../src/client/tx";
import { buildMlp } from "../../src/x/poi/onnx/builder";
import { validateModel } from "../../src/x/poi/onnx/validate";
import { loadMnist, randomMlpWeights } from "../../src/ml/train";
import { POI_MODULE_ACCOUNT } from "../../src/x/poi/keeper";
import { resultRoot } from "../../src/x/poi/commitment";
import {
  MsgRegisterModelCodec, MsgSubmitInferenceTaskCodec, MsgClaimTaskCodec, MsgSubmitResultCodec, MsgSubmitInferenceTaskResponseCodec,
  MsgRegisterModelResponseCodec, TaskStatus, type Task, type ValidatorStats,
} from "../../src/x/poi/types";
import { SESSION_OPTIONS } from "../../src/x/poi/verify/session-options";

export const IN = [{ name: "input", shape: ["1", "784"], dtype: "float32" }];
export const OUT = [{ name: "logits", shape: ["1", "10"], dtype: "float32" }];
export const OUT_BYTES = 40;

export const bytesOf = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);

export async function runModel(onnx: Uint8Array, images: Float32Array[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnx, SESSION_OPTIONS);
  const out = new Float32Array(images.length * 10);
  for (const [i, img] of images.entries()) {
    const r = await session.run({ input: new ort.Tensor("float32", img, [1, 784]) });
    out.set(r.logits.data as Float32Array, i * 10);
  }
  await session.release();
  return out;
}

export class PoiFlow {
  modelId = "";
  onnx!: Uint8Array;
  inline!: Float32Array;
  honest!: Float32Array;

  private constructor(readonly h: Harness, readonly n: number) {}

  /** Registers a 784-32-10 MLP (seeded weights) as `owner` and computes its outputs on `n` digits. */
  static async create(h: Harness, opts: { owner?: string; n?: number; seed?: number; name?: string } = {}): Promise<PoiFlow> {
    const f = new PoiFlow(h, opts.n ?? 60);
    f.onnx = buildMlp({ inputSize: 784, hidden: 32, outputs: 10, weights: randomMlpWeights(784, 32, 10, opts.seed ?? 7) });
    const owner = opts.owner ?? "requester";
    const r = await h.send(owner, MsgRegisterModelCodec, { owner: h.account(owner).address, name: opts.name ?? "mlp", onnx: f.onnx, inputs: IN, outputs: OUT });
    assert.equal(r.code, 0, r.log);
    f.modelId = MsgRegisterModelResponseCodec.decode(TxMsgData.decode(r.data!).msgResponses[0].value).modelId;
    const images = loadMnist().images.slice(0, f.n);
    f.inline = new Float32Array(f.n * 784);
    images.forEach((img, i) => f.inline.set(img, i * 784));
    f.honest = await runModel(f.onnx, images);
    return f;
  }

  balance(name: string): Promise<bigint> {
    return this.h.app.bank.getBalance(this.h.app.queryContext(), parseAddress(this.h.account(name).address), "upoi");
  }
  moduleBalance(): Promise<bigint> {
    return this.h.app.bank.getBalance(this.h.app.queryContext(), POI_MODULE_ACCOUNT, "upoi");
  }
  supply(): Promise<bigint> {
    return this.h.app.bank.getSupply(this.h.app.queryContext(), "upoi");
  }
  async task(id: string): Promise<Task> {
    return (await this.h.app.poi.getTask(this.h.app.queryContext(), BigInt(id)))!;
  }
  async validatorStats(i: number): Promise<ValidatorStats> {
    return (await this.h.app.poiModule.verification.stats(this.h.app.queryContext(), this.h.validators[i].hex))
      ?? { validator: this.h.validators[i].hex, operator: "", pending: "0", paid: "0", forfeited: "0", passesMatched: "0", catches: "0", falseReports: "0", faults: "0", auditsFailed: "0" };
  }

  async submitTask(opts: { k?: number; bond?: string; reward?: string; deadline?: number; from?: string } = {}): Promise<string> {
    const from = opts.from ?? "requester";
    const r = await this.h.send(from, MsgSubmitInferenceTaskCodec, {
      requester: this.h.account(from).address, modelId: this.modelId, inputs: bytesOf(this.inline), rewardPerItem: opts.reward ?? "1000", k: opts.k ?? 8,
      deadlineBlocks: String(opts.deadline ?? 100), bond: opts.bond ?? "100000",
    });
    assert.equal(r.code, 0, r.log);
    return MsgSubmitInferenceTaskResponseCodec.decode(TxMsgData.decode(r.data!).msgResponses[0].value).taskId;
  }

  async claimAndSubmit(worker: string, id: string, outputs: Float32Array): Promise<void> {
    const c = await this.h.send(worker, MsgClaimTaskCodec, { worker: this.h.account(worker).address, taskId: id });
    assert.equal(c.code, 0, c.log);
    const out = bytesOf(outputs);
    const r = await this.h.send(worker, MsgSubmitResultCodec, { worker: this.h.account(worker).address, taskId: id, outputs: out, resultRoot: resultRoot(out, this.n, OUT_BYTES) });
    assert.equal(r.code, 0, r.log);
  }

  /** Makes empty blocks until the task has one of `wantStatus` (or `maxBlocks` pass). */
  async untilStatus(id: string, wantStatus: TaskStatus[], maxBlocks = 12): Promise<Task> {
    for (let i = 0; i < maxBlocks; i++) {
      const t = await this.task(id);
      if (wantStatus.includes(t.status)) return t;
      await this.h.block([]);
    }
    return this.task(id);
  }

  /** Makes empty blocks until every validator's seed of `epoch` is revealed on chain (or marked faulty). */
  async untilRevealed(epoch: string, maxBlocks = 60): Promise<void> {
    for (let i = 0; i < maxBlocks; i++) {
      const recs = await Promise.all(this.h.validators.map((v) => this.h.app.poiModule.verification.seedRecord(this.h.app.queryContext(), v.hex, BigInt(epoch))));
      if (recs.every((r) => r && (r.seed.length > 0 || r.faulty))) return;
      await this.h.block([]);
    }
    throw new Error(`seeds of epoch ${epoch} not revealed within ${maxBlocks} blocks`);
  }
}

/**
 * Over a real node: registers a 784-16-10 MLP (seeded weights, specs read from the graph) and the first
 * `digits` MNIST digits as a dataset of `perChunk` items a chunk; returns their ids and the digits.
 */
export async function registerMlpAndDigits(client: PoiTxClient, o: { seed: number; digits: number; perChunk: number }): Promise<{ modelId: string; datasetId: string; items: Float32Array }> {
  const onnx = buildMlp({ inputSize: 784, hidden: 16, outputs: 10, weights: randomMlpWeights(784, 16, 10, o.seed) });
  const info = validateModel(onnx);
  const spec = (x: { name: string; shape: number[]; dtype: string }) => ({ name: x.name, shape: x.shape.map(String), dtype: x.dtype });
  const modelId = (await client.registerModel(onnx, "mlp16", info.inputs.map(spec), info.outputs.map(spec))).modelId;
  const items = new Float32Array(o.digits * 784);
  loadMnist().images.slice(0, o.digits).forEach((img, i) => items.set(img, i * 784));
  const datasetId = (await client.uploadDataset(`digits-${o.digits}`, { name: "digit", shape: ["784"], dtype: "float32" }, items, o.perChunk)).datasetId;
  return { modelId, datasetId, items };
}
