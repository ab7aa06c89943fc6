/**
 * The train-step graph of the MLP built by builder.ts (784 → H ReLU → 10, or any sizes): one SGD
 * step on the mean softmax cross-entropy of a batch, back-propagation written out in whitelisted
 * standard ops, with the interface of train-step.ts (parameters w1 b1 w2 b2, x [B,in], one-hot
 * y [B,out], lr [] in; w1.next b1.next w2.next b2.next, loss [] out).
 *
 *   forward   h = Relu(x·w1 + b1)             z = h·w2 + b2
 *   loss      L = −(1/B) Σ y ⊙ LogSoftmax(z)
 *   backward  dz = (Softmax(z) − y) · (1/B)
 *             dw2 = hᵀ·dz        db2 = Σ_rows dz
 *             dh = (dz·w2ᵀ) ⊙ Sign(h)        (Sign(h) is the ReLU mask: 1 where h > 0, else 0)
 *             dw1 = xᵀ·dh        db1 = Σ_rows dh
 *   SGD       p.next = p − lr·dp
 *
 * Sums over rows are ReduceSum over axis 0. Every value is float32; onnxruntime runs it as is
 * (the test suite checks it against a float64 reference and finite differences).
 */
import { attr, GraphBuilder, MLP_PARAMS, mlpParamShapes, type ModelOptions } from "./builder";
import { nextParamName, TRAIN_STEP_LOSS, TRAIN_STEP_LR, TRAIN_STEP_X, TRAIN_STEP_Y } from "./train-step";

export interface MlpTrainStepSpec {
  inputSize: number;
  hidden: number;
  outputs: number;
  /** Items per step (the static batch dimension of x and y). */
  batchSize: number;
}

/** The train-step graph of the MLP (see the file comment). */
export function buildMlpTrainStepGraph(spec: MlpTrainStepSpec): GraphBuilder {
  const { inputSize, hidden, outputs, batchSize: B } = spec;
  for (const [k, v] of Object.entries(spec)) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`train-step ${k} must be a positive integer, got ${v}`);
  }
  const shapes = mlpParamShapes(inputSize, hidden, outputs);
  const g = new GraphBuilder("mlp_train_step");
  for (const p of MLP_PARAMS) g.addInput(p, shapes[p]);
  g.addInput(TRAIN_STEP_X, [B, inputSize]).addInput(TRAIN_STEP_Y, [B, outputs]).addInput(TRAIN_STEP_LR, []);
  g.addInitializer("inv_batch", [], Float32Array.of(1 / B))
    .addInitializer("neg_inv_batch", [], Float32Array.of(-1 / B))
    .addInitializer("rows", [1], BigInt64Array.of(0n));

  const T = (name: string, out: string) => g.addNode("Transpose", [name], [out], [attr.ints("perm", [1, 0])], `${out}_op`);
  const op = (type: string, ins: string[], out: string, attrs = [] as ReturnType<typeof attr.int>[]) =>
    g.addNode(type, ins, [out], attrs, `${out}_op`);
  const rowSum = (name: string, out: string) => op("ReduceSum", [name, "rows"], out, [attr.int("keepdims", 0)]);

  // forward
  op("MatMul", [TRAIN_STEP_X, "w1"], "h_mm");
  op("Add", ["h_mm", "b1"], "h_pre");
  op("Relu", ["h_pre"], "h");
  op("MatMul", ["h", "w2"], "z_mm");
  op("Add", ["z_mm", "b2"], "z");
  // loss: −(1/B) Σ y ⊙ log softmax(z)
  op("LogSoftmax", ["z"], "logp", [attr.int("axis", 1)]);
  op("Mul", [TRAIN_STEP_Y, "logp"], "y_logp");
  op("ReduceSum", ["y_logp"], "sum_y_logp", [attr.int("keepdims", 0)]);
  op("Mul", ["sum_y_logp", "neg_inv_batch"], TRAIN_STEP_LOSS);
  // backward
  op("Softmax", ["z"], "p", [attr.int("axis", 1)]);
  op("Sub", ["p", TRAIN_STEP_Y], "p_minus_y");
  op("Mul", ["p_minus_y", "inv_batch"], "dz");
  T("h", "h_t");
  op("MatMul", ["h_t", "dz"], "dw2");
  rowSum("dz", "db2");
  T("w2", "w2_t");
  op("MatMul", ["dz", "w2_t"], "dh");
  op("Sign", ["h"], "relu_mask");
  op("Mul", ["dh", "relu_mask"], "dh_pre");
  T(TRAIN_STEP_X, "x_t");
  op("MatMul", ["x_t", "dh_pre"], "dw1");
  rowSum("dh_pre", "db1");
  // SGD
  for (const p of MLP_PARAMS) {
    op("Mul", [TRAIN_STEP_LR, `d${p}`], `lr_d${p}`);
    op("Sub", [p, `lr_d${p}`], nextParamName(p));
  }
  for (const p of MLP_PARAMS) g.addOutput(nextParamName(p), shapes[p]);
  return g.addOutput(TRAIN_STEP_LOSS, []);
}

/** ModelProto bytes of the MLP's train-step graph. */
export function buildMlpTrainStep(spec: MlpTrainStepSpec, opts: ModelOptions = {}): Uint8Array {
  return buildMlpTrainStepGraph(spec).toBytes(opts);
}
