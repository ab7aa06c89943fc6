/** cosmos.staking.v1beta1.Query on its gRPC paths, in the SDK's response shapes (shares and rates as 10^18-scaled integers). */
import {
  QueryValidatorsRequest, QueryValidatorsResponse, QueryValidatorRequest, QueryValidatorResponse, QueryDelegatorDelegationsRequest,
  QueryDelegatorDelegationsResponse, QueryValidatorDelegationsRequest, QueryValidatorDelegationsResponse, QueryUnbondingDelegationRequest,
  QueryUnbondingDelegationResponse, QueryPoolRequest, QueryPoolResponse, QueryParamsRequest, QueryParamsResponse, QueryDelegationRequest,
  QueryDelegationResponse, QueryDelegatorUnbondingDelegationsRequest, QueryDelegatorUnbondingDelegationsResponse,
} from "cosmjs-types/cosmos/staking/v1beta1/query";
import { BondStatus, bondStatusToJSON, type DelegationResponse, type UnbondingDelegation, type Validator } from "cosmjs-types/cosmos/staking/v1beta1/staking";
import type { Context } from "../../app/context";
import { grpcQuery, type QueryHandler } from "../../app/module";
import { formatAddress, formatValoperAddress, parseAddress, parseValoperAddress } from "../../app/address";
import { clip, ErrInvalidRequest, ErrNotFound } from "../../app/errors";
import type { BankKeeper } from "./expected_keepers";
import { BONDED_POOL_ADDRESS, NOT_BONDED_POOL_ADDRESS, type StakingKeeper, tokensFromShares, type UnbondingEntry } from "./keeper";

const page = (total: number) => ({ nextKey: new Uint8Array(), total: BigInt(total) });

const unbondingJson = (delegator: Uint8Array, operator: Uint8Array, entries: UnbondingEntry[]): UnbondingDelegation => ({
  delegatorAddress: formatAddress(delegator), validatorAddress: formatValoperAddress(operator),
  entries: entries.map((e) => ({
    creationHeight: BigInt(e.creation_height), completionTime: { seconds: 0n, nanos: 0 }, initialBalance: e.initial_balance, balance: e.balance,
    unbondingId: 0n, unbondingOnHoldRefCount: 0n,
  })),
});

