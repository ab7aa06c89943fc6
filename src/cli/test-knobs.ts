/**
 * Fault-injection knobs a node's config/app.json may set, for tests only. A node refuses to start
 * with any of them unless it is started with --unsafe-test-knobs. A new knob is one more row here
 * (and its field in AppConfig, src/cli/home.ts).
 */
import * as path from "node:path";
import type { AppConfig } from "./home";

export const UNSAFE_TEST_KNOBS_FLAG = "--unsafe-test-knobs";

export interface TestKnob {
  /** The key in config/app.json. */
  key: keyof AppConfig & string;
  /** What it does, for the refusal and the warning. */
  what: string;
}

export const TEST_KNOBS: readonly TestKnob[] = [
  { key: "verifier_fault", what: "perturbs (noise_rel), inverts (invert_verdicts) or fixes to pass (always_pass) this validator's verdicts, or makes its re-execution process abort on models of a name (abort_models_named)" },
];

/**
 * The knobs `cfg` sets, each as a line for a loud warning. Throws, naming the knob and the flag,
 * when any is set and `allowed` is false.
 */
export function testKnobsInEffect(home: string, cfg: AppConfig, allowed: boolean): string[] {
  const set = TEST_KNOBS.filter((k) => cfg[k.key] !== undefined && cfg[k.key] !== null);
  const file = path.join(home, "config", "app.json");
  if (set.length > 0 && !allowed) {
    const names = set.map((k) => `"${k.key}" (${k.what})`).join(", ");
    throw new Error(`${file} sets the test knob${set.length > 1 ? "s" : ""} ${names}: fault injection is refused unless the node is started with ${UNSAFE_TEST_KNOBS_FLAG}`);
  }
  return set.map((k) => `${k.key} = ${JSON.stringify(cfg[k.key])} from ${file}: ${k.what}`);
}
