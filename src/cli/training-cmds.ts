/**
 * `poi tx poi submit-training` (a training task's terms from flags) and `poi tx poi reveal` (the
 * requested checkpoints of an attempt from a checkpoints file: what `poi worker start --checkpoint-dir`
 * writes; the worker daemon reveals by itself, this is for a worker that stopped before it could).
 */
import type { TrainingTaskSpec } from "../client/poi-msgs";
import { TaskStatus, TASK_STATUS_NAMES } from "../x/poi/types";
import { revealRequested, runFromCheckpoints } from "../worker/training";
import { contentIdArg, need, nonNegativeInt, positiveInt, readFile, upoiArg } from "./args";
import { type OutputFormat, printJson, printLines } from "./common";
import { withSender, type TxValues } from "./poi-tx";

export const TRAINING_OPTIONS = Object.fromEntries([
  "model", "initial-params", "x", "y", "train-start", "train-count", "held-out-start", "held-out-count", "steps", "batch-size", "lr",
  "checkpoint-interval", "k", "reward", "bond", "min-accuracy-bps", "deadline",
].map((f) => [f, { type: "string" as const }])) as Record<string, { type: "string" }>;

/** The training task from the flags of `tx poi submit-training`, each checked (the chain checks the rest). */
export function trainingSpecArgs(v: Record<string, string | boolean | undefined>): TrainingTaskSpec {
  const cmd = "tx poi submit-training";
  const flag = (f: string) => need(v[f] as string | undefined, f, cmd);
  const lr = flag("lr");
  if (!/^[0-9]{1,9}(\.[0-9]{1,9})?$/.test(lr) || Number(lr) <= 0) throw new Error(`invalid --lr "${lr.slice(0, 32)}": want a positive decimal such as 0.1`);
  return {
    modelId: contentIdArg(flag("model"), "--model (the train_step model id)"), initialParamsDatasetId: contentIdArg(flag("initial-params"), "--initial-params dataset id"),
    xDatasetId: contentIdArg(flag("x"), "--x dataset id"), yDatasetId: contentIdArg(flag("y"), "--y dataset id"),
    train: { start: nonNegativeInt(flag("train-start"), "--train-start"), count: positiveInt(flag("train-count"), "--train-count") },
    heldOut: { start: nonNegativeInt(flag("held-out-start"), "--held-out-start"), count: positiveInt(flag("held-out-count"), "--held-out-count") },
    steps: positiveInt(flag("steps"), "--steps"), batchSize: positiveInt(flag("batch-size"), "--batch-size", 0xffffffff), learningRate: lr,
    checkpointInterval: positiveInt(flag("checkpoint-interval"), "--checkpoint-interval"), k: positiveInt(flag("k"), "--k", 0xffffffff),
    reward: upoiArg(flag("reward"), "--reward"), bond: upoiArg(flag("bond"), "--bond"),
    minAccuracyBps: nonNegativeInt(flag("min-accuracy-bps"), "--min-accuracy-bps"), deadlineBlocks: positiveInt(flag("deadline"), "--deadline"),
  };
}

/** Reveals the checkpoints of task `id`'s attempt that the segment requests need and are not yet on chain. */
export async function reveal(values: TxValues, from: string, id: string, file: string, output: OutputFormat): Promise<void> {
  const bytes = readFile(file, "--checkpoints-file");
  const lines: string[] = [];
  const r = await withSender(values, from, async (s) => {
    const task = await s.query.task(id);
    if (task.status !== TaskStatus.VERIFYING) throw new Error(`task ${id} is ${TASK_STATUS_NAMES[task.status] ?? task.status}: checkpoints are revealed while an attempt is verifying`);
    if (task.worker !== s.address) throw new Error(`task ${id} attempt ${task.attempt} is ${task.worker}'s, not ${from}'s (${s.address})`);
    const { spec } = await s.query.training(id);
    const run = runFromCheckpoints(bytes, spec, task.resultRoot);
    const revealed = await revealRequested(s, task, { run, spec, revealed: new Set(), revealDeadline: BigInt(task.revealDeadlineHeight ?? "0") }, (l) => lines.push(l));
    return { taskId: id, attempt: task.attempt, revealed, revealDeadlineHeight: task.revealDeadlineHeight ?? "0" };
  });
  if (output === "json") printJson({ ...r, log: lines });
  else printLines([...lines, r.revealed.length ? `revealed: ${r.revealed.join(",")}` : "nothing to reveal: every requested checkpoint is on chain"]);
}
