/**
 * Consensus isolation on a 4-validator localnet of real CometBFT processes:
 *  - max_tx_bytes is a chain param: node3's config/app.json caps its own mempool at 1 MiB, yet a
 *    2 MiB model registration lands in a block and every node executes it (same app hash everywhere);
 *  - queries run beside consensus: while a client hammers the nodes with 4 MB ModelBytes queries and
 *    full-page Tasks queries (1,000 of ~2,000 tasks), the block interval stays within 1.5x its unloaded median.
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { PoiQueryClient } from "../src/client/query";
import { PoiTxClient } from "../src/client/tx";
import { initNetwork } from "../src/cli/home";
import { buildMlp } from "../src/x/poi/onnx/builder";
import { validateModel } from "../src/x/poi/onnx/validate";
import { MsgSubmitInferenceTaskCodec, Q } from "../src/x/poi/types";
import { mulberry32 } from "../src/util/random";
import { headerAppHash, poi, removeHome, rpc, rpcUrls, tmpHome, waitForHeight } from "./helpers/chain";

const BASE_PORT = 24500;
const MIB = 1024 * 1024;

/** An MLP 784 -> hidden -> 10 with deterministic pseudo-random weights: a valid ONNX model of about hidden x 3 KiB. */
function mlpModel(hidden: number, seed: number): Uint8Array {
  const rnd = mulberry32(seed);
  const floats = (n: number) => Float32Array.from({ length: n }, () => rnd() - 0.5);
  return buildMlp({ inputSize: 784, hidden, outputs: 10, weights: { w1: floats(784 * hidden), b1: floats(hidden), w2: floats(hidden * 10), b2: floats(10) } });
}

const spec = (s: { name: string; shape: number[]; dtype: string }) => ({ name: s.name, shape: s.shape.map(String), dtype: s.dtype });

async function registerModel(client: PoiTxClient, onnx: Uint8Array, name: string): Promise<{ modelId: string; height: number }> {
  const info = validateModel(onnx);
  const reg = await client.registerModel(onnx, name, info.inputs.map(spec), info.outputs.map(spec));
  return { modelId: reg.modelId, height: Number(reg.tx.height) };
}

/** Header times (ms) of blocks from..to, via /blockchain (at most 20 a call). */
async function headerTimes(url: string, from: number, to: number): Promise<number[]> {
  const times = new Map<number, number>();
  for (let lo = from; lo <= to; lo += 20) {
    const hi = Math.min(to, lo + 19);
    const r = await rpc<{ block_metas: Array<{ header: { height: string; time: string } }> }>(url, `blockchain?minHeight=${lo}&maxHeight=${hi}`);
    for (const m of r.block_metas) times.set(Number(m.header.height), Date.parse(m.header.time));
  }
  return Array.from({ length: to - from + 1 }, (_, i) => times.get(from + i)!);
}

function medianInterval(times: number[]): number {
  const d = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)];
}

async function latest(url: string): Promise<number> {
  return Number((await rpc<{ sync_info: { latest_block_height: string } }>(url, "status")).sync_info.latest_block_height);
}

async function broadcastSync(url: string, tx: Uint8Array): Promise<{ code: number; log: string }> {
  const res = await fetch(url, {
    method: "POST", headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(30_000),
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "broadcast_tx_sync", params: { tx: Buffer.from(tx).toString("base64") } }),
  });
  const body = (await res.json()) as { result?: { code: number; log: string }; error?: { data?: string } };
  if (!body.result) throw new Error(`broadcast_tx_sync: ${body.error?.data}`);
  return body.result;
}

