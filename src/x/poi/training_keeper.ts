/**
 * Training tasks in state (README, "Training tasks"), next to keeper.ts's keys under "poi/":
 *
 *   0x40 | task u64                          -> TrainingSpec (the terms, fixed at submission)
 *   0x41 | task u64                          -> TrainingAttempt (the current attempt: requests, reveals)
 *   0x42 | task u64                          -> loss trace of the current (or passed) attempt, T float32 LE
 *   0x43 | task u64 | index u32 | chunk u32  -> a revealed checkpoint chunk (pruned once the attempt is decided)
 *
 * Stateless like the other keepers: every call takes the context.
 */
import type { Context } from "../../app/context";
import { u64 } from "../../util/bigint";
import { prefixEnd } from "../../store/prefix";
import { POI_MODULE, type PoiKeeper } from "./keeper";
import { checkpointChunkCount } from "./training";
import { TrainingAttemptCodec, TrainingSpecCodec, type Task, type TrainingAttempt, type TrainingSpec } from "./types";

const SPEC = 0x40;
const ATTEMPT = 0x41;
const LOSSES = 0x42;
const CHECKPOINT = 0x43;

const key = (prefix: number, ...parts: Uint8Array[]) => Buffer.concat([Buffer.from([prefix]), ...parts]);
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

export class TrainingKeeper {
  async spec(ctx: Context, taskId: bigint): Promise<TrainingSpec | undefined> {
    const raw = await ctx.store(POI_MODULE).get(key(SPEC, u64(taskId)));
    return raw ? TrainingSpecCodec.decode(raw) : undefined;
  }

  setSpec(ctx: Context, taskId: bigint, spec: TrainingSpec): void {
    ctx.store(POI_MODULE).set(key(SPEC, u64(taskId)), TrainingSpecCodec.encode(spec).finish());
  }

  /** The record of the task's current attempt (undefined before its commitment). */
  async attempt(ctx: Context, task: Task): Promise<TrainingAttempt | undefined> {
    const raw = await ctx.store(POI_MODULE).get(key(ATTEMPT, u64(BigInt(task.id))));
    const a = raw ? TrainingAttemptCodec.decode(raw) : undefined;
    return a && a.attempt === task.attempt ? a : undefined;
  }

  setAttempt(ctx: Context, taskId: bigint, a: TrainingAttempt): void {
    ctx.store(POI_MODULE).set(key(ATTEMPT, u64(taskId)), TrainingAttemptCodec.encode(a).finish());
  }

  async lossTrace(ctx: Context, taskId: bigint): Promise<Uint8Array | undefined> {
    return ctx.store(POI_MODULE).get(key(LOSSES, u64(taskId)));
  }

  setLossTrace(ctx: Context, taskId: bigint, bytes: Uint8Array): void {
    ctx.store(POI_MODULE).set(key(LOSSES, u64(taskId)), bytes);
  }

  async chunk(ctx: Context, taskId: bigint, index: number, chunk: number): Promise<Uint8Array | undefined> {
    return ctx.store(POI_MODULE).get(key(CHECKPOINT, u64(taskId), u32(index), u32(chunk)));
  }

  setChunk(ctx: Context, taskId: bigint, index: number, chunk: number, data: Uint8Array): void {
    ctx.store(POI_MODULE).set(key(CHECKPOINT, u64(taskId), u32(index), u32(chunk)), data);
  }

  /** Chunks of checkpoint `index` revealed so far. */
  async chunksHeld(ctx: Context, taskId: bigint, index: number): Promise<number> {
    const prefix = key(CHECKPOINT, u64(taskId), u32(index));
    return (await ctx.store(POI_MODULE).iterate(prefix, prefixEnd(prefix))).length;
  }

  /** The bytes of a fully revealed checkpoint (undefined while a chunk is missing). */
  async checkpoint(ctx: Context, taskId: bigint, index: number, spec: TrainingSpec): Promise<Uint8Array | undefined> {
    const prefix = key(CHECKPOINT, u64(taskId), u32(index));
    const rows = await ctx.store(POI_MODULE).iterate(prefix, prefixEnd(prefix));
    if (BigInt(rows.length) !== checkpointChunkCount(BigInt(spec.paramBytes), BigInt(spec.checkpointChunkBytes))) return undefined;
    return Buffer.concat(rows.map(([, v]) => v));
  }

  /** Deletes every revealed checkpoint chunk of the task (after a decision). */
  async pruneCheckpoints(ctx: Context, taskId: bigint): Promise<void> {
    const store = ctx.store(POI_MODULE);
    const prefix = key(CHECKPOINT, u64(taskId));
    for (const [k] of await store.iterate(prefix, prefixEnd(prefix))) store.delete(k);
  }

  /** Drops what belongs to the attempt that ended (its record, loss trace and checkpoints). */
  async clearAttempt(ctx: Context, taskId: bigint): Promise<void> {
    const store = ctx.store(POI_MODULE);
    store.delete(key(ATTEMPT, u64(taskId)));
    store.delete(key(LOSSES, u64(taskId)));
    await this.pruneCheckpoints(ctx, taskId);
  }

  /** The initial parameters (checkpoint 0): the items of the task's parameter dataset, concatenated. */
  async initialParams(ctx: Context, keeper: PoiKeeper, spec: TrainingSpec): Promise<Uint8Array> {
    const ds = await keeper.getDataset(ctx, spec.initialParamsDatasetId);
    if (!ds) throw new Error(`dataset ${spec.initialParamsDatasetId} of the initial parameters is gone`);
    return keeper.datasetItems(ctx, ds, 0n, BigInt(ds.numItems));
  }
}
