/**
 * The work side of x/poi in state (README, "Worker links and work score"): which worker is linked to
 * which validator (by its operator account), the links operators offered and workers have not yet
 * accepted, the verified work units credited per epoch and worker, and each validator's work score.
 * Keys live under "poi/" next to keeper.ts's:
 *
 *   0x30 | worker(20)                  -> WorkerLink: the worker's one active link
 *   0x31 | operator(20) | worker(20)   -> (empty) the operator's linked workers
 *   0x32 | operator(20) | worker(20)   -> WorkerLink: an offer the worker has not accepted yet
 *   0x33 | epoch u64 | worker(20)      -> work units credited to the worker in that epoch (u64 BE);
 *                                         folded into the scores and dropped at the epoch's end
 *   0x34 | operator(20)                -> WorkScore (absent = 0)
 */
import type { Context } from "../../app/context";
import { formatAddress, parseAddress } from "../../app/address";
import { u64 } from "../../util/bigint";
import { prefixEnd } from "../../store/prefix";
import { POI_MODULE, addToCounter } from "./keeper";
import { WorkerLinkCodec, WorkScoreCodec, type WorkerLink, type WorkScore } from "./types";

const LINK = 0x30;
const BY_OPERATOR = 0x31;
const OFFER = 0x32;
const EPOCH_WORK = 0x33;
const SCORE = 0x34;

const key = (prefix: number, ...parts: Uint8Array[]) => Buffer.concat([Buffer.from([prefix]), ...parts]);

/** The validator's work score (C provides it; staking reads it for power, distribution for rewards). */
export interface WorkScoreReader {
  /** The validator's work score: an integer EMA of its linked workers' verified work units per epoch. */
  workScore(ctx: Context, operator: Uint8Array): Promise<bigint>;
}

export class WorkKeeper implements WorkScoreReader {
  async link(ctx: Context, worker: Uint8Array): Promise<WorkerLink | undefined> {
    const raw = await ctx.store(POI_MODULE).get(key(LINK, worker));
    return raw ? WorkerLinkCodec.decode(raw) : undefined;
  }

  setLink(ctx: Context, worker: Uint8Array, operator: Uint8Array): void {
    const store = ctx.store(POI_MODULE);
    const rec: WorkerLink = { worker: formatAddress(worker), operator: formatAddress(operator), height: ctx.header.height.toString() };
    store.set(key(LINK, worker), WorkerLinkCodec.encode(rec).finish());
    store.set(key(BY_OPERATOR, operator, worker), new Uint8Array());
  }

  async removeLink(ctx: Context, worker: Uint8Array): Promise<WorkerLink | undefined> {
    const link = await this.link(ctx, worker);
    if (!link) return undefined;
    const store = ctx.store(POI_MODULE);
    store.delete(key(LINK, worker));
    store.delete(key(BY_OPERATOR, parseAddress(link.operator), worker));
    return link;
  }

  async offer(ctx: Context, operator: Uint8Array, worker: Uint8Array): Promise<WorkerLink | undefined> {
    const raw = await ctx.store(POI_MODULE).get(key(OFFER, operator, worker));
    return raw ? WorkerLinkCodec.decode(raw) : undefined;
  }

  setOffer(ctx: Context, operator: Uint8Array, worker: Uint8Array): void {
    const rec: WorkerLink = { worker: formatAddress(worker), operator: formatAddress(operator), height: ctx.header.height.toString() };
    ctx.store(POI_MODULE).set(key(OFFER, operator, worker), WorkerLinkCodec.encode(rec).finish());
  }

  deleteOffer(ctx: Context, operator: Uint8Array, worker: Uint8Array): void {
    ctx.store(POI_MODULE).delete(key(OFFER, operator, worker));
  }

  /** An operator's linked workers and open offers, in worker address order (at most `limit` of each). */
  async linksOf(ctx: Context, operator: Uint8Array, limit = 1000): Promise<{ links: WorkerLink[]; offers: WorkerLink[] }> {
    const store = ctx.store(POI_MODULE);
    const byOp = key(BY_OPERATOR, operator);
    const links: WorkerLink[] = [];
    for (const [k] of await store.iterate(byOp, prefixEnd(byOp), { limit })) {
      const l = await this.link(ctx, k.subarray(byOp.length));
      if (l) links.push(l);
    }
    const off = key(OFFER, operator);
    const offers = (await store.iterate(off, prefixEnd(off), { limit })).map(([, v]) => WorkerLinkCodec.decode(v));
    return { links, offers };
  }

  /** Credits verified work units to a worker in `epoch` (only work from tasks whose fees were paid). */
  async addEpochWork(ctx: Context, epoch: bigint, worker: Uint8Array, units: bigint): Promise<void> {
    await addToCounter(ctx, key(EPOCH_WORK, u64(epoch), worker), units);
  }

  /** Takes (reads and deletes) the work credited in `epoch`, per worker in address order. */
  async takeEpochWork(ctx: Context, epoch: bigint): Promise<Array<{ worker: Uint8Array; units: bigint }>> {
    const store = ctx.store(POI_MODULE);
    const prefix = key(EPOCH_WORK, u64(epoch));
    const rows = await store.iterate(prefix, prefixEnd(prefix));
    for (const [k] of rows) store.delete(k);
    return rows.map(([k, v]) => ({ worker: Buffer.from(k.subarray(prefix.length)), units: Buffer.from(v).readBigUInt64BE(0) }));
  }

  async score(ctx: Context, operator: Uint8Array): Promise<WorkScore | undefined> {
    const raw = await ctx.store(POI_MODULE).get(key(SCORE, operator));
    return raw ? WorkScoreCodec.decode(raw) : undefined;
  }

  async workScore(ctx: Context, operator: Uint8Array): Promise<bigint> {
    return BigInt((await this.score(ctx, operator))?.score ?? "0");
  }

  /** Every stored score (nonzero), in operator address order: one per validator that has one. */
  async scores(ctx: Context): Promise<Array<{ operator: Uint8Array; score: bigint }>> {
    const prefix = Buffer.from([SCORE]);
    const rows = await ctx.store(POI_MODULE).iterate(prefix, prefixEnd(prefix));
    return rows.map(([k, v]) => ({ operator: Buffer.from(k.subarray(1)), score: BigInt(WorkScoreCodec.decode(v).score) }));
  }

  /** Writes a score; 0 deletes it, so the table holds only validators with a score. */
  setScore(ctx: Context, operator: Uint8Array, score: bigint, epoch: bigint): void {
    const store = ctx.store(POI_MODULE);
    if (score === 0n) store.delete(key(SCORE, operator));
    else store.set(key(SCORE, operator), WorkScoreCodec.encode({ operator: formatAddress(operator), score: score.toString(), epoch: epoch.toString() }).finish());
  }
}
