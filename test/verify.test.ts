/**
 * x/poi/verify: tolerance comparison and the worker_threads onnxruntime re-execution runner.
 *
 *   npx tsc -p tsconfig.json && npx mocha dist/test/verify.test.js
 */
import { strict as assert } from "assert";
import { execFileSync } from "node:child_process";
import * as ort from "onnxruntime-node";
import { buildMlp, MLP_INPUT, MLP_OUTPUT } from "../src/x/poi/onnx/builder";
import { argmax, loadMnist, mlpForward, trainMnistMlp, type TrainResult } from "../src/ml/train";
import { mulberry32 } from "../src/util/random";
import { compareItem, DEFAULT_TOLERANCE } from "../src/x/poi/verify/compare";
import { ReexecCrashError, ReexecRunner, ReexecTimeoutError, type ReexecJob } from "../src/x/poi/verify/runner";
import { SESSION_OPTIONS } from "../src/x/poi/verify/session-options";

const SIZES = [10];

function bits(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe("x/poi/verify", () => {
  let trained: TrainResult;
  let onnx: Uint8Array;
  let images: Float32Array[];
  let direct: ort.InferenceSession;

  const job = (items: Float32Array[], modelId = "mnist-mlp"): ReexecJob => ({
    modelId, onnx, inputName: MLP_INPUT, inputShape: [1, 784], outputNames: [MLP_OUTPUT], items,
  });
  const directRun = async (x: Float32Array): Promise<Float32Array> =>
    (await direct.run({ [MLP_INPUT]: new ort.Tensor("float32", x, [1, 784]) }))[MLP_OUTPUT].data as Float32Array;

  before(async () => {
    trained = trainMnistMlp();
    onnx = buildMlp({ inputSize: 784, hidden: 64, outputs: 10, weights: trained.weights });
    images = loadMnist().images;
    direct = await ort.InferenceSession.create(onnx, SESSION_OPTIONS);
  });
  after(async () => {
    await direct?.release();
  });

  describe("runner", () => {
    it("matches a direct onnxruntime run bit for bit and mlpForward within 1e-5", async () => {
      const runner = new ReexecRunner();
      try {
        const items = images.slice(0, 50);
        const res = await runner.run(job(items));
        assert.equal(res.outputs.length, 50);
        assert.ok(res.micros > 0);
        for (let n = 0; n < items.length; n++) {
          const got = res.outputs[n];
          assert.equal(got.length, 10);
          assert.deepEqual(bits(got), bits(await directRun(items[n])), `item ${n} differs from direct onnxruntime`);
          const want = mlpForward(trained.weights, items[n]);
          for (let k = 0; k < 10; k++) {
            assert.ok(Math.abs(got[k] - want[k]) <= 1e-5 * Math.max(1, Math.abs(want[k])), `item ${n} logit ${k}: ${got[k]} vs ${want[k]}`);
          }
          assert.ok(compareItem(want, got, SIZES).pass);
        }
      } finally {
        await runner.close();
      }
    });

    it("noise knob: outputs differ from the clean ones but all pass compareItem", async () => {
      const clean = new ReexecRunner();
      const noisy = new ReexecRunner({ noiseRel: 1e-6, noiseSeed: 7 });
      try {
        const items = images.slice(100, 300);
        const a = await clean.run(job(items));
        const b = await noisy.run(job(items));
        let differing = 0;
        for (let n = 0; n < items.length; n++) {
          if (!bits(a.outputs[n]).equals(bits(b.outputs[n]))) differing++;
          const c = compareItem(a.outputs[n], b.outputs[n], SIZES);
          assert.ok(c.pass, `item ${n}: ${c.reason}`);
          assert.ok(c.maxAbsDiff > 0 || bits(a.outputs[n]).equals(bits(b.outputs[n])));
        }
        assert.ok(differing > items.length * 0.9, `only ${differing}/${items.length} items perturbed`);
      } finally {
        await Promise.all([clean.close(), noisy.close()]);
      }
    });

    it("time cap: a too-slow job rejects with ReexecTimeoutError, the next job succeeds", async () => {
      const runner = new ReexecRunner({ timeoutMs: 1 });
      try {
        const items = Array.from({ length: 500 }, (_, i) => images[i]);
        await assert.rejects(runner.run(job(items)), (e: unknown) => {
          assert.ok(e instanceof ReexecTimeoutError, `got ${String(e)}`);
          assert.match((e as Error).message, /exceeded 1 ms/);
          return true;
        });
        assert.equal(runner.stats().timeouts, 1);
        // Same runner, relaxed cap: a fresh process is started and works.
        (runner as unknown as { timeoutMs: number }).timeoutMs = 30_000;
        const res = await runner.run(job(images.slice(0, 5)));
        assert.deepEqual(bits(res.outputs[0]), bits(await directRun(images[0])));
        assert.equal(runner.stats().processesStarted, 2);
      } finally {
        await runner.close();
      }
    });

    it("bad model bytes: readable rejection, runner keeps working", async () => {
      const runner = new ReexecRunner();
      try {
        const bad = { ...job(images.slice(0, 2), "garbage"), onnx: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) };
        await assert.rejects(runner.run(bad), (e: unknown) => {
          assert.ok(e instanceof Error && !(e instanceof ReexecTimeoutError));
          assert.match((e as Error).message, /^re-execution failed: .*(protobuf|parse|load|model)/i);
          return true;
        });
        // Wrong item size and unknown output name are refused the same way.
        await assert.rejects(runner.run(job([new Float32Array(3)])), /item 0: expected a Float32Array of 784/);
        await assert.rejects(runner.run({ ...job(images.slice(0, 1)), outputNames: ["nope"] }), /no output "nope"/);
        const res = await runner.run(job(images.slice(0, 3)));
        assert.equal(res.outputs.length, 3);
        assert.equal(runner.stats().processesStarted, 1, "errors must not kill the process");
      } finally {
        await runner.close();
      }
    });

    it("a crashed process (killed, or a native abort) rejects the pending job with ReexecCrashError; this process lives on; the next job gets a fresh child", async () => {
      const runner = new ReexecRunner();
      try {
        await runner.run(job(images.slice(0, 1)));
        const p = runner.run(job(images)); // 10,000 items: ~100 ms
        // A crash from outside while the job is in flight.
        await new Promise((r) => setTimeout(r, 5));
        (runner as unknown as { child: { kill(s: string): void } }).child.kill("SIGSEGV");
        await assert.rejects(p, (e: unknown) => e instanceof ReexecCrashError && /re-execution process died \(signal SIGSEGV\)/.test((e as Error).message));
        // A native abort inside the child (the test knob a crashing model stands in for).
        await assert.rejects(runner.run({ ...job(images.slice(0, 1)), abort: true }), /re-execution process died \(signal SIGABRT\)/);
        const res = await runner.run(job(images.slice(0, 1)));
        assert.equal(res.outputs.length, 1);
        assert.equal(runner.stats().processesStarted, 3);
        assert.equal(runner.stats().crashes, 2);
      } finally {
        await runner.close();
      }
    });

    it("a timed-out job's child is killed at once (its core is freed)", async () => {
      const runner = new ReexecRunner({ timeoutMs: 1 });
      try {
        const pending = runner.run(job(images));
        const child = (runner as unknown as { child: { pid: number; killed: boolean } }).child;
        await assert.rejects(pending, ReexecTimeoutError);
        await new Promise((r) => setTimeout(r, 200));
        let alive = true;
        try { process.kill(child.pid, 0); } catch { alive = false; }
        assert.equal(alive, false, "the child is gone");
      } finally {
        await runner.close();
      }
    });

    it("session cache: the same modelId creates one session", async () => {
      const runner = new ReexecRunner();
      try {
        const a = await runner.run(job(images.slice(0, 20)));
        const b = await runner.run(job(images.slice(0, 20)));
        assert.equal(runner.stats().sessionsCreated, 1);
        for (let n = 0; n < 20; n++) assert.deepEqual(bits(a.outputs[n]), bits(b.outputs[n]));
        await runner.run(job(images.slice(0, 1), "mnist-mlp-copy"));
        assert.equal(runner.stats().sessionsCreated, 2);
      } finally {
        await runner.close();
      }
    });

    it("closed runner refuses jobs", async () => {
      const runner = new ReexecRunner();
      await runner.run(job(images.slice(0, 1)));
      await runner.close();
      await assert.rejects(runner.run(job(images.slice(0, 1))), /closed/);
    });

    it("close() of an idle runner keeps the process alive until the child is gone, so work after it runs", () => {
      // The idle child is unref'ed; a close() that waited on it unref'ed let node exit mid-await
      // (the worker daemon lost its final stats line that way).
      const script = `
        const { ReexecRunner } = require(${JSON.stringify(require.resolve("../src/x/poi/verify/runner"))});
        const { buildMlp } = require(${JSON.stringify(require.resolve("../src/x/poi/onnx/builder"))});
        const { randomMlpWeights } = require(${JSON.stringify(require.resolve("../src/ml/train"))});
        (async () => {
          const r = new ReexecRunner();
          const onnx = buildMlp({ inputSize: 4, hidden: 3, outputs: 2, weights: randomMlpWeights(4, 3, 2, 1) });
          await r.run({ modelId: "m", onnx, inputName: "input", inputShape: [1, 4], outputNames: ["logits"], items: [Float32Array.of(1, 2, 3, 4)] });
          await r.close();
          console.log("after close");
        })();`;
      const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000 });
      assert.equal(out.trim(), "after close");
    });

    it("measurement: µs/item through the runner vs direct onnxruntime (1,000 digits)", async () => {
      const runner = new ReexecRunner();
      try {
        const items = images.slice(0, 1000);
        // Warm-up: session creation, JIT, allocator (one full pass each).
        await runner.run(job(items));
        for (const x of items) await directRun(x);
        const t0 = performance.now();
        const res = await runner.run(job(items));
        const wallUs = (performance.now() - t0) * 1000;
        let directUs = 0;
        for (const x of items) {
          const t = performance.now();
          await directRun(x);
          directUs += (performance.now() - t) * 1000;
        }
        const n = items.length;
        console.log(`      runner ${(res.micros / n).toFixed(1)} µs/item (session.run in thread; ` +
          `${(wallUs / n).toFixed(1)} µs/item wall incl. messaging) vs direct ${(directUs / n).toFixed(1)} µs/item`);
        assert.equal(res.outputs.length, n);
      } finally {
        await runner.close();
      }
    });
  });

  describe("compareItem", () => {
    let ref: Float32Array[];
    before(async () => {
      ref = [];
      for (let n = 0; n < 200; n++) ref.push(await directRun(images[n]));
    });

    it("honest outputs pass (itself and mlpForward's)", () => {
      for (let n = 0; n < ref.length; n++) {
        const self = compareItem(ref[n], ref[n].slice(), SIZES);
        assert.deepEqual(self, { pass: true, maxAbsDiff: 0, argmaxOk: true });
        const js = compareItem(ref[n], mlpForward(trained.weights, images[n]), SIZES);
        assert.ok(js.pass, `item ${n}: ${js.reason}`);
      }
    });

    it("relative noise 1e-6 passes", () => {
      const rand = mulberry32(99);
      for (const r of ref) {
        const c = r.map((v) => v * (1 + 1e-6 * (rand() * 2 - 1)));
        assert.ok(compareItem(r, c, SIZES).pass);
      }
    });

    it("fabricated outputs fail: random vector, changed argmax, small shift above tolerance", () => {
      const rand = mulberry32(5);
      for (const r of ref) {
        const random = new Float32Array(10).map(() => (rand() * 2 - 1) * 10);
        assert.equal(compareItem(r, random, SIZES).pass, false);
        // Swap the top two logits: the class changes.
        const k = argmax(r);
        const second = argmax(r.map((v, i) => (i === k ? -Infinity : v)));
        const swapped = r.slice();
        swapped[k] = r[second];
        swapped[second] = r[k];
        const c = compareItem(r, swapped, SIZES);
        assert.equal(c.pass, false);
        assert.equal(c.argmaxOk, false);
        // One logit moved by 2× its allowed error.
        const shifted = r.slice();
        const maxRef = r.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        shifted[3] += 2 * (DEFAULT_TOLERANCE.scale * maxRef + DEFAULT_TOLERANCE.rtol * Math.abs(r[3]));
        const s = compareItem(r, shifted, SIZES);
        assert.equal(s.pass, false);
        assert.match(s.reason ?? "", /^element 3:/);
      }
    });

    it("NaN and Infinity rules", () => {
      const r = ref[0];
      const nan = r.slice(); nan[4] = NaN;
      const c1 = compareItem(r, nan, SIZES);
      assert.equal(c1.pass, false);
      assert.equal(c1.maxAbsDiff, Infinity);
      // Both NaN at the same place: fine.
      assert.ok(compareItem(nan, nan.slice(), SIZES).pass);
      // NaN in the reference only: fails too.
      assert.equal(compareItem(nan, r, SIZES).pass, false);
      // Infinities must be equal.
      const inf = r.slice(); inf[2] = Infinity;
      assert.equal(compareItem(r, inf, SIZES).pass, false);
      assert.equal(compareItem(inf, r, SIZES).pass, false);
      assert.ok(compareItem(inf, inf.slice(), SIZES).pass);
      const ninf = r.slice(); ninf[2] = -Infinity;
      assert.equal(compareItem(inf, ninf, SIZES).pass, false);
    });

    it("the absolute part scales with the output: zeros claimed for tiny outputs fail, scaled honest noise passes", () => {
      // A fixed atol of 1e-4 accepted zeros for any output below 1e-4 in magnitude.
      const tiny = new Float32Array([3e-5, -2e-5, 1e-5, 0, 4e-6, 0, 0, 0, 0, -1e-6]);
      const zeros = new Float32Array(10);
      const z = compareItem(tiny, zeros, SIZES);
      assert.equal(z.pass, false);
      assert.match(z.reason ?? "", /^element 0:/);
      // The same relative noise passes at any scale: 1e-6 relative to the output's largest element.
      for (const scale of [1e-6, 1, 1e6]) {
        const r = Float32Array.from(ref[0], (v) => v * scale);
        const m = r.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
        const noisy = Float32Array.from(r, (v, i) => v + (i % 2 ? 1 : -1) * 1e-6 * m);
        assert.ok(compareItem(r, noisy, SIZES).pass, `scale ${scale}`);
        const off = Float32Array.from(r, (v, i) => (i === 5 ? v + 1e-2 * m : v));
        assert.equal(compareItem(r, off, SIZES).pass, false, `1e-2 of the largest element is beyond tolerance at scale ${scale}`);
      }
    });

    it("length mismatch fails", () => {
      const c = compareItem(ref[0], ref[0].subarray(0, 9), SIZES);
      assert.equal(c.pass, false);
      assert.match(c.reason ?? "", /length 9, expected 10/);
      assert.equal(compareItem(ref[0], new Float32Array(11), SIZES).pass, false);
      assert.throws(() => compareItem(ref[0], ref[0], [9]), /outputSizes sum to 9/);
    });

    it("near tie: the claimed argmax may be the other of two logits within tolerance", () => {
      const r = new Float32Array([0.1, 5.0, 5.0 - 0.004, -2, 0, 0, 0, 0, 0, 0]); // tol at 5.0 is 1e-4·5 + 1e-3·5 = 0.0055
      const c = r.slice();
      c[1] = 5.0 - 0.002;
      c[2] = 5.0 - 0.001; // claimed argmax 2, each element within tolerance
      assert.equal(argmax(c), 2);
      assert.deepEqual(compareItem(r, c, SIZES).pass, true);
      // But not when the claimed winner is further than one tolerance below the reference max,
      // even if each element alone is within tolerance (rule 3 is the tighter one here).
      const r2 = new Float32Array([0.1, 5.0, 5.0 - 0.008, -2, 0, 0, 0, 0, 0, 0]);
      const c2 = r2.slice();
      c2[1] = 5.0 - 0.0045;
      c2[2] = 5.0 - 0.004;
      const res = compareItem(r2, c2, SIZES);
      assert.equal(res.pass, false);
      assert.equal(res.argmaxOk, false);
      assert.match(res.reason ?? "", /not a near-maximum/);
    });

    it("multiple outputs: argmax per multi-element output, single-element outputs skipped", () => {
      // Output 0: 3 logits, output 1: one scalar, output 2: 2 logits.
      const r = new Float32Array([1, 3, 2, 7, 0.5, -0.5]);
      assert.ok(compareItem(r, r.slice(), [3, 1, 2]).pass);
      const wrong2 = r.slice(); wrong2[4] = -0.5; wrong2[5] = 0.5; // class of output 2 flipped
      const c = compareItem(r, wrong2, [3, 1, 2]);
      assert.equal(c.argmaxOk, false);
      assert.match(c.reason ?? "", /element 4/);
    });
  });
});
