/**
 * Coin-moving staking operations (the SDK's keeper/delegation.go and validator.go): creating a
 * validator with its self-delegation, delegating, undelegating into an unbonding entry, and paying
 * out matured entries. Every check runs before the first write, so a refused operation changes nothing.
 * Bonded tokens of every validator sit in bonded_tokens_pool; unbonding entries in not_bonded_tokens_pool.
 */
import { Validator, BondStatus, type Description } from "cosmjs-types/cosmos/staking/v1beta1/staking";
import { PubKey as Ed25519PubKey } from "cosmjs-types/cosmos/crypto/ed25519/keys";
import type { Context } from "../../app/context";
import { formatAddress, formatValoperAddress } from "../../app/address";
import { ErrInsufficientFunds } from "../../app/errors";
import { consensusAddress } from "../valset/module";
import type { BankKeeper } from "./expected_keepers";
import { K, STAKING_MODULE } from "./keys";
import {
  BONDED_POOL_ADDRESS, ED25519_PUBKEY_TYPE_URL, NOT_BONDED_POOL_ADDRESS, type StakingKeeper, sharesFromTokens, tokensFromShares, type UnbondingEntry,
} from "./keeper";
import {
  ErrBadValidatorTombstoned, ErrCommissionInvalid, ErrMaxUnbondingDelegationEntries, ErrNoDelegation, ErrNoValidatorFound,
  ErrSelfDelegationBelowMinimum, ErrValidatorOwnerExists, ErrValidatorPubKeyExists,
} from "./errors";
import { DEC_ONE } from "./params";

export interface CommissionInput { rate: bigint; maxRate: bigint; maxChangeRate: bigint }

export interface NewValidator {
  operator: Uint8Array;
  pubkey: Uint8Array;
  description: Description;
  commission: CommissionInput;
  minSelfDelegation: bigint;
  selfBond: bigint;
}

const ts = (ctx: Context) => ({ seconds: ctx.header.timeSeconds, nanos: ctx.header.timeNanos });

export function checkCommission(c: CommissionInput, minRate: bigint): void {
  if (c.maxRate > DEC_ONE) throw ErrCommissionInvalid(`max rate ${c.maxRate} is above 1 (10^18)`);
  if (c.rate > c.maxRate) throw ErrCommissionInvalid(`rate ${c.rate} is above the max rate ${c.maxRate}`);
  if (c.maxChangeRate > c.maxRate) throw ErrCommissionInvalid(`max change rate ${c.maxChangeRate} is above the max rate ${c.maxRate}`);
  if (c.rate < minRate) throw ErrCommissionInvalid(`rate ${c.rate} is below the chain's minimum ${minRate}`);
}

/** MsgCreateValidator: a new validator and its operator's self-delegation. */
export async function createValidator(ctx: Context, k: StakingKeeper, bank: BankKeeper, n: NewValidator): Promise<void> {
  const params = await k.params(ctx);
  if (await k.getValidator(ctx, n.operator)) throw ErrValidatorOwnerExists(`operator ${formatValoperAddress(n.operator)}`);
  const cons = consensusAddress(n.pubkey);
  if (await k.getValidatorByConsAddr(ctx, cons)) throw ErrValidatorPubKeyExists(`consensus address ${Buffer.from(cons).toString("hex").toUpperCase()}`);
  checkCommission(n.commission, params.min_commission_rate);
  const minimum = n.minSelfDelegation > params.min_self_bond ? n.minSelfDelegation : params.min_self_bond;
  if (n.selfBond < minimum) throw ErrSelfDelegationBelowMinimum(`self-bond ${n.selfBond}${params.bond_denom} is below the minimum ${minimum}${params.bond_denom}`);
  const have = await bank.getBalance(ctx, n.operator, params.bond_denom);
  if (have < n.selfBond) throw ErrInsufficientFunds(`balance ${have}${params.bond_denom} is smaller than the self-bond ${n.selfBond}${params.bond_denom}`);
  const v = Validator.fromPartial({
    operatorAddress: formatValoperAddress(n.operator),
    consensusPubkey: { typeUrl: ED25519_PUBKEY_TYPE_URL, value: Ed25519PubKey.encode({ key: n.pubkey }).finish() },
    jailed: false, status: BondStatus.BOND_STATUS_UNBONDED, tokens: "0", delegatorShares: "0", description: n.description,
    commission: { commissionRates: { rate: n.commission.rate.toString(), maxRate: n.commission.maxRate.toString(), maxChangeRate: n.commission.maxChangeRate.toString() }, updateTime: ts(ctx) },
    minSelfDelegation: n.minSelfDelegation.toString(),
  });
  k.setValidator(ctx, v);
  await k.hooks.afterValidatorCreated(ctx, n.operator);
  await delegate(ctx, k, bank, n.operator, n.operator, n.selfBond);
  ctx.events.emit("create_validator", [["validator", v.operatorAddress], ["amount", `${n.selfBond}${params.bond_denom}`]]);
}

