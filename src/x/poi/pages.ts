/**
 * The paged lists of x/poi: models and datasets in id order, tasks in id order (all, or through the
 * index of one filter), and open tasks in the order they became open. Each reads one page: at most
 * `limit` entries (app/pagination.ts), and a page also ends once it holds MAX_PAGE_BYTES of records.
 */
import type { Context } from "../../app/context";
import { ErrInvalidRequest } from "../../app/errors";
import { paginate, type Page } from "../../app/pagination";
import type { KVStore } from "../../store/store";
import { u64 } from "../../util/bigint";
import { POI_MODULE, RECORD_PREFIX } from "./keeper";
import { countOf, TASK_INDEX } from "./indexes";
import {
  DatasetCodec, ModelCodec, TaskCodec, TaskStatus, type Dataset, type Model, type OpenTask, type PageResponse, type PoiCodec, type Task,
} from "./types";

/** A page ends early once its records hold this many bytes (CometBFT answers queries in one JSON body). */
export const MAX_PAGE_BYTES = 2 * 1024 * 1024;

/** Tracks a page's bytes: the first record always fits, later ones while the total stays within MAX_PAGE_BYTES. */
function byteBudget(): (bytes: number) => boolean {
  let used = 0;
  return (bytes) => {
    if (used > 0 && used + bytes > MAX_PAGE_BYTES) return false;
    used += bytes;
    return true;
  };
}

const response = (nextKey: Uint8Array, total?: bigint): PageResponse => ({ nextKey, total: (total ?? 0n).toString() });

/** One page of the records under `prefix` (key = record id), decoded with `codec`. */
async function recordPage<T>(store: KVStore, prefix: Uint8Array, codec: PoiCodec<T>, page: Page): Promise<{ items: T[]; pagination: PageResponse }> {
  const items: T[] = [];
  const fits = byteBudget();
  const nextKey = await paginate(store, prefix, page, (_id, value) => {
    if (!fits(value.length)) return false;
    items.push(codec.decode(value));
    return true;
  });
  return { items, pagination: response(nextKey, page.countTotal ? await countOf(store, prefix) : undefined) };
}

/** Models in id order; next_key is the 32 bytes of the next model's id. */
export async function modelsPage(ctx: Context, page: Page): Promise<{ models: Model[]; pagination: PageResponse }> {
  const { items, pagination } = await recordPage(ctx.store(POI_MODULE), RECORD_PREFIX.model, ModelCodec, page);
  return { models: items, pagination };
}

/** Datasets in id order; next_key is the 32 bytes of the next dataset's id. */
export async function datasetsPage(ctx: Context, page: Page): Promise<{ datasets: Dataset[]; pagination: PageResponse }> {
  const { items, pagination } = await recordPage(ctx.store(POI_MODULE), RECORD_PREFIX.dataset, DatasetCodec, page);
  return { datasets: items, pagination };
}

export interface TaskFilter {
  /** UNSPECIFIED = any status. */
  status: TaskStatus;
  requester?: Uint8Array;
  worker?: Uint8Array;
  /** The same addresses as bech32, to compare with the task's. */
  requesterAddress?: string;
  workerAddress?: string;
}

/**
 * Tasks in id order (descending with reverse); next_key is the next task's id (u64 BE). One filter
 * walks its index. With several, the page walks the index of the first of worker, requester, status
 * that is set and keeps the tasks matching the others: it examines at most `limit` tasks, so it may
 * hold fewer (even none) while next_key is not empty. count_total is refused with several filters.
 */
export async function tasksPage(ctx: Context, f: TaskFilter, page: Page): Promise<{ tasks: Task[]; pagination: PageResponse }> {
  const store = ctx.store(POI_MODULE);
  const filters = [f.worker, f.requester, f.status !== TaskStatus.UNSPECIFIED ? f.status : undefined].filter((x) => x !== undefined).length;
  if (page.countTotal && filters > 1) throw ErrInvalidRequest("count_total is available with at most one of the filters status, requester and worker");
  const fits = byteBudget();
  const tasks: Task[] = [];
  const keep = (t: Task) => (f.status === TaskStatus.UNSPECIFIED || t.status === f.status)
    && (f.requesterAddress === undefined || t.requester === f.requesterAddress) && (f.workerAddress === undefined || t.worker === f.workerAddress);
  const takeTask = (raw: Uint8Array) => {
    if (!fits(raw.length)) return false;
    const t = TaskCodec.decode(raw);
    if (keep(t)) tasks.push(t);
    return true;
  };
  if (filters === 0) {
    const nextKey = await paginate(store, RECORD_PREFIX.task, page, (_id, raw) => takeTask(raw));
    return { tasks, pagination: response(nextKey, page.countTotal ? await countOf(store, RECORD_PREFIX.task) : undefined) };
  }
  const index = f.worker ? TASK_INDEX.byWorker(f.worker) : f.requester ? TASK_INDEX.byRequester(f.requester) : TASK_INDEX.byStatus(f.status);
  const nextKey = await paginate(store, index, page, async (id) => takeTask(await taskBytes(store, id)));
  return { tasks, pagination: response(nextKey, page.countTotal ? await countOf(store, index) : undefined) };
}

/**
 * Open tasks that became open at or after `sinceHeight`, by (opened height, id), descending with
 * reverse; next_key is opened height u64 | task id u64. count_total needs since_height 0 (it counts
 * every open task).
 */
export async function openTasksPage(ctx: Context, sinceHeight: bigint, page: Page): Promise<{ tasks: OpenTask[]; pagination: PageResponse; height: string }> {
  const store = ctx.store(POI_MODULE);
  if (page.countTotal && sinceHeight > 0n) throw ErrInvalidRequest("count_total counts every open task: ask with since_height 0");
  const fits = byteBudget();
  const tasks: OpenTask[] = [];
  const nextKey = await paginate(store, TASK_INDEX.open, page, async (key) => {
    const raw = await taskBytes(store, key.subarray(8));
    if (!fits(raw.length)) return false;
    tasks.push({ openedHeight: Buffer.from(key).readBigUInt64BE(0).toString(), task: TaskCodec.decode(raw) });
    return true;
  }, u64(sinceHeight));
  return { tasks, pagination: response(nextKey, page.countTotal ? await countOf(store, TASK_INDEX.open) : undefined), height: ctx.header.height.toString() };
}

async function taskBytes(store: KVStore, id: Uint8Array): Promise<Uint8Array> {
  const raw = await store.get(Buffer.concat([RECORD_PREFIX.task, id]));
  if (!raw) throw new Error(`a task index lists task ${Buffer.from(id).toString("hex")}, which is not stored`);
  return raw;
}
