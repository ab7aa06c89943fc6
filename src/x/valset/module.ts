/**
 * x/valset: the record of the validator set CometBFT uses at each height (ed25519 key and voting
 * power per consensus address). The PoI verdict aggregate of block h carries votes of height h−1 and
 * is checked against the set that signed them: the set in effect at h−1, not the latest state's.
 * Without x/staking validators the set is the genesis set from InitChain. With them, staking's end
 * block at H returns updates that take effect at H+2 (CometBFT's rule), and records them here as a
 * new version of the set starting at H+2. Versions no later block can ask for are pruned.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { RequestInitChain, ValidatorUpdate } from "cosmjs-types/tendermint/abci/types";
import type { AppModule } from "../../app/module";
import type { Context } from "../../app/context";
import { formatAddress, parseAddress } from "../../app/address";
import { ErrInvalidRequest } from "../../app/errors";

export const VALSET_MODULE = "valset";

// Keys inside "valset/":
//   0x02 | address(20) -> the validator operator's account (20 bytes): where its verification income goes
//   0x03 | start height (8 BE) | address(20) -> power (8 bytes BE) | ed25519 pubkey (32): the set from that height on
const OPERATOR = 0x02;
const VERSION = 0x03;

export interface Validator {
  address: Uint8Array; // sha256(pubkey)[:20], CometBFT's consensus address
  pubkey: Uint8Array;
  power: bigint;
}

export function consensusAddress(pubkey: Uint8Array): Uint8Array {
  return sha256(pubkey).subarray(0, 20);
}

/** CometBFT's JSON for an ed25519 key, as in genesis.json's validators. */
export const ED25519_PUBKEY_JSON_TYPE = "tendermint/PubKeyEd25519";

type ValidatorJson = { address?: string; pub_key: { type: string; value: string }; power: string; name?: string };

/**
 * Genesis section "valset": the set in genesis.json's `validators` shape (the set for the first
 * height; a new chain's comes from InitChain or x/staking), each validator's operator account, and
 * (an exported chain's) every recorded version of the set by its start height.
 */
export interface ValsetGenesis {
  validators?: ValidatorJson[];
  operators?: Array<{ address: string; operator: string }>;
  history?: Array<{ start_height: string; validators: ValidatorJson[] }>;
}

const hexUpper = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();
const u64 = (v: bigint) => { const x = Buffer.alloc(8); x.writeBigUInt64BE(v); return x; };
const versionPrefix = (start: bigint) => Buffer.concat([Buffer.from([VERSION]), u64(start)]);

function sameSet(a: readonly Validator[], b: readonly Validator[]): boolean {
  return a.length === b.length && a.every((v, i) => Buffer.from(v.address).equals(b[i].address) && v.power === b[i].power);
}

export class ValsetKeeper {
  /** Writes the set from height `start` on (rows of power 0 are skipped). */
  writeVersion(ctx: Context, start: bigint, set: readonly Validator[]): void {
    for (const v of set) {
      if (v.power <= 0n) continue;
      const row = Buffer.alloc(40);
      row.writeBigUInt64BE(v.power, 0);
      Buffer.from(v.pubkey).copy(row, 8);
      ctx.store(VALSET_MODULE).set(Buffer.concat([versionPrefix(start), v.address]), row);
    }
  }

  private async readVersion(ctx: Context, start: bigint): Promise<Validator[]> {
    const p = versionPrefix(start);
    const rows = await ctx.store(VALSET_MODULE).iterate(p, versionPrefix(start + 1n));
    return rows.map(([k, v]) => ({ address: Buffer.from(k.subarray(9)), power: Buffer.from(v).readBigUInt64BE(0), pubkey: Buffer.from(v.subarray(8, 40)) }));
  }

  /** Start heights of the recorded versions, ascending. */
  async versionStarts(ctx: Context): Promise<bigint[]> {
    const out: bigint[] = [];
    let from = Buffer.from([VERSION]);
    for (;;) {
      const [row] = await ctx.store(VALSET_MODULE).iterate(from, Buffer.from([VERSION + 1]), { limit: 1 });
      if (!row) return out;
      const start = Buffer.from(row[0]).readBigUInt64BE(1);
      out.push(start);
      from = versionPrefix(start + 1n);
    }
  }

  /** The set in effect at `height` (the earliest recorded one for heights before it). */
  async validatorsAt(ctx: Context, height: bigint): Promise<Validator[]> {
    const store = ctx.store(VALSET_MODULE);
    const bound = height < 0n ? 0n : height;
    let [row] = await store.iterate(Buffer.from([VERSION]), versionPrefix(bound + 1n), { limit: 1, reverse: true });
    if (!row) [row] = await store.iterate(Buffer.from([VERSION]), Buffer.from([VERSION + 1]), { limit: 1 });
    return row ? this.readVersion(ctx, Buffer.from(row[0]).readBigUInt64BE(1)) : [];
  }

