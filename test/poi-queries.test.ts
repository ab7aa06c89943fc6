/**
 * x/poi's paged queries (Tasks with its filters, OpenTasks, Models, Datasets) and the task indexes
 * behind them, in process: real signed txs through a 4-validator harness, tasks driven through
 * claims, lapses, results, timeouts and expiry, every index checked against the full task list
 * after every block.
 */
import { strict as assert } from "assert";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import { PageRequest, PageResponse } from "cosmjs-types/cosmos/base/query/v1beta1/pagination";
import { QueryDenomsMetadataRequest } from "cosmjs-types/cosmos/bank/v1beta1/query";
import * as protobuf from "protobufjs";
import { Harness } from "./helpers/poi-harness";
import { resultRoot } from "../src/x/poi/commitment";
import { GraphBuilder } from "../src/x/poi/onnx/builder";
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, parsePageRequest } from "../src/app/pagination";
import {
  MsgRegisterModelCodec, MsgCreateDatasetCodec, MsgSubmitInferenceTaskCodec, MsgClaimTaskCodec, MsgSubmitResultCodec, MsgRegisterModelResponseCodec,
  Q, TaskStatus, type PageRequest as PoiPageRequest, type PageResponse as PoiPageResponse, type PoiCodec, type Task,
} from "../src/x/poi/types";
import { chunkDataset } from "../src/client/poi-msgs";

const SPEC = (name: string) => [{ name, shape: ["1", "2"], dtype: "float32" }];
/** A Relu over [1, 2]; the graph name makes each model's bytes (and id) distinct. */
const relu = (name: string) => new GraphBuilder(name).addInput("x", [1, 2]).addNode("Relu", ["x"], ["y"]).addOutput("y", [1, 2]).toBytes();
const hexId = (id: string | number | bigint) => Buffer.from(BigInt(id).toString(16).padStart(16, "0"), "hex");

