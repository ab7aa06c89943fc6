import type { Context } from "../../app/context";
import { ErrInsufficientFunds, ErrInvalidCoins } from "../../app/errors";
import { formatAddress } from "../../app/address";
import { prefixEnd } from "../../store/prefix";
import { type Coin, formatCoins } from "./types";
import type { AccountKeeper } from "./expected_keepers";
import { Metadata } from "cosmjs-types/cosmos/bank/v1beta1/bank";

export const BANK_MODULE = "bank";

// Key layout inside "bank/":
//   0x00 | denom                       -> total supply (decimal string)
//   0x01 | denom                       -> denom metadata (cosmos.bank.v1beta1.Metadata protobuf)
//   0x02 | len(addr) | addr | denom    -> balance (decimal string); zero balances are deleted
//   0x03 | denom                       -> supply ledger: "genesis,minted,burned" (decimal strings) since this
//                                         chain's genesis, for the invariant supply = genesis + minted − burned
const SUPPLY = 0x00;
const METADATA = 0x01;
const BALANCE = 0x02;
const LEDGER = 0x03;

/** What the supply of a denom is made of since genesis. */
export interface SupplyLedger {
  denom: string;
  genesis: bigint;
  minted: bigint;
  burned: bigint;
}

const utf8 = (s: string) => Buffer.from(s, "utf8");
const encodeAmount = (v: bigint) => Buffer.from(v.toString(10), "utf8");
const decodeAmount = (b: Uint8Array) => BigInt(Buffer.from(b).toString("utf8"));

function balanceKey(addr: Uint8Array, denom?: string): Uint8Array {
  return Buffer.concat([Buffer.from([BALANCE, addr.length]), addr, denom === undefined ? Buffer.alloc(0) : utf8(denom)]);
}

export class BankKeeper {
  /** Receiving coins creates the account, as in the Cosmos SDK. */
  constructor(private readonly accounts: AccountKeeper) {}

  async getBalance(ctx: Context, addr: Uint8Array, denom: string): Promise<bigint> {
    const raw = await ctx.store(BANK_MODULE).get(balanceKey(addr, denom));
    return raw ? decodeAmount(raw) : 0n;
  }

  /** All non-zero balances, sorted by denom (the store's key order). */
  async getAllBalances(ctx: Context, addr: Uint8Array): Promise<Coin[]> {
    const prefix = balanceKey(addr);
    const rows = await ctx.store(BANK_MODULE).iterate(prefix, prefixEnd(prefix));
    return rows.map(([k, v]) => ({ denom: Buffer.from(k.subarray(prefix.length)).toString("utf8"), amount: decodeAmount(v) }));
  }

  async getSupply(ctx: Context, denom: string): Promise<bigint> {
    const raw = await ctx.store(BANK_MODULE).get(Buffer.concat([Buffer.from([SUPPLY]), utf8(denom)]));
    return raw ? decodeAmount(raw) : 0n;
  }

  async getAllSupply(ctx: Context): Promise<Coin[]> {
    const rows = await ctx.store(BANK_MODULE).iterate(Buffer.from([SUPPLY]), Buffer.from([SUPPLY + 1]));
    return rows.map(([k, v]) => ({ denom: Buffer.from(k.subarray(1)).toString("utf8"), amount: decodeAmount(v) }));
  }

  async sendCoins(ctx: Context, from: Uint8Array, to: Uint8Array, coins: readonly Coin[]): Promise<void> {
    await this.subtract(ctx, from, coins);
    await this.add(ctx, to, coins);
    if (!ctx.events.keep) return; // CheckTx builds no events
    const amount = formatCoins(coins);
    ctx.events.emit("coin_spent", [["spender", formatAddress(from)], ["amount", amount]]);
    ctx.events.emit("coin_received", [["receiver", formatAddress(to)], ["amount", amount]]);
    ctx.events.emit("transfer", [["recipient", formatAddress(to)], ["sender", formatAddress(from)], ["amount", amount]]);
  }

  async mintCoins(ctx: Context, to: Uint8Array, coins: readonly Coin[]): Promise<void> {
    await this.add(ctx, to, coins);
    for (const c of coins) {
      await this.setSupply(ctx, c.denom, (await this.getSupply(ctx, c.denom)) + c.amount);
      const l = await this.ledger(ctx, c.denom);
      this.setLedger(ctx, { ...l, minted: l.minted + c.amount });
    }
    ctx.events.emit("coinbase", [["minter", formatAddress(to)], ["amount", formatCoins(coins)]]);
  }

  async burnCoins(ctx: Context, from: Uint8Array, coins: readonly Coin[]): Promise<void> {
    await this.subtract(ctx, from, coins);
    for (const c of coins) {
      await this.setSupply(ctx, c.denom, (await this.getSupply(ctx, c.denom)) - c.amount);
      const l = await this.ledger(ctx, c.denom);
      this.setLedger(ctx, { ...l, burned: l.burned + c.amount });
    }
    ctx.events.emit("burn", [["burner", formatAddress(from)], ["amount", formatCoins(coins)]]);
  }