/** Bonds `amount` of the delegator's coins to a validator; returns the new shares. */
export async function delegate(ctx: Context, k: StakingKeeper, bank: BankKeeper, delegator: Uint8Array, operator: Uint8Array, amount: bigint): Promise<bigint> {
  const params = await k.params(ctx);
  const v = await k.getValidator(ctx, operator);
  if (!v) throw ErrNoValidatorFound(formatValoperAddress(operator));
  if (await k.isTombstoned(ctx, operator)) throw ErrBadValidatorTombstoned(formatValoperAddress(operator));
  const shares = sharesFromTokens(v, amount);
  if (shares === 0n) throw ErrNoDelegation(`${amount}${params.bond_denom} buys no shares`);
  await k.hooks.beforeDelegationSharesModified(ctx, delegator, operator);
  await bank.sendCoins(ctx, delegator, BONDED_POOL_ADDRESS, [{ denom: params.bond_denom, amount }]);
  const old = (await k.delegationShares(ctx, delegator, operator)) ?? 0n;
  k.setDelegation(ctx, delegator, operator, old + shares);
  k.setValidator(ctx, { ...v, tokens: (BigInt(v.tokens) + amount).toString(), delegatorShares: (BigInt(v.delegatorShares) + shares).toString() });
  await k.hooks.afterDelegationModified(ctx, delegator, operator);
  ctx.events.emit("delegate", [["validator", v.operatorAddress], ["delegator", formatAddress(delegator)], ["amount", `${amount}${params.bond_denom}`], ["new_shares", shares.toString()]]);
  return shares;
}

/**
 * Unbonds `amount` tokens of a delegation: the shares worth it are removed now and the tokens move to
 * the not-bonded pool as an entry paid out at completion height. Returns that height and the tokens.
 */
export async function undelegate(ctx: Context, k: StakingKeeper, bank: BankKeeper, delegator: Uint8Array, operator: Uint8Array, amount: bigint): Promise<{ completionHeight: bigint; tokens: bigint }> {
  const params = await k.params(ctx);
  const v = await k.getValidator(ctx, operator);
  if (!v) throw ErrNoValidatorFound(formatValoperAddress(operator));
  const held = await k.delegationShares(ctx, delegator, operator);
  if (held === undefined) throw ErrNoDelegation(`${formatAddress(delegator)} has no delegation to ${v.operatorAddress}`);
  const worth = tokensFromShares(v, held);
  if (amount > worth) throw ErrInsufficientFunds(`undelegating ${amount}${params.bond_denom} but the delegation is worth ${worth}${params.bond_denom}`);
  // Whole delegation: every share; otherwise the shares worth `amount`, rounded up (the SDK's SharesFromTokens then ValidateUnbondAmount).
  const total = BigInt(v.delegatorShares);
  let shares = amount === worth ? held : (amount * total + BigInt(v.tokens) - 1n) / BigInt(v.tokens);
  if (shares > held) shares = held;
  const tokens = amount === worth ? worth : amount;
  const entries = await k.unbondingEntries(ctx, delegator, operator);
  if (entries.length >= params.max_entries) throw ErrMaxUnbondingDelegationEntries(`${entries.length} entries, limit ${params.max_entries}`);
  await k.hooks.beforeDelegationSharesModified(ctx, delegator, operator);
  k.setDelegation(ctx, delegator, operator, held - shares);
  k.setValidator(ctx, { ...v, tokens: (BigInt(v.tokens) - tokens).toString(), delegatorShares: (total - shares).toString() });
  if (held - shares > 0n) await k.hooks.afterDelegationModified(ctx, delegator, operator);
  if (tokens > 0n) await bank.sendCoins(ctx, BONDED_POOL_ADDRESS, NOT_BONDED_POOL_ADDRESS, [{ denom: params.bond_denom, amount: tokens }]);
  const completionHeight = ctx.header.height + params.unbonding_blocks;
  entries.push({ creation_height: ctx.header.height.toString(), completion_height: completionHeight.toString(), initial_balance: tokens.toString(), balance: tokens.toString() });
  k.setUnbondingEntries(ctx, delegator, operator, entries);
  ctx.store(STAKING_MODULE).set(K.unbondingQueue(completionHeight, delegator, operator), new Uint8Array());
  ctx.events.emit("unbond", [["validator", v.operatorAddress], ["delegator", formatAddress(delegator)], ["amount", `${tokens}${params.bond_denom}`], ["completion_height", completionHeight.toString()]]);
  return { completionHeight, tokens };
}

/** End block: pays out every unbonding entry that completes at or before this height. */
export async function completeUnbondings(ctx: Context, k: StakingKeeper, bank: BankKeeper): Promise<void> {
  const h = ctx.header.height;
  const params = await k.params(ctx);
  const store = ctx.store(STAKING_MODULE);
  const due = await store.iterate(K.unbondingQueue(0n), K.unbondingQueue(h + 1n));
  for (const [key] of due) {
    store.delete(key);
    const delegator = Buffer.from(key.subarray(9, 29));
    const operator = Buffer.from(key.subarray(29, 49));
    const entries = await k.unbondingEntries(ctx, delegator, operator);
    const done = entries.filter((e: UnbondingEntry) => BigInt(e.completion_height) <= h);
    const paid = done.reduce((s, e) => s + BigInt(e.balance), 0n);
    k.setUnbondingEntries(ctx, delegator, operator, entries.filter((e) => BigInt(e.completion_height) > h));
    if (paid > 0n) await bank.sendCoins(ctx, NOT_BONDED_POOL_ADDRESS, delegator, [{ denom: params.bond_denom, amount: paid }]);
    ctx.events.emit("complete_unbonding", [["validator", formatValoperAddress(operator)], ["delegator", formatAddress(delegator)], ["amount", `${paid}${params.bond_denom}`]]);
  }
}
