/**
 * The MLP's train-step graph (src/x/poi/onnx/train-step-builder.ts) in stock onnxruntime: the
 * chain's validator and the interface check accept it; one step matches a float64 reference and
 * finite differences; 300 steps on MNIST train a usable model; re-running a segment is exact.
 *
 *   npx tsc -p tsconfig.json && npx mocha dist/test/train-step.test.js
 */
import { strict as assert } from "assert";
import * as ort from "onnxruntime-node";
import { buildMlp, MLP_INPUT, MLP_OUTPUT, MLP_PARAMS } from "../src/x/poi/onnx/builder";
import { buildMlpTrainStep } from "../src/x/poi/onnx/train-step-builder";
import { checkTrainStepInterface, modelParameters } from "../src/x/poi/onnx/train-step";
import { ModelValidationError, validateModel } from "../src/x/poi/onnx/validate";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";
import { argmax, initMlpWeights, loadMnist, MNIST_TRAIN_COUNT } from "../src/ml/train";
import { referenceLoss, referenceStep } from "../src/ml/mlp-reference";
import { checkpointToMlp, mlpCheckpoint, relativeL2Distance, sameCheckpointBits, type Checkpoint } from "../src/ml/checkpoint";
import { TrainStepRunner, type TrainBatch } from "../src/ml/train-step-runner";
import { mnistBatch, oneHot, seededBatchSchedule } from "../src/ml/train-step-data";
import { mulberry32 } from "../src/util/random";

const uniform = (n: number, rand: () => number): Float32Array => Float32Array.from({ length: n }, () => rand() * 2 - 1);

/** Work units of the MLP train step per the README formulas (every node depends on an input). */
function trainStepWork(n: number, h: number, c: number, b: number): bigint {
  const [N, H, C, B] = [n, h, c, b].map(BigInt);
  const forward = B * N * H + 2n * B * H + B * H * C + B * C; //   MatMul, Add, Relu, MatMul, Add
  const loss = 3n * B * C + 1n; //                                  LogSoftmax, Mul, ReduceSum, Mul (scalar)
  const dz = 3n * B * C; //                                         Softmax, Sub, Mul
  const out = B * H + H * B * C + B * C; //                          Transpose h, MatMul dw2, ReduceSum db2
  const hidden = H * C + B * C * H + 2n * B * H; //                  Transpose w2, MatMul dh, Sign, Mul
  const first = B * N + N * B * H + B * H; //                       Transpose x, MatMul dw1, ReduceSum db1
  const sgd = 2n * (N * H + H + H * C + C); //                      Mul lr, Sub per parameter
  return forward + loss + dz + out + hidden + first + sgd;
}

