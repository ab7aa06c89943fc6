/**
 * The worker's cheating mode (for demos and tests): which items of a task it fabricates instead of
 * running, and the PRNG that draws their values.
 */
import { createHash } from "node:crypto";
import { mulberry32 } from "../util/random";

/**
 * The items of a task of `numItems` items whose outputs a cheating worker fabricates: exactly
 * round(fraction × numItems) distinct indices, sorted, from mulberry32 seeded by (seed, task id).
 * Also returns the PRNG, positioned after the choice, which then draws the fabricated values.
 */
export function cheatPlan(numItems: number, fraction: number, seed: number, taskId: string): { indices: number[]; rand: () => number } {
  const h = createHash("sha256").update(`poi/cheat/v1/${seed}/${taskId}`).digest();
  const rand = mulberry32(h.readUInt32BE(0));
  const count = Math.min(numItems, Math.max(0, Math.round(fraction * numItems)));
  const order = Array.from({ length: numItems }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    // Partial Fisher-Yates: order[0..count) becomes a uniform random subset.
    const j = i + Math.floor(rand() * (numItems - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return { indices: order.slice(0, count).sort((a, b) => a - b), rand };
}
