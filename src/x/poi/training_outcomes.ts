/**
 * What the end of a training attempt adds to the inference outcomes (outcomes.ts; README, "Training
 * tasks"): the reveals a worker owes by the reveal deadline, the work a pass credits (T steps), and
 * the useful output of a pass: the recorded held-out accuracy and, when it reaches the task's minimum,
 * the final parameters registered as an inference model owned by the requester, with that accuracy,
 * its training task and its parent. Integer arithmetic only.
 */
import type { Context } from "../../app/context";
import { POI_MODULE, RECORD_PREFIX, contentId } from "./keeper";
import { addToCount } from "./indexes";
import { withParameters } from "./onnx/with-parameters";
import { neededCheckpoints, segmentCount } from "./training";
import { TrainingKeeper } from "./training_keeper";
import { ModelKind, type Model, type Task } from "./types";
import type { PoiDeps, PowerTable } from "./outcomes";

const training = new TrainingKeeper();
const MAX_NAME = 64;

/**
 * After the reveal deadline: the items of the attempt that cannot be checked because the worker did not
 * reveal what they need (requested segments missing an end; the accuracy item when the final checkpoint
 * is missing), and the validators whose requests it left unanswered. Undefined when nothing is missing.
 */
export async function missingReveals(ctx: Context, task: Task): Promise<{ items: string[]; requesters: string[]; checkpoints: number[] } | undefined> {
  const att = await training.attempt(ctx, task);
  const segments = segmentCount(task.numItems);
  const requests = att?.requests ?? [];
  const revealed = new Set(att?.revealed ?? []);
  const missing = neededCheckpoints(requests.flatMap((r) => r.segments), segments).filter((i) => !revealed.has(i));
  if (missing.length === 0) return undefined;
  const gone = new Set(missing);
  const unchecked = (s: bigint) => (s > 0n && gone.has(Number(s))) || gone.has(Number(s) + 1);
  const items = new Set<bigint>();
  const requesters: string[] = [];
  for (const r of requests) {
    const bad = r.segments.map(BigInt).filter(unchecked);
    bad.forEach((s) => items.add(s));
    if (bad.length > 0) requesters.push(r.validator);
  }
  if (gone.has(Number(segments))) items.add(segments);
  return { items: [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String), requesters, checkpoints: missing };
}

/** Whether the final checkpoint of the current attempt has been revealed (a pass needs it: it becomes the model). */
export async function finalRevealed(ctx: Context, task: Task): Promise<boolean> {
  const att = await training.attempt(ctx, task);
  return att !== undefined && att.revealed.includes(Number(segmentCount(task.numItems)));
}

/** Work of a passed training task: T steps of the train_step model. */
export async function trainingWorkUnits(ctx: Context, task: Task, step: Model): Promise<bigint> {
  const spec = (await training.spec(ctx, BigInt(task.id)))!;
  return BigInt(spec.steps) * BigInt(step.workUnitsPerItem);
}

/**
 * The held-out accuracy the chain records: the power-weighted median of the passing votes' accuracies
 * (the smallest value at which the passers holding at least half of their power are reached). With
 * Byzantine power under 1/3 of the total and passes at 2/3 or more, it lies within the honest votes' range.
 */
export function medianAccuracy(task: Task, table: PowerTable): number {
  const votes = task.votes.filter((v) => v.pass && (table.power.get(v.validator) ?? 0n) > 0n)
    .map((v) => ({ acc: v.accuracyBps ?? 0, power: table.power.get(v.validator)! }))
    .sort((a, b) => a.acc - b.acc);
  const total = votes.reduce((s, v) => s + v.power, 0n);
  let seen = 0n;
  for (const v of votes) {
    seen += v.power;
    if (seen * 2n >= total) return v.acc;
  }
  return 0;
}

/** What a passed training attempt leaves on its task (README, "Training tasks", Outcome). */
export interface TrainingOutcome { trainedModelId: string; heldOutAccuracyBps: number; belowMinAccuracy: boolean }

/**
 * The useful output of a passed attempt. The worker controls only whether it ran the recipe faithfully
 * (the segments) and revealed the committed final parameters; the accuracy those reach is fixed by the
 * requester's recipe. So the pass pays as any pass, and the recorded accuracy (medianAccuracy) decides
 * only whether the final parameters become the requester's model: at or above min_accuracy_bps they do
 * (registerTrainedModel), below it no model is registered and the task records that. Either way the
 * revealed checkpoints are pruned.
 */
export async function trainingOutcome(ctx: Context, deps: PoiDeps, task: Task, table: PowerTable): Promise<TrainingOutcome> {
  const id = BigInt(task.id);
  const spec = (await training.spec(ctx, id))!;
  const accuracy = medianAccuracy(task, table);
  let trainedModelId = "";
  if (accuracy >= spec.minAccuracyBps) {
    trainedModelId = await registerTrainedModel(ctx, deps, task, accuracy);
  } else {
    ctx.events.emit("poi_training_below_minimum", [
      ["task_id", task.id], ["held_out_accuracy_bps", String(accuracy)], ["min_accuracy_bps", String(spec.minAccuracyBps)], ["model_registered", "false"],
      ["reason", `held-out accuracy ${accuracy} bps below the minimum ${spec.minAccuracyBps}`],
    ]);
  }
  await training.pruneCheckpoints(ctx, id);
  return { trainedModelId, heldOutAccuracyBps: accuracy, belowMinAccuracy: trainedModelId === "" };
}

/**
 * Registers the passed attempt's final parameters as an inference model owned by the requester (the
 * parent's graph with these parameters: onnx/with-parameters.ts), unless a model with the very same
 * bytes exists already. Returns the model's id.
 */
async function registerTrainedModel(ctx: Context, deps: PoiDeps, task: Task, accuracy: number): Promise<string> {
  const { keeper } = deps;
  const id = BigInt(task.id);
  const spec = (await training.spec(ctx, id))!;
  const final = (await training.checkpoint(ctx, id, Number(segmentCount(task.numItems)), spec))!;
  const parent = (await keeper.getModel(ctx, spec.parentModelId))!;
  const onnx = withParameters((await keeper.getModelBytes(ctx, parent.id))!, final);
  const modelId = contentId(onnx);
  if (!(await keeper.getModel(ctx, modelId))) {
    keeper.setModel(ctx, {
      ...parent, id: modelId, owner: task.requester, name: [...`${parent.name} trained by task ${task.id}`].slice(0, MAX_NAME).join(""),
      sizeBytes: String(onnx.length), registeredHeight: ctx.header.height.toString(), flagged: false, flagReason: "", flaggedHeight: "0",
      kind: ModelKind.INFERENCE, parentModelId: parent.id, trainingTaskId: task.id, heldOutAccuracyBps: accuracy,
    }, onnx);
    await addToCount(ctx.store(POI_MODULE), RECORD_PREFIX.model, 1n);
  }
  ctx.events.emit("poi_model_trained", [
    ["task_id", task.id], ["model_id", modelId], ["owner", task.requester], ["parent_model_id", parent.id], ["held_out_accuracy_bps", String(accuracy)],
  ]);
  return modelId;
}
