/**
 * x/valset: the consensus validator set as the app knows it (ed25519 key and voting power per
 * consensus address). The PoI verdict aggregate is checked against it: signatures with the keys,
 * thresholds with the powers. Today it is the genesis set from InitChain; a later issue derives power
 * from stake and verified work and returns updates to CometBFT.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { RequestInitChain, ValidatorUpdate } from "cosmjs-types/tendermint/abci/types";
import type { AppModule } from "../../app/module";
import type { Context } from "../../app/context";
import { formatAddress, parseAddress } from "../../app/address";
import { ErrInvalidRequest } from "../../app/errors";

export const VALSET_MODULE = "valset";

// Keys inside "valset/":
//   0x01 | address(20) -> power (8 bytes BE) | ed25519 pubkey (32)
//   0x02 | address(20) -> the validator operator's account (20 bytes): where its verification income goes
const VALIDATOR = 0x01;
const OPERATOR = 0x02;

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

/**
 * Genesis section "valset": the validator set, in genesis.json's `validators` shape (an exported
 * chain's; a new chain's comes from InitChain), and each validator's operator account.
 */
export interface ValsetGenesis {
  validators?: Array<{ address?: string; pub_key: { type: string; value: string }; power: string; name?: string }>;
  operators?: Array<{ address: string; operator: string }>;
}

const hexUpper = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();

export class ValsetKeeper {
  /** Records InitChain's validators; only ed25519 keys (the genesis allows no other type). */
  setGenesisValidators(ctx: Context, updates: readonly ValidatorUpdate[]): void {
    for (const u of updates) {
      const pubkey = u.pubKey?.ed25519;
      if (!pubkey || pubkey.length !== 32) throw new Error("genesis validator without a 32-byte ed25519 key");
      if (u.power <= 0n) continue;
      const v = Buffer.alloc(40);
      v.writeBigUInt64BE(u.power, 0);
      Buffer.from(pubkey).copy(v, 8);
      ctx.store(VALSET_MODULE).set(Buffer.concat([Buffer.from([VALIDATOR]), consensusAddress(pubkey)]), v);
    }
  }

  setOperator(ctx: Context, consensusAddr: Uint8Array, operator: Uint8Array): void {
    ctx.store(VALSET_MODULE).set(Buffer.concat([Buffer.from([OPERATOR]), consensusAddr]), operator);
  }

  /** The account a validator's income is paid to, if its operator is known. */
  async operator(ctx: Context, consensusAddr: Uint8Array): Promise<Uint8Array | undefined> {
    return ctx.store(VALSET_MODULE).get(Buffer.concat([Buffer.from([OPERATOR]), consensusAddr]));
  }

  /** Makes the set exactly `updates`: validators not among them are removed. */
  async replaceValidators(ctx: Context, updates: readonly ValidatorUpdate[]): Promise<void> {
    const keep = new Set(updates.map((u) => hexUpper(consensusAddress(u.pubKey?.ed25519 ?? new Uint8Array()))));
    for (const v of await this.validators(ctx)) {
      if (!keep.has(hexUpper(v.address))) ctx.store(VALSET_MODULE).delete(Buffer.concat([Buffer.from([VALIDATOR]), v.address]));
    }
    this.setGenesisValidators(ctx, updates);
  }

  /** All validators in address order. */
  async validators(ctx: Context): Promise<Validator[]> {
    const rows = await ctx.store(VALSET_MODULE).iterate(Buffer.from([VALIDATOR]), Buffer.from([VALIDATOR + 1]));
    return rows.map(([k, v]) => ({
      address: Buffer.from(k.subarray(1)),
      power: Buffer.from(v).readBigUInt64BE(0),
      pubkey: Buffer.from(v.subarray(8, 40)),
    }));
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

export class ValsetModule implements AppModule {
  readonly name = VALSET_MODULE;
  constructor(readonly keeper: ValsetKeeper) {}

  /**
   * An exported set (a chain restarted from `poi export`); a new chain's comes from InitChain.
   * app_state also names each validator's operator account, where its verification income goes.
   */
  async initGenesis(ctx: Context, state: unknown): Promise<void> {
    const g = (state ?? {}) as ValsetGenesis;
    for (const [i, o] of (g.operators ?? []).entries()) {
      if (typeof o?.address !== "string" || !/^[0-9a-fA-F]{40}$/.test(o.address)) throw ErrInvalidRequest(`valset genesis: operators[${i}].address must be a 40-character hex consensus address`);
      this.keeper.setOperator(ctx, Buffer.from(o.address, "hex"), parseAddress(o.operator, `valset genesis operators[${i}].operator`));
    }
    if (g.validators === undefined) return;
    if (!Array.isArray(g.validators)) throw ErrInvalidRequest("valset genesis: validators must be an array");
    this.keeper.setGenesisValidators(ctx, g.validators.map(parseValidator));
  }

  /**
   * genesis.json's validators, when it lists any, are the set (they replace app_state's: a chain
   * restarted from an export under new keys). When it lists none, app_state's set is returned to
   * CometBFT as the initial set.
   */
  async initChain(ctx: Context, req: RequestInitChain): Promise<ValidatorUpdate[]> {
    if (req.validators.length > 0) {
      await this.keeper.replaceValidators(ctx, req.validators);
      return [];
    }
    return (await this.keeper.validators(ctx)).map((v) => ({ pubKey: { ed25519: v.pubkey }, power: v.power }));
  }

  async exportGenesis(ctx: Context): Promise<ValsetGenesis> {
    const operators = [];
    for (const v of await this.keeper.validators(ctx)) {
      const op = await this.keeper.operator(ctx, v.address);
      if (op) operators.push({ address: hexUpper(v.address), operator: formatAddress(op) });
    }
    return {
      operators,
      validators: (await this.keeper.validators(ctx)).map((v) => ({
        address: hexUpper(v.address), pub_key: { type: ED25519_PUBKEY_JSON_TYPE, value: Buffer.from(v.pubkey).toString("base64") }, power: v.power.toString(),
      })),
    };
  }
}
