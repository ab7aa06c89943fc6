/**
 * Test doubles and the reference model for x/distribution: a fake StakingReader (validators of the
 * harness with chosen operators, commissions and delegations), scripted hook calls for tests without
 * real tasks, and the distribution rule of
 * src/x/distribution/README.md written out independently, fed with what each block saw.
 */
import type { Context } from "../../src/app/context";
import type { StakingHooks, StakingReader, StakingValidatorInfo, WorkHooks } from "../../src/x/distribution/expected_keepers";
import type { PoiApp } from "../../src/app/app";
import { parseAddress } from "../../src/app/address";

export const E18 = 10n ** 18n;
const SCALE = 10n ** 36n;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();

export class FakeStaking implements StakingReader {
  /** operator hex -> delegator hex -> shares */
  readonly shares = new Map<string, Map<string, bigint>>();
  readonly bytes = new Map<string, Uint8Array>();
  constructor(readonly vals: Array<{ operator: Uint8Array; consAddress: Uint8Array; commissionRateBps: bigint }>) {
    for (const v of vals) this.shares.set(hex(v.operator), new Map());
  }
  setShares(delegator: Uint8Array, operator: Uint8Array, shares: bigint): void {
    this.bytes.set(hex(delegator), delegator);
    const m = this.shares.get(hex(operator))!;
    if (shares === 0n) m.delete(hex(delegator));
    else m.set(hex(delegator), shares);
  }
  private info(v: FakeStaking["vals"][number]): StakingValidatorInfo {
    const total = [...this.shares.get(hex(v.operator))!.values()].reduce((s, x) => s + x, 0n);
    return { operator: v.operator, consPubkey: new Uint8Array(32), consAddress: v.consAddress, tokens: total / E18, delegatorShares: total, commissionRateBps: v.commissionRateBps, jailed: false, tombstoned: false, power: 10n };
  }
  async validators(): Promise<StakingValidatorInfo[]> {
    return [...this.vals].sort((a, b) => Buffer.compare(a.operator, b.operator)).map((v) => this.info(v));
  }
  async validator(_ctx: Context, op: Uint8Array) {
    const v = this.vals.find((x) => Buffer.from(x.operator).equals(op));
    return v && this.info(v);
  }
  async validatorByConsAddr(_ctx: Context, cons: Uint8Array) {
    const v = this.vals.find((x) => Buffer.from(x.consAddress).equals(cons));
    return v && this.info(v);
  }
  async delegationShares(_ctx: Context, del: Uint8Array, op: Uint8Array) {
    return this.shares.get(hex(op))?.get(hex(del));
  }
  async validatorDelegations(_ctx: Context, op: Uint8Array) {
    return [...(this.shares.get(hex(op)) ?? new Map<string, bigint>()).entries()].sort().map(([d, shares]) => ({ delegator: this.bytes.get(d)!, shares }));
  }
}

/** What happened in one block, in order after BeginBlock, as the model replays it. */
export type Action =
  | { kind: "work"; worker: string; units: bigint }
  | { kind: "decided"; matched: string[] }
  | { kind: "auditFailed"; cons: string; epoch: bigint }
  | { kind: "delegate"; delegator: string; operator: string; shares: bigint }
  | { kind: "withdrawReward"; delegator: string; operator: string }
  | { kind: "withdrawCommission"; operator: string }
  | { kind: "fund"; amount: bigint };

/**
 * Runs scripted actions after x/poi's EndBlock of their height, for tests without real tasks: the
 * WorkHooks as x/poi would call them, and delegation changes of a FakeStaking through the StakingHooks.
 * Each action is also logged for the model. (With real tasks x/poi calls the WorkHooks itself.)
 */