  /** The set that signed the previous block: what an aggregate in block ctx.header.height is checked against. */
  async validators(ctx: Context): Promise<Validator[]> {
    return this.validatorsAt(ctx, ctx.header.height - 1n);
  }

  /** The newest recorded set (the one CometBFT will use once every returned update is in effect). */
  async latest(ctx: Context): Promise<Validator[]> {
    const [row] = await ctx.store(VALSET_MODULE).iterate(Buffer.from([VERSION]), Buffer.from([VERSION + 1]), { limit: 1, reverse: true });
    return row ? this.readVersion(ctx, Buffer.from(row[0]).readBigUInt64BE(1)) : [];
  }

  /** Genesis: the set from the first height (ctx.header.height + 1); replaces any recorded set. */
  async setGenesisValidators(ctx: Context, updates: readonly ValidatorUpdate[]): Promise<void> {
    const set = updates.map((u) => {
      const pubkey = u.pubKey?.ed25519;
      if (!pubkey || pubkey.length !== 32) throw new Error("genesis validator without a 32-byte ed25519 key");
      return { address: consensusAddress(pubkey), pubkey, power: u.power };
    });
    for (const start of await this.versionStarts(ctx)) await this.deleteVersion(ctx, start);
    this.writeVersion(ctx, ctx.header.height + 1n, set);
  }

  private async deleteVersion(ctx: Context, start: bigint): Promise<void> {
    for (const v of await this.readVersion(ctx, start)) ctx.store(VALSET_MODULE).delete(Buffer.concat([versionPrefix(start), v.address]));
  }

  /**
   * x/staking's updates returned at this block take effect at `height`: the latest set with them
   * applied becomes the set from `height` on. Versions superseded by a version starting at or before
   * this block's height are pruned (the next block checks against this height's set at the earliest).
   */
  async recordUpdates(ctx: Context, updates: readonly ValidatorUpdate[], height: bigint): Promise<void> {
    const byAddr = new Map((await this.latest(ctx)).map((v) => [hexUpper(v.address), v]));
    for (const u of updates) {
      const pubkey = u.pubKey?.ed25519;
      if (!pubkey || pubkey.length !== 32) throw new Error("validator update without a 32-byte ed25519 key");
      const address = consensusAddress(pubkey);
      if (u.power === 0n) byAddr.delete(hexUpper(address));
      else byAddr.set(hexUpper(address), { address, pubkey, power: u.power });
    }
    const set = [...byAddr.keys()].sort().map((k) => byAddr.get(k)!);
    await this.deleteVersion(ctx, height);
    this.writeVersion(ctx, height, set);
    const starts = await this.versionStarts(ctx);
    for (let i = 0; i + 1 < starts.length; i++) if (starts[i + 1] <= ctx.header.height) await this.deleteVersion(ctx, starts[i]);
  }

  setOperator(ctx: Context, consensusAddr: Uint8Array, operator: Uint8Array): void {
    ctx.store(VALSET_MODULE).set(Buffer.concat([Buffer.from([OPERATOR]), consensusAddr]), operator);
  }

  /** The account a validator's income is paid to, if its operator is known. */
  async operator(ctx: Context, consensusAddr: Uint8Array): Promise<Uint8Array | undefined> {
    return ctx.store(VALSET_MODULE).get(Buffer.concat([Buffer.from([OPERATOR]), consensusAddr]));
  }

  /** Every (consensus address, operator), in address order. */
  async operators(ctx: Context): Promise<Array<{ address: Uint8Array; operator: Uint8Array }>> {
    const rows = await ctx.store(VALSET_MODULE).iterate(Buffer.from([OPERATOR]), Buffer.from([OPERATOR + 1]));
    return rows.map(([k, v]) => ({ address: Buffer.from(k.subarray(1)), operator: Buffer.from(v) }));
  }
}

