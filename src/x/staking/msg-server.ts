/** The staking Msgs, in the SDK's types (cosmjs-types), so CosmJS's own staking helpers work. */
import {
  MsgCreateValidator, MsgCreateValidatorResponse, MsgDelegate, MsgDelegateResponse, MsgEditValidator, MsgEditValidatorResponse,
  MsgUndelegate, MsgUndelegateResponse,
} from "cosmjs-types/cosmos/staking/v1beta1/tx";
import { PubKey as Ed25519PubKey } from "cosmjs-types/cosmos/crypto/ed25519/keys";
import type { Description } from "cosmjs-types/cosmos/staking/v1beta1/staking";
import { type MsgHandler, msgHandler } from "../../app/module";
import { formatValoperAddress, parseAddress, parseValoperAddress } from "../../app/address";
import { clip, ErrInvalidCoins, ErrInvalidPubKey, ErrInvalidRequest } from "../../app/errors";
import type { BankKeeper } from "./expected_keepers";
import { ED25519_PUBKEY_TYPE_URL, type StakingKeeper } from "./keeper";
import { STAKING_MODULE } from "./keys";
import { checkCommission, type CommissionInput, createValidator, delegate, type NewValidator, undelegate } from "./delegations";
import { ErrBondDenom, ErrCommissionGTMaxChangeRate, ErrNoValidatorFound } from "./errors";

const MAX_DESCRIPTION = { moniker: 70, identity: 3000, website: 140, securityContact: 140, details: 280 } as const;

/** A LegacyDec as the SDK writes it in protobuf: the integer scaled by 10^18, as decimal digits. */
export function parseProtoDec(s: string, field: string): bigint {
  if (!/^[0-9]{1,40}$/.test(s)) throw ErrInvalidRequest(`${field} "${clip(s)}" is not a decimal scaled by 10^18 (digits only, e.g. "100000000000000000" for 0.1)`);
  return BigInt(s);
}

function parseAmount(c: { denom: string; amount: string } | undefined, field: string): { denom: string; amount: bigint } {
  if (!c) throw ErrInvalidCoins(`${field} is missing`);
  if (!/^[0-9]{1,40}$/.test(c.amount) || BigInt(c.amount) === 0n) throw ErrInvalidCoins(`${field} must be a positive integer amount, got "${clip(c.amount)}"`);
  return { denom: c.denom, amount: BigInt(c.amount) };
}

function checkDescription(d: Description | undefined): Description {
  const desc = d ?? { moniker: "", identity: "", website: "", securityContact: "", details: "" };
  for (const [k, max] of Object.entries(MAX_DESCRIPTION)) {
    const v = desc[k as keyof Description];
    if (v.length > max) throw ErrInvalidRequest(`description ${k} is ${v.length} characters, limit ${max}`);
  }
  return desc;
}

async function bondDenom(keeper: StakingKeeper, ctx: Parameters<MsgHandler["handle"]>[0], denom: string): Promise<void> {
  const want = (await keeper.params(ctx)).bond_denom;
  if (denom !== want) throw ErrBondDenom(`got ${clip(denom)}, want ${want}`);
}

