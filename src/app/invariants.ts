/**
 * Whole-state checks, run after every block in tests and on demand by `poi debug invariants --node URL`
 * (the app answers the query path INVARIANTS_QUERY_PATH). Each invariant returns undefined when it
 * holds, or a message naming what is off. A module adds its own with one line in PoiApp's constructor:
 *   this.invariants.register(bondedPoolInvariant(this.staking, this.bank, BONDED_POOL, isBonded));
 */
import type { Context } from "./context";
import { BOND_DENOM } from "./params";
import { formatAddress } from "./address";
import type { BankKeeper } from "../x/bank/keeper";
import type { MintKeeper } from "../x/mint/keeper";
import type { DistributionKeeper } from "../x/distribution/keeper/keeper";
import { DISTRIBUTION_MODULE_ACCOUNT } from "../x/distribution/keeper/state";
import type { StakingReader, StakingValidatorInfo } from "../x/distribution/expected_keepers";

export interface Invariant {
  /** "<module>/<what>", e.g. "bank/supply". */
  name: string;
  check(ctx: Context): Promise<string | undefined>;
}

export interface InvariantResult {
  name: string;
  broken: boolean;
  message: string;
}

export const INVARIANTS_QUERY_PATH = "/poi.debug.v1.Query/Invariants";

export class InvariantRegistry {
  private readonly list: Invariant[] = [];

  register(inv: Invariant): void {
    if (this.list.some((x) => x.name === inv.name)) throw new Error(`invariant ${inv.name} registered twice`);
    this.list.push(inv);
  }

  get names(): string[] {
    return this.list.map((x) => x.name);
  }

  /** Runs every invariant in registration order; a check that throws counts as broken. */
  async run(ctx: Context): Promise<InvariantResult[]> {
    const out: InvariantResult[] = [];
    for (const inv of this.list) {
      let message: string | undefined;
      try {
        message = await inv.check(ctx);
      } catch (err) {
        message = `check failed: ${(err as Error).message}`;
      }
      out.push({ name: inv.name, broken: message !== undefined, message: message ?? "ok" });
    }
    return out;
  }
}

/** No balance and no supply is negative (zero balances are not stored, so none is zero either). */
export function nonNegativeInvariant(bank: BankKeeper): Invariant {
  return {
    name: "bank/nonnegative",
    async check(ctx) {
      for (const { address, coins } of await bank.allAccountBalances(ctx)) {
        for (const c of coins) if (c.amount <= 0n) return `${formatAddress(address)} holds ${c.amount}${c.denom}`;
      }
      for (const s of await bank.getAllSupply(ctx)) if (s.amount < 0n) return `supply of ${s.denom} is ${s.amount}`;
      return undefined;
    },
  };
}

/** Supply = Σ balances, and supply = genesis + minted − burned (bank's ledger), per denom. */
export function supplyInvariant(bank: BankKeeper): Invariant {
  return {
    name: "bank/supply",
    async check(ctx) {
      const sums = new Map<string, bigint>();
      for (const { coins } of await bank.allAccountBalances(ctx)) for (const c of coins) sums.set(c.denom, (sums.get(c.denom) ?? 0n) + c.amount);
      const supply = new Map((await bank.getAllSupply(ctx)).map((c) => [c.denom, c.amount]));
      for (const denom of [...new Set([...sums.keys(), ...supply.keys()])].sort()) {
        const s = supply.get(denom) ?? 0n;
        if (s !== (sums.get(denom) ?? 0n)) return `supply ${s}${denom} != sum of balances ${sums.get(denom) ?? 0n}${denom}`;
        const l = await bank.ledger(ctx, denom);
        if (s !== l.genesis + l.minted - l.burned) return `supply ${s}${denom} != genesis ${l.genesis} + minted ${l.minted} − burned ${l.burned}`;
      }
      return undefined;
    },
  };
}

/** What x/mint counts as minted is what bank's ledger counts (mint is the only minter). */
export function mintInvariant(mint: MintKeeper, bank: BankKeeper): Invariant {
  return {
    name: "mint/minted",
    async check(ctx) {
      if (!(await mint.params(ctx))) return undefined;
      const m = await mint.minted(ctx);
      const l = await bank.ledger(ctx, BOND_DENOM);
      return m <= l.minted ? undefined : `mint counts ${m}${BOND_DENOM} minted, bank's ledger only ${l.minted}`;
    },
  };
}

/** The distribution account holds exactly the outstanding rewards, the community pool, the worker pool and the unpaid verdict pools. */
export function distributionInvariant(dist: DistributionKeeper, bank: BankKeeper): Invariant {
  return {
    name: "distribution/account",
    async check(ctx) {
      const balance = await bank.getBalance(ctx, DISTRIBUTION_MODULE_ACCOUNT, BOND_DENOM);
      if (!(await dist.active(ctx))) return balance === 0n ? undefined : `inactive, yet the account holds ${balance}${BOND_DENOM}`;
      let outstanding = 0n;
      for (const r of await dist.state.allValidatorRewards(ctx)) {
        if (r.outstanding < 0n || r.commission < 0n || r.commission > r.outstanding) return `validator ${formatAddress(r.operator)}: outstanding ${r.outstanding}, commission ${r.commission}`;
        outstanding += r.outstanding;
      }
      const community = await dist.communityPool(ctx);
      const workers = await dist.workerPool(ctx);
      const verdicts = (await dist.verdictPools(ctx)).reduce((s, x) => s + x.amount, 0n);
      const want = outstanding + community + workers + verdicts;
      return balance === want ? undefined
        : `the account holds ${balance}${BOND_DENOM}, outstanding ${outstanding} + community pool ${community} + worker pool ${workers} + verdict pools ${verdicts} = ${want}`;
    },
  };
}

/** The poi module account holds exactly what x/poi's state says it holds (`holdings`: src/x/poi/holdings.ts). */
export function poiAccountInvariant(bank: BankKeeper, account: Uint8Array, holdings: (ctx: Context) => Promise<bigint>): Invariant {
  return {
    name: "poi/account",
    async check(ctx) {
      const balance = await bank.getBalance(ctx, account, BOND_DENOM);
      const want = await holdings(ctx);
      return balance === want ? undefined : `the poi account holds ${balance}${BOND_DENOM}, its escrows, fees, deposits, bonds and held income add up to ${want}`;
    },
  };
}

/** For x/staking: the bonded pool holds Σ tokens of the bonded validators (`isBonded` says which). */
export function bondedPoolInvariant(staking: StakingReader, bank: BankKeeper, pool: Uint8Array, isBonded: (v: StakingValidatorInfo) => boolean): Invariant {
  return {
    name: "staking/bonded-pool",
    async check(ctx) {
      const balance = await bank.getBalance(ctx, pool, BOND_DENOM);
      const want = (await staking.validators(ctx)).filter(isBonded).reduce((s, v) => s + v.tokens, 0n);
      return balance === want ? undefined : `the bonded pool holds ${balance}${BOND_DENOM}, the bonded validators' tokens add up to ${want}`;
    },
  };
}
