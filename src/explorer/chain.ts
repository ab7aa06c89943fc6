/**
 * The explorer's views of PoI state: recent tasks (REST /poi/v1/tasks, newest first), the workers
 * that did them (REST /poi/v1/workers/{address}), and the validators with their voting power
 * (CometBFT RPC /validators) and verification record (REST /poi/v1/validators/{hex}).
 */
import type { Api, Obj } from "./api.js";

export const STATUSES = ["OPEN", "CLAIMED", "VERIFYING", "COMPLETED", "EXPIRED"] as const;

export interface TaskView {
  id: string;
  status: string;
  modelId: string;
  worker: string;
  numItems: string;
  k: number;
  attempt: number;
  failedAttempts: number;
  rewardPerItem: string;
  bond: string;
  votes: Array<{ validator: string; pass: boolean; cannotVerify: boolean; failedItems: string[]; height: string }>;
  challenges: Array<{ item: string; reporters: number; votes: number }>;
  createdHeight: string;
  resultHeight: string;
  completedHeight: string;
  deadlineHeight: string;
  training: boolean;
}

export interface WorkerView { address: string; verifiedWorkUnits: string; passed: string; failed: string; lapsed: string; earned: string; slashed: string }

export interface ValidatorView {
  address: string;
  power: number;
  operator: string;
  paid: string;
  pending: string;
  passesMatched: string;
  catches: string;
  faults: string;
}

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown, d = "0"): string => (v === undefined || v === null ? d : String(v));

function taskView(t: Obj): TaskView {
  return {
    id: str(t.id), status: str(t.status, "").replace("TASK_STATUS_", "").replace("AWAITING_SAMPLE", "VERIFYING"), modelId: str(t.model_id, ""), worker: str(t.worker, ""),
    numItems: str(t.num_items), k: Number(t.k ?? 0), attempt: Number(t.attempt ?? 0), failedAttempts: Number(t.failed_attempts ?? 0),
    rewardPerItem: str(t.reward_per_item), bond: str(t.bond),
    votes: arr(t.votes).map((v: Obj) => ({ validator: str(v.validator, ""), pass: v.pass === true, cannotVerify: v.cannot_verify === true, failedItems: arr(v.failed_items).map(String), height: str(v.height) })),
    challenges: arr(t.challenges).map((c: Obj) => ({ item: str(c.item), reporters: arr(c.reporters).length, votes: arr(c.votes).length })),
    createdHeight: str(t.created_height), resultHeight: str(t.result_height), completedHeight: str(t.completed_height), deadlineHeight: str(t.deadline_height),
    training: t.kind === "TASK_KIND_TRAINING",
  };
}

/** The newest `limit` tasks, newest first, and the chain's task count when the node reports it. */
export async function loadTasks(api: Api, limit = 100): Promise<{ tasks: TaskView[]; total: number | null }> {
  const r = await api.rest("/poi/v1/tasks", { "pagination.limit": String(limit), "pagination.reverse": "true", "pagination.count_total": "true" });
  const total = Number(r.pagination?.total ?? 0);
  return { tasks: arr(r.tasks).map(taskView), total: total > 0 ? total : null };
}

export async function loadWorkers(api: Api, addresses: Iterable<string>): Promise<WorkerView[]> {
  const out = await Promise.all([...addresses].map(async (address) => {
    const s = ((await api.rest(`/poi/v1/workers/${address}`)).stats ?? {}) as Obj;
    return {
      address, verifiedWorkUnits: str(s.verified_work_units), passed: str(s.tasks_passed), failed: str(s.tasks_failed), lapsed: str(s.claims_lapsed),
      earned: str(s.earned), slashed: str(s.slashed),
    };
  }));
  return out.sort((a, b) => Number(b.verifiedWorkUnits) - Number(a.verifiedWorkUnits) || a.address.localeCompare(b.address));
}

/** The validator set at the latest height, by power, each with its PoI verification record (when it has one). */
export async function loadValidators(api: Api): Promise<{ height: number; validators: ValidatorView[] }> {
  const r = await api.rpc("validators", { per_page: "100" });
  const validators = await Promise.all(arr(r.validators).map(async (v: Obj) => {
    const address = str(v.address, "");
    const s = ((await api.rest(`/poi/v1/validators/${address}`).catch(() => ({}))) as Obj).stats ?? {};
    return {
      address, power: Number(v.voting_power ?? 0), operator: str(s.operator, ""), paid: str(s.paid), pending: str(s.pending),
      passesMatched: str(s.passes_matched), catches: str(s.catches), faults: str(s.faults),
    };
  }));
  return { height: Number(r.block_height ?? 0), validators: validators.sort((a, b) => b.power - a.power || a.address.localeCompare(b.address)) };
}
