import {
  MsgWithdrawDelegatorReward, MsgWithdrawDelegatorRewardResponse, MsgWithdrawValidatorCommission, MsgWithdrawValidatorCommissionResponse,
  MsgFundCommunityPool, MsgFundCommunityPoolResponse,
} from "cosmjs-types/cosmos/distribution/v1beta1/tx";
import { type MsgHandler, msgHandler } from "../../app/module";
import { parseAddress, parseValoperAddress } from "../../app/address";
import { BOND_DENOM } from "../../app/params";
import { ErrInvalidCoins } from "../../app/errors";
import { parseCoins } from "../bank/types";
import type { DistributionKeeper } from "./keeper/keeper";
import { DISTRIBUTION_MODULE } from "./keeper/state";

const coinsOut = (amount: bigint) => (amount === 0n ? [] : [{ denom: BOND_DENOM, amount: amount.toString() }]);

/** cosmos.distribution.v1beta1.Msg: withdraw delegator reward, withdraw validator commission, fund community pool. */
export function distributionMsgHandlers(keeper: DistributionKeeper): MsgHandler[] {
  const withdrawReward: MsgHandler<{ delegator: Uint8Array; operator: Uint8Array }> = {
    typeUrl: MsgWithdrawDelegatorReward.typeUrl,
    module: DISTRIBUTION_MODULE,
    decode(value) {
      const m = MsgWithdrawDelegatorReward.decode(value);
      return { delegator: parseAddress(m.delegatorAddress, "delegator_address"), operator: parseValoperAddress(m.validatorAddress, "validator_address") };
    },
    signers: (m) => [m.delegator],
    async handle(ctx, m) {
      await keeper.requireActive(ctx);
      const amount = await keeper.rewards.withdrawDelegatorReward(ctx, m.delegator, m.operator);
      return { typeUrl: MsgWithdrawDelegatorRewardResponse.typeUrl, value: MsgWithdrawDelegatorRewardResponse.encode({ amount: coinsOut(amount) }).finish() };
    },
  };

  const withdrawCommission: MsgHandler<{ operator: Uint8Array }> = {
    typeUrl: MsgWithdrawValidatorCommission.typeUrl,
    module: DISTRIBUTION_MODULE,
    decode(value) {
      return { operator: parseValoperAddress(MsgWithdrawValidatorCommission.decode(value).validatorAddress, "validator_address") };
    },
    // The operator account (the same bytes as the valoper address) signs.
    signers: (m) => [m.operator],
    async handle(ctx, m) {
      await keeper.requireActive(ctx);
      const amount = await keeper.rewards.withdrawCommission(ctx, m.operator);
      return { typeUrl: MsgWithdrawValidatorCommissionResponse.typeUrl, value: MsgWithdrawValidatorCommissionResponse.encode({ amount: coinsOut(amount) }).finish() };
    },
  };

  const fund: MsgHandler<{ depositor: Uint8Array; amount: bigint }> = {
    typeUrl: MsgFundCommunityPool.typeUrl,
    module: DISTRIBUTION_MODULE,
    decode(value) {
      const m = MsgFundCommunityPool.decode(value);
      const coins = parseCoins(m.amount);
      if (coins.length !== 1 || coins[0].denom !== BOND_DENOM) throw ErrInvalidCoins(`the community pool takes ${BOND_DENOM} only`);
      return { depositor: parseAddress(m.depositor, "depositor"), amount: coins[0].amount };
    },
    signers: (m) => [m.depositor],
    async handle(ctx, m) {
      await keeper.fundCommunityPool(ctx, m.depositor, m.amount);
      return { typeUrl: MsgFundCommunityPoolResponse.typeUrl, value: MsgFundCommunityPoolResponse.encode({}).finish() };
    },
  };

  return [msgHandler(withdrawReward), msgHandler(withdrawCommission), msgHandler(fund)];
}
