/**
 * Codecs for our own protobuf messages (proto/poi/v1), loaded with protobufjs from the .proto files
 * at start-up. Each codec speaks the shape CosmJS's Registry expects (encode/decode/fromPartial) and
 * the shape of src/app/module.ts's ProtoCodec. Objects use camelCase field names; 64-bit integers
 * are decimal strings (exact, JSON-friendly); bytes are Uint8Array.
 */
import * as path from "node:path";
import * as fs from "node:fs";
import * as protobuf from "protobufjs";

function findProtoDir(): string {
  // src/x/poi (ts-node) or dist/src/x/poi (compiled): walk up to the folder holding proto/.
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "proto");
    if (fs.existsSync(path.join(candidate, "poi", "v1", "types.proto"))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find proto/poi/v1 above ${__dirname}`);
}

export const PROTO_DIR = findProtoDir();
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
root.loadSync(["poi/v1/types.proto", "poi/v1/tx.proto", "poi/v1/query.proto", "poi/v1/genesis.proto"]);
root.resolveAll();

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, bytes: Uint8Array as unknown as typeof String, defaults: true, arrays: true };

export interface PoiCodec<T> {
  typeUrl: string;
  encode(message: T, writer?: protobuf.Writer): protobuf.Writer;
  decode(input: Uint8Array | protobuf.Reader, length?: number): T;
  fromPartial(object: Partial<T>): T;
}

export function codec<T>(name: string): PoiCodec<T> {
  const type = root.lookupType(`poi.v1.${name}`);
  const fromPartial = (object: Partial<T>) => type.toObject(type.fromObject(object as Record<string, unknown>), TO_OBJECT) as T;
  return {
    typeUrl: `/poi.v1.${name}`,
    encode: (message, writer) => type.encode(type.fromObject(message as Record<string, unknown>), writer),
    decode: (input, length) => type.toObject(type.decode(input, length), TO_OBJECT) as T,
    fromPartial,
  };
}

export interface TensorSpec { name: string; shape: string[]; dtype: string }
export interface Model {
  id: string; owner: string; name: string; inputs: TensorSpec[]; outputs: TensorSpec[];
  workUnitsPerItem: string; sizeBytes: string; registeredHeight: string;
}
export interface Dataset {
  id: string; owner: string; name: string; item?: TensorSpec; numItems: string; numChunks: number;
  chunksReceived: number; itemsPerChunk: string; complete: boolean; createdHeight: string;
}
export interface Params {
  maxModelBytes: string; maxInitializerBytes: string; maxIntermediateElements: string;
  maxDatasetChunkBytes: string; maxDatasetItems: string;
}

export interface MsgRegisterModel { owner: string; name: string; onnx: Uint8Array; inputs: TensorSpec[]; outputs: TensorSpec[] }
export interface MsgRegisterModelResponse { modelId: string; workUnitsPerItem: string }
export interface MsgCreateDataset { owner: string; name: string; item?: TensorSpec; numItems: string; itemsPerChunk: string; chunkHashes: Uint8Array[] }
export interface MsgCreateDatasetResponse { datasetId: string; numChunks: number }
export interface MsgUploadDatasetChunk { owner: string; datasetId: string; index: number; data: Uint8Array }
export interface MsgUploadDatasetChunkResponse { chunksReceived: number; complete: boolean }

export const TensorSpecCodec = codec<TensorSpec>("TensorSpec");
export const ModelCodec = codec<Model>("Model");
export const DatasetCodec = codec<Dataset>("Dataset");
export const ParamsCodec = codec<Params>("Params");
export const MsgRegisterModelCodec = codec<MsgRegisterModel>("MsgRegisterModel");
export const MsgRegisterModelResponseCodec = codec<MsgRegisterModelResponse>("MsgRegisterModelResponse");
export const MsgCreateDatasetCodec = codec<MsgCreateDataset>("MsgCreateDataset");
export const MsgCreateDatasetResponseCodec = codec<MsgCreateDatasetResponse>("MsgCreateDatasetResponse");
export const MsgUploadDatasetChunkCodec = codec<MsgUploadDatasetChunk>("MsgUploadDatasetChunk");
export const MsgUploadDatasetChunkResponseCodec = codec<MsgUploadDatasetChunkResponse>("MsgUploadDatasetChunkResponse");

export const Q = {
  ModelRequest: codec<{ id: string }>("QueryModelRequest"),
  ModelResponse: codec<{ model?: Model }>("QueryModelResponse"),
  ModelBytesResponse: codec<{ onnx: Uint8Array }>("QueryModelBytesResponse"),
  ModelsRequest: codec<Record<string, never>>("QueryModelsRequest"),
  ModelsResponse: codec<{ models: Model[] }>("QueryModelsResponse"),
  DatasetRequest: codec<{ id: string }>("QueryDatasetRequest"),
  DatasetResponse: codec<{ dataset?: Dataset }>("QueryDatasetResponse"),
  DatasetItemsRequest: codec<{ id: string; start: string; count: string }>("QueryDatasetItemsRequest"),
  DatasetItemsResponse: codec<{ data: Uint8Array }>("QueryDatasetItemsResponse"),
  ParamsRequest: codec<Record<string, never>>("QueryParamsRequest"),
  ParamsResponse: codec<{ params?: Params }>("QueryParamsResponse"),
};
