/**
 * The poi messages of the tx fuzzer: a view of the chain's poi state (registered models, our
 * datasets, open, claimed and verifying tasks, read through the paged queries after each block), a
 * valid message of each type built from it, and field mutations of those messages (each field set to
 * a value of its type that is empty, extreme, of another account, malformed, or random). The training
 * messages are built by fuzz-training.ts on this view.
 */
import type * as protobuf from "protobufjs";
import { sha256 } from "@noble/hashes/sha2.js";
import type { PoiApp } from "../../src/app/app";
import { datasetId } from "../../src/x/poi/dataset_id";
import { resultRoot } from "../../src/x/poi/commitment";
import { GraphBuilder } from "../../src/x/poi/onnx/builder";
import { validateModel } from "../../src/x/poi/onnx/validate";
import {
  isTraining, ModelKind, MsgClaimTaskCodec, MsgCommitTrainingCodec, MsgCreateDatasetCodec, MsgRegisterModelCodec, MsgRevealCheckpointCodec, MsgSubmitInferenceTaskCodec,
  MsgSubmitResultCodec, MsgSubmitTrainingTaskCodec, MsgUploadDatasetChunkCodec, poiProtoRoot, Q, TaskStatus, type PoiCodec, type Task, type TensorSpec,
} from "../../src/x/poi/types";
import { randomText, type Rng } from "./fuzz-gen";
import { TRAINING_DATASETS, trainingData, TrainingGen, trainingModels, TRAINING_TYPES, type BadTrainingMsg, type TrainingSet } from "./fuzz-training";

export const MSG_TYPES = ["register-model", "create-dataset", "upload-chunk", "submit-task", "claim", "submit-result", ...TRAINING_TYPES] as const;
export type MsgType = (typeof MSG_TYPES)[number];

/** A message ready to sign: its Any and the account whose signature it needs. */
export interface BuiltMsg { type: MsgType; typeUrl: string; value: Uint8Array; signer: string }

interface PoolModel { onnx: Uint8Array; inputs: TensorSpec[]; outputs: TensorSpec[]; inElems: number; outElems: number; kind: ModelKind; parentModelId: string }
interface OurDataset { id: string; owner: string; item: TensorSpec; numItems: number; perChunk: number; chunks: Uint8Array[]; hashes: Uint8Array[] }

const CODECS: Record<MsgType, PoiCodec<any>> = {
  "register-model": MsgRegisterModelCodec, "create-dataset": MsgCreateDatasetCodec, "upload-chunk": MsgUploadDatasetChunkCodec,
  "submit-task": MsgSubmitInferenceTaskCodec, claim: MsgClaimTaskCodec, "submit-result": MsgSubmitResultCodec,
  "submit-training": MsgSubmitTrainingTaskCodec, "commit-training": MsgCommitTrainingCodec, "reveal-checkpoint": MsgRevealCheckpointCodec,
};
const elems = (shape: readonly string[]) => shape.reduce((n, d) => n * Number(d), 1);
const floats = (r: Rng, n: number) => { const f = new Float32Array(n); for (let i = 0; i < n; i++) f[i] = r.float() * 4 - 2; return new Uint8Array(f.buffer); };

