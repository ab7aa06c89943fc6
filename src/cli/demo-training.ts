/**
 * The demo's training task (`npm start`): the requester registers an untrained MNIST MLP and its
 * train-step graph, uploads one-hot labels and random initial parameters (the digits are the demo's
 * dataset), and submits 300 SGD steps of batch 32 over digits [0, 1000), held out [1000, 2000). The
 * workers train it; once it passes, the demo's inference tasks use the model it produced.
 */
import type { PoiQueryClient } from "../client/query";
import type { PoiTxClient } from "../client/tx";
import { encodeCheckpoint, mlpCheckpoint } from "../ml/checkpoint";
import { initMlpWeights, loadMnist, randomMlpWeights } from "../ml/train";
import { buildMlp, MLP_OUTPUT } from "../x/poi/onnx/builder";
import { buildMlpTrainStep } from "../x/poi/onnx/train-step-builder";
import { validateModel } from "../x/poi/onnx/validate";
import { TASK_STATUS_NAMES, TaskStatus } from "../x/poi/types";

const HIDDEN = 64;
const STEPS = 300;
const BATCH = 32;
/** Digits [0, TRAIN) train; [TRAIN, 2 × TRAIN) are held out. */
const TRAIN = 1000;

const spec = (x: { name: string; shape: number[]; dtype: string }) => ({ name: x.name, shape: x.shape.map(String), dtype: x.dtype });

/** Registers a model unless the requester has one of that name already. */
async function model(requester: PoiTxClient, onnx: Uint8Array, name: string, trainStepOf?: string): Promise<string> {
  const found = (await requester.query.models()).find((m) => m.name === name && m.owner === requester.address);
  if (found) return found.id;
  const info = validateModel(onnx);
  return (await requester.registerModel(onnx, name, info.inputs.map(spec), info.outputs.map(spec), { trainStepOf })).modelId;
}

/** Submits the training task over the demo's digits dataset (`xDatasetId`, ≥ 2,000 digits); its id. */
export async function submitTrainingDemo(requester: PoiTxClient, xDatasetId: string, log: (line: string) => void): Promise<string> {
  const parentId = await model(requester, buildMlp({ inputSize: 784, hidden: HIDDEN, outputs: 10, weights: randomMlpWeights(784, HIDDEN, 10, 7) }), "mnist-mlp-untrained");
  const stepId = await model(requester, buildMlpTrainStep({ inputSize: 784, hidden: HIDDEN, outputs: 10, batchSize: BATCH }), "mnist-mlp-train-step", parentId);
  const labels = loadMnist().labels.slice(0, 2 * TRAIN);
  const y = new Float32Array(labels.length * 10);
  labels.forEach((l, i) => { y[i * 10 + l] = 1; });
  const yId = (await requester.uploadDataset("mnist-labels-onehot", { name: MLP_OUTPUT, shape: ["10"], dtype: "float32" }, y, 2 * TRAIN, { reuseComplete: true })).datasetId;
  const initial = encodeCheckpoint(mlpCheckpoint(initMlpWeights(784, HIDDEN, 10, 11)));
  const paramsId = (await requester.uploadDataset("mnist-mlp-init", { name: "params", shape: [String(initial.length / 4)], dtype: "float32" },
    new Float32Array(initial.buffer.slice(0)), 1, { reuseComplete: true })).datasetId;
  const { taskId } = await requester.submitTrainingTask({
    modelId: stepId, initialParamsDatasetId: paramsId, xDatasetId, yDatasetId: yId, train: { start: 0, count: TRAIN }, heldOut: { start: TRAIN, count: TRAIN },
    steps: STEPS, batchSize: BATCH, learningRate: "0.1", checkpointInterval: 10, k: 2, reward: 5_000_000n, bond: 5_000_000n, minAccuracyBps: 8500, deadlineBlocks: 300,
  });
  log(`requester: training task ${taskId} submitted: ${STEPS} SGD steps of batch ${BATCH} (lr 0.1) on digits [0, ${TRAIN}), held out [${TRAIN}, ${2 * TRAIN}), minimum accuracy 85%`);
  return taskId;
}

/** Follows training task `taskId`, logging its progress; the trained model's id once it passes (undefined if it expires, passes below its minimum accuracy or the demo stops). */
export async function followTrainingDemo(q: PoiQueryClient, taskId: string, log: (line: string) => void, stopped: () => boolean): Promise<string | undefined> {
  let last = "";
  while (!stopped()) {
    const t = await q.task(taskId);
    let line = `training task ${taskId}: ${TASK_STATUS_NAMES[t.status] ?? t.status}` + (t.failedAttempts ? ` (${t.failedAttempts} failed attempts)` : "");
    if (t.status === TaskStatus.VERIFYING || t.status === TaskStatus.COMPLETED) {
      const { losses, attempt } = await q.training(taskId);
      const at = (s: number) => `step ${s} loss ${losses[s - 1].toFixed(3)}`;
      line += ` | ${losses.length} steps committed: ${at(1)}, ${at(losses.length / 2)}, ${at(losses.length)}`
        + ` | checkpoints requested ${new Set(attempt?.requests.flatMap((r) => r.segments)).size ? attempt!.requests.length + " validators" : "none yet"}, revealed ${attempt?.revealed.length ?? 0}`;
    }
    if (t.status === TaskStatus.COMPLETED && t.trainedModelId) {
      const m = await q.model(t.trainedModelId);
      log(`${line} | trained model ${m.id.slice(0, 16)}… registered, held-out accuracy ${((m.heldOutAccuracyBps ?? 0) / 100).toFixed(2)}% (verified by every validator)`);
      return m.id;
    }
    if (t.status === TaskStatus.COMPLETED && t.belowMinAccuracy) {
      log(`${line} | passed, but held-out accuracy ${((t.heldOutAccuracyBps ?? 0) / 100).toFixed(2)}% is below the minimum: no trained model`);
      return undefined;
    }
    if (t.status === TaskStatus.EXPIRED) {
      log(`${line}: no trained model`);
      return undefined;
    }
    if (line !== last) log(line);
    last = line;
    await new Promise((r) => setTimeout(r, 2000));
  }
  return undefined;
}
