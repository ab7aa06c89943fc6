/**
 * Genesis section "distribution": the whole "distribution/" key space. A genesis without the section
 * leaves the module inactive; `{}` takes the default params with empty pools.
 */
import type { Context } from "../../app/context";
import { ErrInvalidRequest } from "../../app/errors";
import { formatAddress, formatValoperAddress, parseAddress, parseValoperAddress } from "../../app/address";
import { BOND_DENOM } from "../../app/params";
import type { BankKeeper } from "./expected_keepers";
import { type DistributionParamsJson, distributionParamsJson, epochOf, parseDistributionParams } from "./params";
import { DISTRIBUTION_MODULE_ACCOUNT, type DistributionState, K } from "./keeper/state";

export interface DistributionGenesis {
  params?: DistributionParamsJson;
  community_pool?: string;
  worker_pool?: string;
  next_settle_epoch?: string;
  verdict_pools?: Array<{ epoch: string; amount: string }>;
  verdict_points?: Array<{ epoch: string; validator: string; points: string }>;
  forfeits?: Array<{ epoch: string; validator: string }>;
  pending_work?: Array<{ worker: string; units: string }>;
  validators?: Array<{ operator: string; outstanding: string; commission: string; ratio: string }>;
  delegations?: Array<{ operator: string; delegator: string; ratio: string }>;
}

const fail = (msg: string): never => {
  throw ErrInvalidRequest(`distribution genesis: ${msg}`);
};
const uint = (v: unknown, where: string): bigint => (typeof v === "string" && /^(0|[1-9][0-9]{0,77})$/.test(v) ? BigInt(v) : fail(`${where} must be a non-negative integer string`));
const cons = (v: unknown, where: string): Buffer => (typeof v === "string" && /^[0-9A-F]{40}$/.test(v) ? Buffer.from(v, "hex") : fail(`${where} must be 40 uppercase hex characters`));
const list = <T>(v: T[] | undefined, where: string): T[] => (v === undefined ? [] : Array.isArray(v) ? v : fail(`${where} must be an array`));
const hexUpper = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();
const num = (b: Uint8Array) => Buffer.from(b).toString("utf8");

export async function initDistributionGenesis(ctx: Context, state: DistributionState, bank: BankKeeper, raw: unknown): Promise<void> {
  if (raw === undefined || raw === null) return;
  if (typeof raw !== "object" || Array.isArray(raw)) fail("must be an object");
  const g = raw as DistributionGenesis;
  const params = parseDistributionParams(g.params);
  state.setParams(ctx, params);
  let held = 0n;
  const amount = (k: Uint8Array, v: unknown, where: string) => {
    const a = uint(v ?? "0", where);
    state.setAmount(ctx, k, a);
    return a;
  };
  held += amount(K.communityPool, g.community_pool, "community_pool");
  held += amount(K.workerPool, g.worker_pool, "worker_pool");
  // A chain starting at a later height (an export that adds this section) has no earlier epochs to pay.
  amount(K.nextSettleEpoch, g.next_settle_epoch ?? epochOf(params, ctx.header.height + 1n).toString(), "next_settle_epoch");
  for (const [i, x] of list(g.verdict_pools, "verdict_pools").entries()) held += amount(state.verdictPoolKey(uint(x?.epoch, `verdict_pools[${i}].epoch`)), x.amount, `verdict_pools[${i}].amount`);
  for (const [i, x] of list(g.verdict_points, "verdict_points").entries()) {
    amount(state.pointsKey(uint(x?.epoch, `verdict_points[${i}].epoch`), cons(x.validator, `verdict_points[${i}].validator`)), x.points, `verdict_points[${i}].points`);
  }
  for (const [i, x] of list(g.forfeits, "forfeits").entries()) state.set(ctx, state.forfeitKey(uint(x?.epoch, `forfeits[${i}].epoch`), cons(x.validator, `forfeits[${i}].validator`)), Buffer.from("1"));
  for (const [i, x] of list(g.pending_work, "pending_work").entries()) amount(state.pendingWorkKey(parseAddress(x?.worker, `distribution genesis pending_work[${i}].worker`)), x.units, `pending_work[${i}].units`);
  for (const [i, x] of list(g.validators, "validators").entries()) {
    const where = `validators[${i}]`;
    const r = { outstanding: uint(x?.outstanding, `${where}.outstanding`), commission: uint(x?.commission, `${where}.commission`), ratio: uint(x?.ratio, `${where}.ratio`) };
    if (r.commission > r.outstanding) fail(`${where}: commission exceeds outstanding`);
    held += r.outstanding;
    state.setValidatorRewards(ctx, parseValoperAddress(x.operator, `distribution genesis ${where}.operator`), r);
  }
  for (const [i, x] of list(g.delegations, "delegations").entries()) {
    const where = `distribution genesis delegations[${i}]`;
    state.setDelegationStart(ctx, parseValoperAddress(x?.operator, `${where}.operator`), parseAddress(x.delegator, `${where}.delegator`), uint(x.ratio, `delegations[${i}].ratio`));
  }
  const balance = await bank.getBalance(ctx, DISTRIBUTION_MODULE_ACCOUNT, BOND_DENOM);
  if (balance !== held) fail(`the distribution account holds ${balance}${BOND_DENOM} but the pools and outstanding rewards add up to ${held}${BOND_DENOM}`);
}

export async function exportDistributionGenesis(ctx: Context, state: DistributionState): Promise<DistributionGenesis | undefined> {
  const p = await state.params(ctx);
  if (!p) return undefined;
  const rows = (prefix: number) => state.rows(ctx, Buffer.from([prefix]));
  const epochAnd = (k: Uint8Array) => ({ epoch: Buffer.from(k).readBigUInt64BE(0).toString(), rest: k.subarray(8) });
  return {
    params: distributionParamsJson(p),
    community_pool: (await state.amount(ctx, K.communityPool)).toString(),
    worker_pool: (await state.amount(ctx, K.workerPool)).toString(),
    next_settle_epoch: (await state.amount(ctx, K.nextSettleEpoch)).toString(),
    verdict_pools: (await rows(K.verdictPool)).map(([k, v]) => ({ epoch: epochAnd(k).epoch, amount: num(v) })),
    verdict_points: (await rows(K.points)).map(([k, v]) => ({ epoch: epochAnd(k).epoch, validator: hexUpper(epochAnd(k).rest), points: num(v) })),
    forfeits: (await rows(K.forfeit)).map(([k]) => ({ epoch: epochAnd(k).epoch, validator: hexUpper(epochAnd(k).rest) })),
    pending_work: (await rows(K.pendingWork)).map(([k, v]) => ({ worker: formatAddress(k), units: num(v) })),
    validators: (await state.allValidatorRewards(ctx)).map((r) => ({
      operator: formatValoperAddress(r.operator), outstanding: r.outstanding.toString(), commission: r.commission.toString(), ratio: r.ratio.toString(),
    })),
    delegations: (await rows(K.delegation)).map(([k, v]) => {
      const op = k.subarray(1, 1 + k[0]);
      return { operator: formatValoperAddress(op), delegator: formatAddress(k.subarray(1 + k[0])), ratio: num(v) };
    }),
  };
}

