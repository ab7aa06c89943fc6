/**
 * A registered inference model with other parameters: the same ModelProto bytes, field for field,
 * with the raw_data of each float32 initializer (its parameters, in file order: train-step.ts's
 * modelParameters) replaced by the next slice of a flat float32 LE vector. This is how a training
 * task's final parameters become a model (consensus code: byte copies and integer arithmetic only),
 * and what the verifiers evaluate on the held-out range, so both see the same bytes.
 *
 * The input is a model the chain validated, whose initializers carry raw_data only (validate.ts
 * refuses typed data fields and external data).
 */
import { encodeUvarint } from "../../../util/varint";
import { ModelValidationError } from "./errors";
import { readRepeatedVarint, WireReader, WireType } from "./wire";

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_DIMS = 1;
const TENSOR_DATA_TYPE = 2;
const TENSOR_RAW_DATA = 9;
const DT_FLOAT = 1n;

interface Field { field: number; wireType: number; start: number; end: number; value?: Uint8Array }

function fields(buf: Uint8Array, where: string): Field[] {
  const r = new WireReader(buf, where);
  const out: Field[] = [];
  while (!r.done) {
    const start = r.offset;
    const { field, wireType } = r.tag();
    let value: Uint8Array | undefined;
    if (wireType === WireType.LEN) value = r.bytes();
    else r.skip(wireType);
    out.push({ field, wireType, start, end: r.offset, value });
  }
  return out;
}

function lenField(field: number, value: Uint8Array): Buffer {
  return Buffer.concat([encodeUvarint(field * 8 + WireType.LEN), encodeUvarint(value.length), value]);
}

/** Rewrites `buf`'s LEN fields numbered `field` with `change` (undefined keeps the field as it is). */
function rewrite(buf: Uint8Array, where: string, field: number, change: (value: Uint8Array) => Uint8Array | undefined): Buffer {
  return Buffer.concat(fields(buf, where).map((f) => {
    const next = f.field === field && f.value !== undefined ? change(f.value) : undefined;
    return next === undefined ? buf.subarray(f.start, f.end) : lenField(field, next);
  }));
}

/** `onnx` with its float32 initializers' data taken, in order, from `params` (float32 LE); every byte of `params` must be used. */
export function withParameters(onnx: Uint8Array, params: Uint8Array): Uint8Array {
  let at = 0;
  const fail = (msg: string): never => { throw new ModelValidationError(`replacing the parameters: ${msg}`); };
  const out = rewrite(onnx, "model", MODEL_GRAPH, (graph) => rewrite(graph, "graph", GRAPH_INITIALIZER, (tensor) => {
    const fs = fields(tensor, "initializer");
    const type = fs.find((f) => f.field === TENSOR_DATA_TYPE && f.wireType === WireType.VARINT);
    if (!type) return undefined;
    const r = new WireReader(tensor.subarray(type.start, type.end), "data_type");
    r.tag();
    if (r.varint() !== DT_FLOAT) return undefined;
    const dims: bigint[] = [];
    for (const f of fs.filter((x) => x.field === TENSOR_DIMS)) {
      const d = new WireReader(tensor.subarray(f.start, f.end), "dims");
      d.tag();
      readRepeatedVarint(d, f.wireType, dims, 64, "dims");
    }
    const bytes = Number(dims.reduce((n, d) => n * d, 1n) * 4n);
    if (at + bytes > params.length) fail(`the parameters are ${params.length} bytes, the model's float32 initializers need more`);
    const slice = params.subarray(at, at + bytes);
    at += bytes;
    return Buffer.concat(fs.map((f) => (f.field === TENSOR_RAW_DATA ? lenField(TENSOR_RAW_DATA, slice) : tensor.subarray(f.start, f.end))));
  }));
  if (at !== params.length) fail(`the parameters are ${params.length} bytes, the model's float32 initializers hold ${at}`);
  return out;
}
