import { BaseAccount } from "cosmjs-types/cosmos/auth/v1beta1/auth";
import {
  QueryAccountRequest, QueryAccountResponse, QueryParamsRequest, QueryParamsResponse,
} from "cosmjs-types/cosmos/auth/v1beta1/query";
import { type AppModule, grpcQuery } from "../../app/module";
import type { Context } from "../../app/context";
import { formatAddress, parseAddress } from "../../app/address";
import { ErrInvalidRequest, ErrNotFound } from "../../app/errors";
import { GAS } from "../../app/gas";
import { AUTH_MODULE, AccountKeeper, DEFAULT_MAX_TX_BYTES, MAX_MAX_TX_BYTES, SECP256K1_PUBKEY_TYPE, decodeSecp256k1PubKey, encodeSecp256k1PubKey, toBaseAccount, type Account } from "./keeper";
import { AUTH_PARAMS } from "./ante";

/**
 * Genesis section "auth", in the Cosmos SDK's BaseAccount JSON shape. An account with only an
 * address gets the next free number (bank balances also create accounts that way); an exported
 * account carries its number, sequence and public key. `next_account_number` (export) keeps the
 * counter where it was; it must exceed every number given. `params` are decimal strings like the SDK's
 * JSON (max_tx_bytes defaults to DEFAULT_MAX_TX_BYTES).
 */
export interface AuthGenesis {
  accounts?: GenesisAccount[];
  next_account_number?: string;
  params?: { max_tx_bytes?: string };
}

export interface GenesisAccount {
  address: string;
  account_number?: string;
  sequence?: string;
  pub_key?: { "@type": string; key: string } | null;
}

const U64 = /^(0|[1-9][0-9]{0,19})$/;

function parseU64(v: unknown, what: string): bigint {
  if (typeof v !== "string" || !U64.test(v) || BigInt(v) >= 1n << 64n) throw ErrInvalidRequest(`auth genesis: ${what} must be a decimal u64 string, got ${JSON.stringify(v)}`);
  return BigInt(v);
}

function parseGenesisAccount(a: GenesisAccount, i: number): Account & { numbered: boolean } {
  if (typeof a !== "object" || a === null) throw ErrInvalidRequest(`auth genesis: accounts[${i}] must be an object`);
  const address = parseAddress(a.address, `auth genesis accounts[${i}].address`);
  let pubKey: Uint8Array | undefined;
  if (a.pub_key !== undefined && a.pub_key !== null) {
    if (a.pub_key["@type"] !== SECP256K1_PUBKEY_TYPE || typeof a.pub_key.key !== "string") {
      throw ErrInvalidRequest(`auth genesis: accounts[${i}].pub_key must be {"@type": "${SECP256K1_PUBKEY_TYPE}", "key": base64}`);
    }
    const key = Buffer.from(a.pub_key.key, "base64");
    if (key.toString("base64") !== a.pub_key.key) throw ErrInvalidRequest(`auth genesis: accounts[${i}].pub_key.key is not canonical base64`);
    pubKey = decodeSecp256k1PubKey(encodeSecp256k1PubKey(key));
  }
  const numbered = a.account_number !== undefined;
  if (!numbered && (a.sequence !== undefined || pubKey)) throw ErrInvalidRequest(`auth genesis: accounts[${i}] has a sequence or pub_key but no account_number`);
  return {
    address, pubKey, numbered,
    accountNumber: numbered ? parseU64(a.account_number, `accounts[${i}].account_number`) : 0n,
    sequence: a.sequence === undefined ? 0n : parseU64(a.sequence, `accounts[${i}].sequence`),
  };
}

export class AuthModule implements AppModule {
  readonly name = AUTH_MODULE;
  readonly queryHandlers;

