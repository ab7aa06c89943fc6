/**
 * What the poi module account must hold (the invariant in src/app/invariants.ts): every task's
 * escrow, unused verification fee, protocol fee (paid out when the task completes) and deposit, the bonds of tasks with a worker on them (claimed,
 * awaiting sample, verifying), and validator income held until a seed reveal.
 */
import type { Context } from "../../app/context";
import { prefixEnd } from "../../store/prefix";
import { POI_MODULE, type PoiKeeper } from "./keeper";
import { TaskStatus } from "./types";

const HELD_PREFIX = Buffer.from([0x11]); // verification_keeper.ts: income held per (epoch, validator), u64 BE

const BONDED = new Set([TaskStatus.CLAIMED, TaskStatus.AWAITING_SAMPLE, TaskStatus.VERIFYING]);

export async function poiModuleHoldings(ctx: Context, keeper: PoiKeeper): Promise<bigint> {
  let total = 0n;
  for (const t of await keeper.tasks(ctx)) {
    total += BigInt(t.escrow) + BigInt(t.verifyFee) + BigInt(t.protocolFee || "0") + BigInt(t.deposit || "0");
    if (BONDED.has(t.status)) total += BigInt(t.bond);
  }
  for (const [, v] of await ctx.store(POI_MODULE).iterate(HELD_PREFIX, prefixEnd(HELD_PREFIX))) total += Buffer.from(v).readBigUInt64BE(0);
  return total;
}
