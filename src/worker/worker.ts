/**
 * The worker daemon: finds open inference tasks, claims one (locking its bond), fetches the model
 * and the inputs, runs every item through onnxruntime with the same ReexecRunner validators use,
 * submits the outputs with their Merkle root, and follows the task until it is paid, slashed,
 * reopened or expired.
 *
 * One claim is worked on at a time; results already submitted are followed in the background of the
 * loop, so the worker claims the next task while earlier ones are being verified.
 *
 * Training tasks (src/worker/training.ts): the worker claims them too, runs the T steps, commits, and
 * reveals the checkpoints the validators' segment requests need while following the claim.
 *
 * Cheating (for demos and tests): with `cheatFraction` f > 0 the worker skips round(f × n) items
 * of each task, chosen by a PRNG seeded from (cheatSeed, task id), and fabricates their outputs
 * (uniform in [-5, 5]). The commitment is computed over what it submits, so it is consistent; only
 * re-execution can find the fabricated items. Everything else is the same code path.
 */
import { createHash } from "node:crypto";
import { outputValuesPerItem } from "../client/poi-msgs";
import type { PoiQueryClient } from "../client/query";
import { PoiTxClient } from "../client/tx";
import { ReexecRunner } from "../x/poi/verify/runner";
import { mulberry32 } from "../util/random";
import { isTraining, TaskStatus, TASK_STATUS_NAMES, type Model, type Task } from "../x/poi/types";
import { datasetRange, revealRequested, trainAndCommit, type TrainingClaim } from "./training";

/** Tasks per OpenTasks page the worker asks for. */
const OPEN_TASKS_PAGE = 500;

export interface PoiWorkerOptions {
  /** CometBFT RPC URL of a node, e.g. http://127.0.0.1:26657. */
  rpc: string;
  mnemonic: string;
  /** Fraction of each task's items to fabricate instead of running (0 = honest, the default). */
  cheatFraction?: number;
  /** Seed of the choice of fabricated items and of their values (default 1). */
  cheatSeed?: number;
  /** Pause between polls of the chain (default 500 ms). */
  pollMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Only tasks for which this returns true are claimed. */
  taskFilter?: (t: Task) => boolean;
  /** Gas price for fees (default 0.025upoi, the localnet's minimum). */
  gasPrice?: string;
  /** Cap on one task's inference, model load included (default 120 s). */
  runTimeoutMs?: number;
  /** Largest bond to lock, as a share of the balance in basis points (default 5000: half). */
  maxBondShareBps?: number;
  /** Blocks that must be left before a task's deadline for a claim (default 10). */
  minBlocksLeft?: number;
  /** Where training runs' checkpoints are kept (for a manual `poi tx poi reveal`); default: memory only. */
  checkpointDir?: string;
}

export interface PoiWorkerStats {
  /** Claims that succeeded. */
  claimed: number;
  /** Claims refused because another worker got there first. */
  lostClaims: number;
  /** Results accepted by the chain. */
  submitted: number;
  /** Results verified and paid. */
  completed: number;
  /** Results that failed verification (bond slashed). */
  failed: number;
  /** Verification did not reach a verdict in time (bond returned, task reopened). */
  verifyTimeouts: number;
  /** Claims that lapsed before a result was in (bond forfeited). */
  lapsed: number;
  /** Claims or results that ended with the task expiring. */
  expired: number;
  /** Errors of any kind (logged). */
  errors: number;
  /** Items run through onnxruntime, and items fabricated. */
  itemsRun: number;
  itemsFabricated: number;
  /** upoi earned (rewards) and slashed (bonds). */
  earned: bigint;
  slashed: bigint;
}

/** What the worker remembers about a claim it made, until the attempt is decided. */
interface Claim {
  id: string;
  attempt: number;
  failedAttempts: number;
  bond: bigint;
  reward: bigint;
  submitted: boolean;
  lastStatus: TaskStatus;
  /** A training task's committed run, kept for the reveals. */
  training?: TrainingClaim;
}

const DENOM = "upoi";
const LOST_RACE = /only an open task can be claimed/;

