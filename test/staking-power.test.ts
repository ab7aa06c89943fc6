/** The power function (src/x/staking/power.ts): cap, fewer than 4 validators, bound per epoch, never empty. */
import { strict as assert } from "assert";
import { capPowers, effectiveCapBps, nextPowers, targetPowers } from "../src/x/staking/power";
import { DEFAULT_STAKING_PARAMS } from "../src/x/staking/params";

const P = DEFAULT_STAKING_PARAMS;
const v = (tokens: bigint, workScore = 0n, eligible = true) => ({ tokens, workScore, eligible });

describe("staking power function", () => {
  it("caps every share at 25% of the total, whatever the work", () => {
    const t = targetPowers([v(100_000_000_000n, 1000n), v(100_000_000_000n), v(100_000_000_000n), v(100_000_000_000n), v(900_000_000_000n, 5000n)], P);
    const total = t.reduce((s, x) => s + x, 0n);
    for (const x of t) assert.ok(x * 10_000n <= 2_500n * total, `${x} of ${total}`);
    assert.deepEqual([t[0], t[4]], [150_000n, 150_000n], "both capped at X = 2500·300,000/5000");
  });

  it("work raises power below the cap and is split by work score", () => {
    const t = targetPowers([v(100_000_000_000n, 3n), v(100_000_000_000n, 1n), v(100_000_000_000n), v(100_000_000_000n), v(100_000_000_000n), v(100_000_000_000n)], { ...P, work_weight_bps: 1_000n });
    assert.ok(t[0] > t[1] && t[1] > t[2], `${t}`);
    assert.equal(t[2], 100_000n);
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
