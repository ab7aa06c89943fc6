/**
 * Sampling that nobody can steer (src/x/poi/README.md, "Sampling nobody can steer").
 *
 * The adversary controls the block proposer, one of four validators and the worker, which fabricates
 * a fraction f = 0.1 of n = 1,000 outputs; each validator checks k = 16 items of its own sample.
 *   - Influence (real app): whatever the adversary varies in a block (its own extension content and
 *     signature, which extensions it includes, the tx order, the time), the state FinalizeBlock leaves
 *     gives every honest validator the same sample.
 *   - Grinding (1,000+ trials, 10^4 variants per block): an adversary that sees every honest validator's
 *     outcome for every variant still escapes at the rate (1−f)^(k·h) of h = 3 independent samples.
 *   - Regression of the attack: the same adversary against the old beacon (a hash of the aggregate's
 *     extension signatures, chosen by the proposer) escapes almost always.
 */
import { strict as assert } from "assert";
import { randomBytes } from "node:crypto";
import { sha256 } from "@noble/hashes/sha2.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { Harness } from "./helpers/poi-harness";
import { bytesOf, PoiFlow } from "./helpers/poi-flow";
import { oldBeaconOf, oldSampleSeed } from "./helpers/old-beacon";
import { mulberry32 } from "../src/util/random";
import { resultRoot, sampleIndices } from "../src/x/poi/commitment";
import { epochOf, seedFor, validatorSample } from "../src/x/poi/sampling";
import { compareItem } from "../src/x/poi/verify/compare";
import { decodeAggregateTx, encodeAggregateTx, isAggregateTx, voteExtensionSignBytes } from "../src/x/poi/verdicts";
import { MsgClaimTaskCodec, MsgSubmitResultCodec, VoteExtensionCodec, TaskStatus } from "../src/x/poi/types";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { loadMnist, randomMlpWeights } from "../src/ml/train";
import { runModel } from "./helpers/poi-flow";

const CHAIN = "poi-grind";
const n = 1000, k = 16, f = 0.1, fabricated = 100, honestValidators = 3;

/** Probability that one validator's k distinct draws miss every fabricated item. */
function missProbability(items: number, fake: number, draws: number): number {
  let p = 1;
  for (let i = 0; i < draws; i++) p *= (items - fake - i) / (items - i);
  return p;
}

