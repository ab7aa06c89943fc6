/**
 * Validators' side of verification in state: committed sampling seeds, the failing items each
 * validator reported per epoch (checked against its sample once its seed is revealed), income held
 * until that reveal, and per-validator stats. Keys live under "poi/" next to keeper.ts's:
 *
 *   0x10 | epoch u64 | validator(20)                          -> SeedRecord
 *   0x11 | epoch u64 | validator(20)                          -> income held for that epoch (u64 BE upoi)
 *   0x12 | epoch u64 | validator(20) | task u64 | attempt u32 -> the items it reported failing (ReportRecord)
 *   0x13 | validator(20)                                       -> ValidatorStats
 *   0x14 | height u64 | task u64                               -> an attempt that left verification in that
 *                                                                 block (EndedAttempt), kept one block: the
 *                                                                 extensions of that height were built before
 */
import type { Context } from "../../app/context";
import { u64 } from "../../util/bigint";
import { prefixEnd } from "../../store/prefix";
import { POI_MODULE, addToCounter } from "./keeper";
import { EndedAttemptCodec, ReportRecordCodec, SeedRecordCodec, ValidatorStatsCodec, type EndedAttempt, type SeedRecord, type ValidatorStats } from "./types";

const SEED = 0x10;
const HELD = 0x11;
const REPORTS = 0x12;
const STATS = 0x13;
const ENDED = 0x14;

const key = (prefix: number, ...parts: Uint8Array[]) => Buffer.concat([Buffer.from([prefix]), ...parts]);
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const addr = (validatorHex: string) => Buffer.from(validatorHex, "hex");

/** Items a validator reported failing (or, on a training attempt, the segments it requested too): all must lie in its sample. */
export interface ReportRecord { taskId: bigint; attempt: number; items: bigint[]; resultRoot: Uint8Array; numItems: bigint; k: number; training?: boolean }

export class VerificationKeeper {
  async seedRecord(ctx: Context, validatorHex: string, epoch: bigint): Promise<SeedRecord | undefined> {
    const raw = await ctx.store(POI_MODULE).get(key(SEED, u64(epoch), addr(validatorHex)));
    return raw ? SeedRecordCodec.decode(raw) : undefined;
  }

  setSeedRecord(ctx: Context, validatorHex: string, epoch: bigint, r: SeedRecord): void {
    ctx.store(POI_MODULE).set(key(SEED, u64(epoch), addr(validatorHex)), SeedRecordCodec.encode(r).finish());
  }

  /** Adds to the income a validator earned from results of `epoch`; it is paid when its seed of that epoch is revealed. */
  async hold(ctx: Context, validatorHex: string, epoch: bigint, amount: bigint): Promise<void> {
    if (amount === 0n) return;
    await addToCounter(ctx, key(HELD, u64(epoch), addr(validatorHex)), amount);
  }

  /** Takes (reads and deletes) the income held for (validator, epoch). */
  async takeHeld(ctx: Context, validatorHex: string, epoch: bigint): Promise<bigint> {
    const store = ctx.store(POI_MODULE);
    const k = key(HELD, u64(epoch), addr(validatorHex));
    const raw = await store.get(k);
    if (!raw) return 0n;
    store.delete(k);
    return Buffer.from(raw).readBigUInt64BE(0);
  }

  /** Validators with income held for `epoch`, in address order (hex, uppercase). */
  async heldFor(ctx: Context, epoch: bigint): Promise<string[]> {
    const prefix = key(HELD, u64(epoch));
    const rows = await ctx.store(POI_MODULE).iterate(prefix, key(HELD, u64(epoch + 1n)));
    return rows.map(([k]) => Buffer.from(k.subarray(prefix.length)).toString("hex").toUpperCase());
  }

  addReport(ctx: Context, validatorHex: string, epoch: bigint, r: ReportRecord): void {
    ctx.store(POI_MODULE).set(key(REPORTS, u64(epoch), addr(validatorHex), u64(r.taskId), u32(r.attempt)), ReportRecordCodec.encode({ items: r.items.map(String), resultRoot: r.resultRoot, numItems: r.numItems.toString(), k: r.k, training: r.training === true }).finish());
  }

  /** Takes every report a validator made on results of `epoch` (task and attempt order). */
  async takeReports(ctx: Context, validatorHex: string, epoch: bigint): Promise<ReportRecord[]> {
    const store = ctx.store(POI_MODULE);
    const prefix = key(REPORTS, u64(epoch), addr(validatorHex));
    const rows = await store.iterate(prefix, prefixEnd(prefix));
    const out = rows.map(([k, v]) => {
      const rest = Buffer.from(k.subarray(prefix.length));
      const rec = ReportRecordCodec.decode(v);
      return { taskId: rest.readBigUInt64BE(0), attempt: rest.readUInt32BE(8), items: rec.items.map(BigInt), resultRoot: rec.resultRoot, numItems: BigInt(rec.numItems), k: rec.k, training: rec.training === true };
    });
    for (const [k] of rows) store.delete(k);
    return out;
  }

  /** Deletes every report made on results of `epoch` (after the reveal window, unrevealed ones are moot). */
  async clearReports(ctx: Context, epoch: bigint): Promise<void> {
    const store = ctx.store(POI_MODULE);
    const prefix = key(REPORTS, u64(epoch));
    for (const [k] of await store.iterate(prefix, prefixEnd(prefix))) store.delete(k);
  }

  /** Notes that an attempt left verification at this block's height (see extension_rules.ts). */
  setEnded(ctx: Context, taskId: bigint, ended: EndedAttempt): void {
    ctx.store(POI_MODULE).set(key(ENDED, u64(ctx.header.height), u64(taskId)), EndedAttemptCodec.encode(ended).finish());
  }

  async ended(ctx: Context, height: bigint, taskId: bigint): Promise<EndedAttempt | undefined> {
    const raw = await ctx.store(POI_MODULE).get(key(ENDED, u64(height), u64(taskId)));
    return raw ? EndedAttemptCodec.decode(raw) : undefined;
  }

  /** Drops the notes of `height` (they only matter to the next block). */
  async clearEnded(ctx: Context, height: bigint): Promise<void> {
    const store = ctx.store(POI_MODULE);
    const prefix = key(ENDED, u64(height));
    for (const [k] of await store.iterate(prefix, prefixEnd(prefix))) store.delete(k);
  }

  async stats(ctx: Context, validatorHex: string): Promise<ValidatorStats | undefined> {
    const raw = await ctx.store(POI_MODULE).get(key(STATS, addr(validatorHex)));
    return raw ? ValidatorStatsCodec.decode(raw) : undefined;
  }

  async updateStats(ctx: Context, validatorHex: string, operator: string, change: (s: ValidatorStats) => void): Promise<void> {
    const s = (await this.stats(ctx, validatorHex)) ?? {
      validator: validatorHex, operator, pending: "0", paid: "0", forfeited: "0", passesMatched: "0", catches: "0", falseReports: "0", faults: "0", auditsFailed: "0",
    };
    s.operator = operator;
    change(s);
    ctx.store(POI_MODULE).set(key(STATS, addr(validatorHex)), ValidatorStatsCodec.encode(s).finish());
  }
}