/** Small models the validator accepts: Relu and Sigmoid over [1,2] and [1,3], a MatMul + Add [1,2] -> [1,3], fuzz-training.ts's MLP and its train step. */
function modelPool(): PoolModel[] {
  const unary = (op: string, n: number) => new GraphBuilder(`${op}${n}`).addInput("x", [1, n]).addNode(op, ["x"], ["y"]).addOutput("y", [1, n]).toBytes();
  const dense = new GraphBuilder("dense").addInput("x", [1, 2]).addInitializer("w", [2, 3], Float32Array.of(0.5, -1, 2, 1, 0.25, -0.5))
    .addInitializer("b", [3], Float32Array.of(0.1, 0.2, 0.3)).addNode("MatMul", ["x", "w"], ["h"]).addNode("Add", ["h", "b"], ["y"]).addOutput("y", [1, 3]).toBytes();
  const { parent, step } = trainingModels();
  const parentModelId = Buffer.from(sha256(parent)).toString("hex");
  return [unary("Relu", 2), unary("Sigmoid", 2), unary("Relu", 3), unary("Tanh", 2), dense, parent, step].map((onnx) => {
    const info = validateModel(onnx);
    const spec = (s: { name: string; shape: number[]; dtype: string }) => ({ name: s.name, shape: s.shape.map(String), dtype: s.dtype });
    const inputs = info.inputs.map(spec), outputs = info.outputs.map(spec);
    const isStep = onnx === step;
    return {
      onnx, inputs, outputs, inElems: elems(inputs[0].shape), outElems: outputs.reduce((n, o) => n + elems(o.shape), 0),
      kind: isStep ? ModelKind.TRAIN_STEP : ModelKind.INFERENCE, parentModelId: isStep ? parentModelId : "",
    };
  });
}

/** A dataset of `data` (float32 items of `item`'s shape) cut into chunks of `perChunk` items. */
function ourDataset(owner: string, item: TensorSpec, numItems: number, perChunk: number, data: Uint8Array): OurDataset {
  const chunkBytes = perChunk * elems(item.shape) * 4;
  const chunks: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += chunkBytes) chunks.push(data.subarray(off, off + chunkBytes));
  const hashes = chunks.map((c) => sha256(c));
  return { id: datasetId(item, numItems, perChunk, hashes), owner, item, numItems, perChunk, chunks, hashes };
}

/** The poi state the generators build on, refreshed from the app after every block. */
export class PoiWorld {
  readonly pool = modelPool();
  registered = new Map<string, PoolModel>();
  /** Datasets we announced (created or not), newest last. */
  readonly datasets: OurDataset[] = [];
  created = new Set<string>();
  complete = new Set<string>();
  open: Task[] = [];
  claimed: Task[] = [];
  verifying: Task[] = [];
  height = 0n;
  readonly parentId: string;
  readonly stepId: string;
  /** The x, y and initial-parameter datasets of the training tasks (fixed for a seed). */
  private readonly trainingSets: Record<TrainingSet, OurDataset>;
  readonly training: TrainingGen;

  constructor(private readonly r: Rng, readonly requesters: string[], readonly workers: string[], readonly others: string[]) {
    const id = (m: PoolModel) => Buffer.from(sha256(m.onnx)).toString("hex");
    const step = this.pool.find((m) => m.kind === ModelKind.TRAIN_STEP)!;
    [this.parentId, this.stepId] = [step.parentModelId, id(step)];
    const data = trainingData(r);
    const plan = (n: TrainingSet) => ourDataset(requesters[0], TRAINING_DATASETS[n].item, TRAINING_DATASETS[n].numItems, TRAINING_DATASETS[n].perChunk, data[n]);
    this.trainingSets = { x: plan("x"), y: plan("y"), init: plan("init") };
    this.training = new TrainingGen(r, this);
  }

  trainingSet(name: TrainingSet): { id: string; bytes: Uint8Array; complete: boolean } {
    const d = this.trainingSets[name];
    return { id: d.id, bytes: Buffer.concat(d.chunks), complete: this.complete.has(d.id) };
  }

  completeOfWidth(n: number): string[] {
    const ours = new Set(Object.values(this.trainingSets).map((d) => d.id));
    return this.datasets.filter((d) => this.complete.has(d.id) && !ours.has(d.id) && d.item.shape.length === 1 && d.item.shape[0] === String(n)).map((d) => d.id);
  }

  incomplete(): string[] {
    return [...this.created].filter((id) => !this.complete.has(id));
  }

