import { sha256 } from "@noble/hashes/sha2.js";
import type { Context } from "../../app/context";
import { bigMin, u64 } from "../../util/bigint";
import { prefixEnd } from "../../store/prefix";
import {
  ParamsCodec, ModelCodec, DatasetCodec, TaskCodec, TaskStatus, WorkerStatsCodec, type Model, type Dataset, type Params, type Task, type WorkerStats,
} from "./types";

/** Heights at whose end something falls due for a task in its current status (abci.ts endBlockTasks). */
function dueHeights(task: Task): bigint[] {
  switch (task.status) {
    case TaskStatus.OPEN: return [BigInt(task.deadlineHeight)];
    case TaskStatus.CLAIMED: return [BigInt(task.claimExpiresHeight)];
    case TaskStatus.VERIFYING: return [
      // training: the first block after the segment requests close, the reveal deadline
      BigInt(task.requestEndHeight ?? "0") + 1n, BigInt(task.revealDeadlineHeight ?? "0"), BigInt(task.voteWindowEndHeight), BigInt(task.verifyDeadlineHeight),
    ];
    default: return [];
  }
}

export const POI_MODULE = "poi";

// Key layout inside "poi/":
//   0x00                          -> Params
//   0x01 | model id (32 bytes)    -> Model (metadata)
//   0x02 | model id               -> ONNX bytes
//   0x03 | dataset id (32 bytes)  -> Dataset (metadata)
//   0x04 | dataset id | index u32 -> sha256 the chunk must have (announced at creation)
//   0x05 | dataset id | index u32 -> chunk bytes
//   0x06                          -> next task id (u64 BE)
//   0x07 | task id u64            -> Task
//   0x08 | task id                -> inline inputs (float32 LE items)
//   0x09 | task id                -> submitted outputs of the current attempt
//   0x0a                          -> (unused: the old list of every active task)
//   0x0b | worker address         -> WorkerStats
//   0x0c | height u64 | worker    -> work units verified for that worker in that block (u64 BE)
//   0x0d                          -> (unused: the old sampling beacon)
//   0x10..0x13                    -> validators' seeds, held income, reports, stats: verification_keeper.ts
//   0x0e                          -> consensus_params.abci.vote_extensions_enable_height from InitChain (u64 BE)
//   0x0f | height u64 | task id   -> (empty) the task has something due at the end of that block: its
//                                    deadline (open), claim expiry (claimed), vote window end or
//                                    verification deadline (verifying). Stale entries (the task moved on)
//                                    are read once at their height and dropped.
//   0x40..0x43                    -> training tasks' terms, attempts, loss traces, checkpoints: training_keeper.ts
//   0x20 | task id                -> (empty) the task was written in this block: its index entries follow at
//                                    the end of the block; 0x21..0x26 (indexes and counts): see indexes.ts
const PARAMS = Buffer.from([0x00]);
const MODEL = 0x01;
const MODEL_BYTES = 0x02;
const DATASET = 0x03;
const CHUNK_HASH = 0x04;
const CHUNK = 0x05;
const NEXT_TASK_ID = Buffer.from([0x06]);
const TASK = 0x07;
const TASK_INPUTS = 0x08;
const TASK_OUTPUTS = 0x09;
const WORKER = 0x0b;
const BLOCK_WORK = 0x0c;
const VE_ENABLE_HEIGHT = Buffer.from([0x0e]);
const DUE = 0x0f;
const TASK_CHANGED = 0x20;

/** Prefixes of the records that paged queries and the indexes walk (indexes.ts, pages.ts). */
export const RECORD_PREFIX = {
  model: Buffer.from([MODEL]),
  dataset: Buffer.from([DATASET]),
  task: Buffer.from([TASK]),
  taskChanged: Buffer.from([TASK_CHANGED]),
} as const;

const key = (prefix: number, ...parts: Uint8Array[]) => Buffer.concat([Buffer.from([prefix]), ...parts]);
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
/** The 32 bytes of a model or dataset id (64 hex characters): the id part of its keys. */
export const idBytes = (id: string) => Buffer.from(id, "hex");