export function stakingMsgHandlers(keeper: StakingKeeper, bank: BankKeeper): MsgHandler[] {
  const create: MsgHandler<NewValidator & { denom: string }> = {
    typeUrl: MsgCreateValidator.typeUrl,
    module: STAKING_MODULE,
    decode(value) {
      const m = MsgCreateValidator.decode(value);
      const operator = parseValoperAddress(m.validatorAddress, "validator_address");
      if (m.delegatorAddress && !Buffer.from(parseAddress(m.delegatorAddress, "delegator_address")).equals(operator)) {
        throw ErrInvalidRequest("delegator_address must be the validator operator's account (or empty)");
      }
      if (m.pubkey?.typeUrl !== ED25519_PUBKEY_TYPE_URL) throw ErrInvalidPubKey(`consensus pubkey must be an Any of ${ED25519_PUBKEY_TYPE_URL}, got "${clip(m.pubkey?.typeUrl ?? "")}"`);
      const key = Ed25519PubKey.decode(m.pubkey.value).key;
      if (key.length !== 32) throw ErrInvalidPubKey(`ed25519 consensus pubkey has ${key.length} bytes, want 32`);
      const commission: CommissionInput = {
        rate: parseProtoDec(m.commission?.rate ?? "", "commission rate"),
        maxRate: parseProtoDec(m.commission?.maxRate ?? "", "commission max_rate"),
        maxChangeRate: parseProtoDec(m.commission?.maxChangeRate ?? "", "commission max_change_rate"),
      };
      checkCommission(commission, 0n);
      const value_ = parseAmount(m.value, "value");
      const minSelfDelegation = /^[0-9]{1,40}$/.test(m.minSelfDelegation) ? BigInt(m.minSelfDelegation) : -1n;
      if (minSelfDelegation < 1n) throw ErrInvalidRequest(`min_self_delegation must be a positive integer, got "${clip(m.minSelfDelegation)}"`);
      return { operator, pubkey: key, description: checkDescription(m.description), commission, minSelfDelegation, selfBond: value_.amount, denom: value_.denom };
    },
    signers: (m) => [m.operator],
    async handle(ctx, m) {
      await bondDenom(keeper, ctx, m.denom);
      await createValidator(ctx, keeper, bank, m);
      return { typeUrl: MsgCreateValidatorResponse.typeUrl, value: MsgCreateValidatorResponse.encode({}).finish() };
    },
  };

  const edit: MsgHandler<{ operator: Uint8Array; description?: Description; rate?: bigint; minSelfDelegation?: bigint }> = {
    typeUrl: MsgEditValidator.typeUrl,
    module: STAKING_MODULE,
    decode(value) {
      const m = MsgEditValidator.decode(value);
      const operator = parseValoperAddress(m.validatorAddress, "validator_address");
      const rate = m.commissionRate ? parseProtoDec(m.commissionRate, "commission_rate") : undefined;
      const minSelfDelegation = m.minSelfDelegation ? parseProtoDec(m.minSelfDelegation, "min_self_delegation") : undefined;
      // The SDK's "[do-not-modify]" marks fields left as they are.
      const description = m.description && m.description.moniker !== "[do-not-modify]" ? checkDescription(m.description) : undefined;
      return { operator, description, rate, minSelfDelegation };
    },
    signers: (m) => [m.operator],
    async handle(ctx, m) {
      const v = await keeper.getValidator(ctx, m.operator);
      if (!v) throw ErrNoValidatorFound(formatValoperAddress(m.operator));
      const rates = v.commission.commissionRates;
      let commission = v.commission;
      if (m.rate !== undefined) {
        const old = BigInt(rates.rate);
        checkCommission({ rate: m.rate, maxRate: BigInt(rates.maxRate), maxChangeRate: BigInt(rates.maxChangeRate) }, (await keeper.params(ctx)).min_commission_rate);
        const change = m.rate > old ? m.rate - old : old - m.rate;
        if (change > BigInt(rates.maxChangeRate)) throw ErrCommissionGTMaxChangeRate(`change ${change} is above the max change rate ${rates.maxChangeRate}`);
        commission = { commissionRates: { ...rates, rate: m.rate.toString() }, updateTime: { seconds: ctx.header.timeSeconds, nanos: ctx.header.timeNanos } };
      }
      if (m.minSelfDelegation !== undefined && m.minSelfDelegation <= BigInt(v.minSelfDelegation)) {
        throw ErrInvalidRequest(`min_self_delegation may only rise: ${m.minSelfDelegation} is not above ${v.minSelfDelegation}`);
      }
      keeper.setValidator(ctx, {
        ...v, commission, description: m.description ?? v.description, minSelfDelegation: (m.minSelfDelegation ?? BigInt(v.minSelfDelegation)).toString(),
      });
      ctx.events.emit("edit_validator", [["commission_rate", commission.commissionRates.rate], ["min_self_delegation", (m.minSelfDelegation ?? v.minSelfDelegation).toString()]]);
      return { typeUrl: MsgEditValidatorResponse.typeUrl, value: MsgEditValidatorResponse.encode({}).finish() };
    },
  };

  type Move = { delegator: Uint8Array; operator: Uint8Array; denom: string; amount: bigint };
  const decodeMove = (m: { delegatorAddress: string; validatorAddress: string; amount: { denom: string; amount: string } }): Move => ({
    delegator: parseAddress(m.delegatorAddress, "delegator_address"), operator: parseValoperAddress(m.validatorAddress, "validator_address"),
    ...parseAmount(m.amount, "amount"),
  });

  const del: MsgHandler<Move> = {
    typeUrl: MsgDelegate.typeUrl,
    module: STAKING_MODULE,
    decode: (value) => decodeMove(MsgDelegate.decode(value)),
    signers: (m) => [m.delegator],
    async handle(ctx, m) {
      await bondDenom(keeper, ctx, m.denom);
      await delegate(ctx, keeper, bank, m.delegator, m.operator, m.amount);
      return { typeUrl: MsgDelegateResponse.typeUrl, value: MsgDelegateResponse.encode({}).finish() };
    },
  };

  const undel: MsgHandler<Move> = {
    typeUrl: MsgUndelegate.typeUrl,
    module: STAKING_MODULE,
    decode: (value) => decodeMove(MsgUndelegate.decode(value)),
    signers: (m) => [m.delegator],
    async handle(ctx, m) {
      await bondDenom(keeper, ctx, m.denom);
      const { tokens } = await undelegate(ctx, keeper, bank, m.delegator, m.operator, m.amount);
      // Completion is by height (completion_height in the unbond event); the time field stays unset.
      return { typeUrl: MsgUndelegateResponse.typeUrl, value: MsgUndelegateResponse.encode(MsgUndelegateResponse.fromPartial({ amount: { denom: m.denom, amount: tokens.toString() } })).finish() };
    },
  };

  return [msgHandler(create), msgHandler(edit), msgHandler(del), msgHandler(undel)];
}
