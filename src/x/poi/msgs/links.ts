/**
 * Worker links (README, "Worker links and work score"). A link needs both sides: the operator of a
 * consensus validator offers (MsgLinkWorker), the worker accepts (MsgAcceptWorkerLink). An operator
 * alone cannot claim another's work; a worker alone cannot attach its work (and later its faults) to a
 * validator that did not ask. A worker has at most one link; either side may end it (MsgUnlinkWorker).
 */
import { type MsgHandler, msgHandler } from "../../../app/module";
import type { Context } from "../../../app/context";
import { formatAddress, parseAddress } from "../../../app/address";
import { ErrInvalidRequest } from "../../../app/errors";
import { ErrNoLink, ErrNotOperator, ErrWorkerLinked } from "../errors";
import { POI_MODULE } from "../keeper";
import type { ValsetKeeper } from "../expected_keepers";
import type { WorkKeeper } from "../work_keeper";
import {
  MsgAcceptWorkerLinkCodec, MsgAcceptWorkerLinkResponseCodec, MsgLinkWorkerCodec, MsgLinkWorkerResponseCodec, MsgUnlinkWorkerCodec,
  MsgUnlinkWorkerResponseCodec, type MsgAcceptWorkerLink, type MsgLinkWorker, type MsgUnlinkWorker,
} from "../types";

/** The consensus address of the validator whose operator account is `operator`, if any (walks the set). */
export async function validatorOfOperator(ctx: Context, valset: ValsetKeeper, operator: Uint8Array): Promise<Uint8Array | undefined> {
  for (const v of await valset.validators(ctx)) {
    const op = await valset.operator(ctx, v.address);
    if (op && Buffer.from(op).equals(Buffer.from(operator))) return v.address;
  }
  return undefined;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

export function linkMsgHandlers(work: WorkKeeper, valset: ValsetKeeper): MsgHandler[] {
  const parsePair = (m: { operator: string; worker: string }) => {
    const operatorBytes = parseAddress(m.operator, "operator");
    const workerBytes = parseAddress(m.worker, "worker");
    if (same(operatorBytes, workerBytes)) throw ErrInvalidRequest("operator and worker must be different accounts");
    return { operatorBytes, workerBytes };
  };

  async function mustBeOperator(ctx: Context, operator: Uint8Array, text: string): Promise<void> {
    if (!(await validatorOfOperator(ctx, valset, operator))) throw ErrNotOperator(`${text} is not the operator account of any validator in the consensus set`);
  }

  async function notLinkedElsewhere(ctx: Context, worker: Uint8Array, operator: Uint8Array, text: string): Promise<void> {
    const link = await work.link(ctx, worker);
    if (!link) return;
    if (same(parseAddress(link.operator), operator)) throw ErrWorkerLinked(`worker ${text} is already linked to this validator (operator ${link.operator}) since height ${link.height}`);
    throw ErrWorkerLinked(`worker ${text} is linked to another validator (operator ${link.operator}) since height ${link.height}; it must unlink first`);
  }

  const link: MsgHandler<MsgLinkWorker & { operatorBytes: Uint8Array; workerBytes: Uint8Array }> = {
    typeUrl: MsgLinkWorkerCodec.typeUrl,
    module: POI_MODULE,
    decode(value) {
      const m = MsgLinkWorkerCodec.decode(value);
      return { ...m, ...parsePair(m) };
    },
    signers: (m) => [m.operatorBytes],
    async handle(ctx, m) {
      await mustBeOperator(ctx, m.operatorBytes, m.operator);
      await notLinkedElsewhere(ctx, m.workerBytes, m.operatorBytes, m.worker);
      work.setOffer(ctx, m.operatorBytes, m.workerBytes);
      ctx.events.emit("poi_worker_link_offered", [["operator", m.operator], ["worker", m.worker]]);
      return { typeUrl: MsgLinkWorkerResponseCodec.typeUrl, value: MsgLinkWorkerResponseCodec.encode({}).finish() };
    },
  };

  const accept: MsgHandler<MsgAcceptWorkerLink & { operatorBytes: Uint8Array; workerBytes: Uint8Array }> = {
    typeUrl: MsgAcceptWorkerLinkCodec.typeUrl,
    module: POI_MODULE,
    decode(value) {
      const m = MsgAcceptWorkerLinkCodec.decode(value);
      return { ...m, ...parsePair(m) };
    },
    signers: (m) => [m.workerBytes],
    async handle(ctx, m) {
      if (!(await work.offer(ctx, m.operatorBytes, m.workerBytes))) {
        throw ErrNoLink(`operator ${m.operator} has not offered to link worker ${m.worker} (it sends MsgLinkWorker first)`);
      }
      await mustBeOperator(ctx, m.operatorBytes, m.operator);
      await notLinkedElsewhere(ctx, m.workerBytes, m.operatorBytes, m.worker);
      work.deleteOffer(ctx, m.operatorBytes, m.workerBytes);
      work.setLink(ctx, m.workerBytes, m.operatorBytes);
      ctx.events.emit("poi_worker_linked", [["operator", m.operator], ["worker", m.worker]]);
      return { typeUrl: MsgAcceptWorkerLinkResponseCodec.typeUrl, value: MsgAcceptWorkerLinkResponseCodec.encode({}).finish() };
    },
  };

  const unlink: MsgHandler<MsgUnlinkWorker & { senderBytes: Uint8Array; workerBytes: Uint8Array }> = {
    typeUrl: MsgUnlinkWorkerCodec.typeUrl,
    module: POI_MODULE,
    decode(value) {
      const m = MsgUnlinkWorkerCodec.decode(value);
      return { ...m, senderBytes: parseAddress(m.sender, "sender"), workerBytes: parseAddress(m.worker, "worker") };
    },
    signers: (m) => [m.senderBytes],
    async handle(ctx, m) {
      const link = await work.link(ctx, m.workerBytes);
      const byWorker = same(m.senderBytes, m.workerBytes);
      if (link && (byWorker || same(parseAddress(link.operator), m.senderBytes))) {
        await work.removeLink(ctx, m.workerBytes);
        ctx.events.emit("poi_worker_unlinked", [["operator", link.operator], ["worker", m.worker], ["by", m.sender]]);
      } else if (!byWorker && (await work.offer(ctx, m.senderBytes, m.workerBytes))) {
        work.deleteOffer(ctx, m.senderBytes, m.workerBytes);
        ctx.events.emit("poi_worker_link_withdrawn", [["operator", m.sender], ["worker", m.worker]]);
      } else {
        throw ErrNoLink(link
          ? `worker ${m.worker} is linked to operator ${link.operator}; only that operator or the worker may unlink it, not ${m.sender}`
          : `worker ${m.worker} has no link${byWorker ? "" : ` and no offer from ${formatAddress(m.senderBytes)}`}`);
      }
      return { typeUrl: MsgUnlinkWorkerResponseCodec.typeUrl, value: MsgUnlinkWorkerResponseCodec.encode({}).finish() };
    },
  };

  return [msgHandler(link), msgHandler(accept), msgHandler(unlink)];
}
