/** The chain's limits on a model (see README.md for the defaults and what each bounds). */

export interface ModelLimits {
  /** Largest model file accepted (bytes). */
  maxModelBytes: number;
  irVersionMin: number;
  irVersionMax: number;
  /** Accepted range of the default-domain opset version. */
  opsetMin: number;
  opsetMax: number;
  maxNodes: number;
  /** Largest tensor rank anywhere in the graph. */
  maxRank: number;
  /** Sum of all initializers' data sizes (bytes). */
  maxInitializerBytes: number;
  /** One initializer's data size (bytes). */
  maxInitializerTensorBytes: number;
  /** Elements of any one tensor: graph input, node output, or a Conv's im2col scratch buffer. */
  maxIntermediateElements: number;
  /** Sum of the elements of all node outputs (a bound on the runtime's activation memory). */
  maxTotalIntermediateElements: number;
  /** Work units of one run (see README.md for how they are counted). */
  maxWorkUnitsPerItem: bigint;
}

const MiB = 1024 * 1024;

export const DEFAULT_MODEL_LIMITS: Readonly<ModelLimits> = Object.freeze({
  maxModelBytes: 4 * MiB,
  irVersionMin: 7,
  irVersionMax: 10,
  opsetMin: 13,
  opsetMax: 17,
  maxNodes: 512,
  maxRank: 8,
  maxInitializerBytes: 4 * MiB,
  maxInitializerTensorBytes: 4 * MiB,
  maxIntermediateElements: 1 << 20,
  maxTotalIntermediateElements: 1 << 23,
  maxWorkUnitsPerItem: 1_000_000_000n,
});

/** `limits` merged over the defaults and checked (a bad limit is a caller bug, not a bad model). */
export function resolveLimits(limits: Partial<ModelLimits> = {}): ModelLimits {
  const l: ModelLimits = { ...DEFAULT_MODEL_LIMITS };
  // Only limits actually given override the defaults (an explicit `undefined` keeps the default).
  for (const k of Object.keys(DEFAULT_MODEL_LIMITS) as (keyof ModelLimits)[]) {
    if (limits[k] !== undefined) (l as unknown as Record<string, unknown>)[k] = limits[k];
  }
  const ints: (keyof ModelLimits)[] = [
    "maxModelBytes", "irVersionMin", "irVersionMax", "opsetMin", "opsetMax", "maxNodes", "maxRank",
    "maxInitializerBytes", "maxInitializerTensorBytes", "maxIntermediateElements", "maxTotalIntermediateElements",
  ];
  for (const k of ints) {
    const v = l[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new TypeError(`model limit ${k} must be a non-negative safe integer`);
  }
  if (typeof l.maxWorkUnitsPerItem !== "bigint" || l.maxWorkUnitsPerItem < 0n) {
    throw new TypeError("model limit maxWorkUnitsPerItem must be a non-negative bigint");
  }
  return l;
}