describe("x/poi paged queries and task indexes (in process, 4 validators)", function () {
  let h: Harness;
  let modelId = "";
  const addr = (name: string) => h.account(name).address;
  /** Every task, from the keeper (the oracle the indexes are checked against). */
  const allTasks = () => h.app.poi.tasks(h.app.queryContext());
  /** The height at whose end each task last became open, as seen from block to block. */
  const opened = new Map<string, bigint>();
  let lastStatus = new Map<string, TaskStatus>();
  let lastAttempt = new Map<string, number>();

  async function query<Req, Res>(method: string, reqCodec: PoiCodec<Req>, req: Partial<Req>, resCodec: PoiCodec<Res>): Promise<Res> {
    const res = await queryRaw(method, reqCodec.encode(reqCodec.fromPartial(req)).finish());
    assert.equal(res.code ?? 0, 0, `${method}: ${res.log}`);
    return resCodec.decode(res.value!);
  }
  const queryRaw = (method: string, data: Uint8Array) => h.app.query({ path: `/poi.v1.Query/${method}`, data, height: 0n, prove: false });

  /** Records when tasks became open, from the status each had after the previous block. */
  async function observe(): Promise<void> {
    for (const t of await allTasks()) {
      const wasOpen = lastStatus.get(t.id) === TaskStatus.OPEN && lastAttempt.get(t.id) === t.attempt;
      if (t.status === TaskStatus.OPEN && !wasOpen) opened.set(t.id, h.height);
      if (t.status !== TaskStatus.OPEN) opened.delete(t.id);
    }
    const tasks = await allTasks();
    lastStatus = new Map(tasks.map((t) => [t.id, t.status]));
    lastAttempt = new Map(tasks.map((t) => [t.id, t.attempt]));
  }

  async function send<T>(from: string, codec: PoiCodec<T>, msg: Partial<T>) {
    const r = await h.send(from, codec, msg);
    await observe();
    return r;
  }
  async function blocks(n: number) {
    for (let i = 0; i < n; i++) {
      await h.block([]);
      await observe();
    }
  }

  /** Follows next_key through a filter's pages (limit `limit`), returning every task and the number of pages. */
  async function walk(filter: { status?: TaskStatus; requester?: string; worker?: string }, limit: number, reverse = false): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let key: Uint8Array = new Uint8Array();
    for (let pages = 1; ; pages++) {
      const res = await query("Tasks", Q.TasksRequest, { status: filter.status ?? 0, requester: filter.requester ?? "", worker: filter.worker ?? "", pagination: { key, limit: String(limit), reverse } }, Q.TasksResponse);
      assert.ok(res.tasks.length <= limit, `a page holds at most ${limit}`);
      ids.push(...res.tasks.map((t) => t.id));
      if (res.pagination!.nextKey.length === 0) return { ids, pages };
      assert.ok(pages < 1000, "pages end");
      key = res.pagination!.nextKey;
    }
  }

  const matches = (t: Task, f: { status?: TaskStatus; requester?: string; worker?: string }) =>
    (!f.status || t.status === f.status) && (!f.requester || t.requester === f.requester) && (!f.worker || t.worker === f.worker);

  /** Every filter, paged with a few limits and both directions, against the full list; and OpenTasks. */
  async function checkIndexes(): Promise<void> {
    const tasks = await allTasks();
    type Filter = { status?: TaskStatus; requester?: string; worker?: string };
    const filters: Filter[] = [
      {}, ...[1, 2, 3, 4, 5, 6].map((status) => ({ status })), { requester: addr("alice") }, { requester: addr("bob") }, { worker: addr("w1") }, { worker: addr("w2") },
      { status: TaskStatus.OPEN, requester: addr("bob") }, { status: TaskStatus.CLAIMED, worker: addr("w1") }, { requester: addr("alice"), worker: addr("w2") },
    ];
    for (const f of filters) {
      const want = tasks.filter((t) => matches(t, f)).map((t) => t.id);
      for (const limit of [1, 3, 100]) {
        assert.deepEqual((await walk(f, limit)).ids, want, `filter ${JSON.stringify(f)}, limit ${limit}, at height ${h.height}`);
        assert.deepEqual((await walk(f, limit, true)).ids, [...want].reverse(), `filter ${JSON.stringify(f)}, limit ${limit}, reverse`);
      }
      const single = Object.keys(f).length <= 1;
      const counted = await queryRaw("Tasks", Q.TasksRequest.encode({ status: f.status ?? 0, requester: f.requester ?? "", worker: f.worker ?? "", pagination: { limit: "1", countTotal: true } }).finish());
      if (single) assert.equal(Q.TasksResponse.decode(counted.value!).pagination!.total, String(want.length), `count_total of ${JSON.stringify(f)}`);
      else assert.match(counted.log!, /count_total is available with at most one of the filters/);
    }
    const open = await query("OpenTasks", Q.OpenTasksRequest, { sinceHeight: "0", pagination: { countTotal: true } }, Q.OpenTasksResponse);
    const wantOpen = [...opened].sort((a, b) => (a[1] === b[1] ? Number(a[0]) - Number(b[0]) : a[1] < b[1] ? -1 : 1));
    assert.deepEqual(open.tasks.map((x) => [x.task!.id, x.openedHeight]), wantOpen.map(([id, at]) => [id, at.toString()]), `open tasks by opening height at height ${h.height}`);
    assert.ok(open.tasks.every((x) => x.task!.status === TaskStatus.OPEN));
    assert.equal(open.pagination!.total, String(wantOpen.length));
    assert.equal(open.height, h.height.toString());
  }

  before(async () => {
    h = await Harness.create({ validators: 4, accounts: ["alice", "bob", "w1", "w2"], verify: false, params: { claimBlocks: "3", verifyTimeoutBlocks: "3", deadlineMarginBlocks: "1", minBond: "100", bondFactorBps: "1" } });
    const r = await send("alice", MsgRegisterModelCodec, { owner: addr("alice"), name: "relu", onnx: relu("g0"), inputs: SPEC("x"), outputs: SPEC("y") });
    assert.equal(r.code, 0, r.log);
    modelId = MsgRegisterModelResponseCodec.decode(TxMsgData.decode(r.data!).msgResponses[0].value).modelId;
  });
  after(async () => h && (await h.close()));

  const submit = async (from: string, deadline = 200) => {
    const r = await send(from, MsgSubmitInferenceTaskCodec, {
      requester: addr(from), modelId, inputs: new Uint8Array(16), rewardPerItem: "10", k: 1, deadlineBlocks: String(deadline), bond: "100",
    });
    assert.equal(r.code, 0, r.log);
  };

  it("Tasks pages through every filter's index exactly as the full list, in both directions, as tasks are claimed, lapse, reopen, time out and expire", async () => {
    for (let i = 0; i < 9; i++) await submit(i % 3 === 0 ? "bob" : "alice", i === 7 ? 7 : 200);
    await checkIndexes();
    for (const [w, id] of [["w1", "1"], ["w1", "2"], ["w2", "4"], ["w2", "5"], ["w1", "6"]] as const) {
      assert.equal((await send(w, MsgClaimTaskCodec, { worker: addr(w), taskId: id })).code, 0);
    }
    await checkIndexes();
    const out = new Uint8Array(16);
    assert.equal((await send("w1", MsgSubmitResultCodec, { worker: addr("w1"), taskId: "6", outputs: out, resultRoot: resultRoot(out, 2, 8) })).code, 0);
    await checkIndexes();
    // Claims lapse (claim_blocks 3) and reopen; task 8's deadline passes (expired); task 6 times out without votes.
    for (let i = 0; i < 6; i++) {
      await blocks(1);
      await checkIndexes();
    }
    const statuses = new Set((await allTasks()).map((t) => t.status));
    assert.ok(statuses.has(TaskStatus.OPEN) && statuses.has(TaskStatus.EXPIRED), `statuses seen: ${[...statuses]}`);
    assert.ok((await allTasks()).some((t) => t.attempt > 0 && t.status === TaskStatus.OPEN), "a lapsed claim reopened a task");
    assert.ok([...opened.values()].some((at) => at > 12n), "reopened tasks are listed under the height they reopened at");
    // Claimed again after reopening: it leaves the open index and joins w2's.
    const reopened = (await allTasks()).find((t) => t.attempt > 0 && t.status === TaskStatus.OPEN)!;
    assert.equal((await send("w2", MsgClaimTaskCodec, { worker: addr("w2"), taskId: reopened.id })).code, 0);
    await checkIndexes();
  });

  it("OpenTasks from a height: only tasks that became open at or after it, in that order; next_key and since_height resume", async () => {
    const before = h.height;
    await submit("bob");
    await submit("alice");
    await checkIndexes();
    const since = await query("OpenTasks", Q.OpenTasksRequest, { sinceHeight: String(before + 1n) }, Q.OpenTasksResponse);
    const want = [...opened].filter(([, at]) => at > before).sort((a, b) => (a[1] === b[1] ? Number(a[0]) - Number(b[0]) : a[1] < b[1] ? -1 : 1));
    assert.deepEqual(since.tasks.map((x) => [x.task!.id, x.openedHeight]), want.map(([id, at]) => [id, at.toString()]));
    const ids = (await allTasks()).map((t) => t.id);
    assert.deepEqual(since.tasks.filter((x) => x.task!.attempt === 0).map((x) => [x.task!.id, x.openedHeight]), [[ids.at(-2)!, String(before + 1n)], [ids.at(-1)!, String(before + 2n)]], "the two new tasks, from the blocks they were submitted in");
    // One at a time, by key.
    const first = await query("OpenTasks", Q.OpenTasksRequest, { sinceHeight: String(before + 1n), pagination: { limit: "1" } }, Q.OpenTasksResponse);
    assert.equal(first.tasks.length, 1);
    assert.equal(first.pagination!.nextKey.length, 16, "next_key: opened height u64 | task id u64");
    const second = await query("OpenTasks", Q.OpenTasksRequest, { sinceHeight: String(before + 1n), pagination: { key: first.pagination!.nextKey, limit: "1" } }, Q.OpenTasksResponse);
    assert.deepEqual(second.tasks.map((x) => x.task!.id), [since.tasks[1].task!.id]);
    assert.equal(second.pagination!.nextKey.length === 0, since.tasks.length === 2);
    // Newest first.
    const rev = await query("OpenTasks", Q.OpenTasksRequest, { sinceHeight: String(before + 1n), pagination: { reverse: true } }, Q.OpenTasksResponse);
    assert.deepEqual(rev.tasks.map((x) => x.task!.id), since.tasks.map((x) => x.task!.id).reverse());
    // Resuming from the answer's height + 1: nothing new yet.
    assert.deepEqual((await query("OpenTasks", Q.OpenTasksRequest, { sinceHeight: String(BigInt(since.height) + 1n) }, Q.OpenTasksResponse)).tasks, []);
    const counted = await queryRaw("OpenTasks", Q.OpenTasksRequest.encode({ sinceHeight: "5", pagination: { countTotal: true } }).finish());
    assert.match(counted.log!, /count_total counts every open task: ask with since_height 0/);
    const negative = await queryRaw("OpenTasks", Q.OpenTasksRequest.encode({ sinceHeight: "-1" }).finish());
    assert.match(negative.log!, /since_height -1 is negative/);
  });

  it("offset pages, the default and maximum limits, and refusals: key with offset, an offset above 10,000, a key over 128 bytes, an unknown status", async () => {
    const ids = (await allTasks()).map((t) => t.id);
    const page = async (p: Partial<PoiPageRequest>) => (await query("Tasks", Q.TasksRequest, { status: 0, pagination: p }, Q.TasksResponse));
    assert.deepEqual((await page({ offset: "3", limit: "4" })).tasks.map((t) => t.id), ids.slice(3, 7));
    const counted = await page({ offset: "3", limit: "4", countTotal: true });
    assert.equal(counted.pagination!.total, String(ids.length));
    assert.deepEqual(counted.pagination!.nextKey, hexId(ids[7]), "next_key: the next task's id, u64 big-endian");
    assert.equal((await page({ key: hexId(ids[2]), countTotal: true })).pagination!.total, "0", "count_total is ignored with a key, as in the SDK");
    assert.deepEqual((await page({ key: hexId(ids[2]), limit: "2" })).tasks.map((t) => t.id), ids.slice(2, 4));
    assert.deepEqual((await page({ key: hexId(ids[5]), limit: "2", reverse: true })).tasks.map((t) => t.id), [ids[5], ids[4]], "reverse from a key includes it");
    assert.deepEqual((await page({ offset: "3", limit: "2", reverse: true })).tasks.map((t) => t.id), [...ids].reverse().slice(3, 5));
    assert.deepEqual((await page({ limit: "99999999999" })).tasks.map((t) => t.id), ids, "a limit above the maximum is clamped");
    const refused = async (p: Partial<PoiPageRequest>, re: RegExp) => {
      const res = await queryRaw("Tasks", Q.TasksRequest.encode({ status: 0, requester: "", worker: "", pagination: p }).finish());
      assert.equal(res.code, 18);
      assert.match(res.log!, re);
    };
    await refused({ key: hexId(1), offset: "1" }, /either offset or key is expected, got both/);
    await refused({ offset: "10001" }, /pagination offset 10001 is above 10000: follow next_key instead/);
    await refused({ key: new Uint8Array(129) }, /pagination key is 129 bytes, at most 128/);
    const status = await queryRaw("Tasks", Q.TasksRequest.encode({ status: 9 as TaskStatus, requester: "", worker: "" }).finish());
    assert.match(status.log!, /unknown task status 9/);

    assert.deepEqual(parsePageRequest(undefined), { key: new Uint8Array(), offset: 0, limit: DEFAULT_PAGE_LIMIT, countTotal: false, reverse: false });
    assert.equal(parsePageRequest({ limit: "5000" }).limit, MAX_PAGE_LIMIT);
    assert.equal(parsePageRequest({ limit: "18446744073709551615" }).limit, MAX_PAGE_LIMIT);
    assert.equal(parsePageRequest({ limit: "7" }).limit, 7);
  });

  it("a page reads only its own entries from the store, never the whole list", async () => {
    const committed = h.app.store.committed as { iterate: (...a: unknown[]) => Promise<unknown[]>; get: (...a: unknown[]) => Promise<unknown> };
    const iterate = committed.iterate.bind(committed);
    const get = committed.get.bind(committed);
    let rows = 0, gets = 0;
    committed.iterate = async (...a: unknown[]) => { const r = await iterate(...a); rows += r.length; return r; };
    committed.get = async (...a: unknown[]) => { gets++; return get(...a); };
    try {
      const total = (await allTasks()).length;
      assert.ok(total >= 11);
      rows = 0; gets = 0;
      await query("Tasks", Q.TasksRequest, { status: 0, pagination: { limit: "3" } }, Q.TasksResponse);
      assert.ok(rows <= 4 && gets <= 1, `unfiltered page of 3: ${rows} entries iterated, ${gets} gets`);
      rows = 0; gets = 0;
      await query("Tasks", Q.TasksRequest, { status: 0, requester: addr("alice"), pagination: { limit: "3" } }, Q.TasksResponse);
      assert.ok(rows <= 4 && gets <= 4, `requester page of 3: ${rows} entries iterated, ${gets} gets`);
      rows = 0; gets = 0;
      await query("OpenTasks", Q.OpenTasksRequest, { sinceHeight: "0", pagination: { limit: "2" } }, Q.OpenTasksResponse);
      assert.ok(rows <= 3 && gets <= 3, `open page of 2: ${rows} entries iterated, ${gets} gets`);
    } finally {
      committed.iterate = iterate;
      committed.get = get;
    }
  });

  it("Models and Datasets page by id with totals; the wire format is the Cosmos SDK's PageRequest / PageResponse", async () => {
    for (const g of ["g1", "g2", "g3"]) assert.equal((await send("bob", MsgRegisterModelCodec, { owner: addr("bob"), name: g, onnx: relu(g), inputs: SPEC("x"), outputs: SPEC("y") })).code, 0);
    for (const n of [2, 4, 6]) {
      const c = chunkDataset({ name: "x", shape: ["2"], dtype: "float32" }, new Float32Array(2 * n), 2);
      assert.equal((await send("bob", MsgCreateDatasetCodec, { owner: addr("bob"), name: `d${n}`, item: { name: "x", shape: ["2"], dtype: "float32" }, numItems: String(n), itemsPerChunk: "2", chunkHashes: c.hashes })).code, 0);
    }
    const models = (await query("Models", Q.ModelsRequest, { pagination: { countTotal: true, limit: "1000" } }, Q.ModelsResponse));
    assert.equal(models.models.length, 4);
    assert.equal(models.pagination!.total, "4");
    assert.deepEqual(models.models.map((m) => m.id), models.models.map((m) => m.id).sort(), "in id order");
    const firstTwo = await query("Models", Q.ModelsRequest, { pagination: { limit: "2" } }, Q.ModelsResponse);
    assert.deepEqual(Buffer.from(firstTwo.pagination!.nextKey).toString("hex"), models.models[2].id, "next_key: the next model's id bytes");
    const rest = await query("Models", Q.ModelsRequest, { pagination: { key: firstTwo.pagination!.nextKey } }, Q.ModelsResponse);
    assert.deepEqual([...firstTwo.models, ...rest.models].map((m) => m.id), models.models.map((m) => m.id));
    const ds = await query("Datasets", Q.DatasetsRequest, { pagination: { countTotal: true, limit: "2" } }, Q.DatasetsResponse);
    assert.equal(ds.datasets.length, 2);
    assert.equal(ds.pagination!.total, "3");
    const dsRest = await query("Datasets", Q.DatasetsRequest, { pagination: { key: ds.pagination!.nextKey } }, Q.DatasetsResponse);
    assert.equal(dsRest.datasets.length, 1);
    assert.equal(dsRest.pagination!.nextKey.length, 0);

    // A request whose PageRequest CosmJS (cosmjs-types) encoded: QueryDenomsMetadataRequest is
    // {pagination = 1}, the same shape as QueryModelsRequest.
    const cosmosReq = QueryDenomsMetadataRequest.encode({ pagination: PageRequest.fromPartial({ limit: 2n, countTotal: true }) }).finish();
    const res = await queryRaw("Models", cosmosReq);
    assert.equal(res.code ?? 0, 0, res.log);
    // Field 2 of the response, read as the SDK's PageResponse by cosmjs-types.
    const r = protobuf.Reader.create(res.value!);
    let page: PageResponse | undefined;
    let count = 0;
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag >>> 3 === 2) page = PageResponse.decode(r.bytes());
      else { r.skipType(tag & 7); count++; }
    }
    assert.ok(page, "the response has field 2");
    assert.deepEqual([Buffer.from(page.nextKey).toString("hex"), page.total], [models.models[2].id, 4n]);
    assert.equal(count, 2, "two models");
    const ours: PoiPageResponse = Q.ModelsResponse.decode(res.value!).pagination!;
    assert.deepEqual([Buffer.from(ours.nextKey).toString("hex"), ours.total], [models.models[2].id, "4"]);
  });
});