export const DEFAULT_PARAMS: Params = {
  maxModelBytes: String(4 * 1024 * 1024 - 64 * 1024), // fits a tx under CometBFT's 4 MiB cap
  maxInitializerBytes: String(4 * 1024 * 1024),
  maxIntermediateElements: String(1 << 22),
  maxDatasetChunkBytes: String(1024 * 1024),
  maxDatasetItems: "1000000",
  maxTaskItems: "10000",
  maxK: "1000",
  maxInlineInputBytes: String(1024 * 1024),
  claimBlocks: "30",
  verifyTimeoutBlocks: "30",
  maxDeadlineBlocks: "100000",
  seedEpochBlocks: "10",
  verifyVoteBlocks: "8",
  revealWindowEpochs: "3",
  maxReportsPerValidator: "4",
  verifyPricePerMegaUnit: "1000",
  catchBountyBps: "5000",
  minBond: "100000",
  bondFactorBps: "10000",
  deadlineMarginBlocks: "10",
  maxVerifyUnitsPerTask: "200000000",
  maxResultBytes: String(3 * 1024 * 1024),
  toleranceScalePpb: "100000",
  toleranceRelPpb: "1000000",
  taskDeposit: "1000000",
  protocolFeePerMegaUnit: "20000",
  workScoreAlphaBps: "2500",
  auditRateBps: "0", // off unless genesis turns it on (README, "Known-answer audits")
  auditSlashBps: "100",
  trainingThresholdPpb: "10000", // 1e-5 relative L2 per segment (README, "Training: tolerance")
  maxTrainingSteps: "100000",
  segmentRequestBlocks: "3",
  revealBlocks: "20",
};

/** The poi module account: holds task escrows and worker bonds. */
export const POI_MODULE_ACCOUNT = sha256(new TextEncoder().encode("poi")).subarray(0, 20);

/** Model and dataset ids: 64 lowercase hex characters (a sha256). */
export function isContentId(id: string): boolean {
  return /^[0-9a-f]{64}$/.test(id);
}

export function contentId(bytes: Uint8Array): string {
  return Buffer.from(sha256(bytes)).toString("hex");
}

/** Element counts of one item's input and of each of its outputs; shapes are static, so exact. */
export function modelIo(model: Model): { inputElems: bigint; outputSizes: bigint[]; outputElems: bigint } {
  const outputSizes = model.outputs.map((o) => itemSize(o.shape));
  return { inputElems: itemSize(model.inputs[0].shape), outputSizes, outputElems: outputSizes.reduce((a, b) => a + b, 0n) };
}

export class PoiKeeper {
  async params(ctx: Context): Promise<Params> {
    const raw = await ctx.store(POI_MODULE).get(PARAMS);
    return raw ? ParamsCodec.decode(raw) : DEFAULT_PARAMS;
  }

  setParams(ctx: Context, p: Params): void {
    ctx.store(POI_MODULE).set(PARAMS, ParamsCodec.encode(p).finish());
  }

  async getModel(ctx: Context, id: string): Promise<Model | undefined> {
    if (!isContentId(id)) return undefined;
    const raw = await ctx.store(POI_MODULE).get(key(MODEL, idBytes(id)));
    return raw ? ModelCodec.decode(raw) : undefined;
  }

  async getModelBytes(ctx: Context, id: string): Promise<Uint8Array | undefined> {
    if (!isContentId(id)) return undefined;
    return ctx.store(POI_MODULE).get(key(MODEL_BYTES, idBytes(id)));
  }

  /** Rewrites a model's metadata (e.g. its flag); the ONNX bytes stay. */
  setModelInfo(ctx: Context, model: Model): void {
    ctx.store(POI_MODULE).set(key(MODEL, idBytes(model.id)), ModelCodec.encode(model).finish());
  }

  setModel(ctx: Context, model: Model, onnx: Uint8Array): void {
    const store = ctx.store(POI_MODULE);
    store.set(key(MODEL, idBytes(model.id)), ModelCodec.encode(model).finish());
    store.set(key(MODEL_BYTES, idBytes(model.id)), onnx);
  }

  /** All models in id order. */
  async models(ctx: Context): Promise<Model[]> {
    const rows = await ctx.store(POI_MODULE).iterate(Buffer.from([MODEL]), Buffer.from([MODEL + 1]));
    return rows.map(([, v]) => ModelCodec.decode(v));
  }

  async getDataset(ctx: Context, id: string): Promise<Dataset | undefined> {
    if (!isContentId(id)) return undefined;
    const raw = await ctx.store(POI_MODULE).get(key(DATASET, idBytes(id)));
    return raw ? DatasetCodec.decode(raw) : undefined;
  }

  setDataset(ctx: Context, ds: Dataset): void {
    ctx.store(POI_MODULE).set(key(DATASET, idBytes(ds.id)), DatasetCodec.encode(ds).finish());
  }

  setChunkHash(ctx: Context, datasetId: string, index: number, hash: Uint8Array): void {
    ctx.store(POI_MODULE).set(key(CHUNK_HASH, idBytes(datasetId), u32(index)), hash);
  }

  async getChunkHash(ctx: Context, datasetId: string, index: number): Promise<Uint8Array | undefined> {
    return ctx.store(POI_MODULE).get(key(CHUNK_HASH, idBytes(datasetId), u32(index)));
  }

  async getChunk(ctx: Context, datasetId: string, index: number): Promise<Uint8Array | undefined> {
    return ctx.store(POI_MODULE).get(key(CHUNK, idBytes(datasetId), u32(index)));
  }

