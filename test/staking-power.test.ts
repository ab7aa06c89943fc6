/** The power function (src/x/staking/power.ts): cap, fewer than 4 validators, bound per epoch, never empty. */
import { strict as assert } from "assert";
import { capPowers, effectiveCapBps, nextPowers, targetPowers } from "../src/x/staking/power";
import { DEFAULT_STAKING_PARAMS } from "../src/x/staking/params";

const P = DEFAULT_STAKING_PARAMS;
const v = (tokens: bigint, workScore = 0n, eligible = true) => ({ tokens, workScore, eligible });

describe("staking power function", () => {
  it("caps every share at 25% of the total, whatever the work", () => {
    const t = targetPowers([v(100_000_000_000n, 1_000_000_000n), v(100_000_000_000n), v(100_000_000_000n), v(100_000_000_000n), v(900_000_000_000n, 5_000_000_000n)], P);
    const total = t.reduce((s, x) => s + x, 0n);
    for (const x of t) assert.ok(x * 10_000n <= 2_500n * total, `${x} of ${total}`);
    assert.deepEqual([t[0], t[4]], [150_000n, 150_000n], "both capped at X = 2500·300,000/5000");
  });

  it("work raises power below the cap at a fixed price: work_units_per_power units of work score buy one unit of power", () => {
    const six = (a: bigint, b: bigint) => [v(100_000_000_000n, a), v(100_000_000_000n, b), v(100_000_000_000n), v(100_000_000_000n), v(100_000_000_000n), v(100_000_000_000n)];
    const t = targetPowers(six(3_000_000n, 1_000_000n), { ...P, work_weight_bps: 1_000n });
    assert.deepEqual(t, [130_000n, 110_000n, 100_000n, 100_000n, 100_000n, 100_000n], "score / 100 each, below the 10% limit of 600,000");
    // A token amount of work buys a token amount of power, whoever else works or not.
    assert.deepEqual(targetPowers(six(150n, 0n), P).slice(0, 2), [100_001n, 100_000n]);
  });

  it("work bonuses together stay within work_weight_bps of the stake power: above it they split that total by work score", () => {
    const t = targetPowers([v(100_000_000_000n, 30_000_000n), v(100_000_000_000n, 10_000_000n), v(100_000_000_000n), v(100_000_000_000n), v(100_000_000_000n), v(100_000_000_000n)], { ...P, work_weight_bps: 1_000n });
    assert.deepEqual(t.slice(0, 3), [145_000n, 115_000n, 100_000n], "400,000 of bonus asked, 60,000 allowed: 3:1");
  });

  it("fewer than 4 validators: the cap in effect is ceil(10000/n) and the largest are lowered toward an equal split", () => {
    assert.equal(effectiveCapBps(2_500n, 3), 3_334n);
    assert.equal(effectiveCapBps(2_500n, 1), 10_000n);
    assert.deepEqual(capPowers([1000n, 10n, 10n], 2_500n), [10n, 10n, 10n]);
    assert.deepEqual(capPowers([1000n], 2_500n), [1000n]);
    assert.deepEqual(capPowers([300n, 100n, 0n], 2_500n), [100n, 100n, 0n]);
  });

  it("below the minimum self-bond (ineligible) power is 0 at once; the set never becomes empty", () => {
    const cur = [100n, 100n, 100n, 100n, 100n];
    const n = nextPowers(cur, [v(100_000_000n), v(100_000_000n, 0n, false), v(100_000_000n), v(100_000_000n), v(100_000_000n)], P, "between");
    assert.deepEqual(n, [100n, 0n, 100n, 100n, 100n]);
    const none = nextPowers(cur, cur.map(() => v(100_000_000n, 0n, false)), P, "epoch");
    assert.deepEqual(none, cur, "all ineligible: previous powers stay");
  });

  it("moves by at most max_power_change_bps of the previous total per epoch", () => {
    const cur = [100n, 100n, 100n, 100n, 100n, 100n, 100n, 100n];
    const inputs = cur.map(() => v(100_000_000n));
    inputs[0] = v(10_000_000_000n); // target far above
    const n = nextPowers(cur, inputs, P, "epoch");
    assert.equal(n[0], 180n, "100 + 10% of 800");
    assert.deepEqual(nextPowers(cur, inputs, P, "between"), cur, "no change between epochs");
  });
});
