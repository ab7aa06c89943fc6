/**
 * Blocks as the explorer shows them: the message types of each tx (from the REST gateway's
 * txs/block/{height}), the verdict aggregate's votes (REST verdict_aggregates/{height}, each vote
 * extension decoded by the node) and the block's events that move money or power (CometBFT RPC
 * block_results).
 */
import type { Api, Obj } from "./api.js";

export const AGGREGATE_TYPE = "/poi.v1.VerdictAggregate";

export interface VerdictView { task: string; attempt: number; pass: boolean; cannotVerify: boolean; failedItems: string[] }
export interface VoteView {
  validator: string;
  verdicts: VerdictView[];
  itemVerdicts: Array<{ task: string; item: string; pass: boolean }>;
  commitments: number;
  reveals: number;
  segmentRequests: number;
}

export type EventKind = "reward" | "slash" | "power" | "expired";
export interface ChainEvent { height: number; kind: EventKind; text: string }

export interface BlockView {
  height: number;
  time: string;
  proposer: string;
  /** Message type URLs of each tx, in block order. */
  txs: string[][];
  /** The verdict aggregate's votes, or null when the block carries none. */
  votes: VoteView[] | null;
  events: ChainEvent[];
  verified: number;
  failed: number;
}

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const attrs = (e: Obj): Record<string, string> => Object.fromEntries(arr(e.attributes).map((a: Obj) => [String(a.key), String(a.value ?? "")]));
export const short = (s: string, n = 10): string => (s.length > n + 2 ? `${s.slice(0, n)}…` : s);
/** "poi1abcdef…wxyz" for a bech32 address. */
export const shortAddr = (a: string): string => (a.length > 20 ? `${a.slice(0, 10)}…${a.slice(-4)}` : a);

/** Base64 bytes (as the gateway writes them) to uppercase hex (as CometBFT writes addresses). */
export function b64ToHex(b64: string): string {
  return Array.from(atob(b64), (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("").toUpperCase();
}

function decodeVote(v: Obj): VoteView {
  const ext = (v.extension ?? {}) as Obj;
  return {
    validator: String(v.validator ?? ""),
    verdicts: arr(ext.verdicts).map((d: Obj) => ({
      task: String(d.task_id), attempt: Number(d.attempt ?? 0), pass: d.pass === true, cannotVerify: d.cannot_verify === true, failedItems: arr(d.failed_items).map(String),
    })),
    itemVerdicts: arr(ext.item_verdicts).map((d: Obj) => ({ task: String(d.task_id), item: String(d.item), pass: d.pass === true })),
    commitments: arr(ext.commitments).length,
    reveals: arr(ext.reveals).length,
    segmentRequests: arr(ext.segment_requests).length,
  };
}

/** The events of a block (its txs' and FinalizeBlock's) that the explorer lists, and its task outcomes. */
export function blockEvents(height: number, results: Obj): { events: ChainEvent[]; verified: number; failed: number } {
  const all = [...arr(results.txs_results).flatMap((r: Obj) => arr(r.events)), ...arr(results.finalize_block_events)];
  const events: ChainEvent[] = [];
  let verified = 0;
  let failed = 0;
  for (const e of all) {
    const a = attrs(e);
    switch (e.type) {
      case "poi_task_verified":
        verified++;
        events.push({ height, kind: "reward", text: `task ${a.task_id} verified: worker ${shortAddr(a.worker)} paid ${a.reward}, bond ${a.bond_returned} back, verify fee ${a.verify_fee} to validators` });
        break;
      case "poi_task_failed":
        failed++;
        events.push({ height, kind: "slash", text: `task ${a.task_id} failed verification (items ${a.items || "-"}): worker ${shortAddr(a.worker)} slashed ${a.slashed}, bounty ${a.bounty}, burned ${a.burned}` });
        break;
      case "poi_claim_lapsed":
        events.push({ height, kind: "slash", text: `task ${a.task_id}: claim lapsed, worker ${shortAddr(a.worker)} lost bond ${a.bond_burned}` });
        break;
      case "poi_task_expired":
        events.push({ height, kind: "expired", text: `task ${a.task_id} expired: ${a.refunded} refunded to the requester` });
        break;
      case "poi_audit_failed":
        events.push({ height, kind: "slash", text: `validator ${short(a.validator)} passed a planted fabrication (task ${a.task_id}): slashed ${a.slashed}` });
        break;
      case "poi_validator_fault":
        events.push({ height, kind: "slash", text: `validator ${short(a.validator)} fault (${a.reason}): forfeited ${a.forfeited}` });
        break;
      case "slash":
        events.push({ height, kind: "slash", text: `validator ${short(a.address ?? a.validator ?? "")} slashed (${a.reason}${a.burned_coins ? `, burned ${a.burned_coins}` : ""})` });
        break;
      case "jail":
        events.push({ height, kind: "slash", text: `validator ${short(a.address)} jailed (${a.reason})` });
        break;
      case "worker_rewards":
        events.push({ height, kind: "reward", text: `worker ${shortAddr(a.worker)} paid ${a.amount} from the worker pool for ${a.units} work units` });
        break;
      case "power_update":
        events.push({ height, kind: "power", text: `voting power changed for ${a.updates} validator(s), total power ${a.total_power}` });
        break;
      default:
    }
  }
  return { events, verified, failed };
}

/** Block `height` with its txs, votes and events. */
export async function loadBlock(api: Api, height: number): Promise<BlockView> {
  const [withTxs, results] = await Promise.all([
    api.rest(`/cosmos/tx/v1beta1/txs/block/${height}`),
    api.rpc("block_results", { height: String(height) }),
  ]);
  const header = (withTxs.block?.header ?? {}) as Obj;
  const txs = arr(withTxs.txs).map((tx: Obj) => arr(tx.body?.messages).map((m: Obj) => String(m["@type"] ?? "?")));
  let votes: VoteView[] | null = null;
  if (txs.some((t) => t.includes(AGGREGATE_TYPE))) {
    const agg = await api.rest(`/poi/v1/verdict_aggregates/${height}`);
    votes = agg.aggregate ? arr(agg.aggregate.votes).map(decodeVote) : null;
  }
  return { height, time: String(header.time ?? ""), proposer: b64ToHex(String(header.proposer_address ?? "")), txs, votes, ...blockEvents(height, results) };
}
