/**
 * Trains the MNIST MLP (784 → 64 ReLU → 10) with our own code and writes it as ONNX.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/build-mnist-model.js [out.onnx]   (default .tmp/mnist-mlp.onnx)
 *
 * Prints training time, held-out accuracy (JS and onnxruntime), model size, the validator's
 * work units per item, and onnxruntime's mean single-item inference time over 1,000 runs.
 */
import * as fs from "fs";
import * as path from "path";
import * as ort from "onnxruntime-node";
import { buildMlp, MLP_INPUT, MLP_OUTPUT } from "../src/x/poi/onnx/builder";
import { argmax, loadMnist, MNIST_TRAIN_COUNT, trainMnistMlp } from "../src/ml/train";
import { validateModel } from "../src/x/poi/onnx/validate";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";

const TIMING_RUNS = 1000;

async function main(): Promise<void> {
  const out = process.argv[2] ?? path.join(".tmp", "mnist-mlp.onnx");

  const t0 = Date.now();
  const data = loadMnist();
  const loadMs = Date.now() - t0;
  const result = trainMnistMlp({
    onEpoch: ({ epoch, meanLoss, ms }) => console.log(`epoch ${epoch}: loss ${meanLoss.toFixed(4)} (${ms} ms)`),
  });
  console.log(`mnist load ${loadMs} ms, training ${result.trainMs} ms`);
  console.log(`accuracy: train ${(result.trainAccuracy * 100).toFixed(2)}%, held-out ${(result.testAccuracy * 100).toFixed(2)}% (${result.testCount} digits)`);

  const bytes = buildMlp({ inputSize: result.inputSize, hidden: result.hidden, outputs: result.outputs, weights: result.weights });
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, bytes);
  const tv = process.hrtime.bigint();
  const summary = validateModel(bytes);
  const validateUs = Number(process.hrtime.bigint() - tv) / 1000;
  console.log(`wrote ${out}: ${bytes.length} bytes`);
  console.log(`validateModel: ok in ${validateUs.toFixed(0)} µs, opset ${summary.opset}, workUnitsPerItem ${summary.workUnitsPerItem}, ` +
    `inputs ${JSON.stringify(summary.inputs)}, outputs ${JSON.stringify(summary.outputs)}`);

  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  let correct = 0;
  for (let n = MNIST_TRAIN_COUNT; n < data.images.length; n++) {
    const res = await session.run({ [MLP_INPUT]: new ort.Tensor("float32", data.images[n], [1, 784]) });
    if (argmax(res[MLP_OUTPUT].data as Float32Array) === data.labels[n]) correct++;
  }
  console.log(`onnxruntime held-out accuracy ${((correct / (data.images.length - MNIST_TRAIN_COUNT)) * 100).toFixed(2)}%`);

  const feed = { [MLP_INPUT]: new ort.Tensor("float32", data.images[MNIST_TRAIN_COUNT], [1, 784]) };
  for (let i = 0; i < 50; i++) await session.run(feed); // warm-up
  const ts = process.hrtime.bigint();
  for (let i = 0; i < TIMING_RUNS; i++) await session.run(feed);
  const meanUs = Number(process.hrtime.bigint() - ts) / 1000 / TIMING_RUNS;
  console.log(`onnxruntime single-item inference: ${meanUs.toFixed(1)} µs mean over ${TIMING_RUNS} runs (1 thread, incl. the JS binding)`);
  await session.release();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