describe("e2e: consensus isolation on a 4-validator localnet (chain max_tx_bytes, queries beside consensus)", function () {
  const home = tmpHome("isolation");
  let urls: string[] = [];
  let requester: PoiTxClient;
  const queriers: PoiQueryClient[] = [];

  before(async () => {
    const { nodes } = await initNetwork({ home, validators: 4, basePort: BASE_PORT });
    const appJson = path.join(nodes[3].home, "config", "app.json");
    fs.writeFileSync(appJson, JSON.stringify({ ...JSON.parse(fs.readFileSync(appJson, "utf8")), max_tx_bytes: MIB }, null, 2));
    poi(["localnet", "start", "--home", home, "--detach"]);
    urls = rpcUrls(home);
    const accounts = JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8")) as Array<{ name: string; mnemonic: string }>;
    requester = await PoiTxClient.connect(urls[0], accounts.find((a) => a.name === "requester")!.mnemonic);
    for (const u of urls) queriers.push(await PoiQueryClient.connect(u));
  });

  after(() => {
    requester?.disconnect();
    for (const q of queriers) q.disconnect();
    poi(["localnet", "stop", "--home", home], { allowFail: true });
    removeHome(home);
  });

  it("a 2 MiB model registration lands although node3 caps its mempool at 1 MiB; all 4 nodes agree on the app hash at every height", async () => {
    // node3's own setting is in force for its CheckTx: a 1.5 MiB tx is refused there as too large,
    // while node0 (4 MiB) lets it through to decoding.
    const junk = new Uint8Array(1.5 * MIB).fill(0xff);
    const at3 = await broadcastSync(urls[3], junk);
    assert.equal(at3.code, 21);
    assert.match(at3.log, /this node's max_tx_bytes/);
    assert.notEqual((await broadcastSync(urls[0], junk)).code, 21);

    const onnx = mlpModel(680, 1);
    assert.ok(onnx.length > 2 * MIB && onnx.length < 2.2 * MIB, `model of ${onnx.length} bytes`);
    const { modelId, height } = await registerModel(requester, onnx, "two-mib");
    await Promise.all(urls.map((u) => waitForHeight(u, height + 2)));
    for (let h = 1; h <= height + 1; h++) {
      const hashes = await Promise.all(urls.map((u) => headerAppHash(u, h)));
      for (const x of hashes) assert.equal(x, hashes[0], `app hash at height ${h} differs between nodes`);
    }
    // node3 executed the registration like everyone else.
    assert.deepEqual(Buffer.from(await queriers[3].modelBytes(modelId)), Buffer.from(onnx));
  });

  it("4 MB ModelBytes and full-page (1,000-task) Tasks queries hammering the nodes leave the block interval within 1.5x its unloaded median", async () => {
    const onnx = mlpModel(1290, 2); // ~4.1 MB, under poi's max_model_bytes and the 4 MiB tx cap
    assert.ok(onnx.length > 4_000_000, `model of ${onnx.length} bytes`);
    const { modelId } = await registerModel(requester, onnx, "four-mb");
    // ~2,000 open tasks, 100 a tx, each with one inline item.
    const item = new Uint8Array(new Float32Array(784).fill(0.5).buffer);
    const msgs = Array.from({ length: 100 }, () => ({
      typeUrl: MsgSubmitInferenceTaskCodec.typeUrl,
      value: MsgSubmitInferenceTaskCodec.fromPartial({
        requester: requester.address, modelId, inputs: item, rewardPerItem: "1", k: 1, deadlineBlocks: "100000", bond: "100000",
      }),
    }));
    await requester.sendPipelined(Array.from({ length: 20 }, () => msgs), { window: 4 });
    const taskCount = (await queriers[0].tasks()).length;
    assert.ok(taskCount >= 2000, `${taskCount} tasks`);

    const BLOCKS = 15;
    const quietFrom = await latest(urls[0]);
    await waitForHeight(urls[0], quietFrom + BLOCKS);
    const quiet = medianInterval(await headerTimes(urls[0], quietFrom, quietFrom + BLOCKS));

    // The hammer: one client, one ModelBytes loop and one Tasks loop going round the nodes, back to back.
    // Raw abci_query over HTTP, answers only size-checked, to keep this process's CPU low. On a 2-core
    // machine heavier loads (a loop per node and kind) starve every process of CPU, CometBFT's RPC
    // JSON-encoding 4 MB answers included, and stretch blocks whatever the app does.
    let stop = false;
    const done = { modelBytes: 0, tasks: 0, modelMB: 0 };
    const query = async (url: string, method: string, data: Uint8Array) => {
      const res = await fetch(`${url}/abci_query?path="/poi.v1.Query/${method}"&data=0x${Buffer.from(data).toString("hex")}`, { signal: AbortSignal.timeout(60_000) });
      const text = await res.text();
      assert.match(text.slice(0, 300), /"code":0/);
      return text.length;
    };
    const modelReq = Q.ModelRequest.encode({ id: modelId }).finish();
    const tasksReq = Q.TasksRequest.encode({ status: 0, requester: "", worker: "", pagination: { key: new Uint8Array(), offset: "0", limit: "1000", countTotal: false, reverse: false } }).finish(); // a full page
    const hammer = async (kind: "modelBytes" | "tasks") => {
      for (let n = 0; !stop; n++) {
        const url = urls[n % urls.length];
        if (kind === "modelBytes") done.modelMB += (await query(url, "ModelBytes", modelReq)) * 0.75 / 1e6;
        else assert.ok((await query(url, "Tasks", tasksReq)) > 1000 * 100);
        done[kind]++;
      }
    };
    const loadFrom = (await latest(urls[0])) + 1; // the first block produced entirely under load
    const load = Promise.all([hammer("modelBytes"), hammer("tasks")]);
    try {
      await waitForHeight(urls[0], loadFrom + BLOCKS, 180_000);
    } finally {
      stop = true;
      await load;
    }
    const loaded = medianInterval(await headerTimes(urls[0], loadFrom, loadFrom + BLOCKS));
    console.log(`      block interval median: unloaded ${quiet} ms, loaded ${loaded} ms (${done.modelBytes} ModelBytes queries, ${done.modelMB.toFixed(0)} MB, and ${done.tasks} Tasks queries of a full page, 1,000 of the ${taskCount} tasks)`);
    assert.ok(done.modelBytes >= BLOCKS && done.tasks >= 3, `the load ran: ${done.modelBytes} ModelBytes, ${done.tasks} Tasks queries`);
    assert.ok(loaded <= 1.5 * quiet, `block interval median ${loaded} ms under query load vs ${quiet} ms unloaded`);
    // And the nodes still agree.
    const h = await latest(urls[0]);
    await Promise.all(urls.map((u) => waitForHeight(u, h)));
    const hashes = await Promise.all(urls.map((u) => headerAppHash(u, h)));
    for (const x of hashes) assert.equal(x, hashes[0]);
  });
});