export function scriptHooks(app: PoiApp, work: WorkHooks, staking: StakingHooks, fake: FakeStaking | undefined, scripted: Map<bigint, Action[]>, log: Map<bigint, Action[]>): void {
  const poi = app.poiModule;
  const endBlock = poi.endBlock.bind(poi);
  poi.endBlock = async (ctx: Context) => {
    await endBlock(ctx);
    const actions: Action[] = log.get(ctx.header.height) ?? [];
    log.set(ctx.header.height, actions);
    for (const a of scripted.get(ctx.header.height) ?? []) {
      actions.push(a);
      if (a.kind === "work") await work.afterWorkVerified!(ctx, parseAddress(a.worker), a.units, 0n);
      if (a.kind === "decided") await work.afterAttemptDecided!(ctx, a.matched.map((v) => Buffer.from(v, "hex")), []);
      if (a.kind === "auditFailed") await work.afterAuditFailed!(ctx, Buffer.from(a.cons, "hex"), a.epoch);
      if (a.kind === "delegate") {
        const del = parseAddress(a.delegator), op = Buffer.from(a.operator, "hex");
        await staking.beforeDelegationSharesModified!(ctx, del, op);
        fake!.setShares(del, op, a.shares);
        await staking.afterDelegationModified!(ctx, del, op);
      }
    }
  };
}

export interface ModelParams { communityTaxBps: bigint; workerShareBps: bigint; signingShareBps: bigint; epochBlocks: bigint; settleDelayEpochs: bigint; maxWorkerRewardPerMegaUnit?: bigint }
export interface BlockInput { height: bigint; pot: bigint; signers: Array<{ cons: string; power: bigint }>; actions: Action[] }

/** The rule of src/x/distribution/README.md, block by block. Addresses: bech32 for accounts, uppercase hex for operators and consensus addresses. */
export class DistributionModel {
  community = 0n;
  workerPool = 0n;
  nextSettle = 0n;
  verdictPools = new Map<bigint, bigint>();
  points = new Map<bigint, Map<string, bigint>>();
  forfeits = new Map<bigint, Set<string>>();
  pending = new Map<string, bigint>();
  vals = new Map<string, { outstanding: bigint; commission: bigint; ratio: bigint }>();
  starts = new Map<string, bigint>();
  /** Paid out by the module, by recipient (bech32 accounts; operators as their account bech32). */
  paid = new Map<string, bigint>();
  totalIn = 0n;

  constructor(
    readonly p: ModelParams,
    /** cons hex -> operator hex, commission bps */
    readonly validators: Map<string, { operator: string; commissionBps: bigint }>,
    /** operator hex -> delegator bech32 -> shares (mutated by "delegate" actions) */
    readonly shares: Map<string, Map<string, bigint>>,
    readonly accountOf: (operatorHex: string) => string,
  ) {}

  private pay(to: string, amount: bigint) {
    if (amount > 0n) this.paid.set(to, (this.paid.get(to) ?? 0n) + amount);
  }
  private epoch(h: bigint) {
    return (h - 1n) / this.p.epochBlocks;
  }
  private val(op: string) {
    if (!this.vals.has(op)) this.vals.set(op, { outstanding: 0n, commission: 0n, ratio: 0n });
    return this.vals.get(op)!;
  }
  private totalShares(op: string) {
    return [...(this.shares.get(op)?.values() ?? [])].reduce((s, x) => s + x, 0n);
  }
  /** Gives `amount` to the validator of `cons`; returns what it could not take (to the community pool). */
  private toValidator(cons: string, amount: bigint): bigint {
    const v = this.validators.get(cons);
    if (!v || this.totalShares(v.operator) === 0n) return amount;
    const r = this.val(v.operator);
    const c = (amount * v.commissionBps) / 10000n;
    r.commission += c;
    r.outstanding += amount;
    r.ratio += ((amount - c) * SCALE) / this.totalShares(v.operator);
    return 0n;
  }
  owed(op: string, del: string): bigint {
    const s = this.shares.get(op)?.get(del) ?? 0n;
    return ((this.val(op).ratio - (this.starts.get(`${op}/${del}`) ?? 0n)) * s) / SCALE;
  }
  private settle(op: string, del: string) {
    const o = this.owed(op, del);
    this.val(op).outstanding -= o;
    this.pay(del, o);
    this.starts.set(`${op}/${del}`, this.val(op).ratio);
  }

