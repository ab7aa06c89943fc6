/**
 * Verification cost (`npm run bench -- verify`): what a worker spends running a task against what the
 * validators spend re-executing its sample, on the MNIST MLP (784 -> 64 -> 10) and real digits.
 *   raw       onnxruntime session.run per item in this thread (the floor)
 *   worker    the worker's path: ReexecRunner over all N items (worker thread, messaging included)
 *   verifier  one validator's path for a k-item sample: ReexecRunner + tolerance compare
 * Figures only; nothing here fails on speed.
 */
import * as ort from "onnxruntime-node";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { loadMnist, trainMnistMlp } from "../src/ml/train";
import { ReexecRunner } from "../src/x/poi/verify/runner";
import { compareItem } from "../src/x/poi/verify/compare";
import { sampleIndices } from "../src/x/poi/commitment";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";

const N = 1000;
const VALIDATORS = 4;

export async function runVerifyBench(): Promise<void> {
  const trained = trainMnistMlp();
  const onnx = buildMlp({ inputSize: 784, hidden: trained.hidden, outputs: 10, weights: trained.weights });
  const images = loadMnist().images.slice(8000, 8000 + N);

  const session = await ort.InferenceSession.create(onnx, SESSION_OPTIONS);
  for (let i = 0; i < 200; i++) await session.run({ input: new ort.Tensor("float32", images[i], [1, 784]) }); // warm
  let t = performance.now();
  const honest: Float32Array[] = [];
  for (const img of images) honest.push((await session.run({ input: new ort.Tensor("float32", img, [1, 784]) })).logits.data as Float32Array);
  const rawUs = ((performance.now() - t) * 1000) / N;

  const runner = new ReexecRunner();
  const job = { modelId: "bench", onnx, inputName: "input", inputShape: [1, 784], outputNames: ["logits"] };
  await runner.run({ ...job, items: images.slice(0, 10) }); // thread start + session load
  t = performance.now();
  await runner.run({ ...job, items: images });
  const workerUs = ((performance.now() - t) * 1000) / N;

  console.log(`task of ${N} digits; raw onnxruntime ${rawUs.toFixed(1)} µs/item; worker path (thread) ${workerUs.toFixed(1)} µs/item = ${(workerUs * N / 1000).toFixed(1)} ms per task`);
  for (const k of [16, 32, 64, 128]) {
    const reps = 20;
    let total = 0, session_ = 0;
    for (let r = 0; r < reps; r++) {
      const sample = sampleIndices(Buffer.alloc(32, r), BigInt(N), BigInt(k)).map(Number);
      const t0 = performance.now();
      const res = await runner.run({ ...job, items: sample.map((i) => images[i]) });
      for (const [j, i] of sample.entries()) if (!compareItem(res.outputs[j], honest[i], [10]).pass) throw new Error("honest item failed");
      total += performance.now() - t0;
      session_ += res.micros;
    }
    const perSample = (total * 1000) / (reps * k);
    const fraction = (VALIDATORS * k * perSample) / (N * workerUs);
    console.log(`k=${String(k).padStart(3)}: verifier ${perSample.toFixed(1)} µs/sample (session.run ${(session_ / (reps * k)).toFixed(1)} µs) = ${(perSample / rawUs).toFixed(2)}× raw; `
      + `one validator ${(k * perSample / 1000).toFixed(2)} ms/task; all ${VALIDATORS} validators together ${(fraction * 100).toFixed(1)}% of the worker's compute`);
  }
  await runner.close();
  await session.release();
}