function parseValidator(v: NonNullable<ValsetGenesis["validators"]>[number], i: number): ValidatorUpdate {
  const where = `valset genesis: validators[${i}]`;
  if (typeof v !== "object" || v === null || typeof v.pub_key !== "object" || v.pub_key === null) throw ErrInvalidRequest(`${where} must be {address, pub_key: {type, value}, power}`);
  if (v.pub_key.type !== ED25519_PUBKEY_JSON_TYPE) throw ErrInvalidRequest(`${where}.pub_key.type must be "${ED25519_PUBKEY_JSON_TYPE}", got ${JSON.stringify(v.pub_key.type)}`);
  const key = Buffer.from(String(v.pub_key.value), "base64");
  if (key.length !== 32 || key.toString("base64") !== v.pub_key.value) throw ErrInvalidRequest(`${where}.pub_key.value must be a base64 32-byte ed25519 key`);
  if (v.address !== undefined && v.address.toUpperCase() !== hexUpper(consensusAddress(key))) throw ErrInvalidRequest(`${where}.address ${v.address} is not the address of its key`);
  if (typeof v.power !== "string" || !/^[1-9][0-9]{0,18}$/.test(v.power)) throw ErrInvalidRequest(`${where}.power must be a positive decimal string`);
  return { pubKey: { ed25519: key }, power: BigInt(v.power) };
}

const validatorJson = (v: Validator): ValidatorJson => ({
  address: hexUpper(v.address), pub_key: { type: ED25519_PUBKEY_JSON_TYPE, value: Buffer.from(v.pubkey).toString("base64") }, power: v.power.toString(),
});
const asUpdate = (v: Validator): ValidatorUpdate => ({ pubKey: { ed25519: v.pubkey }, power: v.power });

export class ValsetModule implements AppModule {
  readonly name = VALSET_MODULE;
  constructor(readonly keeper: ValsetKeeper) {}

  /**
   * An exported chain's recorded versions (or just its set); a new chain's set comes from InitChain
   * or x/staking. app_state also names each validator's operator account, where its verification income goes.
   */
  async initGenesis(ctx: Context, state: unknown): Promise<void> {
    const g = (state ?? {}) as ValsetGenesis;
    for (const [i, o] of (g.operators ?? []).entries()) {
      if (typeof o?.address !== "string" || !/^[0-9a-fA-F]{40}$/.test(o.address)) throw ErrInvalidRequest(`valset genesis: operators[${i}].address must be a 40-character hex consensus address`);
      this.keeper.setOperator(ctx, Buffer.from(o.address, "hex"), parseAddress(o.operator, `valset genesis operators[${i}].operator`));
    }
    if (g.history !== undefined) {
      if (!Array.isArray(g.history)) throw ErrInvalidRequest("valset genesis: history must be an array");
      for (const [i, h] of g.history.entries()) {
        if (typeof h?.start_height !== "string" || !/^[0-9]{1,19}$/.test(h.start_height) || !Array.isArray(h.validators)) throw ErrInvalidRequest(`valset genesis: history[${i}] must be {start_height, validators}`);
        const set = h.validators.map(parseValidator).map((u) => ({ address: consensusAddress(u.pubKey!.ed25519!), pubkey: u.pubKey!.ed25519!, power: u.power }));
        this.keeper.writeVersion(ctx, BigInt(h.start_height), set);
      }
      return;
    }
    if (g.validators === undefined) return;
    if (!Array.isArray(g.validators)) throw ErrInvalidRequest("valset genesis: validators must be an array");
    await this.keeper.setGenesisValidators(ctx, g.validators.map(parseValidator));
  }

  /**
   * genesis.json's validators, when it lists any, are the set (they replace app_state's or x/staking's:
   * a chain restarted from an export under new keys; staking's own records keep the old keys, see
   * x/staking README). When genesis.json lists none, app_state's set is returned to CometBFT.
   */
  async initChain(ctx: Context, req: RequestInitChain): Promise<ValidatorUpdate[]> {
    const first = ctx.header.height + 1n;
    const recorded = await this.keeper.validatorsAt(ctx, first);
    if (req.validators.length === 0) return recorded.map(asUpdate);
    const given = req.validators.map((u) => ({ address: consensusAddress(u.pubKey?.ed25519 ?? new Uint8Array()), pubkey: u.pubKey?.ed25519 ?? new Uint8Array(), power: u.power }))
      .sort((a, b) => Buffer.compare(a.address, b.address));
    if (sameSet(given, recorded)) return [];
    await this.keeper.setGenesisValidators(ctx, req.validators);
    return [];
  }

  async exportGenesis(ctx: Context): Promise<ValsetGenesis> {
    const history = [];
    for (const start of await this.keeper.versionStarts(ctx)) history.push({ start_height: start.toString(), validators: (await this.keeper.validatorsAt(ctx, start)).map(validatorJson) });
    return {
      operators: (await this.keeper.operators(ctx)).map((o) => ({ address: hexUpper(o.address), operator: formatAddress(o.operator) })),
      validators: (await this.keeper.validatorsAt(ctx, ctx.header.height + 1n)).map(validatorJson),
      history,
    };
  }
}