  setChunk(ctx: Context, datasetId: string, index: number, data: Uint8Array): void {
    ctx.store(POI_MODULE).set(key(CHUNK, idBytes(datasetId), u32(index)), data);
  }

  /** Bytes of items [start, start+count) of a complete dataset, read chunk by chunk. */
  async datasetItems(ctx: Context, ds: Dataset, start: bigint, count: bigint): Promise<Uint8Array> {
    const itemBytes = itemSize(ds.item!.shape) * 4n;
    const perChunk = BigInt(ds.itemsPerChunk);
    const parts: Uint8Array[] = [];
    for (let i = start; i < start + count; ) {
      const chunkIndex = i / perChunk;
      const chunk = await this.getChunk(ctx, ds.id, Number(chunkIndex));
      if (!chunk) throw new Error(`dataset ${ds.id} lacks chunk ${chunkIndex}`);
      const from = i - chunkIndex * perChunk;
      const upto = bigMin(perChunk, from + (start + count - i));
      parts.push(chunk.subarray(Number(from * itemBytes), Number(upto * itemBytes)));
      i += upto - from;
    }
    return Buffer.concat(parts);
  }

  // ---- tasks --------------------------------------------------------------------------------

  /** Returns the next task id (ids start at 1) and advances the counter. */
  async nextTaskId(ctx: Context): Promise<bigint> {
    const store = ctx.store(POI_MODULE);
    const raw = await store.get(NEXT_TASK_ID);
    const id = raw ? Buffer.from(raw).readBigUInt64BE(0) : 1n;
    store.set(NEXT_TASK_ID, u64(id + 1n));
    return id;
  }

  async getTask(ctx: Context, id: bigint): Promise<Task | undefined> {
    const raw = await ctx.store(POI_MODULE).get(key(TASK, u64(id)));
    return raw ? TaskCodec.decode(raw) : undefined;
  }

  /**
   * Writes the task, marks it written in this block (the end of the block looks at it, and its query
   * indexes follow: indexes.ts updateTaskIndexes) and, unless it is final, schedules it at the later
   * heights at which something falls due for it in its status. Nothing is unscheduled: an entry whose
   * task has moved on costs one read at its height.
   */
  setTask(ctx: Context, task: Task, final: boolean): void {
    const store = ctx.store(POI_MODULE);
    const id = u64(BigInt(task.id));
    store.set(key(TASK, id), TaskCodec.encode(task).finish());
    store.set(key(TASK_CHANGED, id), new Uint8Array());
    if (final) return;
    for (const h of dueHeights(task)) {
      if (h > ctx.header.height) store.set(key(DUE, u64(h), id), new Uint8Array());
    }
  }

