/**
 * The train-step interface: what a model of kind TRAIN_STEP must look like next to the inference
 * model (its parent) whose parameters it trains. Consensus code, like validate.ts: integers and
 * strings only, no clock, checks in a fixed order, the first problem named.
 *
 * A train-step graph runs one optimiser step. With the parent's parameters P1..Pn (its float32
 * initializers, in the order the parent's file lists them), its one input [1?, ...item] and its one
 * output [1?, ...out]:
 *
 *   inputs:  P1..Pn (each with Pi's shape), then
 *            "x"  [B, ...item]   a batch of B items (B ≥ 1 is the graph's batch size),
 *            "y"  [B, ...out]    the targets, float32 (for a classifier: one-hot rows; a labels
 *                                dataset is then an ordinary float32 dataset of items [classes]),
 *            "lr" []             the learning rate, a float32 scalar;
 *   outputs: "P1.next".."Pn.next" (each with Pi's shape), the parameters after the step, then
 *            "loss" []           the mean loss over the batch before the step.
 *
 * The chain checks this interface, not the arithmetic inside: the graph is the requester's recipe,
 * and what it computes is re-executed by validators (the parent's item dims are its input's and
 * output's dims after the first, which is the parent's batch dimension).
 */
import { ModelValidationError } from "./errors";
import { DEFAULT_MODEL_LIMITS } from "./limits";
import { parseModel } from "./model-parse";
import { fmtShape, sameShape } from "./tensors";

export const TRAIN_STEP_X = "x";
export const TRAIN_STEP_Y = "y";
export const TRAIN_STEP_LR = "lr";
export const TRAIN_STEP_LOSS = "loss";
/** Suffix of a parameter's updated value: output "w1.next" is parameter "w1" after the step. */
export const NEXT_SUFFIX = ".next";

export function nextParamName(param: string): string {
  return param + NEXT_SUFFIX;
}

/** A named float32 tensor with a static shape (as validateModel reports graph inputs and outputs). */
export interface TensorShape {
  name: string;
  shape: readonly number[];
  dtype: string;
}

/** What the check needs of the parent: its one input, its one output and its parameters. */
export interface ParentInterface {
  inputs: readonly TensorShape[];
  outputs: readonly TensorShape[];
  parameters: readonly TensorShape[];
}

const DT_FLOAT = 1n;

/**
 * The trainable parameters of a model: its float32 initializers, in file order (int64 initializers
 * are Reshape/ReduceSum constants, not parameters). Parses only; the bytes are a model the chain
 * validated when it was registered.
 */
export function modelParameters(bytes: Uint8Array): TensorShape[] {
  const model = parseModel(bytes, { maxNodes: DEFAULT_MODEL_LIMITS.maxNodes, maxRank: DEFAULT_MODEL_LIMITS.maxRank });
  if (model.graph === undefined) throw new ModelValidationError("model has no graph");
  return model.graph.initializers
    .filter((t) => t.dataType === DT_FLOAT)
    .map((t) => ({ name: t.name, shape: t.dims.map(Number), dtype: "float32" }));
}

/** The interface a train-step graph of `parent` with batch size `batch` must have, in order. */
export function expectedTrainStepInterface(parent: ParentInterface, batch: number): { inputs: TensorShape[]; outputs: TensorShape[] } {
  const item = parent.inputs[0].shape.slice(1);
  const out = parent.outputs[0].shape.slice(1);
  const f = (name: string, shape: readonly number[]): TensorShape => ({ name, shape, dtype: "float32" });
  return {
    inputs: [
      ...parent.parameters.map((p) => f(p.name, p.shape)),
      f(TRAIN_STEP_X, [batch, ...item]), f(TRAIN_STEP_Y, [batch, ...out]), f(TRAIN_STEP_LR, []),
    ],
    outputs: [...parent.parameters.map((p) => f(nextParamName(p.name), p.shape)), f(TRAIN_STEP_LOSS, [])],
  };
}

/**
 * Checks a validated train-step graph's inputs and outputs (validateModel's summary) against its
 * parent; returns the batch size B. Throws ModelValidationError naming the first mismatch.
 */
export function checkTrainStepInterface(
  step: { inputs: readonly TensorShape[]; outputs: readonly TensorShape[] }, parent: ParentInterface,
): number {
  const fail = (msg: string): never => {
    throw new ModelValidationError(`train-step graph: ${msg}`);
  };
  if (parent.inputs.length !== 1 || parent.outputs.length !== 1) {
    fail(`the parent model must have one input and one output, it has ${parent.inputs.length} and ${parent.outputs.length}`);
  }
  if (parent.inputs[0].shape.length === 0 || parent.outputs[0].shape.length === 0) {
    fail("the parent model's input and output must have a batch dimension (rank 1 or more)");
  }
  const n = parent.parameters.length;
  if (n === 0) fail("the parent model has no parameters (float32 initializers) to train");
  const names = new Set<string>();
  for (const p of parent.parameters) {
    if (p.name === TRAIN_STEP_X || p.name === TRAIN_STEP_Y || p.name === TRAIN_STEP_LR || names.has(p.name)) {
      fail(`the parent's parameter name "${p.name}" is reserved or repeated`);
    }
    names.add(p.name);
  }
  // The parameters first, then the batch size: x's first dimension (x comes right after them).
  compareList("input", step.inputs.slice(0, n), expectedTrainStepInterface(parent, 1).inputs.slice(0, n), n, fail, false);
  const x = step.inputs[n];
  if (x === undefined || x.name !== TRAIN_STEP_X) {
    fail(`input ${n} must be "${TRAIN_STEP_X}" (after the parent's ${n} parameters); ${describeList(step.inputs)}`);
  }
  if (x!.shape.length === 0) fail(`input "${TRAIN_STEP_X}" must have a batch dimension`);
  const batch = x!.shape[0];
  const want = expectedTrainStepInterface(parent, batch);
  compareList("input", step.inputs, want.inputs, n, fail);
  compareList("output", step.outputs, want.outputs, n, fail);
  return batch;
}

function compareList(
  what: string, got: readonly TensorShape[], want: readonly TensorShape[], params: number, fail: (m: string) => never, whole = true,
): void {
  const role = (i: number): string => (i < params ? `the parent's parameter ${i}` : "the train-step interface");
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (g === undefined) fail(`${what} ${i} is missing: ${role(i)} needs "${w.name}" ${fmtShape(w.shape)}`);
    if (g.name !== w.name) fail(`${what} ${i} is "${g.name}" but ${role(i)} needs "${w.name}" ${fmtShape(w.shape)} there`);
    if (g.dtype !== w.dtype) fail(`${what} ${i} "${g.name}" is ${g.dtype}, ${role(i)} needs ${w.dtype}`);
    if (!sameShape(g.shape, w.shape)) {
      fail(`${what} ${i} "${g.name}" has shape ${fmtShape(g.shape)} but ${role(i)} needs ${fmtShape(w.shape)}`);
    }
  }
  if (whole && got.length > want.length) {
    fail(`${what} ${want.length} "${got[want.length].name}" is extra: the graph has ${got.length} ${what}s, the interface ${want.length}`);
  }
}

function describeList(list: readonly TensorShape[]): string {
  const shown = list.slice(0, 8).map((t) => `"${t.name}"`).join(", ");
  return `the graph's inputs are ${shown}${list.length > 8 ? ", ..." : ""}`;
}
