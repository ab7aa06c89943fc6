import {
  QueryParamsRequest, QueryParamsResponse, QueryInflationRequest, QueryInflationResponse, QueryAnnualProvisionsRequest, QueryAnnualProvisionsResponse,
} from "cosmjs-types/cosmos/mint/v1beta1/query";
import { grpcQuery, type QueryHandler } from "../../app/module";
import type { Context } from "../../app/context";
import { ErrNotFound } from "../../app/errors";
import { decBytes } from "../../app/legacy-dec";
import type { MintKeeper } from "./keeper";
import type { MintParams } from "./params";

/**
 * cosmos.mint.v1beta1.Query in the SDK's shapes, derived from the schedule: inflation_min and
 * inflation_max are both the current inflation (the schedule has no range), inflation_rate_change and
 * goal_bonded are 0 (issuance does not depend on the bonded ratio).
 */
export function mintQueryHandlers(keeper: MintKeeper): QueryHandler[] {
  const S = "/cosmos.mint.v1beta1.Query/";
  const active = async (ctx: Context): Promise<MintParams> => {
    const p = await keeper.params(ctx);
    if (!p) throw ErrNotFound("mint is not active on this chain (its genesis has no mint section)");
    return p;
  };
  return [
    grpcQuery(S + "Params", QueryParamsRequest, QueryParamsResponse, async (ctx) => {
      const p = await active(ctx);
      const { inflation } = await keeper.rates(ctx, p);
      return { params: { mintDenom: p.mintDenom, inflationRateChange: "0", inflationMax: inflation, inflationMin: inflation, goalBonded: "0", blocksPerYear: p.blocksPerYear } };
    }),
    grpcQuery(S + "Inflation", QueryInflationRequest, QueryInflationResponse, async (ctx) => {
      return { inflation: decBytes((await keeper.rates(ctx, await active(ctx))).inflation) };
    }),
    grpcQuery(S + "AnnualProvisions", QueryAnnualProvisionsRequest, QueryAnnualProvisionsResponse, async (ctx) => {
      return { annualProvisions: decBytes((await keeper.rates(ctx, await active(ctx))).annualProvisions) };
    }),
  ];
}
