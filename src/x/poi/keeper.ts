import { sha256 } from "@noble/hashes/sha2.js";
import type { Context } from "../../app/context";
import { ParamsCodec, ModelCodec, DatasetCodec, type Model, type Dataset, type Params } from "./types";

export const POI_MODULE = "poi";

// Key layout inside "poi/":
//   0x00                          -> Params
//   0x01 | model id (32 bytes)    -> Model (metadata)
//   0x02 | model id               -> ONNX bytes
//   0x03 | dataset id (32 bytes)  -> Dataset (metadata)
//   0x04 | dataset id | index u32 -> sha256 the chunk must have (announced at creation)
//   0x05 | dataset id | index u32 -> chunk bytes
const PARAMS = Buffer.from([0x00]);
const MODEL = 0x01;
const MODEL_BYTES = 0x02;
const DATASET = 0x03;
const CHUNK_HASH = 0x04;
const CHUNK = 0x05;

const key = (prefix: number, ...parts: Uint8Array[]) => Buffer.concat([Buffer.from([prefix]), ...parts]);
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
export const hexId = (id: string) => Buffer.from(id, "hex");

export const DEFAULT_PARAMS: Params = {
  maxModelBytes: String(4 * 1024 * 1024 - 64 * 1024), // fits a tx under CometBFT's 4 MiB cap
  maxInitializerBytes: String(4 * 1024 * 1024),
  maxIntermediateElements: String(1 << 22),
  maxDatasetChunkBytes: String(1024 * 1024),
  maxDatasetItems: "1000000",
};

/** Model and dataset ids: 64 lowercase hex characters (a sha256). */
export function isContentId(id: string): boolean {
  return /^[0-9a-f]{64}$/.test(id);
}

export function contentId(bytes: Uint8Array): string {
  return Buffer.from(sha256(bytes)).toString("hex");
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
    const raw = await ctx.store(POI_MODULE).get(key(MODEL, hexId(id)));
    return raw ? ModelCodec.decode(raw) : undefined;
  }

  async getModelBytes(ctx: Context, id: string): Promise<Uint8Array | undefined> {
    if (!isContentId(id)) return undefined;
    return ctx.store(POI_MODULE).get(key(MODEL_BYTES, hexId(id)));
  }

  setModel(ctx: Context, model: Model, onnx: Uint8Array): void {
    const store = ctx.store(POI_MODULE);
    store.set(key(MODEL, hexId(model.id)), ModelCodec.encode(model).finish());
    store.set(key(MODEL_BYTES, hexId(model.id)), onnx);
  }

  /** All models in id order. */
  async models(ctx: Context): Promise<Model[]> {
    const rows = await ctx.store(POI_MODULE).iterate(Buffer.from([MODEL]), Buffer.from([MODEL + 1]));
    return rows.map(([, v]) => ModelCodec.decode(v));
  }

  async getDataset(ctx: Context, id: string): Promise<Dataset | undefined> {
    if (!isContentId(id)) return undefined;
    const raw = await ctx.store(POI_MODULE).get(key(DATASET, hexId(id)));
    return raw ? DatasetCodec.decode(raw) : undefined;
  }

  setDataset(ctx: Context, ds: Dataset): void {
    ctx.store(POI_MODULE).set(key(DATASET, hexId(ds.id)), DatasetCodec.encode(ds).finish());
  }

  setChunkHash(ctx: Context, datasetId: string, index: number, hash: Uint8Array): void {
    ctx.store(POI_MODULE).set(key(CHUNK_HASH, hexId(datasetId), u32(index)), hash);
  }

  async getChunkHash(ctx: Context, datasetId: string, index: number): Promise<Uint8Array | undefined> {
    return ctx.store(POI_MODULE).get(key(CHUNK_HASH, hexId(datasetId), u32(index)));
  }

  async getChunk(ctx: Context, datasetId: string, index: number): Promise<Uint8Array | undefined> {
    return ctx.store(POI_MODULE).get(key(CHUNK, hexId(datasetId), u32(index)));
  }

  setChunk(ctx: Context, datasetId: string, index: number, data: Uint8Array): void {
    ctx.store(POI_MODULE).set(key(CHUNK, hexId(datasetId), u32(index)), data);
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
}

const bigMin = (a: bigint, b: bigint) => (a < b ? a : b);

/** Elements in one item of the given shape (dims as decimal strings); exact, never a float. */
export function itemSize(shape: readonly string[]): bigint {
  return shape.reduce((n, d) => n * BigInt(d), 1n);
}
