import { Metadata } from "cosmjs-types/cosmos/bank/v1beta1/bank";
import type { AppModule } from "../../app/module";
import type { Context } from "../../app/context";
import { formatAddress, parseAddress } from "../../app/address";
import { ErrInvalidRequest } from "../../app/errors";
import { BANK_MODULE, BankKeeper } from "./keeper";
import { parseAmount, parseCoins, validateDenom } from "./types";
import { bankMsgHandlers } from "./msgs";
import { bankQueryHandlers } from "./queries";

/** Genesis section "bank", in the Cosmos SDK's JSON shape (amounts as decimal strings). */
export interface BankGenesis {
  balances: Array<{ address: string; coins: Array<{ denom: string; amount: string }> }>;
  supply?: Array<{ denom: string; amount: string }>;
  denom_metadata?: unknown[];
  /** Per denom, the supply at this chain's genesis and what was minted and burned since (absent: genesis = the balances, nothing minted or burned). */
  supply_ledger?: Array<{ denom: string; genesis: string; minted: string; burned: string }>;
}

export class BankModule implements AppModule {
  readonly name = BANK_MODULE;
  readonly msgHandlers;
  readonly queryHandlers;

  constructor(readonly keeper: BankKeeper) {
    this.msgHandlers = bankMsgHandlers(keeper);
    this.queryHandlers = bankQueryHandlers(keeper);
  }

  async initGenesis(ctx: Context, state: unknown): Promise<void> {
    const g = (state ?? { balances: [] }) as BankGenesis;
    if (!Array.isArray(g.balances)) throw ErrInvalidRequest("bank genesis: balances must be an array");
    for (const b of g.balances) {
      const addr = parseAddress(b.address, "bank genesis balance address");
      for (const coin of parseCoins(b.coins)) await this.keeper.initBalance(ctx, addr, coin);
    }
    // A declared supply must match the sum of balances, as in the SDK.
    for (const s of parseCoins(g.supply ?? [], true)) {
      const actual = await this.keeper.getSupply(ctx, s.denom);
      if (actual !== s.amount) throw ErrInvalidRequest(`bank genesis: declared supply ${s.amount}${s.denom} != sum of balances ${actual}${s.denom}`);
    }
    for (const [i, l] of (g.supply_ledger ?? []).entries()) {
      const [genesis, minted, burned] = [l?.genesis, l?.minted, l?.burned].map((x) => parseAmount(String(x), true));
      validateDenom(String(l.denom));
      const actual = await this.keeper.getSupply(ctx, l.denom);
      if (genesis + minted - burned !== actual) throw ErrInvalidRequest(`bank genesis: supply_ledger[${i}] genesis + minted − burned = ${genesis + minted - burned}${l.denom} != supply ${actual}${l.denom}`);
      this.keeper.setLedger(ctx, { denom: l.denom, genesis, minted, burned });
    }
    for (const json of g.denom_metadata ?? []) {
      const md = Metadata.fromJSON(camelKeys(json)); // genesis JSON uses the SDK's snake_case names
      validateDenom(md.base);
      this.keeper.setDenomMetadata(ctx, md);
    }
  }

  async exportGenesis(ctx: Context): Promise<BankGenesis> {
    const balances = (await this.keeper.allAccountBalances(ctx)).map((b) => ({
      address: formatAddress(b.address),
      coins: b.coins.map((c) => ({ denom: c.denom, amount: c.amount.toString() })),
    }));
    const supply = (await this.keeper.getAllSupply(ctx)).map((c) => ({ denom: c.denom, amount: c.amount.toString() }));
    const denom_metadata = (await this.keeper.allDenomMetadata(ctx)).map((m) => Metadata.toJSON(m));
    const supply_ledger = (await this.keeper.allLedgers(ctx)).map((l) => ({ denom: l.denom, genesis: l.genesis.toString(), minted: l.minted.toString(), burned: l.burned.toString() }));
    return { balances, supply, denom_metadata, supply_ledger };
  }
}

/** denom_units -> denomUnits, recursively: cosmjs-types' fromJSON reads camelCase names. */
function camelKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camelKeys);
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = camelKeys(x);
  return out;
}
