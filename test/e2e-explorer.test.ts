/**
 * The explorer page (src/explorer, served by a node's REST port at /explorer/) in headless Chromium
 * (Debian's chromium driven by playwright-core) against a 4-validator localnet doing PoI work: the
 * page follows the height, shows a verified task with the verdicts the chain recorded, and renders a
 * block's verdict aggregate as the votes it carries, and names the validators (staking monikers) with
 * their work scores and linked workers as the chain reports them. A screenshot is kept as the test's artifact.
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { height, removeHome, sleep, tmpHome } from "./helpers/chain";
import { openExplorer, shownHeight, startDemoNet, type DemoNet } from "./helpers/explorer";

const BASE_PORT = 19000;

async function restJson(url: string): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  return res.json();
}

describe("e2e: explorer page in headless Chromium", function () {
  this.timeout(240_000);
  const home = tmpHome("explorer");
  const artifacts = fs.mkdtempSync(path.join(os.tmpdir(), "poi-explorer-artifacts-"));
  const log: string[] = [];
  let net: DemoNet;
  let browser: Browser;
  let page: Page;
  let errors: string[] = [];

  before(async function () {
    this.timeout(300_000);
    net = await startDemoNet({ home, basePort: BASE_PORT, log: (l) => log.push(l) });
    ({ browser, page, errors } = await openExplorer(net.explorer));
  });
  after(async function () {
    this.timeout(120_000);
    await browser?.close();
    await net?.stop();
    removeHome(home);
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(`demo log (last 40 lines):\n${log.slice(-40).join("\n")}`);
  });

  it("shows the latest height, and the height advances", async () => {
    const deadline = Date.now() + 30_000;
    while ((await shownHeight(page)) === 0 && Date.now() < deadline) await sleep(200);
    const first = await shownHeight(page);
    const chain = await height(net.rpc);
    assert.ok(first > 0 && first <= chain && chain - first <= 10, `page shows height ${first}, chain is at ${chain}`);
    const until = Date.now() + 30_000;
    while ((await shownHeight(page)) <= first && Date.now() < until) await sleep(200);
    assert.ok((await shownHeight(page)) > first, `the height shown stayed at ${first}`);
    assert.match((await page.textContent("#status")) ?? "", /^live/);
  });

  it("shows a verified task with the verdicts the chain recorded", async () => {
    const row = await page.waitForSelector('#tasks tr.task[data-status="COMPLETED"]', { timeout: 180_000 });
    const id = (await row.getAttribute("data-task"))!;
    const { task } = await restJson(`${net.rest}/poi/v1/tasks/${id}`);
    assert.equal(task.status, "TASK_STATUS_COMPLETED");
    assert.ok(task.votes.length >= 3, `task ${id} has ${task.votes.length} votes`);
    const shown = await row.$$eval(".task-votes .verdict[data-validator]", (els) => els.map((e) => [e.getAttribute("data-validator"), e.textContent ?? ""]));
    assert.deepEqual(shown.map(([v]) => v), task.votes.map((v: { validator: string }) => v.validator));
    for (const [i, [, text]] of shown.entries()) assert.match(text, task.votes[i].pass ? /✓/ : /[✗?]/, `vote of ${task.votes[i].validator}`);
    assert.match(await row.$eval("td:last-child", (e) => e.textContent ?? ""), new RegExp(`verified at ${task.completed_height}`));
    // Tasks by status: a click on a status count shows only the tasks of that status.
    await page.click('[data-status-count="COMPLETED"]');
    const statuses = await page.$$eval("#tasks tr.task", (els) => els.map((e) => e.getAttribute("data-status")));
    assert.ok(statuses.length > 0 && statuses.every((s) => s === "COMPLETED"), `rows shown: ${statuses.join(",")}`);
    await page.click('[data-status-count="COMPLETED"]');
  });

  it("shows each validator's moniker, status, work score and linked workers as the chain reports them", async () => {
    const { validators } = await restJson(`${net.rest}/cosmos/staking/v1beta1/validators?pagination.limit=200`);
    const byMoniker = new Map<string, any>(validators.map((v: any) => [v.description.moniker, v]));
    assert.deepEqual([...byMoniker.keys()].sort(), ["node0", "node1", "node2", "node3"]);
    const node0 = byMoniker.get("node0");
    const readRows = () => page.$$eval("#validators tr[data-validator]", (rows) => rows.map((r) => ({
      moniker: r.querySelector(".moniker")?.textContent ?? "", status: r.querySelector(".pill")?.textContent ?? "",
      score: r.querySelector(".work-score")?.getAttribute("data-score") ?? null,
      workers: Array.from(r.querySelectorAll(".linked-worker"), (e) => (e as typeof r).getAttribute("data-worker")),
    })));
    // node0's linked worker (the demo's user0) does verified work: once an epoch has credited it, the page shows the score the chain reports.
    const deadline = Date.now() + 180_000;
    let shown: Awaited<ReturnType<typeof readRows>>;
    let score: { operator: string; score: string };
    for (;;) {
      shown = await readRows();
      ({ score } = await restJson(`${net.rest}/poi/v1/validators/${node0.operator_address}/work_score`));
      const row0 = shown.find((r) => r.moniker === "node0");
      if (row0 && row0.score === score.score && BigInt(score.score) > 0n) break;
      assert.ok(Date.now() < deadline, `node0's work score: page ${row0?.score}, chain ${score.score}`);
      await sleep(500);
    }
    assert.deepEqual(shown.map((r) => r.moniker).sort(), ["node0", "node1", "node2", "node3"]);
    for (const r of shown) assert.equal(r.status, byMoniker.get(r.moniker).jailed ? "jailed" : byMoniker.get(r.moniker).status.replace("BOND_STATUS_", "").toLowerCase(), r.moniker);
    const { links } = await restJson(`${net.rest}/poi/v1/links?operator=${score.operator}`);
    assert.ok(links.length > 0, "node0 has a linked worker");
    assert.deepEqual(shown.find((r) => r.moniker === "node0")!.workers, links.map((l: { worker: string }) => l.worker));
  });

  it("renders a block's verdict aggregate as the votes it carries, and txs by message type", async () => {
    const block = await page.waitForSelector("#blocks tr:has(.votes)", { timeout: 30_000 });
    const h = (await block.getAttribute("data-height"))!;
    const { aggregate } = await restJson(`${net.rest}/poi/v1/verdict_aggregates/${h}`);
    assert.ok(aggregate, `block ${h} carries a verdict aggregate`);
    assert.equal((await block.$$(".vote")).length, aggregate.votes.length);
    await page.waitForSelector("#blocks .msg", { timeout: 60_000 });
    const types = await page.$$eval("#blocks .msg", (els) => els.map((e) => e.getAttribute("title")));
    for (const t of types) assert.match(t ?? "", /^\/[a-z0-9.]+\.Msg\w+$/i);
  });

  it("keeps a screenshot of the page as the test's artifact, with no uncaught page errors", async () => {
    const file = path.join(artifacts, "explorer.png");
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 10_000);
    console.log(`      explorer screenshot: ${file}`);
    assert.deepEqual(errors, []);
  });
});