describe("train-step graph of the MLP (onnxruntime)", function () {
  this.timeout(120_000);

  it("passes the chain's validator and matches its parent's interface; work units as documented", () => {
    const parent = buildMlp({ inputSize: 784, hidden: 64, outputs: 10, weights: initMlpWeights(784, 64, 10, 1) });
    const step = buildMlpTrainStep({ inputSize: 784, hidden: 64, outputs: 10, batchSize: 32 });
    const summary = validateModel(step);
    const p = validateModel(parent);
    assert.deepEqual(summary.inputs.map((t) => t.name), [...MLP_PARAMS, "x", "y", "lr"]);
    assert.deepEqual(summary.outputs.map((t) => [t.name, t.shape]), [
      ["w1.next", [784, 64]], ["b1.next", [64]], ["w2.next", [64, 10]], ["b2.next", [10]], ["loss", []],
    ]);
    assert.deepEqual(modelParameters(parent), [
      { name: "w1", shape: [784, 64], dtype: "float32" }, { name: "b1", shape: [64], dtype: "float32" },
      { name: "w2", shape: [64, 10], dtype: "float32" }, { name: "b2", shape: [10], dtype: "float32" },
    ]);
    assert.equal(checkTrainStepInterface(summary, { inputs: p.inputs, outputs: p.outputs, parameters: modelParameters(parent) }), 32);
    assert.equal(summary.workUnitsPerItem, trainStepWork(784, 64, 10, 32));
    assert.equal(summary.totalWorkUnits, summary.workUnitsPerItem);
    console.log(`      one step of 784-64-10, batch 32: ${summary.workUnitsPerItem} work units (inference: ${p.workUnitsPerItem} per item)`);
  });

  it("the interface check names the first mismatch: order, extras, missing outputs, shapes, the parent's own shape", () => {
    const f = (name: string, shape: number[]) => ({ name, shape, dtype: "float32" });
    const parent = { inputs: [f("input", [1, 4])], outputs: [f("logits", [1, 2])], parameters: [f("w", [4, 2]), f("b", [2])] };
    const good = {
      inputs: [f("w", [4, 2]), f("b", [2]), f("x", [5, 4]), f("y", [5, 2]), f("lr", [])],
      outputs: [f("w.next", [4, 2]), f("b.next", [2]), f("loss", [])],
    };
    assert.equal(checkTrainStepInterface(good, parent), 5);
    const cases: [string, typeof good, typeof parent, RegExp][] = [
      ["params swapped", { ...good, inputs: [good.inputs[1], good.inputs[0], ...good.inputs.slice(2)] }, parent, /input 0 is "b" but the parent's parameter 0 needs "w" \[4,2\] there/],
      ["y of another batch", { ...good, inputs: [...good.inputs.slice(0, 3), f("y", [4, 2]), f("lr", [])] }, parent, /input 3 "y" has shape \[4,2\] but the train-step interface needs \[5,2\]/],
      ["lr a vector", { ...good, inputs: [...good.inputs.slice(0, 4), f("lr", [1])] }, parent, /input 4 "lr" has shape \[1\] but the train-step interface needs \[\]/],
      ["an extra input", { ...good, inputs: [...good.inputs, f("momentum", [4, 2])] }, parent, /input 5 "momentum" is extra: the graph has 6 inputs, the interface 5/],
      ["no loss", { ...good, outputs: good.outputs.slice(0, 2) }, parent, /output 2 is missing: the train-step interface needs "loss" \[\]/],
      ["x misplaced", { ...good, inputs: [good.inputs[0], good.inputs[2], good.inputs[1]] }, parent, /input 1 is "x" but the parent's parameter 1 needs "b" \[2\] there/],
      ["x of another item", { ...good, inputs: [...good.inputs.slice(0, 2), f("x", [5, 3]), ...good.inputs.slice(3)] }, parent, /input 2 "x" has shape \[5,3\] but the train-step interface needs \[5,4\]/],
      ["a parent with two inputs", good, { ...parent, inputs: [...parent.inputs, f("mask", [1, 4])] }, /the parent model must have one input and one output, it has 2 and 1/],
      ["a parent without parameters", good, { ...parent, parameters: [] }, /the parent model has no parameters/],
      ["a parent parameter named x", good, { ...parent, parameters: [f("x", [4, 2])] }, /the parent's parameter name "x" is reserved or repeated/],
    ];
    for (const [what, step, par, pattern] of cases) {
      assert.throws(() => checkTrainStepInterface(step, par), (e: unknown) => e instanceof ModelValidationError && pattern.test(e.message), what);
    }
  });

  describe("gradient check on a 4-3-2 MLP, batch 3", () => {
    const rand = mulberry32(11);
    const w = { w1: uniform(12, rand), b1: uniform(3, rand), w2: uniform(6, rand), b2: uniform(2, rand) };
    const batch: TrainBatch = { x: uniform(12, rand), y: oneHot([0, 1, 1], 2) };
    let runner: TrainStepRunner;
    before(async () => {
      runner = await TrainStepRunner.create(buildMlpTrainStep({ inputSize: 4, hidden: 3, outputs: 2, batchSize: 3 }));
    });
    after(() => runner.release());

    it("the data exercises the ReLU mask away from its kink", () => {
      const pre: number[] = [];
      for (let r = 0; r < 3; r++) {
        for (let j = 0; j < 3; j++) {
          let s = w.b1[j];
          for (let i = 0; i < 4; i++) s += batch.x[r * 4 + i] * w.w1[i * 3 + j];
          pre.push(s);
        }
      }
      assert.ok(pre.some((v) => v < 0) && pre.some((v) => v > 0), `pre-activations ${pre}`);
      // Finite differences below move a pre-activation by at most 1e-2: none may cross 0.
      assert.ok(Math.min(...pre.map(Math.abs)) > 0.02, `pre-activations ${pre}`);
    });

    it("one step equals the float64 reference SGD step (lr 0.5) within 1e-6", async () => {
      const { params, loss } = await runner.step(mlpCheckpoint(w), batch, 0.5);
      const ref = referenceStep(w, batch.x, batch.y, 0.5);
      assert.ok(Math.abs(loss - ref.loss) < 1e-6, `loss ${loss} vs ${ref.loss}`);
      const got = checkpointToMlp(params);
      let moved = 0;
      for (const p of MLP_PARAMS) {
        got[p].forEach((v, i) => {
          assert.ok(Math.abs(v - ref.next[p][i]) < 1e-6, `${p}[${i}]: ${v} vs ${ref.next[p][i]}`);
          if (v !== w[p][i]) moved++;
        });
      }
      assert.ok(moved >= 12, `only ${moved} of 29 parameters moved`);
    });

    it("its gradients match central finite differences of the loss (float64 reference and the graph's own loss)", async () => {
      // lr = 1: the step's update is the gradient.
      const { params } = await runner.step(mlpCheckpoint(w), batch, 1);
      const got = checkpointToMlp(params);
      const ref = referenceStep(w, batch.x, batch.y, 1);
      let worst64 = 0;
      let worst32 = 0;
      for (const p of MLP_PARAMS) {
        for (let i = 0; i < w[p].length; i++) {
          const g = w[p][i] - got[p][i];
          assert.ok(Math.abs(g - ref.grads[p][i]) < 2e-6, `${p}[${i}]: graph gradient ${g} vs reference ${ref.grads[p][i]}`);
          // Float64 central differences of the reference loss, h = 1e-6.
          const at = (d: number) => referenceLoss({ ...w, [p]: Float64Array.from(w[p], (v, k) => (k === i ? v + d : v)) }, batch.x, batch.y);
          const fd64 = (at(1e-6) - at(-1e-6)) / 2e-6;
          worst64 = Math.max(worst64, Math.abs(fd64 - g));
          assert.ok(Math.abs(fd64 - g) < 2e-6, `${p}[${i}]: finite difference ${fd64} vs graph ${g}`);
          // Float32 central differences of the graph's own loss output (lr 0), h = 1e-2.
          const shifted = async (d: number): Promise<number> => {
            const cp = mlpCheckpoint({ ...w, [p]: Float32Array.from(w[p], (v, k) => (k === i ? v + d : v)) });
            return (await runner.step(cp, batch, 0)).loss;
          };
          const fd32 = ((await shifted(1e-2)) - (await shifted(-1e-2))) / 2e-2;
          worst32 = Math.max(worst32, Math.abs(fd32 - g));
          assert.ok(Math.abs(fd32 - g) < 1e-4, `${p}[${i}]: finite difference of the graph's loss ${fd32} vs its gradient ${g}`);
        }
      }
      console.log(`      worst |finite difference - graph gradient|: ${worst64.toExponential(1)} (float64 reference), ${worst32.toExponential(1)} (graph loss)`);
    });
  });

  describe("MNIST 784-64-10, batch 32, lr 0.1", () => {
    const data = loadMnist();
    const schedule = seededBatchSchedule(3, 300, 32, Array.from({ length: MNIST_TRAIN_COUNT }, (_, i) => i));
    const batchAt = (offset: number) => (i: number) => mnistBatch(data, schedule[offset + i]);
    const init = mlpCheckpoint(initMlpWeights(784, 64, 10, 5));
    const onnx = buildMlpTrainStep({ inputSize: 784, hidden: 64, outputs: 10, batchSize: 32 });
    let runner: TrainStepRunner;
    let at100: Checkpoint;
    let at150: Checkpoint;
    let final: Checkpoint;
    let losses: number[] = [];
    before(async () => {
      runner = await TrainStepRunner.create(onnx);
      const a = await runner.run(init, 100, batchAt(0), 0.1);
      const b = await runner.run(a.params, 50, batchAt(100), 0.1);
      const c = await runner.run(b.params, 150, batchAt(150), 0.1);
      [at100, at150, final, losses] = [a.params, b.params, c.params, [...a.losses, ...b.losses, ...c.losses]];
    });
    after(() => runner.release());

    it("300 steps from a seeded random init reach ≥ 85% on 1,000 held-out digits with the inference graph", async () => {
      const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
      assert.ok(mean(losses.slice(-50)) < mean(losses.slice(0, 10)) / 3, `loss ${mean(losses.slice(0, 10))} → ${mean(losses.slice(-50))}`);
      const session = await ort.InferenceSession.create(buildMlp({ inputSize: 784, hidden: 64, outputs: 10, weights: checkpointToMlp(final) }), SESSION_OPTIONS);
      let correct = 0;
      for (let n = MNIST_TRAIN_COUNT; n < MNIST_TRAIN_COUNT + 1000; n++) {
        const out = await session.run({ [MLP_INPUT]: new ort.Tensor("float32", data.images[n], [1, 784]) });
        if (argmax(out[MLP_OUTPUT].data as Float32Array) === data.labels[n]) correct++;
      }
      await session.release();
      console.log(`      held-out accuracy after 300 steps: ${(correct / 10).toFixed(1)}% (loss ${losses[0].toFixed(3)} → ${mean(losses.slice(-50)).toFixed(3)})`);
      assert.ok(correct >= 850, `${correct} of 1,000 held-out digits right`);
    });

    it("re-running a segment from its checkpoint with the same batches is bit-identical (fresh session too)", async () => {
      const again = await runner.run(at100, 50, batchAt(100), 0.1);
      assert.ok(sameCheckpointBits(again.params, at150));
      const fresh = await TrainStepRunner.create(onnx);
      const third = await fresh.run(at100, 50, batchAt(100), 0.1);
      await fresh.release();
      assert.ok(sameCheckpointBits(third.params, at150));
      // ... and another batch order is not.
      const other = await runner.run(at100, 50, batchAt(150), 0.1);
      assert.ok(relativeL2Distance(at150, other.params) > 1e-3);
    });

    it("other intra-op thread counts: each bit-identical with itself, within 1e-6 of one thread (MLAS splits GEMMs by thread)", async () => {
      for (const threads of [2, 4]) {
        const r = await TrainStepRunner.create(onnx, { intraOpNumThreads: threads });
        const a = await r.run(at100, 50, batchAt(100), 0.1);
        const b = await r.run(at100, 50, batchAt(100), 0.1);
        await r.release();
        assert.ok(sameCheckpointBits(a.params, b.params), `${threads} threads: not reproducible`);
        const d = relativeL2Distance(at150, a.params);
        console.log(`      ${threads} threads vs 1 after 50 steps: ${sameCheckpointBits(a.params, at150) ? "bit-identical" : `relative distance ${d.toExponential(2)}`}`);
        assert.ok(d < 1e-6, `${threads} threads vs 1: ${d}`);
      }
    });
  });
});
