/**
 * The worker daemon's inference tasks: the task's input items, and the run of every item through
 * onnxruntime (the validators' ReexecRunner), with a cheat plan's items fabricated instead.
 */
import type { PoiQueryClient } from "../client/query";
import { outputValuesPerItem } from "../client/poi-msgs";
import type { ReexecRunner } from "../x/poi/verify/runner";
import type { Model, Task } from "../x/poi/types";
import { datasetRange } from "./training";

const elems = (shape: readonly string[]) => shape.reduce((n, d) => n * Number(d), 1);

/** Every input item of the task as its own Float32Array (dataset pages of ≤ 2 MiB, or inline). */
export async function loadInputs(query: PoiQueryClient, t: Task, model: Model): Promise<Float32Array[]> {
  const n = Number(t.numItems);
  const itemElems = elems(model.inputs[0].shape);
  const itemBytes = itemElems * 4;
  const all = t.datasetId ? await datasetRange(query, t.datasetId, Number(t.start), n, itemBytes) : Buffer.from(await query.taskInputs(t.id));
  if (all.length !== n * itemBytes) throw new Error(`inputs are ${all.length} bytes, want ${n} items × ${itemBytes} bytes`);
  const items: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const item = new Float32Array(itemElems);
    new Uint8Array(item.buffer).set(all.subarray(i * itemBytes, (i + 1) * itemBytes));
    items.push(item);
  }
  return items;
}

/** The outputs of every item, back to back, and how many items were run and fabricated. */
export interface TaskOutputs {
  outputs: Float32Array;
  ran: number;
  fabricated: number;
}

/**
 * Runs every item through `runner` except the `fake` ones (sorted indices), whose outputs are drawn
 * from `rand`, uniform in [-5, 5]. `onRunError` sees a failure of the run itself before it is thrown.
 */
export async function runTaskItems(
  runner: ReexecRunner, model: Model, onnx: Uint8Array, inputs: Float32Array[],
  cheat: { indices: number[]; rand: () => number }, onRunError: (err: unknown) => void,
): Promise<TaskOutputs> {
  const n = inputs.length;
  const outElems = outputValuesPerItem(model);
  const fake = cheat.indices;
  const fakeSet = new Set(fake);
  const runIdx = Array.from({ length: n }, (_, i) => i).filter((i) => !fakeSet.has(i));

  const outputs = new Float32Array(n * outElems);
  if (runIdx.length > 0) {
    const res = await runner.run({
      modelId: model.id, onnx, inputName: model.inputs[0].name, inputShape: model.inputs[0].shape.map(Number),
      outputNames: model.outputs.map((o) => o.name), items: runIdx.map((i) => inputs[i]),
    }).catch((err: unknown) => {
      onRunError(err);
      throw err;
    });
    res.outputs.forEach((o, j) => {
      if (o.length !== outElems) throw new Error(`item ${runIdx[j]}: the model gave ${o.length} output values, its declared outputs hold ${outElems}`);
      outputs.set(o, runIdx[j] * outElems);
    });
  }
  for (const i of fake) for (let e = 0; e < outElems; e++) outputs[i * outElems + e] = cheat.rand() * 10 - 5;
  return { outputs, ran: runIdx.length, fabricated: fake.length };
}
