/**
 * Secondary indexes of x/poi tasks for the paged queries (pages.ts), and the counts behind
 * count_total.
 *
 * keeper.setTask marks every task it writes (0x20 | id). At the end of each block,
 * updateTaskIndexes brings the entries of every marked task up to date, reading what they held
 * from 0x21 | id, so setTask stays a plain synchronous write and the indexes always match the
 * committed state that queries read. Within a block (before its end) they describe the last block.
 *
 * Key layout inside "poi/" (the rest is in keeper.ts):
 *   0x21 | task id                       -> what the indexes hold for the task:
 *                                           status u8 | attempt u32 BE | opened height u64 BE | worker (0, 20 or 32 bytes)
 *   0x22 | status u8 | task id           -> (empty) tasks by status
 *   0x23 | len u8 | requester | task id  -> (empty) tasks by requester
 *   0x24 | len u8 | worker | task id     -> (empty) tasks by their current worker
 *   0x25 | opened height u64 | task id   -> (empty) open tasks, by the height at whose end they were first
 *                                           open for their current attempt (submission or reopen)
 *   0x26 | counted prefix                -> u64 BE: entries under that prefix: 0x07 (tasks), 0x01 (models),
 *                                           0x03 (datasets), 0x22 | status, 0x23 | len | requester,
 *                                           0x24 | len | worker, 0x25 (open tasks)
 */
import type { Context } from "../../app/context";
import { parseAddress } from "../../app/address";
import { prefixEnd } from "../../store/prefix";
import type { KVStore } from "../../store/store";
import { u64 } from "../../util/bigint";
import { POI_MODULE, RECORD_PREFIX } from "./keeper";
import { TaskCodec, TaskStatus } from "./types";

const INDEXED = 0x21;
const BY_STATUS = 0x22;
const BY_REQUESTER = 0x23;
const BY_WORKER = 0x24;
const OPEN_SINCE = 0x25;
const COUNT = 0x26;

const withLength = (address: Uint8Array) => Buffer.concat([Buffer.of(address.length), address]);

/** Index prefixes: the entries under each end with the task id (u64 BE). */
export const TASK_INDEX = {
  byStatus: (status: TaskStatus) => Buffer.of(BY_STATUS, status),
  byRequester: (address: Uint8Array) => Buffer.concat([Buffer.of(BY_REQUESTER), withLength(address)]),
  byWorker: (address: Uint8Array) => Buffer.concat([Buffer.of(BY_WORKER), withLength(address)]),
  /** Entries: opened height u64 | task id u64. */
  open: Buffer.of(OPEN_SINCE),
} as const;

/**
 * Ids of the tasks in `status` as of the end of the last block, ascending (the status index): what
 * ExtendVote and the verifier walk instead of every task.
 */
export async function taskIdsWithStatus(ctx: Context, status: TaskStatus): Promise<bigint[]> {
  const prefix = TASK_INDEX.byStatus(status);
  const rows = await ctx.store(POI_MODULE).iterate(prefix, prefixEnd(prefix));
  return rows.map(([k]) => Buffer.from(k).readBigUInt64BE(prefix.length));
}

/** How many entries `prefix` holds (a record prefix of RECORD_PREFIX or an index prefix of TASK_INDEX). */
export async function countOf(store: KVStore, prefix: Uint8Array): Promise<bigint> {
  const raw = await store.get(Buffer.concat([Buffer.of(COUNT), prefix]));
  return raw ? Buffer.from(raw).readBigUInt64BE(0) : 0n;
}

/** Adds `delta` to the count of `prefix` (a new model or dataset adds 1 to its record prefix). */
export async function addToCount(store: KVStore, prefix: Uint8Array, delta: bigint): Promise<void> {
  const k = Buffer.concat([Buffer.of(COUNT), prefix]);
  const raw = await store.get(k);
  store.set(k, u64((raw ? Buffer.from(raw).readBigUInt64BE(0) : 0n) + delta));
}

interface Indexed {
  status: TaskStatus;
  attempt: number;
  /** 0 when not open. */
  openedHeight: bigint;
  worker: Uint8Array;
}

function encodeIndexed(e: Indexed): Uint8Array {
  const b = Buffer.alloc(13);
  b.writeUInt8(e.status, 0);
  b.writeUInt32BE(e.attempt, 1);
  b.writeBigUInt64BE(e.openedHeight, 5);
  return Buffer.concat([b, e.worker]);
}

function decodeIndexed(raw: Uint8Array): Indexed {
  const b = Buffer.from(raw);
  return { status: b.readUInt8(0), attempt: b.readUInt32BE(1), openedHeight: b.readBigUInt64BE(5), worker: b.subarray(13) };
}

/**
 * End of block: updates the index entries and counts of every task written in this block (marked
 * by keeper.setTask), in id order. Returns how many tasks it updated.
 */
export async function updateTaskIndexes(ctx: Context): Promise<number> {
  const store = ctx.store(POI_MODULE);
  const marked = await store.iterate(RECORD_PREFIX.taskChanged, prefixEnd(RECORD_PREFIX.taskChanged));
  for (const [mark] of marked) {
    store.delete(mark);
    const id = mark.subarray(RECORD_PREFIX.taskChanged.length);
    const raw = await store.get(Buffer.concat([RECORD_PREFIX.task, id]));
    if (!raw) throw new Error(`task ${Buffer.from(id).readBigUInt64BE(0)} was marked as written but is not stored`);
    const task = TaskCodec.decode(raw);
    const indexedKey = Buffer.concat([Buffer.of(INDEXED), id]);
    const storedBefore = await store.get(indexedKey);
    const before = storedBefore ? decodeIndexed(storedBefore) : undefined;
    const stillOpen = before?.status === TaskStatus.OPEN && before.attempt === task.attempt;
    const after: Indexed = {
      status: task.status,
      attempt: task.attempt,
      openedHeight: task.status !== TaskStatus.OPEN ? 0n : stillOpen ? before!.openedHeight : ctx.header.height,
      worker: task.worker ? parseAddress(task.worker, "worker") : new Uint8Array(),
    };

    const entry = (prefix: Uint8Array) => Buffer.concat([prefix, id]);
    const add = async (prefix: Uint8Array, counted: Uint8Array = prefix) => { store.set(entry(prefix), new Uint8Array()); await addToCount(store, counted, 1n); };
    const drop = async (prefix: Uint8Array, counted: Uint8Array = prefix) => { store.delete(entry(prefix)); await addToCount(store, counted, -1n); };
    const move = async (from: Uint8Array | undefined, to: Uint8Array | undefined, counted?: Uint8Array) => {
      if (from && to && Buffer.from(from).equals(to)) return;
      if (from) await drop(from, counted);
      if (to) await add(to, counted);
    };

    if (!before) {
      await addToCount(store, RECORD_PREFIX.task, 1n);
      await add(TASK_INDEX.byRequester(parseAddress(task.requester, "requester")));
    }
    await move(before && TASK_INDEX.byStatus(before.status), TASK_INDEX.byStatus(after.status));
    await move(before?.worker.length ? TASK_INDEX.byWorker(before.worker) : undefined, after.worker.length ? TASK_INDEX.byWorker(after.worker) : undefined);
    const openAt = (h: bigint) => (h > 0n ? Buffer.concat([TASK_INDEX.open, u64(h)]) : undefined);
    await move(openAt(before?.openedHeight ?? 0n), openAt(after.openedHeight), TASK_INDEX.open);
    store.set(indexedKey, encodeIndexed(after));
  }
  return marked.length;
}
