/**
 * The explorer page's loop: every POLL_MS it reads the latest height (REST blocks/latest), loads the
 * blocks it has not seen, then refreshes tasks, workers and validators, and redraws each panel.
 * History (task outcomes per block, validators' power) is what this page has read: on load the events
 * and power of the last BACKFILL blocks, then the chain as it grows.
 */
import { Api } from "./api.js";
import { blockEvents, loadBlock, type BlockView, type ChainEvent } from "./blocks.js";
import { loadTasks, loadValidators, loadWorkers, type TaskView } from "./chain.js";
import { stepPlot } from "./plot.js";
import { blocksHtml, eventsHtml, tasksHtml, validatorsHtml, workersHtml } from "./render.js";

const POLL_MS = 1500;
const SHOWN_BLOCKS = 6;
const BACKFILL = 120;
const MAX_HISTORY = 600;
const POWER_EVERY = 5;

const state = {
  height: 0,
  blocks: [] as BlockView[],
  events: [] as ChainEvent[],
  /** Per height seen: tasks verified and failed in that block. */
  outcomes: new Map<number, { verified: number; failed: number }>(),
  power: new Map<string, number[]>(),
  powerHeight: 0,
  workers: new Set<string>(),
  tasks: [] as TaskView[],
  tasksTotal: null as number | null,
  /** The status the tasks panel shows only, or null for all. */
  taskFilter: null as string | null,
};

const $ = (id: string) => document.getElementById(id)!;

function setStatus(text: string, ok: boolean): void {
  const el = $("status");
  el.textContent = text;
  el.className = ok ? "ok" : "error";
}

function noteOutcomes(height: number, verified: number, failed: number, events: ChainEvent[]): void {
  state.outcomes.set(height, { verified, failed });
  state.events = [...events.slice().reverse(), ...state.events].slice(0, 200);
}

function notePower(height: number, validators: Array<{ address: string; power: number }>): void {
  if (height <= state.powerHeight) return;
  state.powerHeight = height;
  for (const v of validators) state.power.set(v.address, [...(state.power.get(v.address) ?? []), v.power].slice(-MAX_HISTORY));
}

/**
 * Reads the events of blocks (from, to] without their txs (the history behind the plot and the
 * events lists), and the validator set at every POWER_EVERY-th of those heights (their power history).
 */
async function backfill(api: Api, from: number, to: number): Promise<void> {
  for (let h = Math.max(1, from + 1); h <= to; h += 8) {
    const heights = Array.from({ length: Math.min(8, to - h + 1) }, (_, i) => h + i);
    const results = await Promise.all(heights.map((x) => api.rpc("block_results", { height: String(x) })));
    results.forEach((r, i) => {
      const e = blockEvents(heights[i], r);
      noteOutcomes(heights[i], e.verified, e.failed, e.events);
    });
    for (const x of heights.filter((x) => x % POWER_EVERY === 0)) {
      const set = await api.rpc("validators", { height: String(x), per_page: "100" });
      notePower(x, (set.validators as Array<{ address: string; voting_power: string }>).map((v) => ({ address: v.address, power: Number(v.voting_power) })));
    }
  }
}

async function followBlocks(api: Api): Promise<void> {
  const latest = await api.rest("/cosmos/base/tendermint/v1beta1/blocks/latest");
  const header = latest.block?.header ?? latest.sdk_block?.header ?? {};
  const height = Number(header.height ?? 0);
  $("chain-id").textContent = String(header.chain_id ?? "");
  if (height <= state.height) return;
  const firstShown = Math.max(state.height + 1, height - SHOWN_BLOCKS + 1);
  if (state.height === 0) await backfill(api, Math.max(0, height - BACKFILL), firstShown - 1);
  else if (firstShown > state.height + 1) await backfill(api, state.height, firstShown - 1);
  for (let h = firstShown; h <= height; h++) {
    const b = await loadBlock(api, h);
    noteOutcomes(h, b.verified, b.failed, b.events);
    state.blocks = [b, ...state.blocks].slice(0, SHOWN_BLOCKS);
  }
  state.height = height;
  const el = $("latest-height");
  el.textContent = String(height);
  el.dataset.height = String(height);
  $("latest-time").textContent = String(header.time ?? "").replace("T", " ").slice(0, 19);
  $("blocks").innerHTML = blocksHtml(state.blocks);
  $("events").innerHTML = eventsHtml(state.events);
  drawPlot();
}

function drawPlot(): void {
  const heights = [...state.outcomes.keys()].sort((a, b) => a - b);
  let v = 0;
  let f = 0;
  const verified: Array<[number, number]> = [];
  const failed: Array<[number, number]> = [];
  for (const h of heights) {
    v += state.outcomes.get(h)!.verified;
    f += state.outcomes.get(h)!.failed;
    verified.push([h, v]);
    failed.push([h, f]);
  }
  $("plot").innerHTML = stepPlot([{ name: "tasks verified", cls: "pass", points: verified }, { name: "verifications failed", cls: "fail", points: failed }], "block height");
}

function drawTasks(): void {
  $("tasks").innerHTML = tasksHtml(state.tasks, state.tasksTotal, state.taskFilter);
}

async function refreshState(api: Api): Promise<void> {
  const { tasks, total } = await loadTasks(api);
  for (const t of tasks) if (t.worker) state.workers.add(t.worker);
  state.tasks = tasks;
  state.tasksTotal = total;
  drawTasks();
  $("workers").innerHTML = workersHtml(await loadWorkers(api, state.workers));
  const { height, validators } = await loadValidators(api);
  notePower(height, validators);
  $("validators").innerHTML = validatorsHtml(validators, state.power);
}

async function main(): Promise<void> {
  let api: Api;
  try {
    api = await Api.load();
  } catch (err) {
    setStatus(`cannot read config.json: ${(err as Error).message}`, false);
    return;
  }
  $("rpc-url").textContent = api.config.rpc;
  $("tasks").addEventListener("click", (e) => {
    const status = (e.target as HTMLElement).closest("[data-status-count]")?.getAttribute("data-status-count");
    if (!status) return;
    state.taskFilter = state.taskFilter === status ? null : status;
    drawTasks();
  });
  for (;;) {
    try {
      await followBlocks(api);
      await refreshState(api);
      setStatus(`live · updated ${new Date().toLocaleTimeString()}`, true);
    } catch (err) {
      setStatus(`error: ${(err as Error).message}`, false);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

void main();
