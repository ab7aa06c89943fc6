/**
 * Known-answer audits (README, "Known-answer audits"). When a real task passes, the chain may plant an
 * audit: a copy of that attempt whose every item's outputs are altered beyond tolerance, put under
 * verification like any result. Every honest validator's private sample therefore finds a failing
 * item, whatever its seed; a validator that votes pass on it approved without checking. It loses its
 * reward share of the epoch (WorkHooks.afterAuditFailed) and audit_slash_bps of its bond
 * (Slasher.slash). An audit holds no escrow, fee or bond and pays nobody.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { Context } from "../../app/context";
import { u64 } from "../../util/bigint";
import { modelIo } from "./keeper";
import { resultRoot } from "./commitment";
import { epochOf } from "./sampling";
import { inc, noteEnded, operatorText, silentEligible, type PoiDeps, type PowerTable } from "./outcomes";
import { isTraining, TaskStatus, type Params, type Task } from "./types";

const AUDIT_TAG = Buffer.from("poi/audit/v1");

/**
 * The audit draw for a passed attempt: sha256 over the tag, the seed commitments of the current
 * epoch of every validator of the set (fixed before the epoch began, in address order), the task, the
 * attempt and its result root. No proposer choice enters it.
 */
export async function auditDraw(ctx: Context, deps: PoiDeps, params: Params, task: Task, table: PowerTable): Promise<Uint8Array> {
  const epoch = epochOf(ctx.header.height, BigInt(params.seedEpochBlocks));
  const parts: Uint8Array[] = [AUDIT_TAG, u64(BigInt(task.id)), u64(BigInt(task.attempt)), task.resultRoot];
  for (const v of [...table.power.keys()].sort()) {
    const rec = await deps.verification.seedRecord(ctx, v, epoch);
    parts.push(Buffer.from(v, "hex"), rec ? rec.commitment : new Uint8Array(32));
  }
  return sha256(Buffer.concat(parts));
}

/**
 * Alters one float32 LE element so that it is out of any tolerance the chain allows against its
 * original: a finite nonzero value is multiplied or divided by 4 (exponent ± 2, by the draw's bit);
 * zero, subnormal, infinite or NaN becomes 1.0. Integer bit operations only.
 */
function alterElement(out: Buffer, at: number, up: boolean): void {
  const bits = out.readUInt32LE(at);
  const exp = (bits >>> 23) & 0xff;
  if (exp === 0 || exp === 0xff) { out.writeUInt32LE(0x3f800000, at); return; }
  const next = up ? (exp <= 0xfc ? exp + 2 : exp - 2) : (exp >= 3 ? exp - 2 : exp + 2);
  out.writeUInt32LE(((bits & ~(0xff << 23)) | (next << 23)) >>> 0, at);
}

/** Every item's outputs altered (direction per item from the draw): the fabrication every sample catches. */
export function fabricate(outputs: Uint8Array, numItems: number, itemBytes: number, draw: Uint8Array): Buffer {
  const out = Buffer.from(outputs);
  for (let i = 0; i < numItems; i++) {
    const up = ((draw[(i >> 3) % draw.length] >> (i & 7)) & 1) === 1;
    for (let at = i * itemBytes; at < (i + 1) * itemBytes; at += 4) alterElement(out, at, up);
  }
  return out;
}

/** After a real pass: plants an audit copied from `task` with probability audit_rate_bps / 10^4. */
export async function maybePlantAudit(ctx: Context, deps: PoiDeps, task: Task, table: PowerTable): Promise<void> {
  const { keeper } = deps;
  const params = await keeper.params(ctx);
  const rate = BigInt(params.auditRateBps);
  if (rate === 0n || task.auditOf !== "0" || isTraining(task)) return; // no audits of training (README, "Training tasks")
  const draw = await auditDraw(ctx, deps, params, task, table);
  if (Buffer.from(draw).readBigUInt64BE(0) % 10000n >= rate) return;
  const outputs = await keeper.getTaskOutputs(ctx, BigInt(task.id));
  const model = await keeper.getModel(ctx, task.modelId);
  if (!outputs || !model) return;
  const n = Number(task.numItems);
  const itemBytes = Number(modelIo(model).outputElems) * 4;
  const fake = fabricate(outputs, n, itemBytes, draw.subarray(8));
  const root = resultRoot(fake, n, itemBytes);
  const id = await keeper.nextTaskId(ctx);
  const h = ctx.header.height;
  const audit: Task = {
    ...task, id: id.toString(), bond: "0", escrow: "0", verifyFee: "0", protocolFee: "0", deposit: "0", createdHeight: h.toString(),
    deadlineHeight: (h + BigInt(params.verifyTimeoutBlocks)).toString(), status: TaskStatus.VERIFYING, attempt: 0, claimExpiresHeight: "0",
    resultRoot: root, resultHeight: h.toString(), resultEpoch: epochOf(h, BigInt(params.seedEpochBlocks)).toString(),
    voteWindowEndHeight: (h + BigInt(params.verifyVoteBlocks)).toString(), verifyDeadlineHeight: (h + BigInt(params.verifyTimeoutBlocks)).toString(),
    worker: "", votes: [], completedHeight: "0", failedAttempts: 0, challenges: [], auditOf: task.id,
  };
  if (task.datasetId === "") keeper.setTaskInputs(ctx, id, (await keeper.getTaskInputs(ctx, BigInt(task.id)))!);
  keeper.setTaskOutputs(ctx, id, fake);
  keeper.setTask(ctx, audit, false);
}

/**
 * Decides an audit once its private round is over (every eligible validator voted, or the window
 * closed) or at its deadline: each validator that voted pass failed it. Nobody is paid or charged.
 */
export async function decideAudit(ctx: Context, deps: PoiDeps, params: Params, table: PowerTable, task: Task): Promise<void> {
  const h = ctx.header.height;
  const over = h >= BigInt(task.voteWindowEndHeight) || h >= BigInt(task.verifyDeadlineHeight) || (await silentEligible(ctx, deps, task, table)).length === 0;
  if (!over) return;
  const failed = [...new Set(task.votes.filter((v) => v.pass && !v.cannotVerify).map((v) => v.validator))].sort();
  const epoch = BigInt(task.resultEpoch);
  const bps = BigInt(params.auditSlashBps);
  for (const v of failed) {
    const consAddr = Uint8Array.from(Buffer.from(v, "hex"));
    const reason = `passed known-answer audit ${task.id} (a fabricated copy of task ${task.auditOf})`;
    const burned = bps > 0n ? await deps.slasher.slash(ctx, consAddr, bps, reason) : 0n;
    for (const hk of deps.hooks) await hk.afterAuditFailed?.(ctx, consAddr, epoch);
    await deps.verification.updateStats(ctx, v, await operatorText(ctx, deps, v), (s) => { s.auditsFailed = inc(s.auditsFailed, 1n); });
    ctx.events.emit("poi_audit_failed", [["task_id", task.id], ["validator", v], ["epoch", epoch.toString()], ["slash_bps", bps.toString()], ["slashed", burned.toString()]]);
  }
  noteEnded(deps, ctx, task);
  deps.keeper.setTaskOutputs(ctx, BigInt(task.id), undefined);
  deps.keeper.setTask(ctx, { ...task, status: TaskStatus.COMPLETED, completedHeight: h.toString() }, true);
  ctx.events.emit("poi_audit_decided", [["task_id", task.id], ["audit_of", task.auditOf], ["failed_by", failed.join(",")], ["votes", String(task.votes.length)]]);
}