  async refresh(app: PoiApp): Promise<void> {
    const q = async <Req, Res>(method: string, req: PoiCodec<Req>, value: Partial<Req>, res: PoiCodec<Res>) => {
      const out = await app.query({ path: `/poi.v1.Query/${method}`, data: req.encode(req.fromPartial(value)).finish(), height: 0n, prove: false });
      if (out.code) throw new Error(`${method}: ${out.log}`);
      return res.decode(out.value!);
    };
    const all = async <T>(page: (key: Uint8Array) => Promise<{ items: T[]; next: Uint8Array }>) => {
      const out: T[] = [];
      for (let key: Uint8Array = new Uint8Array(); ;) {
        const p = await page(key);
        out.push(...p.items);
        if (p.next.length === 0) return out;
        key = p.next;
      }
    };
    const ids = await all(async (key) => { const p = await q("Models", Q.ModelsRequest, { pagination: { key, limit: "1000" } }, Q.ModelsResponse); return { items: p.models.map((m) => m.id), next: p.pagination!.nextKey }; });
    const byId = new Map(this.pool.map((m) => [Buffer.from(sha256(m.onnx)).toString("hex"), m]));
    this.registered = new Map(ids.filter((id) => byId.has(id)).map((id) => [id, byId.get(id)!]));
    const ds = await all(async (key) => { const p = await q("Datasets", Q.DatasetsRequest, { pagination: { key, limit: "1000" } }, Q.DatasetsResponse); return { items: p.datasets, next: p.pagination!.nextKey }; });
    this.created = new Set(ds.map((d) => d.id));
    this.complete = new Set(ds.filter((d) => d.complete).map((d) => d.id));
    const tasks = (status: TaskStatus) => all(async (key) => { const p = await q("Tasks", Q.TasksRequest, { status, pagination: { key, limit: "1000" } }, Q.TasksResponse); return { items: p.tasks, next: p.pagination!.nextKey }; });
    this.open = (await all(async (key) => { const p = await q("OpenTasks", Q.OpenTasksRequest, { pagination: { key, limit: "1000" } }, Q.OpenTasksResponse); return { items: p.tasks.map((t) => t.task!), next: p.pagination!.nextKey }; }));
    this.claimed = await tasks(TaskStatus.CLAIMED);
    this.verifying = await tasks(TaskStatus.VERIFYING);
    this.height = (await app.info({ version: "", blockVersion: 0n, p2pVersion: 0n, abciVersion: "" })).lastBlockHeight ?? 0n;
    await this.training.refresh(app);
  }

  // ---- valid messages -------------------------------------------------------------------------------