export function stakingQueryHandlers(keeper: StakingKeeper, bank: BankKeeper): QueryHandler[] {
  const S = "/cosmos.staking.v1beta1.Query/";

  async function validatorOr404(ctx: Context, addr: string): Promise<Validator> {
    const v = await keeper.getValidator(ctx, parseValoperAddress(addr, "validator_addr"));
    if (!v) throw ErrNotFound(`validator ${clip(addr)}`);
    return keeper.withStatus(ctx, v);
  }

  async function delegationResponse(ctx: Context, delegator: Uint8Array, operator: Uint8Array, shares: bigint): Promise<DelegationResponse> {
    const v = (await keeper.getValidator(ctx, operator))!;
    const { bond_denom: denom } = await keeper.params(ctx);
    return {
      delegation: { delegatorAddress: formatAddress(delegator), validatorAddress: v.operatorAddress, shares: shares.toString() },
      balance: { denom, amount: tokensFromShares(v, shares).toString() },
    };
  }

  return [
    grpcQuery(S + "Validators", QueryValidatorsRequest, QueryValidatorsResponse, async (ctx, req) => {
      if (req.status !== "" && !(req.status in BondStatus)) throw ErrInvalidRequest(`unknown validator status "${clip(req.status)}"`);
      const all = [];
      for (const v of await keeper.allValidators(ctx)) all.push(await keeper.withStatus(ctx, v));
      const validators = req.status === "" ? all : all.filter((v) => bondStatusToJSON(v.status) === req.status);
      return { validators, pagination: page(validators.length) };
    }),
    grpcQuery(S + "Validator", QueryValidatorRequest, QueryValidatorResponse, async (ctx, req) => ({ validator: await validatorOr404(ctx, req.validatorAddr) })),
    grpcQuery(S + "DelegatorDelegations", QueryDelegatorDelegationsRequest, QueryDelegatorDelegationsResponse, async (ctx, req) => {
      const delegator = parseAddress(req.delegatorAddr, "delegator_addr");
      const delegationResponses = [];
      for (const d of await keeper.delegatorDelegations(ctx, delegator)) delegationResponses.push(await delegationResponse(ctx, delegator, d.operator, d.shares));
      return { delegationResponses, pagination: page(delegationResponses.length) };
    }),
    grpcQuery(S + "ValidatorDelegations", QueryValidatorDelegationsRequest, QueryValidatorDelegationsResponse, async (ctx, req) => {
      const v = await validatorOr404(ctx, req.validatorAddr);
      const operator = parseValoperAddress(v.operatorAddress);
      const delegationResponses = [];
      for (const d of await keeper.validatorDelegations(ctx, operator)) delegationResponses.push(await delegationResponse(ctx, d.delegator, operator, d.shares));
      return { delegationResponses, pagination: page(delegationResponses.length) };
    }),
    grpcQuery(S + "Delegation", QueryDelegationRequest, QueryDelegationResponse, async (ctx, req) => {
      const delegator = parseAddress(req.delegatorAddr, "delegator_addr");
      const operator = parseValoperAddress(req.validatorAddr, "validator_addr");
      const shares = await keeper.delegationShares(ctx, delegator, operator);
      if (shares === undefined) throw ErrNotFound(`delegation with delegator ${clip(req.delegatorAddr)} not found for validator ${clip(req.validatorAddr)}`);
      return { delegationResponse: await delegationResponse(ctx, delegator, operator, shares) };
    }),
    grpcQuery(S + "UnbondingDelegation", QueryUnbondingDelegationRequest, QueryUnbondingDelegationResponse, async (ctx, req) => {
      const delegator = parseAddress(req.delegatorAddr, "delegator_addr");
      const operator = parseValoperAddress(req.validatorAddr, "validator_addr");
      const entries = await keeper.unbondingEntries(ctx, delegator, operator);
      if (entries.length === 0) throw ErrNotFound(`unbonding delegation with delegator ${clip(req.delegatorAddr)} not found for validator ${clip(req.validatorAddr)}`);
      return { unbond: unbondingJson(delegator, operator, entries) };
    }),
    grpcQuery(S + "DelegatorUnbondingDelegations", QueryDelegatorUnbondingDelegationsRequest, QueryDelegatorUnbondingDelegationsResponse, async (ctx, req) => {
      const delegator = parseAddress(req.delegatorAddr, "delegator_addr");
      const unbondingResponses = (await keeper.allUnbondings(ctx, delegator)).map((u) => unbondingJson(u.delegator, u.operator, u.entries));
      return { unbondingResponses, pagination: page(unbondingResponses.length) };
    }),
    grpcQuery(S + "Pool", QueryPoolRequest, QueryPoolResponse, async (ctx) => {
      const { bond_denom: denom } = await keeper.params(ctx);
      return { pool: { bondedTokens: (await bank.getBalance(ctx, BONDED_POOL_ADDRESS, denom)).toString(), notBondedTokens: (await bank.getBalance(ctx, NOT_BONDED_POOL_ADDRESS, denom)).toString() } };
    }),
    grpcQuery(S + "Params", QueryParamsRequest, QueryParamsResponse, async (ctx) => {
      const p = await keeper.params(ctx);
      // unbonding_time is not used: unbonding lasts unbonding_blocks blocks (see README.md).
      return { params: { unbondingTime: { seconds: 0n, nanos: 0 }, maxValidators: p.max_validators, maxEntries: p.max_entries, historicalEntries: 0, bondDenom: p.bond_denom, minCommissionRate: p.min_commission_rate.toString() } };
    }),
  ];
}
