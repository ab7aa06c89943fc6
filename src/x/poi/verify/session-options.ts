import type { InferenceSession } from "onnxruntime-node";

/**
 * The one set of onnxruntime session options for re-execution, the worker daemon, tests and benches.
 * Fixed options (one thread, sequential, same optimisations) make a run repeatable on one machine;
 * across CPUs only the tolerance in compare.ts is relied on.
 */
export const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
  enableCpuMemArena: true,
};