  block(b: BlockInput): void {
    // 1. workers of the previous block
    const pend = [...this.pending.entries()].sort(([a], [c]) => Buffer.compare(parseAddress(a), parseAddress(c)));
    const U = pend.reduce((s, [, u]) => s + u, 0n);
    let paid = 0n;
    for (const [w, u] of pend) {
      let x = (this.workerPool * u) / U;
      const cap = this.p.maxWorkerRewardPerMegaUnit ? (u * this.p.maxWorkerRewardPerMegaUnit) / 1_000_000n : undefined;
      if (cap !== undefined && x > cap) x = cap;
      paid += x;
      this.pay(w, x);
    }
    this.workerPool -= paid;
    this.pending.clear();
    // 2. verdict epochs due
    for (let x = this.nextSettle; x <= this.epoch(b.height) - 1n - this.p.settleDelayEpochs; x++) {
      const pool = this.verdictPools.get(x) ?? 0n;
      this.verdictPools.delete(x);
      const pts = [...(this.points.get(x) ?? new Map<string, bigint>()).entries()].sort(([a], [c]) => (a < c ? -1 : 1));
      const T = pts.reduce((s, [, n]) => s + n, 0n);
      if (T === 0n) this.verdictPools.set(x + 1n, (this.verdictPools.get(x + 1n) ?? 0n) + pool);
      else {
        let left = pool;
        for (const [cons, n] of pts) {
          const share = (pool * n) / T;
          if (this.forfeits.get(x)?.has(cons)) continue;
          left -= share - this.toValidator(cons, share);
        }
        this.community += left;
      }
      this.nextSettle = x + 1n;
    }
    // 3. the pot
    this.totalIn += b.pot;
    const community = (b.pot * this.p.communityTaxBps) / 10000n;
    const workers = (b.pot * this.p.workerShareBps) / 10000n;
    const vpart = b.pot - community - workers;
    const signing = (vpart * this.p.signingShareBps) / 10000n;
    this.workerPool += workers;
    const e = this.epoch(b.height);
    this.verdictPools.set(e, (this.verdictPools.get(e) ?? 0n) + vpart - signing);
    let left = community + signing;
    const power = b.signers.reduce((s, x) => s + x.power, 0n);
    if (power > 0n) for (const s of [...b.signers].sort((a, c) => (a.cons < c.cons ? -1 : 1))) {
      const share = (signing * s.power) / power;
      left -= share - this.toValidator(s.cons, share);
    }
    this.community += left;
    // 4. the block's transactions and end-of-block hooks
    for (const a of b.actions) {
      if (a.kind === "work") this.pending.set(a.worker, (this.pending.get(a.worker) ?? 0n) + a.units);
      else if (a.kind === "decided") {
        const m = this.points.get(e) ?? new Map<string, bigint>();
        for (const v of new Set(a.matched)) m.set(v, (m.get(v) ?? 0n) + 1n);
        this.points.set(e, m);
      } else if (a.kind === "auditFailed") {
        if (a.epoch >= this.nextSettle) this.forfeits.set(a.epoch, (this.forfeits.get(a.epoch) ?? new Set()).add(a.cons));
      } else if (a.kind === "delegate") {
        this.settle(a.operator, a.delegator);
        const m = this.shares.get(a.operator)!;
        if (a.shares === 0n) m.delete(a.delegator);
        else m.set(a.delegator, a.shares);
        this.starts.set(`${a.operator}/${a.delegator}`, this.val(a.operator).ratio);
      } else if (a.kind === "withdrawReward") this.settle(a.operator, a.delegator);
      else if (a.kind === "fund") {
        this.community += a.amount;
        this.totalIn += a.amount;
      }
      else if (a.kind === "withdrawCommission") {
        const r = this.val(a.operator);
        this.pay(this.accountOf(a.operator), r.commission);
        r.outstanding -= r.commission;
        r.commission = 0n;
      }
    }
  }

  /** Everything the module holds by the model: pools and outstanding rewards. */
  held(): bigint {
    return this.community + this.workerPool + [...this.verdictPools.values()].reduce((s, x) => s + x, 0n) + [...this.vals.values()].reduce((s, v) => s + v.outstanding, 0n);
  }
}
