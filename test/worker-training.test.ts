/**
 * The worker's training side off chain (src/worker/training.ts): a checkpoints file (what
 * --checkpoint-dir keeps, what `poi tx poi reveal` reads) rebuilds exactly the committed run, and one
 * that does not match the commitment is refused with a clear error.
 */
import { strict as assert } from "assert";
import { encodeCheckpoint, mlpCheckpoint } from "../src/ml/checkpoint";
import { initMlpWeights } from "../src/ml/train";
import { TrainStepRunner } from "../src/ml/train-step-runner";
import { revealMsgs, runTrainingTask, type TrainingRun } from "../src/ml/training-task";
import { buildMlpTrainStep } from "../src/x/poi/onnx/train-step-builder";
import type { TrainingSpec } from "../src/x/poi/types";
import { runFromCheckpoints } from "../src/worker/training";

describe("worker training: checkpoints file", () => {
  const initial = encodeCheckpoint(mlpCheckpoint(initMlpWeights(4, 3, 2, 5)));
  const spec: TrainingSpec = {
    parentModelId: "", initialParamsDatasetId: "", xDatasetId: "", yDatasetId: "", trainStart: "0", trainCount: "8", heldOutStart: "8", heldOutCount: "4",
    steps: "6", batchSize: 2, learningRate: "0.1", checkpointInterval: "2", minAccuracyBps: 0, initialHash: new Uint8Array(), paramBytes: String(initial.length),
    checkpointChunkBytes: "40",
  };
  let run: TrainingRun;
  before(async () => {
    const runner = await TrainStepRunner.create(buildMlpTrainStep({ inputSize: 4, hidden: 3, outputs: 2, batchSize: 2 }));
    try {
      run = await runTrainingTask(runner, 9n, spec, initial, (rows) => ({
        x: Float32Array.from(rows.flatMap((r) => [0, 1, 2, 3].map((j) => ((Number(r) * 7 + j) % 5) / 5))),
        y: Float32Array.from(rows.flatMap((r) => (Number(r) % 2 ? [0, 1] : [1, 0]))),
      }));
    } finally {
      await runner.release();
    }
  });

  it("rebuilds the committed run: same root, same reveal messages", () => {
    const again = runFromCheckpoints(Uint8Array.from(Buffer.concat(run.checkpoints)), spec, run.root);
    assert.deepEqual(again.hashes, run.hashes);
    for (const i of [1, 2, 3]) assert.deepEqual(revealMsgs(again, "w", 9n, i, 40n), revealMsgs(run, "w", 9n, i, 40n), `checkpoint ${i}'s reveals`);
    assert.ok(revealMsgs(run, "w", 9n, 1, 40n).length > 1, "a checkpoint goes in several chunks");
  });

  it("refuses a file of another run or of the wrong size", () => {
    const other = Buffer.concat(run.checkpoints);
    other[other.length - 1] ^= 1;
    assert.throws(() => runFromCheckpoints(other, spec, run.root), /have Merkle root [0-9a-f]{64}, not the committed checkpoint root/);
    assert.throws(() => runFromCheckpoints(other.subarray(4), spec, run.root), /the task has 4 checkpoints of \d+ bytes/);
  });
});
