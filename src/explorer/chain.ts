/**
 * The explorer's views of PoI state: recent tasks (REST /poi/v1/tasks, newest first), the workers
 * that did them (REST /poi/v1/workers/{address}), and the validators with their voting power
 * (CometBFT RPC /validators), verification record (REST /poi/v1/validators/{hex}), staking record
 * (moniker, status, jailed), work score and linked workers.
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
  /** From staking, matched by consensus key; null where staking does not answer or has no such validator. */
  moniker: string | null;
  bondStatus: string | null;
  jailed: boolean;
  /** null where the node does not serve it (404/501). */
  workScore: { score: string; epoch: string } | null;
  workers: string[] | null;
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

/** Staking's validators by their base64 ed25519 consensus key (what RPC /validators gives as pub_key.value); empty when staking does not answer. */
async function stakingByKey(api: Api): Promise<Map<string, Obj>> {
  const r = await api.rest("/cosmos/staking/v1beta1/validators", { "pagination.limit": "200" }).catch((): Obj => ({}));
  return new Map(arr(r.validators).map((v: Obj) => [str(v.consensus_pubkey?.key, ""), v]));
}

/** The validator set at the latest height, by power, each with its PoI verification record, staking record, work score and linked workers (when the node serves them). */
export async function loadValidators(api: Api): Promise<{ height: number; validators: ValidatorView[] }> {
  const [r, staking] = await Promise.all([api.rpc("validators", { per_page: "100" }), stakingByKey(api)]);
  const validators = await Promise.all(arr(r.validators).map(async (v: Obj): Promise<ValidatorView> => {
    const address = str(v.address, "");
    const [stats, scored] = await Promise.all([
      api.rest(`/poi/v1/validators/${address}`).then((x) => (x.stats ?? {}) as Obj, (): Obj => ({})),
      api.rest(`/poi/v1/validators/${address}/work_score`).then((x) => (x.score ?? null) as Obj | null, () => null),
    ]);
    const operator = str(stats.operator ?? scored?.operator, "");
    const workers = operator ? await api.rest("/poi/v1/links", { operator }).then((x) => arr(x.links).map((l: Obj) => str(l.worker, "")), () => null) : null;
    const st = staking.get(str(v.pub_key?.value, ""));
    return {
      address, power: Number(v.voting_power ?? 0), operator, paid: str(stats.paid), pending: str(stats.pending),
      passesMatched: str(stats.passes_matched), catches: str(stats.catches), faults: str(stats.faults),
      moniker: st ? str(st.description?.moniker, "") : null, bondStatus: st ? str(st.status, "").replace("BOND_STATUS_", "").toLowerCase() : null, jailed: st?.jailed === true,
      workScore: scored ? { score: str(scored.score), epoch: str(scored.epoch) } : null, workers,
    };
  }));
  return { height: Number(r.block_height ?? 0), validators: validators.sort((a, b) => b.power - a.power || a.address.localeCompare(b.address)) };
}