  /** A valid message of `type` (or of the type it needs first when the state has nothing to build it on). */
  build(type: MsgType, from?: string): BuiltMsg {
    const r = this.r;
    const msg = (t: MsgType, signer: string, value: object): BuiltMsg => ({ type: t, typeUrl: CODECS[t].typeUrl, value: CODECS[t].encode(CODECS[t].fromPartial(value)).finish(), signer });
    switch (type) {
      case "register-model": {
        const owner = from ?? r.pick(this.requesters);
        let m = r.pick(this.pool);
        if (m.kind === ModelKind.TRAIN_STEP && !this.registered.has(m.parentModelId)) m = this.pool.find((p) => Buffer.from(sha256(p.onnx)).toString("hex") === m.parentModelId)!;
        return msg(type, owner, { owner, name: r.chance(0.5) ? "" : `model ${r.int(100)}`, onnx: m.onnx, inputs: m.inputs, outputs: m.outputs, kind: m.kind, parentModelId: m.parentModelId });
      }
      case "create-dataset": {
        const owner = from ?? r.pick(this.requesters);
        const item = { name: "x", shape: [String(r.chance(0.8) ? 2 : 3)], dtype: "float32" };
        const numItems = r.range(1, 8), perChunk = r.range(1, 4);
        return this.createDataset(ourDataset(owner, item, numItems, perChunk, floats(r, numItems * elems(item.shape))));
      }
      case "upload-chunk": {
        const pending = this.datasets.filter((d) => this.created.has(d.id) && !this.complete.has(d.id));
        if (pending.length === 0) return this.build("create-dataset", from);
        const d = r.pick(pending);
        const index = r.int(d.chunks.length);
        return msg(type, d.owner, { owner: d.owner, datasetId: d.id, index, data: d.chunks[index] });
      }
      case "submit-task": {
        // Not the training tasks' parent: a split on an inference task would flag it, and then no training task could be submitted.
        const inference = [...this.registered].filter(([id, m]) => m.kind === ModelKind.INFERENCE && id !== this.parentId);
        if (inference.length === 0) return this.build("register-model", from);
        const requester = from ?? r.pick(this.requesters);
        const [modelId, m] = r.pick(inference);
        const common = { requester, modelId, rewardPerItem: String(r.range(1, 100)), k: r.range(1, 3), deadlineBlocks: String(r.range(3, 40)), bond: String(r.range(1, 500)) };
        const fitting = this.datasets.filter((d) => this.complete.has(d.id) && elems(d.item.shape) === m.inElems);
        if (fitting.length && r.chance(0.35)) {
          const d = r.pick(fitting);
          const start = r.int(d.numItems);
          return msg(type, requester, { ...common, datasetId: d.id, start: String(start), count: String(r.range(1, d.numItems - start)) });
        }
        return msg(type, requester, { ...common, inputs: floats(r, r.range(1, 5) * m.inElems) });
      }
      case "claim": {
        if (this.open.length === 0) return this.build("submit-task");
        const worker = from ?? r.pick(this.workers);
        return msg(type, worker, { worker, taskId: r.pick(this.open).id });
      }
      case "submit-result": {
        const mine = this.claimed.filter((t) => !isTraining(t) && this.registered.has(t.modelId) && this.workers.includes(t.worker));
        if (mine.length === 0) return this.build("claim");
        const t = r.pick(mine);
        const per = this.registered.get(t.modelId)!.outElems * 4;
        const outputs = floats(r, Number(t.numItems) * per / 4);
        return msg(type, t.worker, { worker: t.worker, taskId: t.id, outputs, resultRoot: resultRoot(outputs, Number(t.numItems), per) });
      }
      default: {
        const b = this.training.build(type, from);
        if (b === "register-model" || b === "claim") return this.build(b, from);
        if (typeof b === "string") {
          const d = this.trainingSets[b];
          if (!this.created.has(d.id)) return this.createDataset(d);
          const index = r.int(d.chunks.length);
          return msg("upload-chunk", d.owner, { owner: d.owner, datasetId: d.id, index, data: d.chunks[index] });
        }
        return msg(b.type, b.signer, b.value);
      }
    }
  }

  /** A malformed training message (fuzz-training.ts), encoded, and the key that signs it. */
  badTraining(): BuiltMsg & Pick<BadTrainingMsg, "variant" | "key" | "mustFail"> {
    const b = this.training.bad();
    const codec = CODECS[b.type];
    return { type: b.type, typeUrl: codec.typeUrl, value: codec.encode(codec.fromPartial(b.value)).finish(), signer: b.signer, variant: b.variant, key: b.key, mustFail: b.mustFail };
  }

  private createDataset(d: OurDataset): BuiltMsg {
    if (!this.datasets.some((x) => x.id === d.id)) this.datasets.push(d);
    if (this.datasets.length > 300) this.datasets.splice(0, 1);
    const value = { owner: d.owner, name: `data ${this.r.int(100)}`, item: d.item, numItems: String(d.numItems), itemsPerChunk: String(d.perChunk), chunkHashes: d.hashes };
    return { type: "create-dataset", typeUrl: MsgCreateDatasetCodec.typeUrl, value: MsgCreateDatasetCodec.encode(MsgCreateDatasetCodec.fromPartial(value)).finish(), signer: d.owner };
  }

