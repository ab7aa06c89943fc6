import { sha256 } from "@noble/hashes/sha2.js";
import { type MsgHandler, msgHandler } from "../../../app/module";
import { clip } from "../../../app/errors";
import { parseAddress, formatAddress } from "../../../app/address";
import { validateModel, ModelValidationError } from "../onnx/validate";
import { checkTrainStepInterface, modelParameters } from "../onnx/train-step";
import { ErrDatasetExists, ErrDatasetNotFound, ErrInvalidChunk, ErrInvalidDataset, ErrInvalidModel, ErrModelExists, ErrModelNotFound } from "../errors";
import { contentId, isContentId, itemSize, POI_MODULE, RECORD_PREFIX, type PoiKeeper } from "../keeper";
import { addToCount } from "../indexes";
import { datasetId } from "../dataset_id";
import {
  MsgRegisterModelCodec, MsgRegisterModelResponseCodec, MsgCreateDatasetCodec, MsgCreateDatasetResponseCodec,
  MsgUploadDatasetChunkCodec, MsgUploadDatasetChunkResponseCodec, MODEL_KIND_NAMES, ModelKind, type MsgRegisterModel, type MsgCreateDataset,
  type MsgUploadDatasetChunk, type Model, type TensorSpec,
} from "../types";

const MAX_NAME = 64;
/** Stateless ceiling on uploads; the state params may be lower. */
const HARD_MAX_BYTES = 4 * 1024 * 1024;
const MAX_CHUNKS = 100_000;

function checkName(name: string, what: string): void {
  if ([...name].length > MAX_NAME) throw ErrInvalidModel(`${what} name is longer than ${MAX_NAME} characters`);
}

const sameSpec = (a: TensorSpec, b: { name: string; shape: number[]; dtype: string }) =>
  a.name === b.name && a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === String(b.shape[i]));

/** A stored TensorSpec with numeric dims (the chain wrote them from validated shapes: decimal integers). */
const specShape = (s: TensorSpec) => ({ name: s.name, shape: s.shape.map(Number), dtype: s.dtype });

/** Validator errors become ErrInvalidModel with the validator's message. */
function asInvalidModel<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ModelValidationError) throw ErrInvalidModel(err.message);
    throw err;
  }
}

function describe(specs: ReadonlyArray<{ name: string; shape: ReadonlyArray<number | string>; dtype: string }>): string {
  return clip(specs.map((s) => `${s.name}[${s.shape.join(",")}]:${s.dtype}`).join(", ") || "none", 512);
}