describe("x/poi sampling: influence of a block's contents on honest samples (real app, 4 validators)", function () {
  let h: Harness;
  let flow: PoiFlow;
  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["requester", "cheater", "a", "b", "c"], params: { claimBlocks: "10" } });
    flow = await PoiFlow.create(h, { n: 60 });
  });
  after(async () => h && (await h.close()));

  it("every variant the adversary can make of the result's block leaves each honest validator the same sample", async () => {
    const id = await flow.submitTask({ k: 8 });
    assert.equal((await h.send("cheater", MsgClaimTaskCodec, { worker: h.account("cheater").address, taskId: id })).code, 0);
    const out = bytesOf(flow.honest.map((v, i) => (i % 70 === 3 ? v + 1 : v)));
    const result = await h.signTx("cheater", MsgSubmitResultCodec, { worker: h.account("cheater").address, taskId: id, outputs: out, resultRoot: resultRoot(out, 60, 40) });
    const sends = await Promise.all(["a", "b", "c"].map((name) => h.signTx(name, MsgSend as never, {
      fromAddress: h.account(name).address, toAddress: h.account("requester").address, amount: [{ denom: "upoi", amount: "1" }],
    } as never)));
    const [agg, ...mempool] = await h.propose([result, ...sends]);
    assert.ok(isAggregateTx(agg));
    const adversary = h.validators[0];
    const voteHeight = h.height;
    const carrying = epochOf(voteHeight + 1n, BigInt((await h.app.poi.params(h.app.queryContext())).seedEpochBlocks));

    const seen = new Map<string, number>();
    let variants = 0;
    for (let v = 0; v < 240; v++) {
      // Its own extension content within the extension rules (junk verdicts are refused: seed commitments
      // of its choosing for both epochs it may commit to, its reveals withheld or not; re-signed), a
      // subset of the others, tx order, time.
      const a = decodeAggregateTx(agg);
      const mine = a.votes.find((x) => Buffer.from(x.validatorAddress).equals(Buffer.from(adversary.address)))!;
      const ext = VoteExtensionCodec.decode(mine.extension);
      ext.commitments = [carrying, carrying + 1n].map((e) => ({ epoch: String(e), hash: sha256(Buffer.from(`adversary variant ${v} epoch ${e}`)) }));
      if (v % 2 === 1) ext.reveals = [];
      mine.extension = VoteExtensionCodec.encode(ext).finish();
      mine.signature = ed25519.sign(voteExtensionSignBytes(mine.extension, voteHeight, 0n, h.app.queryContext().header.chainId), adversary.secret);
      const drop = v % 4; // 0: keep all; 1..3: leave one honest validator's extension out (3 of 4 is still > 2/3)
      if (drop > 0) a.votes = a.votes.filter((x) => !Buffer.from(x.validatorAddress).equals(Buffer.from(h.validators[drop].address)));
      const order = [...mempool];
      for (let i = order.length - 1; i > 0; i--) { const j = (v * 7 + i) % (i + 1); [order[i], order[j]] = [order[j], order[i]]; }
      const samples = await h.dryRun([encodeAggregateTx(a), ...order], BigInt(v % 11), async (ctx) => {
        const t = (await h.app.poi.getTask(ctx, BigInt(id)))!;
        assert.equal(t.status, TaskStatus.VERIFYING);
        const parts: string[] = [];
        for (const hv of h.validators.slice(1)) {
          const rec = await h.app.poiModule.verification.seedRecord(ctx, hv.hex, BigInt(t.resultEpoch));
          const eligible = rec !== undefined && BigInt(rec.committedHeight) < BigInt(t.resultHeight);
          parts.push(`${hv.hex}:${eligible}:${hv.verifier!.sampleOf(ctx.header.chainId, t).join(",")}`);
        }
        return parts.join("|");
      });
      assert.ok(samples, `variant ${v} was accepted`);
      seen.set(samples!, (seen.get(samples!) ?? 0) + 1);
      variants++;
    }
    assert.equal(variants, 240);
    assert.equal(seen.size, 1, `the honest samples differ between variants: ${[...seen.keys()].join("\n")}`);
    assert.match([...seen.keys()][0], /:true:/, "the honest validators are eligible");
  });
});