  // ---- field mutations ------------------------------------------------------------------------------

  /** `built` with one field (or one nested field) changed; the signer follows an address field that changed. */
  mutateFields(built: BuiltMsg): BuiltMsg {
    const codec = CODECS[built.type];
    const type = poiProtoRoot.lookupType(codec.typeUrl.slice(1));
    const obj = codec.decode(built.value) as Record<string, unknown>;
    const field = this.r.pick(type.fieldsArray);
    obj[field.name] = this.nastyValue(field, obj[field.name]);
    let signer = built.signer;
    if (["owner", "requester", "worker"].includes(field.name) && typeof obj[field.name] === "string") signer = obj[field.name] as string;
    return { ...built, value: codec.encode(obj).finish(), signer };
  }

  private nastyValue(field: protobuf.Field, old: unknown): unknown {
    const r = this.r;
    const one = (v: unknown): unknown => {
      if (field.resolvedType && "fields" in field.resolvedType) {
        const spec = { ...(v as TensorSpec ?? { name: "x", shape: ["2"], dtype: "float32" }) };
        const what = r.pick(["name", "dtype", "shape", "dim"]);
        if (what === "name") spec.name = r.pick(["", "y", "input", randomText(r, 80)]);
        if (what === "dtype") spec.dtype = r.pick(["", "float64", "int64", "FLOAT32", "float32 "]);
        if (what === "shape") spec.shape = r.pick([[], ["1"], ["1", "2", "1"], Array.from({ length: r.range(9, 12) }, () => "1")]);
        if (what === "dim") spec.shape = [...spec.shape, r.pick(["0", "-1", "99999999", "9223372036854775807", "-9223372036854775808", String(r.u64() >> 1n)])];
        return spec;
      }
      switch (field.type) {
        case "string":
          if (["owner", "requester", "worker"].includes(field.name)) return r.pick([...this.requesters, ...this.workers, ...this.others, "", "poi1", randomText(r, 60)]);
          if (["rewardPerItem", "bond", "reward"].includes(field.name)) return r.pick(["", "0", "-1", "1.5", " 1", "1e3", "9".repeat(78), "9".repeat(79), r.u64().toString()]);
          if (field.name === "learningRate") return r.pick(["", "0", "0.1", "1", "-0.1", "1e-3", ".5", "999999999.999999999", "1234567890", randomText(r, 12)]);
          return r.pick(["", "0".repeat(64), "g".repeat(64), randomText(r, 80), "x".repeat(r.int(2000)), ...this.datasets.slice(-3).map((d) => d.id), ...[...this.registered.keys()].slice(0, 2)]);
        case "uint64": case "int64":
          return r.pick(["0", "1", "2", "3", "18446744073709551615", "9223372036854775808", r.u64().toString(), String(r.int(20))].filter((v) => field.type === "uint64" || BigInt(v) < 1n << 63n));
        case "uint32":
          return r.pick([0, 1, 2, 4294967295, r.int(2 ** 32), r.int(10)]);
        case "bytes": {
          const b = (v as Uint8Array | undefined) ?? new Uint8Array();
          return r.pick([new Uint8Array(), r.bytes(r.int(64)), b.subarray(0, Math.max(0, b.length - r.range(1, 8))), Buffer.concat([b, r.bytes(r.range(1, 8))]), r.bytes(32), r.bytes(31)]);
        }
        default:
          return v;
      }
    };
    if (!field.repeated) return one(old);
    const list = Array.isArray(old) ? [...old] : [];
    const what = r.pick(["empty", "drop", "duplicate", "change", "add"]);
    if (what === "empty") return [];
    if (what === "drop" && list.length) list.splice(r.int(list.length), 1);
    if (what === "duplicate" && list.length) list.push(list[r.int(list.length)]);
    if (what === "change" && list.length) { const i = r.int(list.length); list[i] = one(list[i]); }
    if (what === "add") list.push(one(undefined));
    return list;
  }
}