/** Model and dataset registry: MsgRegisterModel, MsgCreateDataset, MsgUploadDatasetChunk. */
export function registryMsgHandlers(keeper: PoiKeeper): MsgHandler[] {
  /** The parent a train-step graph names: a registered inference model. */
  async function trainableParent(ctx: Parameters<PoiKeeper["getModel"]>[0], parentId: string): Promise<Model> {
    const parent = await keeper.getModel(ctx, parentId);
    if (!parent) throw ErrModelNotFound(`parent model ${parentId} of the train_step model`);
    if (parent.kind !== ModelKind.INFERENCE) {
      throw ErrInvalidModel(`parent model ${parentId} is a ${MODEL_KIND_NAMES[parent.kind] ?? parent.kind} model; a train_step model trains an inference model`);
    }
    return parent;
  }

  const registerModel: MsgHandler<MsgRegisterModel & { ownerBytes: Uint8Array }> = {
    typeUrl: MsgRegisterModelCodec.typeUrl,
    module: POI_MODULE,
    decode(value) {
      const m = MsgRegisterModelCodec.decode(value);
      const ownerBytes = parseAddress(m.owner, "owner");
      checkName(m.name, "model");
      if (m.onnx.length === 0) throw ErrInvalidModel("onnx bytes are empty");
      if (m.onnx.length > HARD_MAX_BYTES) throw ErrInvalidModel(`model is ${m.onnx.length} bytes, limit ${HARD_MAX_BYTES}`);
      if (m.kind === ModelKind.INFERENCE) {
        if (m.parentModelId !== "") throw ErrInvalidModel("parent_model_id is set, but only a train_step model has a parent");
      } else if (m.kind === ModelKind.TRAIN_STEP) {
        if (!isContentId(m.parentModelId)) throw ErrInvalidModel(`parent_model_id "${clip(m.parentModelId)}" of the train_step model is not 64 hex characters`);
      } else {
        throw ErrInvalidModel(`unknown model kind ${m.kind} (want ${ModelKind.INFERENCE} inference or ${ModelKind.TRAIN_STEP} train_step)`);
      }
      return { ...m, ownerBytes };
    },
    signers: (m) => [m.ownerBytes],
    async handle(ctx, m) {
      const params = await keeper.params(ctx);
      if (m.onnx.length > Number(params.maxModelBytes)) throw ErrInvalidModel(`model is ${m.onnx.length} bytes, limit ${params.maxModelBytes}`);
      const id = contentId(m.onnx);
      if (await keeper.getModel(ctx, id)) throw ErrModelExists(`model ${id}`);
      const parent = m.kind === ModelKind.TRAIN_STEP ? await trainableParent(ctx, m.parentModelId) : undefined;
      const info = asInvalidModel(() => validateModel(m.onnx, {
        maxModelBytes: Number(params.maxModelBytes),
        maxInitializerBytes: Number(params.maxInitializerBytes),
        maxIntermediateElements: Number(params.maxIntermediateElements),
      }));
      // The declared metadata must be exactly what the graph says.
      if (m.inputs.length !== info.inputs.length || !m.inputs.every((s, i) => sameSpec(s, info.inputs[i]))) {
        throw ErrInvalidModel(`declared inputs ${describe(m.inputs)} differ from the graph's ${describe(info.inputs)}`);
      }
      if (m.outputs.length !== info.outputs.length || !m.outputs.every((s, i) => sameSpec(s, info.outputs[i]))) {
        throw ErrInvalidModel(`declared outputs ${describe(m.outputs)} differ from the graph's ${describe(info.outputs)}`);
      }
      if (parent) {
        // The parameter inputs and outputs must be exactly the parent's initializers (names, dtypes, shapes).
        const parentBytes = await keeper.getModelBytes(ctx, parent.id);
        if (!parentBytes) throw ErrModelNotFound(`bytes of parent model ${parent.id}`);
        asInvalidModel(() => checkTrainStepInterface(info, {
          inputs: parent.inputs.map(specShape), outputs: parent.outputs.map(specShape), parameters: modelParameters(parentBytes),
        }));
      }
      const workUnits = info.workUnitsPerItem.toString();
      keeper.setModel(ctx, {
        id, owner: formatAddress(m.ownerBytes), name: m.name, inputs: m.inputs, outputs: m.outputs,
        workUnitsPerItem: workUnits, sizeBytes: String(m.onnx.length), registeredHeight: ctx.header.height.toString(),
        flagged: false, flagReason: "", flaggedHeight: "0", kind: m.kind, parentModelId: m.parentModelId,
      }, m.onnx);
      await addToCount(ctx.store(POI_MODULE), RECORD_PREFIX.model, 1n);
      ctx.events.emit("poi_model_registered", [
        ["model_id", id], ["owner", formatAddress(m.ownerBytes)], ["work_units_per_item", workUnits], ["size_bytes", String(m.onnx.length)],
        ["kind", MODEL_KIND_NAMES[m.kind]], ...(parent ? [["parent_model_id", parent.id] as [string, string]] : []),
      ]);
      return { typeUrl: MsgRegisterModelResponseCodec.typeUrl, value: MsgRegisterModelResponseCodec.encode({ modelId: id, workUnitsPerItem: workUnits }).finish() };
    },
  };

  const createDataset: MsgHandler<MsgCreateDataset & { ownerBytes: Uint8Array; item: TensorSpec; id: string; numItems: string }> = {
    typeUrl: MsgCreateDatasetCodec.typeUrl,
    module: POI_MODULE,
    decode(value) {
      const m = MsgCreateDatasetCodec.decode(value);
      const ownerBytes = parseAddress(m.owner, "owner");
      checkName(m.name, "dataset");
      if (!m.item) throw ErrInvalidDataset("item spec is missing");
      if (m.item.dtype !== "float32") throw ErrInvalidDataset(`item dtype "${clip(m.item.dtype)}" is not supported; use float32`);
      if (m.item.shape.length === 0 || m.item.shape.length > 8 || !m.item.shape.every((d) => /^[1-9][0-9]{0,6}$/.test(d))) {
        throw ErrInvalidDataset(`item shape [${clip(m.item.shape.join(","))}] must have 1..8 positive dims of at most 7 digits`);
      }
      const numItems = BigInt(m.numItems);
      const perChunk = BigInt(m.itemsPerChunk);
      if (numItems === 0n) throw ErrInvalidDataset("num_items must be positive");
      if (perChunk === 0n) throw ErrInvalidDataset("items_per_chunk must be positive");
      const chunks = (numItems + perChunk - 1n) / perChunk;
      if (chunks > BigInt(MAX_CHUNKS)) throw ErrInvalidDataset(`${chunks} chunks is more than ${MAX_CHUNKS}`);
      if (BigInt(m.chunkHashes.length) !== chunks) throw ErrInvalidDataset(`${numItems} items in chunks of ${perChunk} make ${chunks} chunks, but ${m.chunkHashes.length} chunk hashes were given`);
      if (!m.chunkHashes.every((h) => h.length === 32)) throw ErrInvalidDataset("every chunk hash must be 32 bytes (sha256)");
      const id = datasetId(m.item, numItems, perChunk, m.chunkHashes);
      return { ...m, ownerBytes, item: m.item, id, numItems: numItems.toString() };
    },
    signers: (m) => [m.ownerBytes],
    async handle(ctx, m) {
      const params = await keeper.params(ctx);
      if (BigInt(m.numItems) > BigInt(params.maxDatasetItems)) throw ErrInvalidDataset(`${m.numItems} items is more than ${params.maxDatasetItems}`);
      const chunkBytes = BigInt(m.itemsPerChunk) * itemSize(m.item.shape) * 4n;
      if (chunkBytes > BigInt(params.maxDatasetChunkBytes)) throw ErrInvalidDataset(`a chunk would be ${chunkBytes} bytes, limit ${params.maxDatasetChunkBytes}`);
      if (await keeper.getDataset(ctx, m.id)) throw ErrDatasetExists(`dataset ${m.id}`);
      keeper.setDataset(ctx, {
        id: m.id, owner: formatAddress(m.ownerBytes), name: m.name, item: m.item, numItems: m.numItems, numChunks: m.chunkHashes.length,
        chunksReceived: 0, itemsPerChunk: m.itemsPerChunk, complete: false, createdHeight: ctx.header.height.toString(),
      });
      for (const [i, h] of m.chunkHashes.entries()) keeper.setChunkHash(ctx, m.id, i, h);
      await addToCount(ctx.store(POI_MODULE), RECORD_PREFIX.dataset, 1n);
      ctx.events.emit("poi_dataset_created", [["dataset_id", m.id], ["owner", formatAddress(m.ownerBytes)], ["num_items", m.numItems], ["num_chunks", String(m.chunkHashes.length)]]);
      return { typeUrl: MsgCreateDatasetResponseCodec.typeUrl, value: MsgCreateDatasetResponseCodec.encode({ datasetId: m.id, numChunks: m.chunkHashes.length }).finish() };
    },
  };

  const uploadChunk: MsgHandler<MsgUploadDatasetChunk & { ownerBytes: Uint8Array }> = {
    typeUrl: MsgUploadDatasetChunkCodec.typeUrl,
    module: POI_MODULE,
    decode(value) {
      const m = MsgUploadDatasetChunkCodec.decode(value);
      const ownerBytes = parseAddress(m.owner, "owner");
      if (!isContentId(m.datasetId)) throw ErrInvalidChunk(`dataset id "${clip(m.datasetId)}" is not 64 hex characters`);
      if (m.data.length === 0) throw ErrInvalidChunk("chunk is empty");
      return { ...m, ownerBytes };
    },
    signers: (m) => [m.ownerBytes],
    async handle(ctx, m) {
      const ds = await keeper.getDataset(ctx, m.datasetId);
      if (!ds) throw ErrDatasetNotFound(`dataset ${m.datasetId}`);
      if (ds.owner !== formatAddress(m.ownerBytes)) throw ErrInvalidChunk(`only the dataset's owner ${ds.owner} may upload its chunks`);
      if (m.index >= ds.numChunks) throw ErrInvalidChunk(`chunk index ${m.index} is out of range; the dataset has ${ds.numChunks} chunks`);
      if (await keeper.getChunk(ctx, ds.id, m.index)) throw ErrInvalidChunk(`chunk ${m.index} was already uploaded`);
      const perChunk = BigInt(ds.itemsPerChunk);
      const itemsHere = m.index === ds.numChunks - 1 ? BigInt(ds.numItems) - perChunk * BigInt(ds.numChunks - 1) : perChunk;
      const want = itemsHere * itemSize(ds.item!.shape) * 4n;
      if (BigInt(m.data.length) !== want) throw ErrInvalidChunk(`chunk ${m.index} is ${m.data.length} bytes, want ${want} (${itemsHere} items)`);
      const expected = await keeper.getChunkHash(ctx, ds.id, m.index);
      if (!expected || !Buffer.from(sha256(m.data)).equals(expected)) throw ErrInvalidChunk(`chunk ${m.index} does not match its announced sha256`);
      keeper.setChunk(ctx, ds.id, m.index, m.data);
      const updated = { ...ds, chunksReceived: ds.chunksReceived + 1, complete: ds.chunksReceived + 1 === ds.numChunks };
      keeper.setDataset(ctx, updated);
      ctx.events.emit("poi_dataset_chunk", [["dataset_id", ds.id], ["index", String(m.index)], ["chunks_received", String(updated.chunksReceived)], ["complete", String(updated.complete)]]);
      return {
        typeUrl: MsgUploadDatasetChunkResponseCodec.typeUrl,
        value: MsgUploadDatasetChunkResponseCodec.encode({ chunksReceived: updated.chunksReceived, complete: updated.complete }).finish(),
      };
    },
  };

  return [msgHandler(registerModel), msgHandler(createDataset), msgHandler(uploadChunk)];
}