describe("x/poi sampling: grinding cannot beat (1−f)^(k·h) (1,000+ trials, up to 2×10^4 variants per block)", function () {
  const trials = 1500;
  const patterns = 2; // fabrication patterns the worker may choose between (each gives another result root)
  // The adversary's own extension variants, signed once for the vote height: 2,500 contents × 4 subsets
  // of the honest extensions (all, or one left out: 3 of 4 is still more than 2/3) = 10^4 block variants.
  // Deterministic keys and secrets: the run is reproducible (and so cannot flake on luck).
  const adversaryKey = sha256(Buffer.from("grind adversary key"));
  const adversaryAddr = sha256(ed25519.getPublicKey(adversaryKey)).subarray(0, 20);
  const ownVariants = Array.from({ length: 2500 }, (_, j) => {
    const ext = VoteExtensionCodec.encode({ verdicts: [{ taskId: String(j + 1), attempt: 0, pass: true, failedItems: [], cannotVerify: false }], itemVerdicts: [], commitments: [], reveals: [] }).finish();
    return ed25519.sign(voteExtensionSignBytes(ext, 41n, 0n, CHAIN), adversaryKey);
  });
  const honestKeys = Array.from({ length: honestValidators }, (_, v) => sha256(Buffer.from(`grind honest key ${v}`)));
  const honestAddrs = honestKeys.map((key) => sha256(ed25519.getPublicKey(key)).subarray(0, 20));

  const honestSigs = honestKeys.map((key, v) => ed25519.sign(voteExtensionSignBytes(sha256(Buffer.from(`honest ${v}`)), 41n, 0n, CHAIN), key));

  /** One trial: the worker's fabrication choices (sets, outputs, roots) and the honest validators' secrets. */
  function trial(t: number) {
    const rand = mulberry32(0x5eed + t);
    // Each choice's result root is computed when the search first needs it.
    const choices = Array.from({ length: patterns }, (_, p) => {
      const fake = new Set<number>();
      while (fake.size < fabricated) fake.add(Math.floor(rand() * n));
      let root: Uint8Array | undefined;
      return {
        fake,
        get root(): Uint8Array {
          if (!root) {
            const outputs = new Uint8Array(n * 4);
            new DataView(outputs.buffer).setUint32(0, t * patterns + p);
            for (const i of fake) outputs[i * 4 + 3] = 1;
            root = resultRoot(outputs, n, 4);
          }
          return root;
        },
      };
    });
    const secrets = honestKeys.map((_, v) => sha256(Buffer.from(`grind sampling secret ${v} ${t}`)));
    return { choices, secrets, honestSigs, taskId: BigInt(t + 1), epoch: BigInt(t) };
  }

  const misses = (sample: readonly bigint[], fake: Set<number>) => sample.every((i) => !fake.has(Number(i)));

  /** The old design's sample: from a beacon over the aggregate's signatures, which the proposer picks. */
  function oldSample(tr: ReturnType<typeof trial>, j: number, drop: number, root: Uint8Array): bigint[] {
    const votes = honestAddrs.map((address, v) => ({ validatorAddress: address, signature: tr.honestSigs[v] })).filter((_, v) => v !== drop);
    votes.push({ validatorAddress: adversaryAddr, signature: ownVariants[j] });
    return sampleIndices(oldSampleSeed(oldBeaconOf(votes), tr.taskId, 0, root), BigInt(n), BigInt(k));
  }

  /**
   * The adversary's search over everything it controls: the fabrication pattern, its own extension
   * and signature, which extensions it includes (tx order and time change neither design's sample).
   * Its own validator's vote it simply bends; for the others it uses the best predictor it has, the
   * sample a beacon made of block data would give, and stops at the first variant predicted to miss
   * every fabricated item (out of up to 2 × 10^4).
   */
  function grind(tr: ReturnType<typeof trial>): { choice: number; j: number; drop: number; tried: number } {
    let tried = 0;
    for (let p = 0; p < patterns; p++) {
      const { fake, root } = tr.choices[p];
      for (let j = 0; j < ownVariants.length; j++) {
        for (let drop = -1; drop < honestValidators; drop++) {
          tried++;
          if (misses(oldSample(tr, j, drop, root), fake)) return { choice: p, j, drop, tried };
        }
      }
    }
    return { choice: 0, j: 0, drop: -1, tried };
  }

  it("with each honest validator's committed seed, the escape rate is (1−f)^(k·h) within 3σ", () => {
    let escapes = 0, tried = 0;
    for (let t = 0; t < trials; t++) {
      const tr = trial(t);
      const g = grind(tr);
      tried += g.tried;
      const { fake, root } = tr.choices[g.choice];
      // What the chain makes the honest validators check: each one's own seed of the result's epoch.
      if (tr.secrets.every((secret) => misses(validatorSample(seedFor(secret, CHAIN, tr.epoch), tr.taskId, 0, root, BigInt(n), BigInt(k)), fake))) escapes++;
    }
    const formula = Math.pow(1 - f, k * honestValidators);
    const exact = Math.pow(missProbability(n, fabricated, k), honestValidators);
    const rate = escapes / trials;
    const sigma = Math.sqrt((exact * (1 - exact)) / trials);
    console.log(`      ${trials} trials, ${tried} variants tried (up to ${patterns * 10_000} a block): escaped ${escapes} (${rate.toFixed(4)}); `
      + `(1−f)^(k·h) = ${formula.toFixed(4)}, exact ${exact.toFixed(4)}, σ ${sigma.toFixed(4)}`);
    assert.ok(Math.abs(rate - exact) <= 3 * sigma + 1 / trials, `escape rate ${rate} vs ${exact} ± 3σ (${3 * sigma})`);
    assert.ok(Math.abs(rate - formula) <= 3 * sigma + (formula - exact) + 1 / trials, `escape rate ${rate} vs (1−f)^(k·h) ${formula}`);
  });

  it("regression: the same adversary against the old beacon (signatures in the aggregate) escapes almost always", () => {
    let escapes = 0, tried = 0;
    for (let t = 0; t < 1000; t++) {
      const tr = trial(t);
      const g = grind(tr);
      tried += g.tried;
      if (misses(oldSample(tr, g.j, g.drop, tr.choices[g.choice].root), tr.choices[g.choice].fake)) escapes++;
    }
    console.log(`      old beacon: escaped in ${escapes} of 1000 trials (${tried} variants tried); one sample misses with p = ${missProbability(n, fabricated, k).toFixed(3)}`);
    assert.ok(escapes >= 990, `only ${escapes} of 1000`);
  });
});