/**
 * The items of a task of `numItems` items whose outputs a cheating worker fabricates: exactly
 * round(fraction × numItems) distinct indices, sorted, from mulberry32 seeded by (seed, task id).
 * Also returns the PRNG, positioned after the choice, which then draws the fabricated values.
 */
export function cheatPlan(numItems: number, fraction: number, seed: number, taskId: string): { indices: number[]; rand: () => number } {
  const h = createHash("sha256").update(`poi/cheat/v1/${seed}/${taskId}`).digest();
  const rand = mulberry32(h.readUInt32BE(0));
  const count = Math.min(numItems, Math.max(0, Math.round(fraction * numItems)));
  const order = Array.from({ length: numItems }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    // Partial Fisher-Yates: order[0..count) becomes a uniform random subset.
    const j = i + Math.floor(rand() * (numItems - i));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return { indices: order.slice(0, count).sort((a, b) => a - b), rand };
}

const elems = (shape: readonly string[]) => shape.reduce((n, d) => n * Number(d), 1);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class PoiWorker {
  readonly opts: PoiWorkerOptions;
  private readonly log: (line: string) => void;
  private readonly pollMs: number;
  private readonly cheatFraction: number;
  private readonly cheatSeed: number;
  private tx?: PoiTxClient;
  private query?: PoiQueryClient;
  private runner?: ReexecRunner;
  private _address?: string;
  private stopping = false;
  private running?: Promise<void>;
  private wake?: () => void;
  private readonly claims = new Map<string, Claim>();
  private readonly modelCache = new Map<string, { model: Model; onnx: Uint8Array }>();
  /** Models that failed to run here: their tasks are not claimed again. */
  private readonly badModels = new Set<string>();
  /** Tasks on which this worker was slashed: not claimed again (the same run would fail again). */
  private readonly slashedTasks = new Set<string>();
  /** Open tasks seen through OpenTasks, by id, and the height to follow from. */
  private readonly open = new Map<string, Task>();
  private openSince = 0n;
  /** Tasks whose claim lapsed here: not claimed again (whatever kept us from finishing may recur). */
  private readonly lapsedTasks = new Set<string>();
  private readonly counters: PoiWorkerStats = {
    claimed: 0, lostClaims: 0, submitted: 0, completed: 0, failed: 0, verifyTimeouts: 0, lapsed: 0, expired: 0, errors: 0,
    itemsRun: 0, itemsFabricated: 0, earned: 0n, slashed: 0n,
  };

  constructor(opts: PoiWorkerOptions) {
    const f = opts.cheatFraction ?? 0;
    if (!(f >= 0 && f <= 1)) throw new Error(`cheatFraction must be in [0, 1], got ${opts.cheatFraction}`);
    this.opts = opts;
    this.cheatFraction = f;
    this.cheatSeed = opts.cheatSeed ?? 1;
    this.pollMs = opts.pollMs ?? 500;
    this.log = opts.log ?? (() => undefined);
  }

  /** The worker's account address (known once start() has connected). */
  get address(): string | undefined {
    return this._address;
  }

  /** A snapshot of the counters. */
  get stats(): PoiWorkerStats {
    return { ...this.counters };
  }

  /** Connects, then works until stop(); resolves when the loop has ended. Rejects if it cannot connect. */
  start(): Promise<void> {
    if (this.running) return Promise.reject(new Error("PoiWorker already started"));
    this.running = this.connect().then(() => this.loop());
    return this.running;
  }

  /** Ends the loop (after the step in progress: a claim's run and submission are finished first) and disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    try {
      await this.running;
    } catch {
      // start()'s caller sees the error
    }
  }

  private async connect(): Promise<void> {
    this.tx = await PoiTxClient.connect(this.opts.rpc, this.opts.mnemonic, { gasPrice: this.opts.gasPrice, inclusionTimeoutMs: 60_000 });
    this.query = this.tx.query;
    this._address = this.tx.address;
    this.runner = new ReexecRunner({ timeoutMs: this.opts.runTimeoutMs ?? 120_000 });
    const balance = await this.balance();
    this.log(`worker ${this._address} on ${this.opts.rpc}: balance ${balance}${DENOM}` +
      (this.cheatFraction > 0 ? `; CHEATING: fabricating ${this.cheatFraction * 100}% of each task's items (seed ${this.cheatSeed})` : ""));
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopping) {
        try {
          await this.followClaims();
          if (!this.stopping && !(await this.revealing())) await this.workOnce();
        } catch (err) {
          this.counters.errors++;
          this.log(`error: ${message(err)}`);
        }
        if (this.stopping) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.pollMs);
          this.wake = () => { clearTimeout(t); resolve(); };
        });
        this.wake = undefined;
      }
      const open = [...this.claims.values()].filter((c) => c.submitted).length;
      this.log(`worker stopped${open ? `; ${open} submitted result(s) still being verified` : ""}`);
    } finally {
      await this.runner?.close();
      this.tx?.disconnect();
    }
  }

  /** A training attempt of ours may still need reveals: no new claim until its reveal deadline passes, so none is late. */
  private async revealing(): Promise<boolean> {
    const open = [...this.claims.values()].filter((c) => c.training);
    return open.length > 0 && BigInt(await this.query!.height()) <= open.reduce((m, c) => (c.training!.revealDeadline > m ? c.training!.revealDeadline : m), 0n);
  }

  private async balance(): Promise<bigint> {
    return this.query!.balance(this._address!, DENOM);
  }

  /**
   * Follows the tasks that became open since the last poll (the height-indexed OpenTasks query), so a
   * poll costs what is new, not the whole list. A task that reopens comes again with its new height.
   */
  private async followOpenTasks(): Promise<void> {
    let key: Uint8Array | undefined;
    let answered = this.openSince - 1n;
    do {
      const page = await this.query!.openTasks(this.openSince, { key, limit: OPEN_TASKS_PAGE });
      for (const o of page.items) if (o.task) this.open.set(o.task.id, o.task);
      answered = page.height;
      key = page.nextKey.length ? page.nextKey : undefined;
    } while (key && !this.stopping);
    this.openSince = answered + 1n;
  }

  /** Claims one open task (trying the candidates in turn when claims are lost) and works on it. */
  private async workOnce(): Promise<void> {
    const q = this.query!;
    await this.followOpenTasks();
    const height = BigInt(await this.query!.height());
    for (const [id, t] of this.open) if (BigInt(t.deadlineHeight) <= height) this.open.delete(id);
    const open = [...this.open.values()];
    if (open.length === 0) return;
    const balance = await this.balance();
    const params = await this.query!.params();
    const candidates: Task[] = [];
    for (const t of open) if (await this.canFinish(t, height, balance, BigInt(params.maxResultBytes))) candidates.push(t);
    if (candidates.length === 0) return;
    // Workers start at different places in the list, so several of them rarely race for one task.
    const start = createHash("sha256").update(this._address!).digest().readUInt32BE(0) % candidates.length;
    for (let i = 0; i < candidates.length && !this.stopping; i++) {
      const seen = candidates[(start + i) % candidates.length];
      // What we saw may be stale (claimed by another worker since): ask for this one task.
      const t = await q.task(seen.id);
      if (t.status !== TaskStatus.OPEN || t.attempt !== seen.attempt) {
        this.open.delete(seen.id);
        continue;
      }
      const claimed = await this.claim(t);
      if (claimed) {
        await this.work(t, claimed);
        return;
      }
    }
  }

  /**
   * Only tasks this worker can finish: enough blocks left before the deadline, outputs that fit one
   * result tx, a bond it can afford to lock, a model it can run, and not a task it failed or let lapse.
   */
  private async canFinish(t: Task, height: bigint, balance: bigint, maxResultBytes: bigint): Promise<boolean> {
    if (this.badModels.has(t.modelId) || this.slashedTasks.has(t.id) || this.lapsedTasks.has(t.id)) return false;
    if (!(this.opts.taskFilter?.(t) ?? true)) return false;
    if (BigInt(t.deadlineHeight) - height < BigInt(this.opts.minBlocksLeft ?? 10)) return false;
    if (BigInt(t.bond) * 10000n > balance * BigInt(this.opts.maxBondShareBps ?? 5000)) return false;
    if (isTraining(t)) return !this.cheatFraction;
    try {
      const { model } = await this.loadModel(t.modelId);
      return BigInt(t.numItems) * BigInt(outputValuesPerItem(model)) * 4n <= maxResultBytes;
    } catch {
      this.badModels.add(t.modelId);
      return false;
    }
  }

  private async claim(t: Task): Promise<Claim | undefined> {
    try {
      const { claimExpiresHeight, tx } = await this.tx!.claimTask(t.id);
      this.open.delete(t.id);
      const c: Claim = { id: t.id, attempt: t.attempt, failedAttempts: t.failedAttempts, bond: BigInt(t.bond), reward: BigInt(t.escrow), submitted: false, lastStatus: TaskStatus.CLAIMED };
      this.claims.set(t.id, c);
      this.counters.claimed++;
      this.log(`task ${t.id}: claimed (${t.numItems} items, bond ${t.bond}${DENOM}, reward ${t.escrow}${DENOM}, attempt ${t.attempt}) at height ${tx.height}; claim expires at height ${claimExpiresHeight}`);
      return c;
    } catch (err) {
      if (LOST_RACE.test(message(err))) {
        this.open.delete(t.id);
        this.counters.lostClaims++;
        this.log(`task ${t.id}: claim lost (another worker claimed it first)`);
        return undefined;
      }
      this.counters.errors++;
      this.log(`task ${t.id}: claim failed: ${message(err)}`);
      return undefined;
    }
  }

  /** Fetches the model and inputs, runs (or fabricates) every item, and submits the result. */
  private async work(t: Task, c: Claim): Promise<void> {
    if (isTraining(t)) return this.train(t, c);
    try {
      const { model, onnx } = await this.loadModel(t.modelId);
      const inputs = await this.loadInputs(t, model);
      const n = Number(t.numItems);
      const outElems = outputValuesPerItem(model);

      const { indices: fake, rand } = this.cheatFraction > 0 ? cheatPlan(n, this.cheatFraction, this.cheatSeed, t.id) : { indices: [], rand: () => 0 };
      const fakeSet = new Set(fake);
      const runIdx = Array.from({ length: n }, (_, i) => i).filter((i) => !fakeSet.has(i));

      const outputs = new Float32Array(n * outElems);
      const t0 = Date.now();
      if (runIdx.length > 0) {
        const res = await this.runner!.run({
          modelId: model.id, onnx, inputName: model.inputs[0].name, inputShape: model.inputs[0].shape.map(Number),
          outputNames: model.outputs.map((o) => o.name), items: runIdx.map((i) => inputs[i]),
        }).catch((err: unknown) => {
          this.badModels.add(model.id);
          throw err;
        });
        res.outputs.forEach((o, j) => {
          if (o.length !== outElems) throw new Error(`item ${runIdx[j]}: the model gave ${o.length} output values, its declared outputs hold ${outElems}`);
          outputs.set(o, runIdx[j] * outElems);
        });
      }
      for (const i of fake) for (let e = 0; e < outElems; e++) outputs[i * outElems + e] = rand() * 10 - 5;
      this.counters.itemsRun += runIdx.length;
      this.counters.itemsFabricated += fake.length;
      this.log(`task ${t.id}: ran ${runIdx.length} items in ${Date.now() - t0} ms` + (fake.length ? `; fabricated ${fake.length} items` : ""));

      if (this.stopping) this.log(`task ${t.id}: submitting before stopping`);
      const { tx } = await this.tx!.submitResult(t.id, outputs, n);
      c.submitted = true;
      c.lastStatus = TaskStatus.CLAIMED;
      this.counters.submitted++;
      this.log(`task ${t.id}: result submitted at height ${tx.height} (${outputs.byteLength} bytes, gas ${tx.gas_used}, tx ${tx.txhash})`);
    } catch (err) {
      this.counters.errors++;
      this.log(`task ${t.id}: ${c.submitted ? "" : "no result submitted: "}${message(err)}`);
    }
  }

  /** A training task: runs the T steps and commits (the reveals follow in followClaims). */
  private async train(t: Task, c: Claim): Promise<void> {
    try {
      c.training = await trainAndCommit(this.tx!, t, this.log, this.opts.checkpointDir);
      c.submitted = true;
      this.counters.submitted++;
    } catch (err) {
      this.counters.errors++;
      this.log(`task ${t.id}: no training commitment: ${message(err)}`);
    }
  }

  private async loadModel(id: string): Promise<{ model: Model; onnx: Uint8Array }> {
    let m = this.modelCache.get(id);
    if (!m) {
      const [model, onnx] = await Promise.all([this.query!.model(id), this.query!.modelBytes(id)]);
      if (model.inputs.length !== 1) throw new Error(`model ${id} has ${model.inputs.length} inputs; only single-input models are supported`);
      m = { model, onnx };
      this.modelCache.set(id, m);
    }
    return m;
  }

  /** Every input item of the task as its own Float32Array (dataset pages of ≤ 2 MiB, or inline). */
  private async loadInputs(t: Task, model: Model): Promise<Float32Array[]> {
    const n = Number(t.numItems);
    const itemElems = elems(model.inputs[0].shape);
    const itemBytes = itemElems * 4;
    const all = t.datasetId ? await datasetRange(this.query!, t.datasetId, Number(t.start), n, itemBytes) : Buffer.from(await this.query!.taskInputs(t.id));
    if (all.length !== n * itemBytes) throw new Error(`inputs are ${all.length} bytes, want ${n} items × ${itemBytes} bytes`);
    const items: Float32Array[] = [];
    for (let i = 0; i < n; i++) {
      const item = new Float32Array(itemElems);
      new Uint8Array(item.buffer).set(all.subarray(i * itemBytes, (i + 1) * itemBytes));
      items.push(item);
    }
    return items;
  }

  /** Checks every claim not yet decided and logs what happened to it. */
  private async followClaims(): Promise<void> {
    for (const c of [...this.claims.values()]) {
      let t: Task;
      try {
        t = await this.query!.task(c.id);
      } catch (err) {
        this.log(`task ${c.id}: cannot follow it: ${message(err)}`);
        continue;
      }
      if (t.attempt === c.attempt && t.status !== TaskStatus.EXPIRED) {
        if (t.status === TaskStatus.VERIFYING && c.training) {
          await revealRequested(this.tx!, t, c.training, this.log).catch((err: unknown) => {
            this.counters.errors++;
            this.log(`task ${c.id}: reveal failed: ${message(err)}`);
          });
        }
        if (t.status === TaskStatus.COMPLETED) {
          this.claims.delete(c.id);
          this.counters.completed++;
          this.counters.earned += c.reward;
          this.log(`task ${c.id}: verified, paid ${c.reward}${DENOM} (bond ${c.bond}${DENOM} returned) at height ${t.completedHeight}` +
            (t.trainedModelId ? `; trained model ${t.trainedModelId} registered for the requester` : ""));
        } else if (t.status !== c.lastStatus) {
          c.lastStatus = t.status;
          if (t.status === TaskStatus.VERIFYING) {
            this.log(c.training ? `task ${c.id}: verifying; each validator asks for ${t.k} segments of its own private sample`
              : `task ${c.id}: verifying; each validator re-runs ${t.k} items of its own private sample`);
          }
          else this.log(`task ${c.id}: ${TASK_STATUS_NAMES[t.status] ?? t.status}`);
        }
        continue;
      }
      // This attempt is over: the task moved on to a later attempt, or expired.
      this.claims.delete(c.id);
      const expired = t.status === TaskStatus.EXPIRED ? " (the task expired)" : "";
      if (t.failedAttempts > c.failedAttempts) {
        this.counters.failed++;
        this.counters.slashed += c.bond;
        this.slashedTasks.add(c.id);
        this.log(`task ${c.id}: failed verification, bond slashed (${c.bond}${DENOM})${expired}`);
      } else if (c.submitted) {
        this.counters.verifyTimeouts++;
        this.log(`task ${c.id}: no verdict (validators split or did not vote in time); bond returned, task reopened${expired}`);
      } else {
        this.counters.lapsed++;
        this.lapsedTasks.add(c.id);
        this.counters.slashed += c.bond;
        this.log(`task ${c.id}: claim lapsed without a result; bond burned (${c.bond}${DENOM})${expired}`);
      }
      if (expired) this.counters.expired++;
    }
  }
}

