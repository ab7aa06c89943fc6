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

/** Genesis section "valset": each validator's operator account (the validators themselves come from InitChain). */
export interface ValsetGenesis {
  operators?: Array<{ address: string; operator: string }>;
}

export interface Validator {
  address: Uint8Array; // sha256(pubkey)[:20], CometBFT's consensus address
  pubkey: Uint8Array;
  power: bigint;
}

export function consensusAddress(pubkey: Uint8Array): Uint8Array {
  return sha256(pubkey).subarray(0, 20);
}

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

export class ValsetModule implements AppModule {
  readonly name = VALSET_MODULE;
  constructor(readonly keeper: ValsetKeeper) {}
  // The validators come from InitChain's request (initChain below); app_state names their operators.
  async initGenesis(ctx: Context, state: unknown): Promise<void> {
    const g = (state ?? {}) as ValsetGenesis;
    for (const [i, o] of (g.operators ?? []).entries()) {
      if (typeof o?.address !== "string" || !/^[0-9a-fA-F]{40}$/.test(o.address)) throw ErrInvalidRequest(`valset genesis: operators[${i}].address must be a 40-character hex consensus address`);
      this.keeper.setOperator(ctx, Buffer.from(o.address, "hex"), parseAddress(o.operator, `valset genesis operators[${i}].operator`));
    }
  }
  async initChain(ctx: Context, req: RequestInitChain): Promise<void> {
    this.keeper.setGenesisValidators(ctx, req.validators);
  }
  async exportGenesis(ctx: Context): Promise<unknown> {
    const operators = [];
    for (const v of await this.keeper.validators(ctx)) {
      const op = await this.keeper.operator(ctx, v.address);
      if (op) operators.push({ address: Buffer.from(v.address).toString("hex").toUpperCase(), operator: formatAddress(op) });
    }
    return {
      operators,
      validators: (await this.keeper.validators(ctx)).map((v) => ({
        address: Buffer.from(v.address).toString("hex").toUpperCase(), pub_key: Buffer.from(v.pubkey).toString("base64"), power: v.power.toString(),
      })),
    };
  }
}