describe("x/poi sampling: detection rate with h honest validators' own samples matches 1−(1−f)^(k·h) (real onnxruntime outputs)", () => {
  it("for f = 0.02 and f = 0.05, k = 20, h = 3, over 1,000 digits", async () => {
    const onnx = buildMlp({ inputSize: 784, hidden: 32, outputs: 10, weights: randomMlpWeights(784, 32, 10, 3) });
    const honest = await runModel(onnx, loadMnist().images.slice(0, 1000));
    const items = 1000, draws = 20, h = 3, trials = 1500;
    const secrets = Array.from({ length: h }, (_, v) => sha256(Buffer.from(`detection secret ${v}`)));
    for (const frac of [0.02, 0.05]) {
      const rand = mulberry32(Math.round(frac * 1000));
      let detected = 0;
      for (let t = 0; t < trials; t++) {
        const fake = new Set<number>();
        while (fake.size < Math.round(frac * items)) fake.add(Math.floor(rand() * items));
        const root = sha256(Buffer.from(`root ${frac} ${t}`));
        const caught = secrets.some((secret) => validatorSample(seedFor(secret, CHAIN, BigInt(t)), 1n, 0, root, BigInt(items), BigInt(draws)).some((i) => {
          const idx = Number(i);
          const ref = honest.subarray(idx * 10, idx * 10 + 10);
          const claimed = fake.has(idx) ? Float32Array.from({ length: 10 }, () => rand() * 10 - 5) : ref;
          return !compareItem(ref, claimed, [10]).pass;
        }));
        if (caught) detected++;
      }
      const rate = detected / trials;
      const formula = 1 - Math.pow(1 - frac, draws * h);
      const exact = 1 - Math.pow(missProbability(items, Math.round(frac * items), draws), h);
      const sigma = Math.sqrt((exact * (1 - exact)) / trials);
      console.log(`      f=${frac} k=${draws} h=${h}: measured ${rate.toFixed(4)} over ${trials} trials; 1-(1-f)^(k·h) = ${formula.toFixed(4)}; exact ${exact.toFixed(4)}; σ = ${sigma.toFixed(4)}`);
      assert.ok(Math.abs(rate - exact) <= 3 * sigma + 1 / trials, `rate ${rate} vs exact ${exact} ± 3σ`);
      assert.ok(Math.abs(rate - formula) <= 3 * sigma + (exact - formula) + 1 / trials, `rate ${rate} vs formula ${formula}`);
    }
  });

  it("sampleIndices: k distinct sorted indices, all when k >= n, uniform over positions", () => {
    const s = sampleIndices(new Uint8Array(32), 100n, 10n);
    assert.equal(s.length, 10);
    assert.equal(new Set(s).size, 10);
    assert.deepEqual(s, [...s].sort((a, b) => (a < b ? -1 : 1)));
    assert.deepEqual(sampleIndices(new Uint8Array(32), 5n, 9n), [0n, 1n, 2n, 3n, 4n]);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 5000; i++) for (const x of sampleIndices(sha256(Buffer.from(String(i))), 10n, 1n)) counts[Number(x)]++;
    for (const c of counts) assert.ok(c > 400 && c < 600, `counts ${counts}`);
  });
});
