/**
 * A seeded random simulation of the whole app (test/simulation.test.ts) over the in-process harness:
 * real PoiApp on LevelDB, 4 x/staking validators (one lazy: it votes pass without checking) with
 * verifiers on onnxruntime, x/mint and x/distribution on. Each block carries a random mix drawn from one
 * Rng: bank sends (some overspending), inference tasks (submit, claim, honest or fabricated results,
 * claims left to lapse), training tasks (simulation-training.ts: honest, wrong or unrevealed), delegations, undelegations (some above the delegation), commission edits (some
 * too fast), new validators (keys from the Rng) and worker links. Each account sends at most one tx a block. Every tx is checked as
 * the mempool would (valid ones must pass CheckTx, invalid ones be refused) and then goes into the block
 * anyway, as a proposer may include it: valid ones must succeed, invalid ones fail with their error.
 * After every block every invariant must hold; the app hash of every block is recorded.
 */
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import type { Event, ExecTxResult } from "cosmjs-types/tendermint/abci/types";
import { Harness, type SimValidator } from "./poi-harness";
import { PoiFlow, bytesOf, OUT_BYTES } from "./poi-flow";
import { SimTraining } from "./simulation-training";
import { removeHome } from "./chain";
import { hex, Rng } from "./fuzz-gen";
import { Codecs, createValidatorMsg, newValidatorKey, valoper } from "./staking-msgs";
import { formatAddress, parseAddress } from "../../src/app/address";
import type { PoiCodec } from "../../src/x/poi/types";
import {
  MsgAcceptWorkerLinkCodec, MsgClaimTaskCodec, MsgLinkWorkerCodec, MsgUnlinkWorkerCodec, MsgSubmitInferenceTaskCodec, MsgSubmitInferenceTaskResponseCodec, MsgSubmitResultCodec, TaskStatus,
} from "../../src/x/poi/types";
import { fabricate } from "../../src/x/poi/audits";
import { resultRoot } from "../../src/x/poi/commitment";
import { NOT_BONDED_POOL_ADDRESS, tokensFromShares } from "../../src/x/staking/keeper";

const N_ITEMS = 8;
const K = 4;
const SELF_BOND = 100_000_000_000n;
const MAX_CREATED = 3;
/** Reward epochs = staking epochs = x/poi's seed epochs: 5 blocks; unbonding 12 blocks, so many mature within a run. */
const GENESIS = {
  params: { claimBlocks: "4", verifyTimeoutBlocks: "12", deadlineMarginBlocks: "4", seedEpochBlocks: "5", auditRateBps: "3000", maxModelBytes: "150000" },
  staking: { selfBond: SELF_BOND, params: { epoch_blocks: "5", unbonding_blocks: "12" }, commissionBps: [500n, 1000n, 0n, 2000n] },
  genesis: {
    mint: { params: { initial_block_reward: "1000000", halving_interval_blocks: "100", max_minted: "1000000000000" } },
    distribution: { params: { community_tax_bps: "300", worker_share_bps: "4000", signing_share_bps: "2500", epoch_blocks: "5", settle_delay_epochs: "2" } },
  },
};
const REQUESTERS = ["requester", "requester2"];
const WORKERS = ["w0", "w1", "w2", "w3"];
const USERS = ["u0", "u1", "u2", "u3", "u4", "u5"];
const OPERATORS = ["operator0", "operator1", "operator2", "operator3"];
const LAZY = 3;

export interface SimResult {
  /** The height of the simulation's first block (the harness and the model registration made the ones before). */
  firstHeight: number;
  /** App hash after each block the simulation made, hex. */
  hashes: string[];
  /** Txs that succeeded, by kind. */
  ok: Record<string, number>;
  /** Invalid txs that CheckTx refused and their block failed with the expected error, by kind. */
  refused: Record<string, number>;
  cheats: number;
  cheatsSlashed: number;
  honestResults: number;
  honestVerified: number;
  /** Training attempts committed honestly, and those of them that passed. */
  trainingHonest: number;
  trainingHonestVerified: number;
  /** Training attempts committed wrong or never revealed (by how), and those of them slashed. */
  trainingCheats: string[];
  trainingCheatsSlashed: number;
  modelsTrained: number;
  claimsLapsed: number;
  tasksExpired: number;
  auditsFailed: number;
  validatorsCreated: number;
  /** Created validators that CometBFT was given a power > 0 for. */
  createdWithPower: number;
  unbondingsMatured: number;
  /** Blocks that returned validator updates. */
  powerChanges: number;
}

