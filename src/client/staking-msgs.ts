/**
 * The Cosmos SDK messages PoiTxClient sends (staking, slashing, distribution), built as CosmJS
 * EncodeObjects; the client signs and sends them.
 */
import type { Coin } from "@cosmjs/amino";
import { fromBech32, toBech32 } from "@cosmjs/encoding";
import { Decimal } from "@cosmjs/math";
import type { EncodeObject } from "@cosmjs/proto-signing";
import { PubKey as Ed25519PubKey } from "cosmjs-types/cosmos/crypto/ed25519/keys";
import { MsgWithdrawDelegatorReward, MsgWithdrawValidatorCommission } from "cosmjs-types/cosmos/distribution/v1beta1/tx";
import { MsgUnjail } from "cosmjs-types/cosmos/slashing/v1beta1/tx";
import { MsgCreateValidator, MsgDelegate, MsgEditValidator, MsgUndelegate } from "cosmjs-types/cosmos/staking/v1beta1/tx";
import { formatValoperAddress, parseAddress } from "../app/address";
import { VALOPER_PREFIX } from "../app/params";

export interface NewValidator {
  moniker: string;
  rate: string;
  maxRate: string;
  maxChangeRate: string;
  minSelfDelegation?: string;
}

/** A decimal ("0.1") as the SDK's LegacyDec in protobuf: its 10^18-scaled integer digits. */
function protoDec(d: string): string {
  return Decimal.fromUserInput(d, 18).atomics;
}

/** The validator operator address (poivaloper1...) of account `address`. */
export function valoperOf(address: string): string {
  return toBech32(VALOPER_PREFIX, fromBech32(address, 90).data);
}

/** MsgCreateValidator: `pubkey` the 32-byte ed25519 consensus key; rates are decimals such as "0.1". */
export function createValidatorMsg(validatorAddress: string, pubkey: Uint8Array, selfBond: Coin, v: NewValidator): EncodeObject {
  return {
    typeUrl: MsgCreateValidator.typeUrl,
    value: MsgCreateValidator.fromPartial({
      description: { moniker: v.moniker }, commission: { rate: protoDec(v.rate), maxRate: protoDec(v.maxRate), maxChangeRate: protoDec(v.maxChangeRate) },
      minSelfDelegation: v.minSelfDelegation ?? "1", validatorAddress, value: selfBond,
      pubkey: { typeUrl: "/cosmos.crypto.ed25519.PubKey", value: Ed25519PubKey.encode({ key: pubkey }).finish() },
    }),
  };
}

/** MsgEditValidator: a new moniker and/or commission rate (decimal such as "0.12"); omitted fields stay. */
export function editValidatorMsg(validatorAddress: string, e: { moniker?: string; rate?: string }): EncodeObject {
  const keep = "[do-not-modify]";
  return {
    typeUrl: MsgEditValidator.typeUrl,
    value: MsgEditValidator.fromPartial({
      description: { moniker: e.moniker ?? keep, identity: keep, website: keep, securityContact: keep, details: keep },
      validatorAddress, commissionRate: e.rate === undefined ? "" : protoDec(e.rate), minSelfDelegation: "",
    }),
  };
}

export function delegateMsg(delegatorAddress: string, validatorAddress: string, amount: Coin): EncodeObject {
  return { typeUrl: MsgDelegate.typeUrl, value: MsgDelegate.fromPartial({ delegatorAddress, validatorAddress, amount }) };
}

export function undelegateMsg(delegatorAddress: string, validatorAddress: string, amount: Coin): EncodeObject {
  return { typeUrl: MsgUndelegate.typeUrl, value: MsgUndelegate.fromPartial({ delegatorAddress, validatorAddress, amount }) };
}

export function unjailMsg(validatorAddr: string): EncodeObject {
  return { typeUrl: MsgUnjail.typeUrl, value: MsgUnjail.fromPartial({ validatorAddr }) };
}

export function withdrawRewardsMsg(delegatorAddress: string, validatorAddress: string): EncodeObject {
  return { typeUrl: MsgWithdrawDelegatorReward.typeUrl, value: MsgWithdrawDelegatorReward.fromPartial({ delegatorAddress, validatorAddress }) };
}

/** MsgWithdrawValidatorCommission for the validator that account `operator` operates. */
export function withdrawCommissionMsg(operator: string): EncodeObject {
  const validatorAddress = formatValoperAddress(parseAddress(operator));
  return { typeUrl: MsgWithdrawValidatorCommission.typeUrl, value: MsgWithdrawValidatorCommission.fromPartial({ validatorAddress }) };
}
