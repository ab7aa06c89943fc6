/**
 * Detection rate of training segments by sampling alone (no onnxruntime): each of h honest validators
 * checks k of the S = T/c segments of its own sample (attemptSample, from its secret seed and the
 * committed checkpoint root); a worker that faked b of the S segments escapes only if no validator's
 * sample holds one of them: P(escape) = (C(S − b, k) / C(S, k))^h, about (1 − b/S)^(k·h). Measured
 * over ≥ 1,000 trials against the formula within 3σ.
 */
import { strict as assert } from "assert";
import { createHash } from "node:crypto";
import { attemptSample } from "../src/x/poi/sampling";

const sha = (s: string) => createHash("sha256").update(s).digest();

function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r = (r * (n - i)) / (i + 1);
  return r;
}

/** Fraction of `trials` in which some validator's sample holds a faked segment. */
function measure(S: number, bad: number, k: number, h: number, trials: number, tag: string): number {
  let detected = 0;
  for (let t = 0; t < trials; t++) {
    const root = sha(`${tag} root ${t}`);
    // The worker fakes `bad` segments of its choice; which ones cannot matter to uniform samples.
    const faked = new Set(Array.from({ length: bad }, (_, i) => BigInt((i * 7 + t) % S)));
    let caught = false;
    for (let v = 0; v < h && !caught; v++) {
      const sample = attemptSample(sha(`${tag} seed ${t} ${v}`), BigInt(t + 1), 0, root, BigInt(S + 1), BigInt(k), true);
      assert.equal(sample.at(-1), BigInt(S), "the accuracy item is in every sample");
      caught = sample.slice(0, -1).some((s) => faked.has(s));
    }
    if (caught) detected++;
  }
  return detected / trials;
}

describe("x/poi training: detection rate of faked segments by per-validator sampling", () => {
  const cases: Array<[number, number, number, number]> = [
    // S segments, b faked, k per validator, h honest validators
    [30, 3, 2, 3],
    [30, 1, 2, 3],
    [100, 5, 4, 3],
    [300, 30, 1, 3],
  ];
  for (const [S, b, k, h] of cases) {
    it(`S = ${S}, ${b} faked, k = ${k}, h = ${h}: measured within 3σ of 1 − (C(S−b,k)/C(S,k))^h`, () => {
      const trials = 2000;
      const p = 1 - (choose(S - b, k) / choose(S, k)) ** h;
      const sigma = Math.sqrt((p * (1 - p)) / trials);
      const measured = measure(S, b, k, h, trials, `${S}/${b}/${k}/${h}`);
      const approx = 1 - (1 - b / S) ** (k * h);
      console.log(`      S=${S} b=${b} k=${k} h=${h}: measured ${measured.toFixed(4)}, exact ${p.toFixed(4)}, (1−b/S)^(kh) form ${approx.toFixed(4)}, σ ${sigma.toFixed(4)}`);
      assert.ok(Math.abs(measured - p) <= 3 * sigma, `measured ${measured} vs ${p} ± ${3 * sigma}`);
    });
  }
});