interface Planned { kind: string; from: string; tx: Uint8Array; refusal?: RegExp; done?: (r: ExecTxResult) => void }
/** A task the simulation submitted; `training` is the index of a training task among the run's. */
export interface SimTask { id: string; deadline: bigint; cheats: Set<number>; honest: Set<number>; abandoned: Set<number>; decided: Set<number>; training?: number }
/** How a block's txs are planned: each account sends at most one (`busy`). */
export interface SimPlanner {
  busy: Set<string>;
  free(names: string[]): string[];
  take(names: string[]): string;
  add<T>(kind: string, from: string, codec: PoiCodec<T>, msg: Partial<T> | Array<Partial<T>>, extra?: Pick<Planned, "refusal" | "done">): Promise<void>;
}

const attr = (e: Event, key: string) => e.attributes.find((a) => a.key === key)?.value ?? "";
const count = (m: Record<string, number>, k: string) => { m[k] = (m[k] ?? 0) + 1; };
const sorted = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));

export class Simulation {
  readonly result: SimResult = {
    firstHeight: 0, hashes: [], ok: {}, refused: {}, cheats: 0, cheatsSlashed: 0, honestResults: 0, honestVerified: 0,
    trainingHonest: 0, trainingHonestVerified: 0, trainingCheats: [], trainingCheatsSlashed: 0, modelsTrained: 0, claimsLapsed: 0, tasksExpired: 0,
    auditsFailed: 0, validatorsCreated: 0, createdWithPower: 0, unbondingsMatured: 0, powerChanges: 0,
  };
  private readonly tasks = new Map<string, SimTask>();
  /** Linked workers and their operators. */
  private readonly linked = new Map<string, string>();
  private readonly offers = new Map<string, string>();
  private readonly created: SimValidator[] = [];
  private readonly poweredCreated = new Set<string>();
  private readonly operatorsOf = new Set<string>(OPERATORS);

  private constructor(readonly h: Harness, readonly f: PoiFlow, readonly training: SimTraining, readonly rng: Rng, readonly label: string) {}

