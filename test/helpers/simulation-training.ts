/**
 * Training tasks in the simulation (simulation.ts): TrainingFlow with a tiny MLP (784 → 4 → 10, batch
 * 4) on 40 digits, and a few tasks a run of T = 4 or 6 steps, c = 2, k = every segment, min accuracy 0
 * (so the outcome never turns on the accuracy rule). Workers claim and commit: honestly, or trained
 * wrong in every segment (updates skipped, other rows, bf16 rounding: every sample catches it), or
 * honestly but never revealing; now and then a claim is left to lapse. They reveal what the validators
 * request, all of it in one tx a block, also in the quiet blocks that end a run; a commitment by
 * another worker and a reveal of checkpoint 0 are refused.
 */
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import type { Harness } from "./poi-harness";
import { TrainingFlow } from "./training-flow";
import type { Rng } from "./fuzz-gen";
import type { SimPlanner, SimResult, SimTask } from "./simulation";
import { commitMsg, revealMsgs, type TrainingKnobs, type TrainingRun } from "../../src/ml/training-task";
import { roundCheckpointToBf16 } from "../../src/ml/checkpoint";
import { neededCheckpoints, segmentCount } from "../../src/x/poi/training";
import {
  MsgClaimTaskCodec, MsgCommitTrainingCodec, MsgRevealCheckpointCodec, MsgSubmitTrainingTaskCodec, MsgSubmitTrainingTaskResponseCodec, TaskStatus,
} from "../../src/x/poi/types";

const ITEMS = 40;
/** Training tasks submitted a run, at most. */
const MAX_TASKS = 4;
/** What the worker of attempt a of the i-th task does: behaviours[(i + a) % 4]. */
const BEHAVIOURS = ["honest", "wrong", "no-reveal", "honest"] as const;
const WRONG: Array<[string, TrainingKnobs]> = [
  ["skipped-updates", { skipSteps: () => true }],
  ["other-rows", { rows: (_, rows) => rows.map((r) => (r + 1n) % 20n) }],
  ["bf16", { afterStep: (p) => roundCheckpointToBf16(p) }],
];

export class SimTraining {
  /** The run and whether its worker reveals, by task id and attempt. */
  private readonly runs = new Map<string, { run: TrainingRun; reveals: boolean }>();
  private submitted = 0;

  private constructor(readonly h: Harness, readonly f: TrainingFlow, readonly rng: Rng, private readonly workers: string[], private readonly requesters: string[]) {}

  static async create(h: Harness, rng: Rng, workers: string[], requesters: string[]): Promise<SimTraining> {
    return new SimTraining(h, await TrainingFlow.create(h, { items: ITEMS, hidden: 4, batch: 4 }), rng, workers, requesters);
  }

  private name(address: string): string {
    return this.workers.find((n) => this.h.account(n).address === address)!;
  }

  /** This block's training txs: reveals first (also when `quiet`), then commitments, claims and a new task. */
  async plan(p: SimPlanner, tasks: Map<string, SimTask>, result: SimResult, quiet: boolean): Promise<void> {
    const rng = this.rng;
    const next = this.h.height + 1n;
    for (const t of [...tasks.values()].filter((x) => x.training !== undefined)) {
      const task = await this.f.task(t.id);
      const key = `${t.id}/${task.attempt}`;
      if (task.status === TaskStatus.VERIFYING) {
        const a = this.runs.get(key);
        const w = this.name(task.worker);
        if (!a?.reveals || p.busy.has(w) || next > BigInt(task.revealDeadlineHeight ?? "0")) continue;
        const att = (await this.f.attempt(t.id))!;
        const missing = neededCheckpoints(att.requests.flatMap((r) => r.segments), segmentCount(task.numItems)).filter((i) => !att.revealed.includes(i));
        const chunkBytes = BigInt((await this.f.spec(t.id)).checkpointChunkBytes);
        if (missing.length === 0) {
          if (!quiet && att.revealed.length && rng.chance(0.2)) {
            p.busy.add(w);
            const msg = { ...revealMsgs(a.run, task.worker, BigInt(t.id), 1, chunkBytes)[0], index: 0 };
            await p.add("reveal-checkpoint-0", w, MsgRevealCheckpointCodec, msg, { refusal: /checkpoint 0 is the task's initial parameters|checkpoints are revealed after a commitment/ });
          }
          continue;
        }
        p.busy.add(w);
        await p.add("reveal-checkpoint", w, MsgRevealCheckpointCodec, missing.flatMap((i) => revealMsgs(a.run, task.worker, BigInt(t.id), i, chunkBytes)));
        continue;
      }
      if (quiet) continue;
      if (task.status === TaskStatus.OPEN && next < t.deadline && rng.chance(0.6) && p.free(this.workers).length) {
        const w = p.take(p.free(this.workers));
        await p.add("claim-training", w, MsgClaimTaskCodec, { worker: this.h.account(w).address, taskId: t.id });
      } else if (task.status === TaskStatus.CLAIMED && next < BigInt(task.claimExpiresHeight) && !t.abandoned.has(task.attempt)) {
        const w = this.name(task.worker);
        if (p.busy.has(w) || !rng.chance(0.7)) continue;
        if (rng.chance(0.08)) { t.abandoned.add(task.attempt); continue; }
        p.busy.add(w);
        const behaviour = BEHAVIOURS[(t.training! + task.attempt) % BEHAVIOURS.length];
        const [how, knobs] = behaviour === "wrong" ? WRONG[Number(BigInt(t.id) % BigInt(WRONG.length))] : ["", {}];
        const run = await this.f.train(t.id, knobs);
        const other = p.free(this.workers).filter((n) => n !== w);
        if (other.length && rng.chance(0.15)) {
          const by = p.take(other);
          await p.add("commit-not-claimant", by, MsgCommitTrainingCodec, commitMsg(run, this.h.account(by).address, BigInt(t.id)), { refusal: /is claimed by poi1\w+, not poi1/ });
        }
        const attempt = task.attempt;
        const cheat = behaviour !== "honest";
        await p.add(behaviour === "honest" ? "commit-training" : `commit-training-${behaviour}`, w, MsgCommitTrainingCodec, commitMsg(run, task.worker, BigInt(t.id)), {
          done: () => {
            this.runs.set(key, { run, reveals: behaviour !== "no-reveal" });
            (cheat ? t.cheats : t.honest).add(attempt);
            if (cheat) result.trainingCheats.push(how || behaviour); else result.trainingHonest++;
          },
        });
      }
    }
    if (!quiet && this.submitted < MAX_TASKS && rng.chance(0.1) && p.free(this.requesters).length) {
      const req = p.take(p.free(this.requesters));
      const [steps, deadline] = [rng.pick([4, 6]), BigInt(rng.range(60, 90))];
      const index = this.submitted++;
      await p.add("submit-training", req, MsgSubmitTrainingTaskCodec, this.f.submitMsg({
        requester: this.h.account(req).address, trainStart: "0", trainCount: "20", heldOutStart: "20", heldOutCount: "20", steps: String(steps),
        checkpointInterval: "2", k: steps / 2, reward: "1000000", bond: "1000000", minAccuracyBps: 0, deadlineBlocks: deadline.toString(),
      }), {
        done: (r) => {
          const id = MsgSubmitTrainingTaskResponseCodec.decode(TxMsgData.decode(r.data).msgResponses[0].value).taskId;
          tasks.set(id, { id, deadline: next + deadline, cheats: new Set(), honest: new Set(), abandoned: new Set(), decided: new Set(), training: index });
        },
      });
    }
  }
}
