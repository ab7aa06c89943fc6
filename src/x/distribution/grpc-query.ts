import {
  QueryParamsRequest, QueryParamsResponse, QueryDelegationRewardsRequest, QueryDelegationRewardsResponse, QueryDelegationTotalRewardsRequest,
  QueryDelegationTotalRewardsResponse, QueryValidatorOutstandingRewardsRequest, QueryValidatorOutstandingRewardsResponse,
  QueryValidatorCommissionRequest, QueryValidatorCommissionResponse, QueryCommunityPoolRequest, QueryCommunityPoolResponse,
} from "cosmjs-types/cosmos/distribution/v1beta1/query";
import { grpcQuery, type QueryHandler } from "../../app/module";
import { formatValoperAddress, parseAddress, parseValoperAddress } from "../../app/address";
import { BOND_DENOM } from "../../app/params";
import { decCoins, decFromBps } from "../../app/legacy-dec";
import type { Context } from "../../app/context";
import type { DistributionKeeper } from "./keeper/keeper";
import { ErrNoDelegationDistInfo, ErrNoValidatorExists } from "./errors";

/**
 * cosmos.distribution.v1beta1.Query in the SDK's shapes. Amounts are whole upoi (the rule pays
 * integers), written as DecCoins (LegacyDec text, 18 decimals) as the SDK writes them.
 */
export function distributionQueryHandlers(keeper: DistributionKeeper): QueryHandler[] {
  const S = "/cosmos.distribution.v1beta1.Query/";
  const validator = async (ctx: Context, address: string) => {
    const operator = parseValoperAddress(address, "validator_address");
    if (!(await keeper.staking.validator(ctx, operator))) throw ErrNoValidatorExists(`validator ${address.slice(0, 100)}`);
    return operator;
  };
  return [
    grpcQuery(S + "Params", QueryParamsRequest, QueryParamsResponse, async (ctx) => {
      const p = await keeper.requireActive(ctx);
      return { params: { communityTax: decFromBps(p.communityTaxBps), baseProposerReward: "0", bonusProposerReward: "0", withdrawAddrEnabled: false } };
    }),
    grpcQuery(S + "DelegationRewards", QueryDelegationRewardsRequest, QueryDelegationRewardsResponse, async (ctx, req) => {
      await keeper.requireActive(ctx);
      const delegator = parseAddress(req.delegatorAddress, "delegator_address");
      const operator = await validator(ctx, req.validatorAddress);
      if ((await keeper.staking.delegationShares(ctx, delegator, operator)) === undefined) throw ErrNoDelegationDistInfo(`${req.delegatorAddress} has no delegation to ${req.validatorAddress}`);
      return { rewards: decCoins(BOND_DENOM, await keeper.rewards.owed(ctx, delegator, operator)) };
    }),
    grpcQuery(S + "DelegationTotalRewards", QueryDelegationTotalRewardsRequest, QueryDelegationTotalRewardsResponse, async (ctx, req) => {
      await keeper.requireActive(ctx);
      const delegator = parseAddress(req.delegatorAddress, "delegator_address");
      const rewards = [];
      let total = 0n;
      for (const v of await keeper.staking.validators(ctx)) {
        if ((await keeper.staking.delegationShares(ctx, delegator, v.operator)) === undefined) continue;
        const owed = await keeper.rewards.owed(ctx, delegator, v.operator);
        total += owed;
        rewards.push({ validatorAddress: formatValoperAddress(v.operator), reward: decCoins(BOND_DENOM, owed) });
      }
      return { rewards, total: decCoins(BOND_DENOM, total) };
    }),
    grpcQuery(S + "ValidatorOutstandingRewards", QueryValidatorOutstandingRewardsRequest, QueryValidatorOutstandingRewardsResponse, async (ctx, req) => {
      await keeper.requireActive(ctx);
      const r = await keeper.state.validatorRewards(ctx, await validator(ctx, req.validatorAddress));
      return { rewards: { rewards: decCoins(BOND_DENOM, r.outstanding) } };
    }),
    grpcQuery(S + "ValidatorCommission", QueryValidatorCommissionRequest, QueryValidatorCommissionResponse, async (ctx, req) => {
      await keeper.requireActive(ctx);
      const r = await keeper.state.validatorRewards(ctx, await validator(ctx, req.validatorAddress));
      return { commission: { commission: decCoins(BOND_DENOM, r.commission) } };
    }),
    grpcQuery(S + "CommunityPool", QueryCommunityPoolRequest, QueryCommunityPoolResponse, async (ctx) => {
      await keeper.requireActive(ctx);
      return { pool: decCoins(BOND_DENOM, await keeper.communityPool(ctx)) };
    }),
  ];
}