  /**
   * The tasks the end of this block must look at, ascending by id: those scheduled at this height
   * (their entries are dropped) and those written in this block. Reads grow with these, never with
   * the number of open tasks.
   */
  async takeDueTaskIds(ctx: Context): Promise<bigint[]> {
    const store = ctx.store(POI_MODULE);
    const at = key(DUE, u64(ctx.header.height));
    const due = await store.iterate(at, prefixEnd(at));
    const written = await store.iterate(RECORD_PREFIX.taskChanged, prefixEnd(RECORD_PREFIX.taskChanged));
    const ids = new Set<bigint>();
    for (const [k] of due) {
      store.delete(k);
      ids.add(Buffer.from(k).readBigUInt64BE(at.length));
    }
    for (const [k] of written) ids.add(Buffer.from(k).readBigUInt64BE(1));
    return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** All tasks in id order. */
  async tasks(ctx: Context): Promise<Task[]> {
    const rows = await ctx.store(POI_MODULE).iterate(Buffer.from([TASK]), Buffer.from([TASK + 1]));
    return rows.map(([, v]) => TaskCodec.decode(v));
  }

  setTaskInputs(ctx: Context, id: bigint, data: Uint8Array): void {
    ctx.store(POI_MODULE).set(key(TASK_INPUTS, u64(id)), data);
  }

  async getTaskInputs(ctx: Context, id: bigint): Promise<Uint8Array | undefined> {
    return ctx.store(POI_MODULE).get(key(TASK_INPUTS, u64(id)));
  }

  setTaskOutputs(ctx: Context, id: bigint, data: Uint8Array | undefined): void {
    if (data) ctx.store(POI_MODULE).set(key(TASK_OUTPUTS, u64(id)), data);
    else ctx.store(POI_MODULE).delete(key(TASK_OUTPUTS, u64(id)));
  }

  async getTaskOutputs(ctx: Context, id: bigint): Promise<Uint8Array | undefined> {
    return ctx.store(POI_MODULE).get(key(TASK_OUTPUTS, u64(id)));
  }

  /** Input bytes of the given items of a task, reading each dataset chunk at most once. */
  async taskItemsAt(ctx: Context, task: Task, itemBytes: bigint, indices: readonly bigint[]): Promise<Uint8Array[]> {
    if (task.datasetId === "") {
      const all = await this.getTaskInputs(ctx, BigInt(task.id));
      if (!all) throw new Error(`task ${task.id} lacks its inline inputs`);
      return indices.map((i) => all.subarray(Number(i * itemBytes), Number((i + 1n) * itemBytes)));
    }
    const ds = await this.getDataset(ctx, task.datasetId);
    if (!ds) throw new Error(`task ${task.id}: dataset ${task.datasetId} is gone`);
    return this.datasetItemsAt(ctx, ds, indices.map((i) => BigInt(task.start) + i));
  }

  /** The bytes of each of the given items of a complete dataset, reading each chunk at most once. */
  async datasetItemsAt(ctx: Context, ds: Dataset, indices: readonly bigint[]): Promise<Uint8Array[]> {
    const itemBytes = itemSize(ds.item!.shape) * 4n;
    const perChunk = BigInt(ds.itemsPerChunk);
    const chunks = new Map<bigint, Uint8Array>();
    const out: Uint8Array[] = [];
    for (const at of indices) {
      const c = at / perChunk;
      let chunk = chunks.get(c);
      if (!chunk) {
        chunk = await this.getChunk(ctx, ds.id, Number(c));
        if (!chunk) throw new Error(`dataset ${ds.id} lacks chunk ${c}`);
        chunks.set(c, chunk);
      }
      const off = (at - c * perChunk) * itemBytes;
      out.push(chunk.subarray(Number(off), Number(off + itemBytes)));
    }
    return out;
  }

  // ---- workers ------------------------------------------------------------------------------

  async workerStats(ctx: Context, worker: Uint8Array): Promise<WorkerStats | undefined> {
    const raw = await ctx.store(POI_MODULE).get(key(WORKER, worker));
    return raw ? WorkerStatsCodec.decode(raw) : undefined;
  }

  /** Applies `change` to a worker's stats (created empty on first use). */
  async updateWorkerStats(ctx: Context, worker: Uint8Array, address: string, change: (s: WorkerStats) => void): Promise<WorkerStats> {
    const s = (await this.workerStats(ctx, worker)) ?? {
      address, verifiedWorkUnits: "0", tasksPassed: "0", tasksFailed: "0", claimsLapsed: "0", earned: "0", slashed: "0",
    };
    change(s);
    ctx.store(POI_MODULE).set(key(WORKER, worker), WorkerStatsCodec.encode(s).finish());
    return s;
  }

  /** Adds verified work units to (height, worker): the per-block record rewards and power will read. */
  async addBlockWork(ctx: Context, height: bigint, worker: Uint8Array, units: bigint): Promise<void> {
    await addToCounter(ctx, key(BLOCK_WORK, u64(height), worker), units);
  }

  /** Verified work units per worker recorded at `height`, in address order. */
  async blockWork(ctx: Context, height: bigint): Promise<Array<{ worker: Uint8Array; units: bigint }>> {
    const prefix = key(BLOCK_WORK, u64(height));
    const end = key(BLOCK_WORK, u64(height + 1n));
    const rows = await ctx.store(POI_MODULE).iterate(prefix, end);
    return rows.map(([k, v]) => ({ worker: Buffer.from(k.subarray(prefix.length)), units: Buffer.from(v).readBigUInt64BE(0) }));
  }

  // ---- vote extensions ---------------------------------------------------------------------

  /** 0 = vote extensions off: no verdicts can arrive, so tasks time out instead of being verified. */
  async voteExtensionsEnableHeight(ctx: Context): Promise<bigint> {
    const raw = await ctx.store(POI_MODULE).get(VE_ENABLE_HEIGHT);
    return raw ? Buffer.from(raw).readBigUInt64BE(0) : 0n;
  }

  setVoteExtensionsEnableHeight(ctx: Context, height: bigint): void {
    ctx.store(POI_MODULE).set(VE_ENABLE_HEIGHT, u64(height));
  }
}

/** Adds `by` to the u64 BE counter at `k` under "poi/" (absent = 0). */
export async function addToCounter(ctx: Context, k: Uint8Array, by: bigint): Promise<void> {
  const store = ctx.store(POI_MODULE);
  const raw = await store.get(k);
  store.set(k, u64((raw ? Buffer.from(raw).readBigUInt64BE(0) : 0n) + by));
}

/** Elements in one item of the given shape (dims as decimal strings); exact, never a float. */
export function itemSize(shape: readonly string[]): bigint {
  return shape.reduce((n, d) => n * BigInt(d), 1n);
}
