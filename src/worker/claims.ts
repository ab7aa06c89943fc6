/**
 * What the worker daemon keeps about its claims, and how it follows each one until its attempt is
 * decided: paid, slashed, reopened without a verdict, lapsed or expired (training claims reveal their
 * checkpoints meanwhile).
 */
import type { PoiQueryClient } from "../client/query";
import type { PoiTxClient } from "../client/tx";
import { TaskStatus, TASK_STATUS_NAMES, type Task } from "../x/poi/types";
import { revealRequested, type TrainingClaim } from "./training";

export const DENOM = "upoi";

export const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export interface PoiWorkerStats {
  /** Claims that succeeded. */
  claimed: number;
  /** Claims refused because another worker got there first. */
  lostClaims: number;
  /** Results accepted by the chain. */
  submitted: number;
  /** Results verified and paid. */
  completed: number;
  /** Results that failed verification (bond slashed). */
  failed: number;
  /** Verification did not reach a verdict in time (bond returned, task reopened). */
  verifyTimeouts: number;
  /** Claims that lapsed before a result was in (bond forfeited). */
  lapsed: number;
  /** Claims or results that ended with the task expiring. */
  expired: number;
  /** Errors of any kind (logged). */
  errors: number;
  /** Items run through onnxruntime, and items fabricated. */
  itemsRun: number;
  itemsFabricated: number;
  /** upoi earned (rewards) and slashed (bonds). */
  earned: bigint;
  slashed: bigint;
}

/** What the worker remembers about a claim it made, until the attempt is decided. */
export interface Claim {
  id: string;
  attempt: number;
  failedAttempts: number;
  bond: bigint;
  reward: bigint;
  submitted: boolean;
  lastStatus: TaskStatus;
  /** A training task's committed run, kept for the reveals. */
  training?: TrainingClaim;
}

/** What followClaims reads and updates: the open claims, the counters, and the tasks not to claim again. */
export interface ClaimBook {
  claims: Map<string, Claim>;
  counters: PoiWorkerStats;
  slashedTasks: Set<string>;
  lapsedTasks: Set<string>;
}

/** Checks every claim not yet decided and logs what happened to it. */
export async function followClaims(query: PoiQueryClient, tx: PoiTxClient, book: ClaimBook, log: (line: string) => void): Promise<void> {
  for (const c of [...book.claims.values()]) {
    let t: Task;
    try {
      t = await query.task(c.id);
    } catch (err) {
      log(`task ${c.id}: cannot follow it: ${message(err)}`);
      continue;
    }
    if (t.attempt === c.attempt && t.status !== TaskStatus.EXPIRED) {
      if (t.status === TaskStatus.VERIFYING && c.training) {
        await revealRequested(tx, t, c.training, log).catch((err: unknown) => {
          book.counters.errors++;
          log(`task ${c.id}: reveal failed: ${message(err)}`);
        });
      }
      if (t.status === TaskStatus.COMPLETED) {
        book.claims.delete(c.id);
        book.counters.completed++;
        book.counters.earned += c.reward;
        log(`task ${c.id}: verified, paid ${c.reward}${DENOM} (bond ${c.bond}${DENOM} returned) at height ${t.completedHeight}` +
          (t.trainedModelId ? `; trained model ${t.trainedModelId} registered for the requester` : ""));
      } else if (t.status !== c.lastStatus) {
        c.lastStatus = t.status;
        if (t.status === TaskStatus.VERIFYING) {
          log(c.training ? `task ${c.id}: verifying; each validator asks for ${t.k} segments of its own private sample`
            : `task ${c.id}: verifying; each validator re-runs ${t.k} items of its own private sample`);
        }
        else log(`task ${c.id}: ${TASK_STATUS_NAMES[t.status] ?? t.status}`);
      }
      continue;
    }
    // This attempt is over: the task moved on to a later attempt, or expired.
    book.claims.delete(c.id);
    const expired = t.status === TaskStatus.EXPIRED ? " (the task expired)" : "";
    if (t.failedAttempts > c.failedAttempts) {
      book.counters.failed++;
      book.counters.slashed += c.bond;
      book.slashedTasks.add(c.id);
      log(`task ${c.id}: failed verification, bond slashed (${c.bond}${DENOM})${expired}`);
    } else if (c.submitted) {
      book.counters.verifyTimeouts++;
      log(`task ${c.id}: no verdict (validators split or did not vote in time); bond returned, task reopened${expired}`);
    } else {
      book.counters.lapsed++;
      book.lapsedTasks.add(c.id);
      book.counters.slashed += c.bond;
      log(`task ${c.id}: claim lapsed without a result; bond burned (${c.bond}${DENOM})${expired}`);
    }
    if (expired) book.counters.expired++;
  }
}
