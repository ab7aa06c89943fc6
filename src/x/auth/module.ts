import { BaseAccount } from "cosmjs-types/cosmos/auth/v1beta1/auth";
import {
  QueryAccountRequest, QueryAccountResponse, QueryParamsRequest, QueryParamsResponse,
} from "cosmjs-types/cosmos/auth/v1beta1/query";
import { type AppModule, grpcQuery } from "../../app/module";
import type { Context } from "../../app/context";
import { formatAddress, parseAddress } from "../../app/address";
import { ErrInvalidRequest, ErrNotFound } from "../../app/errors";
import { GAS } from "../../app/gas";
import { AUTH_MODULE, AccountKeeper, DEFAULT_MAX_TX_BYTES, MAX_MAX_TX_BYTES, toBaseAccount } from "./keeper";
import { AUTH_PARAMS } from "./ante";

/**
 * Genesis section "auth": accounts to create up front (bank balances also create accounts) and the
 * params, as decimal strings like the SDK's JSON (max_tx_bytes defaults to DEFAULT_MAX_TX_BYTES).
 */
export interface AuthGenesis {
  accounts?: Array<{ address: string }>;
  params?: { max_tx_bytes?: string };
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
    for (const a of g.accounts ?? []) await this.keeper.ensureAccount(ctx, parseAddress(a.address, "auth genesis account"));
    const max = g.params?.max_tx_bytes;
    if (max !== undefined && (typeof max !== "string" || !/^[1-9][0-9]{0,9}$/.test(max) || BigInt(max) > MAX_MAX_TX_BYTES)) {
      throw ErrInvalidRequest(`auth genesis: params.max_tx_bytes must be an integer string from 1 to ${MAX_MAX_TX_BYTES}, got ${JSON.stringify(max)}`);
    }
    this.keeper.setMaxTxBytes(ctx, max === undefined ? DEFAULT_MAX_TX_BYTES : BigInt(max));
  }

  async exportGenesis(ctx: Context): Promise<AuthGenesis> {
    return {
      accounts: (await this.keeper.allAccounts(ctx)).map((a) => ({ address: formatAddress(a.address) })),
      params: { max_tx_bytes: (await this.keeper.maxTxBytes(ctx)).toString() },
    };
  }
}