  /** Genesis only: credit an account and grow the supply (and the ledger's genesis part) without events. */
  async initBalance(ctx: Context, addr: Uint8Array, coin: Coin): Promise<void> {
    await this.add(ctx, addr, [coin]);
    await this.setSupply(ctx, coin.denom, (await this.getSupply(ctx, coin.denom)) + coin.amount);
    const l = await this.ledger(ctx, coin.denom);
    this.setLedger(ctx, { ...l, genesis: l.genesis + coin.amount });
  }

  /** A denom's supply ledger since genesis (zeros when it never had a supply). */
  async ledger(ctx: Context, denom: string): Promise<SupplyLedger> {
    const raw = await ctx.store(BANK_MODULE).get(Buffer.concat([Buffer.from([LEDGER]), utf8(denom)]));
    if (!raw) return { denom, genesis: 0n, minted: 0n, burned: 0n };
    const [genesis, minted, burned] = Buffer.from(raw).toString("utf8").split(",").map((x) => BigInt(x));
    return { denom, genesis, minted, burned };
  }

  async allLedgers(ctx: Context): Promise<SupplyLedger[]> {
    const rows = await ctx.store(BANK_MODULE).iterate(Buffer.from([LEDGER]), Buffer.from([LEDGER + 1]));
    return Promise.all(rows.map(([k]) => this.ledger(ctx, Buffer.from(k.subarray(1)).toString("utf8"))));
  }

  setLedger(ctx: Context, l: SupplyLedger): void {
    ctx.store(BANK_MODULE).set(Buffer.concat([Buffer.from([LEDGER]), utf8(l.denom)]), utf8(`${l.genesis},${l.minted},${l.burned}`));
  }

  private async add(ctx: Context, addr: Uint8Array, coins: readonly Coin[]): Promise<void> {
    await this.accounts.ensureAccount(ctx, addr);
    for (const c of coins) {
      if (c.amount < 0n) throw ErrInvalidCoins(`negative amount ${c.amount}${c.denom}`);
      await this.setBalance(ctx, addr, c.denom, (await this.getBalance(ctx, addr, c.denom)) + c.amount);
    }
  }

  private async subtract(ctx: Context, addr: Uint8Array, coins: readonly Coin[]): Promise<void> {
    for (const c of coins) {
      if (c.amount < 0n) throw ErrInvalidCoins(`negative amount ${c.amount}${c.denom}`);
      const have = await this.getBalance(ctx, addr, c.denom);
      if (have < c.amount) throw ErrInsufficientFunds(`spendable balance ${have}${c.denom} is smaller than ${c.amount}${c.denom}`);
      await this.setBalance(ctx, addr, c.denom, have - c.amount);
    }
  }

  private async setBalance(ctx: Context, addr: Uint8Array, denom: string, amount: bigint): Promise<void> {
    const store = ctx.store(BANK_MODULE);
    if (amount === 0n) store.delete(balanceKey(addr, denom));
    else store.set(balanceKey(addr, denom), encodeAmount(amount));
  }

  private async setSupply(ctx: Context, denom: string, amount: bigint): Promise<void> {
    const key = Buffer.concat([Buffer.from([SUPPLY]), utf8(denom)]);
    if (amount === 0n) ctx.store(BANK_MODULE).delete(key);
    else ctx.store(BANK_MODULE).set(key, encodeAmount(amount));
  }

  setDenomMetadata(ctx: Context, md: Metadata): void {
    ctx.store(BANK_MODULE).set(Buffer.concat([Buffer.from([METADATA]), utf8(md.base)]), Metadata.encode(md).finish());
  }

  async getDenomMetadata(ctx: Context, denom: string): Promise<Metadata | undefined> {
    const raw = await ctx.store(BANK_MODULE).get(Buffer.concat([Buffer.from([METADATA]), utf8(denom)]));
    return raw ? Metadata.decode(raw) : undefined;
  }

  async allDenomMetadata(ctx: Context): Promise<Metadata[]> {
    const rows = await ctx.store(BANK_MODULE).iterate(Buffer.from([METADATA]), Buffer.from([METADATA + 1]));
    return rows.map(([, v]) => Metadata.decode(v));
  }

  /** Every (address, coins) with a balance, in key order: for genesis export. */
  async allAccountBalances(ctx: Context): Promise<Array<{ address: Uint8Array; coins: Coin[] }>> {
    const rows = await ctx.store(BANK_MODULE).iterate(Buffer.from([BALANCE]), Buffer.from([BALANCE + 1]));
    const out: Array<{ address: Uint8Array; coins: Coin[] }> = [];
    for (const [k, v] of rows) {
      const addr = k.subarray(2, 2 + k[1]);
      const denom = Buffer.from(k.subarray(2 + k[1])).toString("utf8");
      const last = out[out.length - 1];
      const coin = { denom, amount: decodeAmount(v) };
      if (last && Buffer.from(last.address).equals(addr)) last.coins.push(coin);
      else out.push({ address: addr, coins: [coin] });
    }
    return out;
  }
}