  static async create(seed: number, rng: Rng, label: string): Promise<Simulation> {
    const h = await Harness.create({ validators: 4, accounts: [...REQUESTERS, ...WORKERS, ...USERS], faults: { [LAZY]: { always_pass: true } }, seed, ...GENESIS });
    try {
      const f = await PoiFlow.create(h, { n: N_ITEMS });
      return new Simulation(h, f, await SimTraining.create(h, rng, WORKERS, REQUESTERS), rng, label);
    } catch (err) {
      await h.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.h.close();
    removeHome(this.h.home);
  }

  /** One whole run of `blocks` random blocks for `seed` on a fresh home (run: which one, for labels). */
  static async runOnce(seed: number, run: number, blocks: number): Promise<SimResult> {
    const sim = await Simulation.create(seed, new Rng(seed), `seed ${seed} run ${run}`);
    try {
      return await sim.run(blocks);
    } finally {
      await sim.close();
    }
  }

  private ctx() { return this.h.app.queryContext(); }
  private addr(name: string) { return this.h.account(name).address; }
  private balance(name: string) { return this.h.app.bank.getBalance(this.ctx(), parseAddress(this.addr(name)), "upoi"); }
  private where() { return `${this.label} block ${this.h.height + 1n}`; }

  /** Runs `blocks` random blocks, then quiet ones until every result submitted has been decided (at most `drain`). */
  async run(blocks: number, drain = 40): Promise<SimResult> {
    this.result.firstHeight = Number(this.h.height) + 1;
    for (let i = 0; i < blocks; i++) await this.step(await this.plan());
    for (let i = 0; i < drain && this.undecided().length > 0; i++) await this.step(await this.plan(true));
    const open = this.undecided();
    if (open.length) throw new Error(`${this.label}: results still undecided after ${drain} quiet blocks: ${open.join(", ")}`);
    return { ...this.result, ok: sorted(this.result.ok), refused: sorted(this.result.refused), trainingCheats: [...this.result.trainingCheats].sort() };
  }

  private undecided(): string[] {
    return [...this.tasks.values()].flatMap((t) => [...t.cheats, ...t.honest].filter((a) => !t.decided.has(a)).map((a) => `task ${t.id} attempt ${a}`));
  }

  /** One block: CheckTx each planned tx, the block with all of them, their results, the block's events, every invariant, the hash. */
  private async step(plan: Planned[]): Promise<void> {
    const where = this.where();
    for (const p of plan) {
      const c = await this.h.app.checkTx({ tx: p.tx, type: 0 });
      if (p.refusal && !(c.code && p.refusal.test(c.log ?? ""))) throw new Error(`${where}: CheckTx should refuse ${p.kind} from ${p.from} (${p.refusal}), got code ${c.code}: ${c.log}`);
      if (!p.refusal && c.code) throw new Error(`${where}: CheckTx refused ${p.kind} from ${p.from}: ${c.log}`);
    }
    const res = await this.h.block(plan.map((p) => p.tx));
    if (res.rejected) throw new Error(`${where}: ProcessProposal rejected the block`);
    const results = res.txResults ?? [];
    const offset = results.length - plan.length; // the verdict aggregate comes first, when there is one
    if (offset !== 0 && offset !== 1) throw new Error(`${where}: ${results.length} results for ${plan.length} txs`);
    for (const [i, p] of plan.entries()) {
      const r = results[offset + i];
      if (p.refusal) {
        if (!r.code || !p.refusal.test(r.log)) throw new Error(`${where}: ${p.kind} from ${p.from} should fail (${p.refusal}), got code ${r.code}: ${r.log}`);
        count(this.result.refused, p.kind);
      } else {
        if (r.code) throw new Error(`${where}: ${p.kind} from ${p.from} failed: code ${r.code}: ${r.log}`);
        count(this.result.ok, p.kind);
        p.done?.(r);
      }
      this.h.account(p.from).sequence++; // past the ante handler either way: fee paid, sequence used
    }
    const updates = res.validatorUpdates ?? [];
    if (updates.length > 0) this.result.powerChanges++;
    for (const u of updates.filter((x) => x.power > 0n)) this.poweredCreated.add(hex(u.pubKey?.ed25519 ?? new Uint8Array()));
    this.result.createdWithPower = this.created.filter((v) => this.poweredCreated.has(hex(v.pubkey))).length;
    for (const e of res.events ?? []) this.onEvent(where, e);
    for (const inv of await this.h.app.invariants.run(this.ctx())) {
      if (inv.broken) throw new Error(`${where}: invariant ${inv.name} broken: ${inv.message}`);
    }
    // Not a registered invariant (yet): the not-bonded pool holds exactly the unbonding entries.
    const pool = await this.h.app.bank.getBalance(this.ctx(), NOT_BONDED_POOL_ADDRESS, "upoi");
    const entries = (await this.h.app.staking.allUnbondings(this.ctx())).flatMap((u) => u.entries).reduce((sum, e) => sum + BigInt(e.balance), 0n);
    if (pool !== entries) throw new Error(`${where}: the not-bonded pool holds ${pool}upoi, the unbonding entries add up to ${entries}upoi`);
    this.result.hashes.push(hex(this.h.app.store.lastAppHash));
  }

  private onEvent(where: string, e: Event): void {
    const r = this.result;
    const attempt = () => {
      const t = this.tasks.get(attr(e, "task_id"));
      const a = Number(attr(e, "attempt"));
      if (!t || !(t.cheats.has(a) || t.honest.has(a))) throw new Error(`${where}: ${e.type} for task ${attr(e, "task_id")} attempt ${a}, which no worker here submitted`);
      t.decided.add(a);
      return { t, a, cheat: t.cheats.has(a) };
    };
    switch (e.type) {
      case "poi_task_failed": {
        const { t, a, cheat } = attempt();
        if (!cheat) throw new Error(`${where}: an honest result (task ${t.id} attempt ${a}) was slashed: ${JSON.stringify(e.attributes)}`);
        if (t.training !== undefined) r.trainingCheatsSlashed++; else r.cheatsSlashed++;
        break;
      }
      case "poi_task_verified": {
        const { t, a, cheat } = attempt();
        if (cheat) throw new Error(`${where}: a fabricated result (task ${t.id} attempt ${a}) passed`);
        if (t.training !== undefined) r.trainingHonestVerified++; else r.honestVerified++;
        break;
      }
      case "poi_model_trained": r.modelsTrained++; break;
      case "poi_verification_no_fault": {
        const { t, a } = attempt();
        throw new Error(`${where}: task ${t.id} attempt ${a} ended with no fault (${attr(e, "reason")}) although every validator but one verifies honestly`);
      }
      case "poi_audit_failed":
        if (attr(e, "validator") !== this.h.validators[LAZY].hex) throw new Error(`${where}: honest validator ${attr(e, "validator")} failed an audit`);
        r.auditsFailed++;
        break;
      case "poi_claim_lapsed": r.claimsLapsed++; break;
      case "poi_task_expired": r.tasksExpired++; break;
      case "complete_unbonding": r.unbondingsMatured++; break;
    }
  }

  /** The next block's txs, drawn from the Rng against the committed state (`quiet`: only the training reveals owed). */
  private async plan(quiet = false): Promise<Planned[]> {
    const rng = this.rng;
    const busy = new Set<string>();
    const free = (names: string[]) => names.filter((n) => !busy.has(n));
    const take = (names: string[]) => { const n = rng.pick(names); busy.add(n); return n; };
    const plan: Planned[] = [];
    const add = async <T>(kind: string, from: string, codec: PoiCodec<T>, msg: Partial<T> | Array<Partial<T>>, extra: Pick<Planned, "refusal" | "done"> = {}) => {
      plan.push({ kind, from, tx: await this.h.signTx(from, codec, msg), ...extra });
    };
    const next = this.h.height + 1n;
    await this.training.plan({ busy, free, take, add }, this.tasks, this.result, quiet);
    if (quiet) return plan;

    // Tasks: claims, results (honest or fabricated; now and then a claim is left to lapse), new tasks.
    for (const t of [...this.tasks.values()].filter((x) => x.training === undefined)) {
      const task = await this.f.task(t.id);
      if (task.status === TaskStatus.OPEN && next < t.deadline && rng.chance(0.6) && free(WORKERS).length) {
        const w = take(free(WORKERS));
        await add("claim", w, MsgClaimTaskCodec, { worker: this.addr(w), taskId: t.id });
        if (rng.chance(0.1) && free(WORKERS).length) { // a race: the second claim in the block finds the task claimed
          const late = take(free(WORKERS));
          await add("claim-taken", late, MsgClaimTaskCodec, { worker: this.addr(late), taskId: t.id }, { refusal: /only an open task can be claimed/ });
        }
      } else if (task.status === TaskStatus.CLAIMED && next < BigInt(task.claimExpiresHeight) && !t.abandoned.has(task.attempt)) {
        const w = WORKERS.find((n) => this.addr(n) === task.worker)!;
        const other = free(WORKERS).filter((n) => n !== w);
        if (other.length && rng.chance(0.08)) {
          const by = take(other);
          const out = bytesOf(this.f.honest);
          await add("result-not-claimant", by, MsgSubmitResultCodec, { worker: this.addr(by), taskId: t.id, outputs: out, resultRoot: resultRoot(out, N_ITEMS, OUT_BYTES) }, { refusal: /is claimed by poi1\w+, not poi1/ });
        }
        if (busy.has(w) || !rng.chance(0.8)) continue;
        if (rng.chance(0.05)) { t.abandoned.add(task.attempt); continue; }
        busy.add(w);
        const cheat = rng.chance(0.3);
        const out = cheat ? fabricate(bytesOf(this.f.honest), N_ITEMS, OUT_BYTES, rng.bytes(32)) : bytesOf(this.f.honest);
        const attempt = task.attempt;
        await add(cheat ? "result-fabricated" : "result", w, MsgSubmitResultCodec, { worker: task.worker, taskId: t.id, outputs: out, resultRoot: resultRoot(out, N_ITEMS, OUT_BYTES) }, {
          done: () => { (cheat ? t.cheats : t.honest).add(attempt); if (cheat) this.result.cheats++; else this.result.honestResults++; },
        });
      }
    }
    if (rng.chance(0.35) && free(REQUESTERS).length) {
      const req = take(free(REQUESTERS));
      const deadline = BigInt(rng.range(20, 60));
      await add("submit-task", req, MsgSubmitInferenceTaskCodec, {
        requester: this.addr(req), modelId: this.f.modelId, inputs: bytesOf(this.f.inline), rewardPerItem: String(rng.range(500, 2000)), k: K,
        deadlineBlocks: deadline.toString(), bond: "100000",
      }, {
        done: (r) => {
          const id = MsgSubmitInferenceTaskResponseCodec.decode(TxMsgData.decode(r.data).msgResponses[0].value).taskId;
          this.tasks.set(id, { id, deadline: next + deadline, cheats: new Set(), honest: new Set(), abandoned: new Set(), decided: new Set() });
        },
      });
    }

    // Bank sends, valid and overspending.
    const everyone = [...REQUESTERS, ...WORKERS, ...USERS, ...OPERATORS];
    for (let n = rng.int(3); n > 0 && free(USERS).length; n--) {
      const from = take(free(USERS));
      const to = this.addr(rng.pick(everyone.filter((x) => x !== from)));
      if (rng.chance(0.2)) {
        // More than the balance plus anything that could reach it in this block (sends, unbondings, rewards).
        const amount = (await this.balance(from)) + 10n ** 13n + BigInt(rng.range(1, 1_000_000_000));
        await add("send-overspend", from, SendCodec, { fromAddress: this.addr(from), toAddress: to, amount: [{ denom: "upoi", amount: amount.toString() }] }, { refusal: /spendable balance \d+upoi is smaller than \d+upoi/ });
      } else {
        await add("send", from, SendCodec, { fromAddress: this.addr(from), toAddress: to, amount: [{ denom: "upoi", amount: String(rng.range(1, 1_000_000_000)) }] });
      }
    }

    // Staking: delegations, undelegations (some too large), new validators.
    const vals = (await this.h.app.staking.validators(this.ctx())).filter((v) => !v.tombstoned);
    if (rng.chance(0.3) && free(USERS).length) {
      const from = take(free(USERS));
      const v = rng.pick(vals);
      const amount = rng.range(1_000_000, Math.min(50_000_000_000, Number((await this.balance(from)) / 4n)));
      await add("delegate", from, Codecs.delegate, { delegatorAddress: this.addr(from), validatorAddress: valoper(formatAddress(v.operator)), amount: { denom: "upoi", amount: String(amount) } });
    }
    if (rng.chance(0.3) && free(USERS).length) await this.planUndelegation(take(free(USERS)), add);
    if (this.created.length < MAX_CREATED && this.h.height > 5n && rng.chance(0.05)) {
      const from = free(USERS).find((u) => !this.operatorsOf.has(u));
      if (from && (await this.balance(from)) > 500_000_000_000n) {
        busy.add(from);
        const key = newValidatorKey(rng.bytes(32));
        const sampling = rng.bytes(32);
        if (rng.chance(0.25)) {
          await add("create-validator-duplicate-key", from, Codecs.create, createValidatorMsg(this.addr(from), rng.pick(this.h.validators).pubkey, 20_000_000_000n), { refusal: /already exist for this pubkey/ });
        } else {
          await add("create-validator", from, Codecs.create, createValidatorMsg(this.addr(from), key.pubkey, BigInt(rng.range(20_000, 200_000)) * 1_000_000n), {
            done: () => { this.h.addValidator(key, sampling); this.created.push(key); this.operatorsOf.add(from); this.result.validatorsCreated++; },
          });
        }
      }
    }

    // Commission edits by genesis operators: within the max change rate (0.01), or above it (refused).
    if (rng.chance(0.15) && free(OPERATORS).length) {
      const op = take(free(OPERATORS));
      const rates = (await this.h.app.staking.getValidator(this.ctx(), parseAddress(this.addr(op))))!.commission.commissionRates;
      const step = 10n ** 16n; // the genesis max change rate, 0.01
      const tooFast = rng.chance(0.4);
      const delta = tooFast ? step + BigInt(rng.range(1, 1_000_000)) : BigInt(rng.range(0, 100)) * (step / 100n);
      const old = BigInt(rates.rate);
      const rate = old >= delta && (rng.chance(0.5) || old + delta > BigInt(rates.maxRate)) ? old - delta : old + delta;
      if (rate <= BigInt(rates.maxRate)) {
        await add(tooFast ? "edit-validator-too-fast" : "edit-validator", op, Codecs.edit, { validatorAddress: valoper(this.addr(op)), commissionRate: rate.toString(), minSelfDelegation: "" },
          tooFast ? { refusal: /above the max change rate/ } : {});
      }
    }

    // Worker links: a genesis operator offers, the worker accepts in a later block.
    for (const [worker, op] of this.offers) {
      if (busy.has(worker) || !rng.chance(0.5)) continue;
      busy.add(worker);
      await add("link-accept", worker, MsgAcceptWorkerLinkCodec, { worker: this.addr(worker), operator: this.addr(op) }, { done: () => { this.offers.delete(worker); this.linked.set(worker, op); } });
    }
    for (const [worker, op] of this.linked) {
      if (!rng.chance(0.02)) continue;
      const sender = rng.chance(0.5) ? worker : op;
      if (busy.has(sender)) continue;
      busy.add(sender);
      await add("unlink", sender, MsgUnlinkWorkerCodec, { sender: this.addr(sender), worker: this.addr(worker) }, { done: () => this.linked.delete(worker) });
    }
    const unlinked = free(WORKERS).filter((w) => !this.linked.has(w) && !this.offers.has(w));
    if (unlinked.length && rng.chance(0.05) && free(OPERATORS).length) {
      const op = take(free(OPERATORS));
      const w = rng.pick(unlinked);
      await add("link-offer", op, MsgLinkWorkerCodec, { operator: this.addr(op), worker: this.addr(w) }, { done: () => this.offers.set(w, op) });
    }
    return plan;
  }

  /** An undelegation from one of `from`'s delegations: all of it, at most half, or more than all of it (refused). */
  private async planUndelegation(from: string, add: <T>(kind: string, from: string, codec: PoiCodec<T>, msg: Partial<T>, extra?: Pick<Planned, "refusal" | "done">) => Promise<void>): Promise<void> {
    const ctx = this.ctx();
    const dels = await this.h.app.staking.delegatorDelegations(ctx, parseAddress(this.addr(from)));
    if (dels.length === 0) return;
    const d = this.rng.pick(dels);
    const v = (await this.h.app.staking.getValidator(ctx, d.operator))!;
    const worth = tokensFromShares(v, d.shares);
    const msg = (amount: bigint) => ({ delegatorAddress: this.addr(from), validatorAddress: v.operatorAddress, amount: { denom: "upoi", amount: amount.toString() } });
    const full = (await this.h.app.staking.unbondingEntries(ctx, parseAddress(this.addr(from)), d.operator)).length >= (await this.h.app.staking.params(ctx)).max_entries;
    if (full) return add("undelegate-entries-full", from, Codecs.undelegate, msg(1n), { refusal: /entries, limit/ });
    if (this.rng.chance(0.2)) return add("undelegate-all", from, Codecs.undelegate, msg(worth)); // no slash comes before it in a block; others' changes only raise its worth
    if (this.rng.chance(0.25) || worth < 2n) {
      return add("undelegate-too-much", from, Codecs.undelegate, msg(worth + BigInt(this.rng.range(1_000, 1_000_000))), { refusal: /undelegating \d+upoi but the delegation is worth \d+upoi/ });
    }
    return add("undelegate", from, Codecs.undelegate, msg(1n + BigInt(this.rng.int(Number(worth / 2n)))));
  }
}

const SendCodec = MsgSend as unknown as PoiCodec<MsgSend>;
