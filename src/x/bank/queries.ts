import {
  QueryBalanceRequest, QueryBalanceResponse, QueryAllBalancesRequest, QueryAllBalancesResponse,
  QueryTotalSupplyRequest, QueryTotalSupplyResponse, QuerySupplyOfRequest, QuerySupplyOfResponse,
  QueryDenomMetadataRequest, QueryDenomMetadataResponse, QueryDenomsMetadataRequest, QueryDenomsMetadataResponse,
  QuerySpendableBalancesRequest, QuerySpendableBalancesResponse, QuerySpendableBalanceByDenomRequest, QuerySpendableBalanceByDenomResponse,
  QueryParamsRequest, QueryParamsResponse,
} from "cosmjs-types/cosmos/bank/v1beta1/query";
import { grpcQuery, type QueryHandler } from "../../app/module";
import type { Context } from "../../app/context";
import { parseAddress } from "../../app/address";
import { clip, ErrNotFound } from "../../app/errors";
import { type Coin, validateDenom } from "./types";
import type { BankKeeper } from "./keeper";

const proto = (c: Coin) => ({ denom: c.denom, amount: c.amount.toString() });
/** Results are returned whole; the pagination answer just reports the total. */
const page = (total: number) => ({ nextKey: new Uint8Array(), total: BigInt(total) });

export function bankQueryHandlers(keeper: BankKeeper): QueryHandler[] {
  const S = "/cosmos.bank.v1beta1.Query/";
  const balance = async (ctx: Context, req: { address: string; denom: string }) => {
    const addr = parseAddress(req.address);
    validateDenom(req.denom);
    return { balance: proto({ denom: req.denom, amount: await keeper.getBalance(ctx, addr, req.denom) }) };
  };
  const allBalances = async (ctx: Context, req: { address: string }) => {
    const balances = (await keeper.getAllBalances(ctx, parseAddress(req.address))).map(proto);
    return { balances, pagination: page(balances.length) };
  };
  return [
    grpcQuery(S + "Balance", QueryBalanceRequest, QueryBalanceResponse, balance),
    grpcQuery(S + "AllBalances", QueryAllBalancesRequest, QueryAllBalancesResponse, allBalances),
    // Nothing is locked or vesting on this chain: what an account holds, it can spend.
    grpcQuery(S + "SpendableBalances", QuerySpendableBalancesRequest, QuerySpendableBalancesResponse, allBalances),
    grpcQuery(S + "SpendableBalanceByDenom", QuerySpendableBalanceByDenomRequest, QuerySpendableBalanceByDenomResponse, balance),
    grpcQuery(S + "Params", QueryParamsRequest, QueryParamsResponse, async () => ({ params: { sendEnabled: [], defaultSendEnabled: true } })),
    grpcQuery(S + "TotalSupply", QueryTotalSupplyRequest, QueryTotalSupplyResponse, async (ctx) => {
      const supply = (await keeper.getAllSupply(ctx)).map(proto);
      return { supply, pagination: page(supply.length) };
    }),
    grpcQuery(S + "SupplyOf", QuerySupplyOfRequest, QuerySupplyOfResponse, async (ctx, req) => {
      validateDenom(req.denom);
      return { amount: proto({ denom: req.denom, amount: await keeper.getSupply(ctx, req.denom) }) };
    }),
    grpcQuery(S + "DenomMetadata", QueryDenomMetadataRequest, QueryDenomMetadataResponse, async (ctx, req) => {
      const metadata = await keeper.getDenomMetadata(ctx, req.denom);
      if (!metadata) throw ErrNotFound(`client metadata for denom ${clip(req.denom)}`);
      return { metadata };
    }),
    grpcQuery(S + "DenomsMetadata", QueryDenomsMetadataRequest, QueryDenomsMetadataResponse, async (ctx) => {
      const metadatas = await keeper.allDenomMetadata(ctx);
      return { metadatas, pagination: page(metadatas.length) };
    }),
  ];
}
