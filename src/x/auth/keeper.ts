import { BaseAccount } from "cosmjs-types/cosmos/auth/v1beta1/auth";
import type { Any } from "cosmjs-types/google/protobuf/any";
import { PubKey } from "cosmjs-types/cosmos/crypto/secp256k1/keys";
import type { Context } from "../../app/context";
import { formatAddress } from "../../app/address";
import { ErrInvalidPubKey } from "../../app/errors";

export const AUTH_MODULE = "auth";

// Key layout inside "auth/":
//   0x00                -> next account number (decimal string)
//   0x01 | addr         -> BaseAccount (protobuf; address, pub_key, account_number, sequence)
//   0x02                -> param max_tx_bytes (u64 BE)
const NEXT_NUMBER = Buffer.from([0x00]);
const ACCOUNT = 0x01;
const MAX_TX_BYTES = Buffer.from([0x02]);

/**
 * The largest tx a block may execute, when genesis does not say: CometBFT's mempool cap in our
 * config (a model upload must fit). A chain parameter, so every node executes the same txs; a node's
 * own max_tx_bytes (config/app.json) may only make its CheckTx stricter.
 */
export const DEFAULT_MAX_TX_BYTES = 4n * 1024n * 1024n;
/** CometBFT refuses ABCI messages over 100 MiB, so no tx can be larger. */
export const MAX_MAX_TX_BYTES = 100n * 1024n * 1024n;
const accountKey = (addr: Uint8Array) => Buffer.concat([Buffer.from([ACCOUNT]), addr]);

export const SECP256K1_PUBKEY_TYPE = "/cosmos.crypto.secp256k1.PubKey";

export interface Account {
  address: Uint8Array;
  /** the 33-byte compressed secp256k1 key, set by the account's first signed tx */
  pubKey?: Uint8Array;
  accountNumber: bigint;
  sequence: bigint;
}

export class AccountKeeper {
  async getAccount(ctx: Context, addr: Uint8Array): Promise<Account | undefined> {
    const raw = await ctx.store(AUTH_MODULE).get(accountKey(addr));
    if (!raw) return undefined;
    const acc = BaseAccount.decode(raw);
    return { address: addr, pubKey: acc.pubKey ? decodeSecp256k1PubKey(acc.pubKey) : undefined, accountNumber: acc.accountNumber, sequence: acc.sequence };
  }

  /** Creates the account with the next account number if it does not exist yet (as a first transfer does). */
  async ensureAccount(ctx: Context, addr: Uint8Array): Promise<Account> {
    const existing = await this.getAccount(ctx, addr);
    if (existing) return existing;
    const accountNumber = await this.nextAccountNumber(ctx);
    this.setNextAccountNumber(ctx, accountNumber + 1n);
    const acc: Account = { address: addr, accountNumber, sequence: 0n };
    this.setAccount(ctx, acc);
    return acc;
  }

  async nextAccountNumber(ctx: Context): Promise<bigint> {
    const raw = await ctx.store(AUTH_MODULE).get(NEXT_NUMBER);
    return raw ? BigInt(Buffer.from(raw).toString("utf8")) : 0n;
  }

  /** Genesis import only: the number the next new account gets. */
  setNextAccountNumber(ctx: Context, n: bigint): void {
    ctx.store(AUTH_MODULE).set(NEXT_NUMBER, Buffer.from(n.toString(), "utf8"));
  }

  setAccount(ctx: Context, acc: Account): void {
    ctx.store(AUTH_MODULE).set(accountKey(acc.address), BaseAccount.encode(toBaseAccount(acc)).finish());
  }

  /** The chain's max_tx_bytes param (DEFAULT_MAX_TX_BYTES for a state written before it existed). */
  async maxTxBytes(ctx: Context): Promise<bigint> {
    const raw = await ctx.store(AUTH_MODULE).get(MAX_TX_BYTES);
    return raw ? Buffer.from(raw).readBigUInt64BE(0) : DEFAULT_MAX_TX_BYTES;
  }

  setMaxTxBytes(ctx: Context, n: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    ctx.store(AUTH_MODULE).set(MAX_TX_BYTES, b);
  }

  /** Every account in key order (for genesis export). */
  async allAccounts(ctx: Context): Promise<Account[]> {
    const rows = await ctx.store(AUTH_MODULE).iterate(Buffer.from([ACCOUNT]), Buffer.from([ACCOUNT + 1]));
    return rows.map(([k, v]) => {
      const acc = BaseAccount.decode(v);
      return { address: k.subarray(1), pubKey: acc.pubKey ? decodeSecp256k1PubKey(acc.pubKey) : undefined, accountNumber: acc.accountNumber, sequence: acc.sequence };
    });
  }
}

export function toBaseAccount(acc: Account): BaseAccount {
  return {
    address: formatAddress(acc.address),
    pubKey: acc.pubKey ? encodeSecp256k1PubKey(acc.pubKey) : undefined,
    accountNumber: acc.accountNumber,
    sequence: acc.sequence,
  };
}

export function encodeSecp256k1PubKey(key: Uint8Array): Any {
  return { typeUrl: SECP256K1_PUBKEY_TYPE, value: PubKey.encode({ key }).finish() };
}

export function decodeSecp256k1PubKey(any: Any): Uint8Array {
  if (any.typeUrl !== SECP256K1_PUBKEY_TYPE) throw ErrInvalidPubKey(`unsupported public key type "${any.typeUrl}", want ${SECP256K1_PUBKEY_TYPE}`);
  let key: Uint8Array;
  try {
    key = PubKey.decode(any.value).key;
  } catch (err) {
    throw ErrInvalidPubKey(`cannot decode secp256k1 public key: ${(err as Error).message}`);
  }
  if (key.length !== 33 || (key[0] !== 0x02 && key[0] !== 0x03)) throw ErrInvalidPubKey("secp256k1 public key must be 33 bytes, compressed");
  return key;
}
