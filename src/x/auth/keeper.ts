import { BaseAccount } from "cosmjs-types/cosmos/auth/v1beta1/auth";
import type { Any } from "cosmjs-types/google/protobuf/any";
import { PubKey } from "cosmjs-types/cosmos/crypto/secp256k1/keys";
import type { Context } from "../../app/context";
import { formatAddress } from "../../app/address";
import { ErrInvalidPubKey } from "../../app/errors";
import { GenerationCache } from "../../util/gen-cache";

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

type AccountFields = Omit<Account, "address">;

/**
 * Stored account bytes -> their decoded fields, for the accounts in use: the ante handler reads and
 * writes every signer's account in each tx. Decoding is a pure function of the bytes, and an entry
 * made when writing maps the bytes encodeAccount wrote to the fields it encoded (which decode back
 * to the same fields), so a hit is what decoding would return. Bounded; a miss decodes.
 */
const decodedAccounts = new GenerationCache<AccountFields>(20_000);
/** Protobuf of an account's address and public key (fields 1 and 2), by address and key: the part of an account that never changes. */
const encodedHeads = new GenerationCache<Uint8Array>(20_000);
const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1");

const inFastRange = (acc: Account) => acc.accountNumber >= 0n && acc.accountNumber < 2n ** 31n && acc.sequence >= 0n && acc.sequence < 2n ** 31n;

/** BaseAccount.encode(toBaseAccount(acc)), byte for byte (test/auth-account-codec.test.ts), without re-encoding the unchanging head each time. */
export function encodeAccount(acc: Account): Uint8Array {
  if (!inFastRange(acc)) {
    // cosmjs-types writes uint64s in [2^31, 2^32) wrongly (2^31 as 00 00 00 00 00), and state must stay
    // byte for byte what it writes: larger numbers go through the codec itself.
    return BaseAccount.encode(toBaseAccount(acc)).finish();
  }
  const id = acc.pubKey ? latin1(acc.address) + latin1(acc.pubKey) : latin1(acc.address);
  let head = encodedHeads.get(id);
  if (head === undefined) {
    head = BaseAccount.encode({ ...toBaseAccount(acc), accountNumber: 0n, sequence: 0n }).finish().slice();
    encodedHeads.set(id, head);
  }
  const tail: number[] = [];
  if (acc.accountNumber !== 0n) pushUvarint64(tail, 0x18, acc.accountNumber);
  if (acc.sequence !== 0n) pushUvarint64(tail, 0x20, acc.sequence);
  const out = Buffer.allocUnsafe(head.length + tail.length);
  out.set(head, 0);
  for (let i = 0; i < tail.length; i++) out[head.length + i] = tail[i];
  return out;
}

/** A protobuf field tag and a uint64 varint. */
function pushUvarint64(out: number[], tag: number, v: bigint): void {
  out.push(tag);
  let x = v;
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
}

function decodeAccount(raw: Uint8Array): AccountFields {
  const id = latin1(raw);
  let fields = decodedAccounts.get(id);
  if (fields === undefined) {
    const acc = BaseAccount.decode(raw);
    fields = { pubKey: acc.pubKey ? decodeSecp256k1PubKey(acc.pubKey) : undefined, accountNumber: acc.accountNumber, sequence: acc.sequence };
    decodedAccounts.set(id, fields);
  }
  return fields;
}

export class AccountKeeper {
  async getAccount(ctx: Context, addr: Uint8Array): Promise<Account | undefined> {
    const raw = await ctx.store(AUTH_MODULE).get(accountKey(addr));
    if (!raw) return undefined;
    const { pubKey, accountNumber, sequence } = decodeAccount(raw);
    return { address: addr, pubKey, accountNumber, sequence };
  }

  /** Creates the account with the next account number if it does not exist yet (as a first transfer does). */
  async ensureAccount(ctx: Context, addr: Uint8Array): Promise<void> {
    // Existence only: every transfer's recipient comes through here, so no decode of the account.
    if (await ctx.store(AUTH_MODULE).get(accountKey(addr))) return;
    const accountNumber = await this.nextAccountNumber(ctx);
    this.setNextAccountNumber(ctx, accountNumber + 1n);
    this.setAccount(ctx, { address: addr, accountNumber, sequence: 0n });
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
    const raw = encodeAccount(acc);
    ctx.store(AUTH_MODULE).set(accountKey(acc.address), raw);
    // Only what decodes back to these fields: a valid key (decodeSecp256k1PubKey's rule) or none, and
    // numbers below 2^31 (the codec does not read back all larger ones as written, see encodeAccount).
    const validKey = acc.pubKey === undefined || (acc.pubKey.length === 33 && (acc.pubKey[0] === 0x02 || acc.pubKey[0] === 0x03));
    if (validKey && inFastRange(acc)) {
      decodedAccounts.set(latin1(raw), { pubKey: acc.pubKey, accountNumber: acc.accountNumber, sequence: acc.sequence });
    }
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
