/**
 * The power function (README.md, "Power"): pure integer arithmetic over bigints, no state. Inputs and
 * outputs are in one fixed order (validators by operator address), so results are deterministic.
 */
import { BPS } from "./params";

/** CometBFT requires the total voting power to stay below MaxInt64/8. */
export const MAX_TOTAL_POWER = ((1n << 63n) - 1n) / 8n;

export interface PowerInput {
  tokens: bigint;
  workScore: bigint;
  /** Not jailed, not tombstoned, self-bond at least the minimum. */
  eligible: boolean;
}

export interface PowerParams {
  power_reduction: bigint;
  work_weight_bps: bigint;
  work_units_per_power: bigint;
  max_power_share_bps: bigint;
  max_power_change_bps: bigint;
  max_validators: number;
}

/**
 * Targets before the bound per epoch: stake power (tokens / power_reduction) plus a work bonus of
 * workScore / work_units_per_power, so power from work has a fixed price in work units (and so in
 * fees). If the bonuses together would exceed work_weight_bps of the total stake power, that total is
 * split in proportion to work scores instead. Ineligible validators (and those with no stake power)
 * get 0. Then capped (capPowers).
 */
export function targetPowers(inputs: readonly PowerInput[], p: PowerParams): bigint[] {
  const stake = inputs.map((v) => (v.eligible ? v.tokens / p.power_reduction : 0n));
  const S = stake.reduce((s, x) => s + x, 0n);
  const works = (i: number) => stake[i] > 0n && inputs[i].workScore > 0n;
  const W = inputs.reduce((s, v, i) => s + (works(i) ? v.workScore : 0n), 0n);
  const maxBonus = (S * p.work_weight_bps) / BPS;
  const proportional = W / p.work_units_per_power > maxBonus;
  const raw = inputs.map((v, i) => {
    if (stake[i] === 0n) return 0n;
    if (!works(i)) return stake[i];
    return stake[i] + (proportional ? (maxBonus * v.workScore) / W : v.workScore / p.work_units_per_power);
  });
  return capPowers(raw, p.max_power_share_bps);
}

/** The cap in effect with n validators of positive power: capBps, or ceil(10000/n) when capBps·n < 10000. */
export function effectiveCapBps(capBps: bigint, n: number): bigint {
  if (n === 0) return capBps;
  const equal = (BPS + BigInt(n) - 1n) / BigInt(n);
  return capBps >= equal ? capBps : equal;
}

/**
 * Lowers the largest powers to one level X so that no power exceeds the cap's share of the new total
 * (water filling): with the k largest capped, X = floor(c·R / (10000 − c·k)) where R is the sum of the
 * others; the smallest k whose next power fits under X wins. Only lowers; zeros stay zero. When no k
 * works (the cap allows hardly more than an equal share), every positive power becomes the smallest one.
 */
export function capPowers(powers: readonly bigint[], capBps: bigint): bigint[] {
  const out = [...powers];
  const idx = out.map((_, i) => i).filter((i) => out[i] > 0n).sort((a, b) => (out[a] > out[b] ? -1 : out[a] < out[b] ? 1 : a - b));
  const n = idx.length;
  if (n === 0) return out;
  const c = effectiveCapBps(capBps, n);
  const total = idx.reduce((s, i) => s + out[i], 0n);
  if (out[idx[0]] * BPS <= c * total) return out;
  let rest = total;
  for (let k = 1; k < n; k++) {
    rest -= out[idx[k - 1]];
    if (c * BigInt(k) >= BPS) break;
    const X = (c * rest) / (BPS - c * BigInt(k));
    if (out[idx[k]] <= X) {
      for (let j = 0; j < k; j++) if (out[idx[j]] > X) out[idx[j]] = X;
      return out;
    }
  }
  const min = out[idx[n - 1]];
  for (const i of idx) out[i] = min;
  return out;
}

/** Moves each power toward its target by at most max_power_change_bps of the previous total (at least 1). */
export function stepToward(current: readonly bigint[], target: readonly bigint[], maxChangeBps: bigint): bigint[] {
  const prevTotal = current.reduce((s, x) => s + x, 0n);
  let limit = (prevTotal * maxChangeBps) / BPS;
  if (limit < 1n) limit = 1n;
  return current.map((cur, i) => {
    const t = target[i];
    if (t > cur) return t - cur > limit ? cur + limit : t;
    return cur - t > limit ? cur - limit : t;
  });
}

/** Keeps the max_validators largest powers (ties: lower index first) and zeroes the rest. */
export function keepLargest(powers: readonly bigint[], max: number): bigint[] {
  const order = powers.map((_, i) => i).filter((i) => powers[i] > 0n).sort((a, b) => (powers[a] > powers[b] ? -1 : powers[a] < powers[b] ? 1 : a - b));
  const keep = new Set(order.slice(0, max));
  return powers.map((p, i) => (keep.has(i) ? p : 0n));
}

/** Scales every power down proportionally if the total would reach MAX_TOTAL_POWER. */
export function boundTotal(powers: readonly bigint[]): bigint[] {
  const total = powers.reduce((s, x) => s + x, 0n);
  if (total < MAX_TOTAL_POWER) return [...powers];
  return powers.map((p) => (p * (MAX_TOTAL_POWER - 1n)) / total);
}

/**
 * The next powers, given the current ones (what CometBFT was last sent) and the state now. At an
 * epoch end each eligible validator moves toward its target within the bound; between epochs powers
 * stay, except that ineligible validators drop to 0 at once. Then cap, max_validators and the total
 * bound. If that would leave no power at all, the current powers stay (the set never becomes empty).
 * At genesis the targets apply at once.
 */
export function nextPowers(current: readonly bigint[], inputs: readonly PowerInput[], p: PowerParams, when: "genesis" | "epoch" | "between"): bigint[] {
  let next: bigint[];
  if (when === "genesis") {
    next = targetPowers(inputs, p);
  } else if (when === "epoch") {
    const target = targetPowers(inputs, p);
    next = stepToward(current, target, p.max_power_change_bps).map((x, i) => (inputs[i].eligible ? x : 0n));
  } else {
    next = current.map((x, i) => (inputs[i].eligible ? x : 0n));
  }
  next = boundTotal(keepLargest(capPowers(next, p.max_power_share_bps), p.max_validators));
  return next.some((x) => x > 0n) ? next : [...current];
}
