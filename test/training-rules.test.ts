/**
 * The protocol rules of training tasks, without a chain: Merkle proofs over checkpoint hashes (every
 * leaf of trees of 1..40 leaves, and tampering), the batch order (a function of task id and step only,
 * uniform over the training range), checkpoint hashes by chunk, the learning-rate syntax, and the
 * parameter replacement that turns a checkpoint into a model (onnxruntime runs it as the MLP with
 * those weights).
 */
import { strict as assert } from "assert";
import { sha256 } from "@noble/hashes/sha2.js";
import * as ort from "onnxruntime-node";
import { merkleProof, merkleRoot, verifyMerkleProof } from "../src/x/poi/commitment";
import { batchIndices, checkpointHash, checkpointHashOfChunks, checkpointChunkHashes, isLearningRate, neededCheckpoints } from "../src/x/poi/training";
import { withParameters } from "../src/x/poi/onnx/with-parameters";
import { validateModel } from "../src/x/poi/onnx/validate";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { initMlpWeights, loadMnist, mlpForward, randomMlpWeights } from "../src/ml/train";
import { encodeCheckpoint, mlpCheckpoint } from "../src/ml/checkpoint";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";

const leaf = (i: number) => sha256(Buffer.from(`leaf ${i}`));

describe("training rules", () => {
  it("Merkle proofs: every leaf of trees of 1..40 leaves verifies; another index, leaf or sibling does not", () => {
    for (let n = 1; n <= 40; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leaf(i));
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const proof = merkleProof(leaves, i);
        assert.ok(verifyMerkleProof(leaves[i], i, n, proof, root), `n=${n} i=${i}`);
        if (n > 1) {
          assert.ok(!verifyMerkleProof(leaves[(i + 1) % n], i, n, proof, root), "another leaf");
          assert.ok(!verifyMerkleProof(leaves[i], (i + 1) % n, n, proof, root), "another index");
          const bad = proof.map((p, j) => (j === 0 ? sha256(p) : p));
          if (proof.length) assert.ok(!verifyMerkleProof(leaves[i], i, n, bad, root), "a changed sibling");
          assert.ok(!verifyMerkleProof(leaves[i], i, n, [...proof, leaf(99)], root), "an extra sibling");
        }
        assert.ok(!verifyMerkleProof(leaves[i], n, n, proof, root), "an index out of range");
      }
    }
  });

  it("batch order: a function of (task, step) only, B distinct rows of the training range, close to uniform", () => {
    assert.deepEqual(batchIndices(7n, 3n, 100n, 50n, 8n), batchIndices(7n, 3n, 100n, 50n, 8n));
    assert.notDeepEqual(batchIndices(7n, 3n, 100n, 50n, 8n), batchIndices(8n, 3n, 100n, 50n, 8n), "another task, another order");
    assert.notDeepEqual(batchIndices(7n, 3n, 100n, 50n, 8n), batchIndices(7n, 4n, 100n, 50n, 8n), "another step, another batch");
    const counts = new Array(50).fill(0);
    for (let s = 0n; s < 2000n; s++) {
      const rows = batchIndices(1n, s, 100n, 50n, 8n);
      assert.equal(new Set(rows).size, 8);
      for (const r of rows) { assert.ok(r >= 100n && r < 150n); counts[Number(r - 100n)]++; }
    }
    // 16,000 draws over 50 rows: 320 each on average, σ ≈ 17
    assert.ok(counts.every((c) => Math.abs(c - 320) < 90), `counts ${counts}`);
    assert.throws(() => batchIndices(1n, 0n, 0n, 4n, 8n), /does not fit/);
  });

  it("checkpoint hashes cover the size, the chunk size and every chunk", () => {
    const bytes = new Uint8Array(1000).map((_, i) => i % 251);
    const h = checkpointHash(bytes, 300n);
    assert.equal(checkpointChunkHashes(bytes, 300n).length, 4);
    assert.deepEqual(h, checkpointHashOfChunks(checkpointChunkHashes(bytes, 300n), 1000n, 300n));
    assert.notDeepEqual(h, checkpointHash(bytes, 400n), "another chunk size");
    const other = Uint8Array.from(bytes);
    other[999] ^= 1;
    assert.notDeepEqual(h, checkpointHash(other, 300n));
    assert.deepEqual(neededCheckpoints(["0", "4", "5"], 30n), [1, 4, 5, 6, 30]);
  });

  it("learning rates: plain positive decimals only", () => {
    for (const ok of ["0.1", "1", "0.000001", "12.5", "999999999.999999999"]) assert.ok(isLearningRate(ok), ok);
    for (const bad of ["0", "0.0", "-0.1", "1e-3", ".1", "1.", "01", "0.1 ", "NaN", "Infinity", "0x1", "1234567890"]) assert.ok(!isLearningRate(bad), bad);
  });

  it("withParameters: the MLP's graph with a checkpoint's parameters runs as that MLP; sizes must match", async () => {
    const parent = buildMlp({ inputSize: 784, hidden: 16, outputs: 10, weights: randomMlpWeights(784, 16, 10, 3) });
    const w = initMlpWeights(784, 16, 10, 5);
    const onnx = withParameters(parent, encodeCheckpoint(mlpCheckpoint(w)));
    assert.deepEqual(validateModel(onnx).workUnitsPerItem, validateModel(parent).workUnitsPerItem);
    assert.deepEqual(withParameters(parent, encodeCheckpoint(mlpCheckpoint(w))), onnx, "deterministic bytes");
    const rebuilt = buildMlp({ inputSize: 784, hidden: 16, outputs: 10, weights: w });
    const img = loadMnist().images[0];
    const run = async (bytes: Uint8Array) => {
      const s = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
      const out = (await s.run({ input: new ort.Tensor("float32", img, [1, 784]) })).logits.data as Float32Array;
      await s.release();
      return out;
    };
    assert.deepEqual(await run(onnx), await run(rebuilt), "the same logits as the MLP built with those weights");
    const ref = mlpForward(w, img);
    (await run(onnx)).forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 1e-4));
    const flat = encodeCheckpoint(mlpCheckpoint(w));
    assert.throws(() => withParameters(parent, flat.subarray(4)), /the parameters are 50916 bytes, the model's float32 initializers need more/);
    assert.throws(() => withParameters(parent, new Uint8Array(flat.length + 4)), /the parameters are 50924 bytes, the model's float32 initializers hold 50920/);
  });
});