  constructor(readonly keeper: AccountKeeper) {
    const Q = "/cosmos.auth.v1beta1.Query/";
    this.queryHandlers = [
      grpcQuery(Q + "Account", QueryAccountRequest, QueryAccountResponse, async (ctx, req) => {
        const acc = await keeper.getAccount(ctx, parseAddress(req.address));
        if (!acc) throw ErrNotFound(`account ${req.address} not found`);
        return { account: { typeUrl: BaseAccount.typeUrl, value: BaseAccount.encode(toBaseAccount(acc)).finish() } };
      }),
      grpcQuery(Q + "Params", QueryParamsRequest, QueryParamsResponse, async () => ({
        params: {
          maxMemoCharacters: BigInt(AUTH_PARAMS.maxMemoCharacters),
          txSigLimit: BigInt(AUTH_PARAMS.txSigLimit),
          txSizeCostPerByte: GAS.txSizePerByte,
          sigVerifyCostEd25519: 0n, // ed25519 account keys are not accepted
          sigVerifyCostSecp256k1: GAS.sigVerifySecp256k1,
        },
      })),
    ];
  }

  async initGenesis(ctx: Context, state: unknown): Promise<void> {
    const g = (state ?? {}) as AuthGenesis;
    if (g.accounts !== undefined && !Array.isArray(g.accounts)) throw ErrInvalidRequest("auth genesis: accounts must be an array");
    const accounts = (g.accounts ?? []).map(parseGenesisAccount);
    // Numbered (exported) accounts first, then the counter, then new accounts take the next numbers.
    const addresses = new Set<string>();
    const numbers = new Set<bigint>();
    let next = g.next_account_number === undefined ? 0n : parseU64(g.next_account_number, "next_account_number");
    for (const a of accounts) {
      const addr = formatAddress(a.address);
      if (addresses.has(addr)) throw ErrInvalidRequest(`auth genesis: account ${addr} is listed twice`);
      addresses.add(addr);
      if (!a.numbered) continue;
      if (numbers.has(a.accountNumber)) throw ErrInvalidRequest(`auth genesis: account number ${a.accountNumber} is used twice`);
      numbers.add(a.accountNumber);
      if (g.next_account_number !== undefined && a.accountNumber >= next) {
        throw ErrInvalidRequest(`auth genesis: next_account_number ${next} is not above account number ${a.accountNumber}`);
      }
      if (a.accountNumber >= next) next = a.accountNumber + 1n;
      this.keeper.setAccount(ctx, a);
    }
    if (numbers.size > 0 || g.next_account_number !== undefined) this.keeper.setNextAccountNumber(ctx, next);
    for (const a of accounts) if (!a.numbered) await this.keeper.ensureAccount(ctx, a.address);
    const max = g.params?.max_tx_bytes;
    if (max !== undefined && (typeof max !== "string" || !/^[1-9][0-9]{0,9}$/.test(max) || BigInt(max) > MAX_MAX_TX_BYTES)) {
      throw ErrInvalidRequest(`auth genesis: params.max_tx_bytes must be an integer string from 1 to ${MAX_MAX_TX_BYTES}, got ${JSON.stringify(max).slice(0, 40)}`);
    }
    this.keeper.setMaxTxBytes(ctx, max === undefined ? DEFAULT_MAX_TX_BYTES : BigInt(max));
  }

  async exportGenesis(ctx: Context): Promise<AuthGenesis> {
    const accounts = (await this.keeper.allAccounts(ctx)).map((a): GenesisAccount => ({
      address: formatAddress(a.address),
      account_number: a.accountNumber.toString(),
      sequence: a.sequence.toString(),
      pub_key: a.pubKey ? { "@type": SECP256K1_PUBKEY_TYPE, key: Buffer.from(a.pubKey).toString("base64") } : null,
    }));
    return {
      accounts,
      next_account_number: (await this.keeper.nextAccountNumber(ctx)).toString(),
      params: { max_tx_bytes: (await this.keeper.maxTxBytes(ctx)).toString() },
    };
  }
}
