/**
 * Runs a train-step graph (src/x/poi/onnx/train-step.ts) in onnxruntime: one step, or a segment of
 * steps from a checkpoint. Off-chain (worker and validators' re-execution); the session options are
 * the verifier's (one thread, graph optimisations all on) unless told otherwise.
 *
 *   const runner = await TrainStepRunner.create(stepOnnx);
 *   const { params, losses } = await runner.run(start, 10, (i) => batchOf(i), 0.1);
 *   await runner.release();
 */
import * as ort from "onnxruntime-node";
import { SESSION_OPTIONS } from "../x/poi/verify/session-options";
import { validateModel, type TensorInfo } from "../x/poi/onnx/validate";
import { nextParamName, TRAIN_STEP_LOSS, TRAIN_STEP_LR, TRAIN_STEP_X, TRAIN_STEP_Y } from "../x/poi/onnx/train-step";
import type { Checkpoint } from "./checkpoint";

/** One batch: x [B, ...item] and y [B, ...out] (one-hot rows for a classifier), row-major. */
export interface TrainBatch {
  x: Float32Array;
  y: Float32Array;
}

export interface TrainStepRunnerOptions {
  /** onnxruntime intra-op threads (default 1, as the verifier runs). */
  intraOpNumThreads?: number;
}

export interface SegmentOptions {
  /** Called after each step with the new parameters; what it returns replaces them (a test knob, e.g. bf16 rounding). */
  afterStep?: (params: Checkpoint, step: number) => Checkpoint;
}

const prod = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

export class TrainStepRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** The parameters the graph takes and returns (names and dims, in order). */
    readonly params: readonly TensorInfo[],
    readonly x: TensorInfo,
    readonly y: TensorInfo,
  ) {}

  /** Items per step (the static batch dimension of x). */
  get batchSize(): number {
    return this.x.shape[0];
  }

  /** Loads a train-step graph; its interface is read with the chain's validator (which it must pass). */
  static async create(onnx: Uint8Array, opts: TrainStepRunnerOptions = {}): Promise<TrainStepRunner> {
    const summary = validateModel(onnx);
    const xAt = summary.inputs.findIndex((t) => t.name === TRAIN_STEP_X);
    const y = summary.inputs[xAt + 1];
    if (xAt < 1 || y?.name !== TRAIN_STEP_Y || summary.inputs[xAt + 2]?.name !== TRAIN_STEP_LR) {
      throw new Error(`not a train-step graph: inputs are ${summary.inputs.map((t) => t.name).join(", ")}`);
    }
    const session = await ort.InferenceSession.create(onnx, { ...SESSION_OPTIONS, intraOpNumThreads: opts.intraOpNumThreads ?? 1 });
    return new TrainStepRunner(session, summary.inputs.slice(0, xAt), summary.inputs[xAt], y);
  }

  /** One step: the parameters after it and the batch's mean loss before it. */
  async step(params: Checkpoint, batch: TrainBatch, lr: number): Promise<{ params: Checkpoint; loss: number }> {
    if (params.length !== this.params.length) throw new Error(`checkpoint has ${params.length} parameters, the graph takes ${this.params.length}`);
    const feeds: Record<string, ort.Tensor> = {};
    this.params.forEach((info, i) => {
      const p = params[i];
      if (p.name !== info.name || p.data.length !== prod(info.shape)) {
        throw new Error(`checkpoint parameter ${i} "${p.name}" (${p.data.length} values) does not match the graph's "${info.name}" [${info.shape.join(",")}]`);
      }
      feeds[info.name] = new ort.Tensor("float32", p.data, info.shape);
    });
    for (const [t, data] of [[this.x, batch.x], [this.y, batch.y]] as const) {
      if (data.length !== prod(t.shape)) throw new Error(`batch ${t.name} has ${data.length} values, the graph takes [${t.shape.join(",")}]`);
      feeds[t.name] = new ort.Tensor("float32", data, t.shape);
    }
    feeds[TRAIN_STEP_LR] = new ort.Tensor("float32", Float32Array.of(lr), []);
    const out = await this.session.run(feeds);
    const next = this.params.map((info) => ({
      name: info.name, dims: [...info.shape], data: Float32Array.from(out[nextParamName(info.name)].data as Float32Array),
    }));
    return { params: next, loss: (out[TRAIN_STEP_LOSS].data as Float32Array)[0] };
  }

  /** `steps` steps from `start` with batch `batchAt(i)` at step i (0-based within the segment). */
  async run(
    start: Checkpoint, steps: number, batchAt: (i: number) => TrainBatch, lr: number, opts: SegmentOptions = {},
  ): Promise<{ params: Checkpoint; losses: number[] }> {
    let params = start;
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const r = await this.step(params, batchAt(i), lr);
      params = opts.afterStep ? opts.afterStep(r.params, i) : r.params;
      losses.push(r.loss);
    }
    return { params, losses };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
