/**
 * x/staking state: validators (stored as cosmos.staking.v1beta1.Validator), delegations (shares with
 * 18 implied decimals), unbonding entries, the power CometBFT was last sent, params. Coin movements
 * (delegate, undelegate, slash) are in delegations.ts and slash.ts; the end block in abci.ts.
 */
import { Validator, BondStatus } from "cosmjs-types/cosmos/staking/v1beta1/staking";
import { PubKey as Ed25519PubKey } from "cosmjs-types/cosmos/crypto/ed25519/keys";
import type { Context } from "../../app/context";
import { formatValoperAddress, moduleAddress, parseValoperAddress } from "../../app/address";
import { prefixEnd } from "../../store/prefix";
import { consensusAddress } from "../valset/module";
import { K, STAKING_MODULE, BONDED_POOL, NOT_BONDED_POOL, u64 } from "./keys";
import { type StakingParams, parseStakingParams, stakingParamsJson, DEC_ONE } from "./params";
import { HookList, type StakingHooks } from "./hooks";

export type { StakingHooks } from "./hooks";

export interface StakingValidatorInfo {
  operator: Uint8Array;       // 20-byte account bytes; displayed as bech32 "poivaloper1..."
  consPubkey: Uint8Array;     // ed25519, 32 bytes
  consAddress: Uint8Array;    // sha256(consPubkey)[:20]
  tokens: bigint;             // bonded upoi (self-bond + delegations, after slashes)
  delegatorShares: bigint;    // total shares, integer with 18 implied decimals (the SDK's LegacyDec scale)
  commissionRateBps: bigint;  // 0..10000
  jailed: boolean;
  tombstoned: boolean;
  power: bigint;              // the CometBFT power in effect (what the last update sent)
}

export interface StakingReader {
  validator(ctx: Context, operator: Uint8Array): Promise<StakingValidatorInfo | undefined>;
  validatorByConsAddr(ctx: Context, consAddr: Uint8Array): Promise<StakingValidatorInfo | undefined>;
  /** Every validator, in operator-address byte order. */
  validators(ctx: Context): Promise<StakingValidatorInfo[]>;
  /** A delegator's shares in a validator (18 implied decimals), undefined if none. */
  delegationShares(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<bigint | undefined>;
  /** Every delegation to a validator, in delegator byte order. */
  validatorDelegations(ctx: Context, operator: Uint8Array): Promise<Array<{ delegator: Uint8Array; shares: bigint }>>;
}

/** One pending return of undelegated coins. */
export interface UnbondingEntry { creation_height: string; completion_height: string; initial_balance: string; balance: string }

export const ED25519_PUBKEY_TYPE_URL = "/cosmos.crypto.ed25519.PubKey";
export const BONDED_POOL_ADDRESS = moduleAddress(BONDED_POOL);
export const NOT_BONDED_POOL_ADDRESS = moduleAddress(NOT_BONDED_POOL);

const enc = (s: string) => Buffer.from(s, "utf8");
const dec = (b: Uint8Array) => Buffer.from(b).toString("utf8");

export function validatorPubkey(v: Validator): Uint8Array {
  return Ed25519PubKey.decode(v.consensusPubkey!.value).key;
}

export function operatorOf(v: Validator): Uint8Array {
  return parseValoperAddress(v.operatorAddress);
}

/** Tokens worth `shares` of validator `v` (truncated, as the SDK's TokensFromShares). */
export function tokensFromShares(v: Validator, shares: bigint): bigint {
  const total = BigInt(v.delegatorShares);
  return total === 0n ? 0n : (shares * BigInt(v.tokens)) / total;
}

/** Shares that `amount` tokens buy in validator `v`. */
export function sharesFromTokens(v: Validator, amount: bigint): bigint {
  const tokens = BigInt(v.tokens);
  const total = BigInt(v.delegatorShares);
  return tokens === 0n || total === 0n ? amount * DEC_ONE : (amount * total) / tokens;
}

export class StakingKeeper implements StakingReader {
  readonly hooks = new HookList();

  /** Hooks run in the order added. */
  addHooks(h: StakingHooks): void {
    this.hooks.add(h);
  }

  async params(ctx: Context): Promise<StakingParams> {
    const raw = await ctx.store(STAKING_MODULE).get(K.PARAMS);
    return parseStakingParams(raw ? JSON.parse(dec(raw)) : {});
  }

  setParams(ctx: Context, p: StakingParams): void {
    ctx.store(STAKING_MODULE).set(K.PARAMS, enc(JSON.stringify(stakingParamsJson(p))));
  }

  // ---- validators ----------------------------------------------------------------------------

  async getValidator(ctx: Context, op: Uint8Array): Promise<Validator | undefined> {
    const raw = await ctx.store(STAKING_MODULE).get(K.validator(op));
    return raw ? Validator.decode(raw) : undefined;
  }

  async getValidatorByConsAddr(ctx: Context, cons: Uint8Array): Promise<Validator | undefined> {
    const op = await ctx.store(STAKING_MODULE).get(K.byConsAddr(cons));
    return op ? this.getValidator(ctx, op) : undefined;
  }

  /** Writes the record (and its consensus-address index). */
  setValidator(ctx: Context, v: Validator): void {
    const op = operatorOf(v);
    ctx.store(STAKING_MODULE).set(K.validator(op), Validator.encode(v).finish());
    ctx.store(STAKING_MODULE).set(K.byConsAddr(consensusAddress(validatorPubkey(v))), op);
  }

  async allValidators(ctx: Context): Promise<Validator[]> {
    const rows = await ctx.store(STAKING_MODULE).iterate(Buffer.from([K.VALIDATOR]), Buffer.from([K.VALIDATOR + 1]));
    return rows.map(([, v]) => Validator.decode(v));
  }

  async lastPower(ctx: Context, op: Uint8Array): Promise<bigint> {
    const raw = await ctx.store(STAKING_MODULE).get(K.lastPower(op));
    return raw ? Buffer.from(raw).readBigUInt64BE(0) : 0n;
  }

  /** Operator -> power CometBFT was last sent, for validators in the set, in operator order. */
  async lastPowers(ctx: Context): Promise<Array<{ operator: Uint8Array; power: bigint }>> {
    const rows = await ctx.store(STAKING_MODULE).iterate(Buffer.from([K.LAST_POWER]), Buffer.from([K.LAST_POWER + 1]));
    return rows.map(([k, v]) => ({ operator: Buffer.from(k.subarray(1)), power: Buffer.from(v).readBigUInt64BE(0) }));
  }

  setLastPower(ctx: Context, op: Uint8Array, power: bigint): void {
    if (power === 0n) ctx.store(STAKING_MODULE).delete(K.lastPower(op));
    else ctx.store(STAKING_MODULE).set(K.lastPower(op), u64(power));
  }

  async isTombstoned(ctx: Context, op: Uint8Array): Promise<boolean> {
    return (await ctx.store(STAKING_MODULE).get(K.tombstone(op))) !== undefined;
  }

  tombstone(ctx: Context, op: Uint8Array): void {
    ctx.store(STAKING_MODULE).set(K.tombstone(op), new Uint8Array());
  }

  async info(ctx: Context, v: Validator): Promise<StakingValidatorInfo> {
    const operator = operatorOf(v);
    const consPubkey = validatorPubkey(v);
    return {
      operator, consPubkey, consAddress: consensusAddress(consPubkey),
      tokens: BigInt(v.tokens), delegatorShares: BigInt(v.delegatorShares),
      commissionRateBps: BigInt(v.commission.commissionRates.rate) / 10n ** 14n,
      jailed: v.jailed, tombstoned: await this.isTombstoned(ctx, operator), power: await this.lastPower(ctx, operator),
    };
  }

  /** The record as queries show it: status from the power in effect. */
  async withStatus(ctx: Context, v: Validator): Promise<Validator> {
    const power = await this.lastPower(ctx, operatorOf(v));
    return { ...v, status: power > 0n ? BondStatus.BOND_STATUS_BONDED : BondStatus.BOND_STATUS_UNBONDED };
  }

  // ---- StakingReader ------------------------------------------------------------------------

  async validator(ctx: Context, operator: Uint8Array): Promise<StakingValidatorInfo | undefined> {
    const v = await this.getValidator(ctx, operator);
    return v ? this.info(ctx, v) : undefined;
  }

  async validatorByConsAddr(ctx: Context, consAddr: Uint8Array): Promise<StakingValidatorInfo | undefined> {
    const v = await this.getValidatorByConsAddr(ctx, consAddr);
    return v ? this.info(ctx, v) : undefined;
  }

  async validators(ctx: Context): Promise<StakingValidatorInfo[]> {
    const out = [];
    for (const v of await this.allValidators(ctx)) out.push(await this.info(ctx, v));
    return out;
  }

  async delegationShares(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<bigint | undefined> {
    const raw = await ctx.store(STAKING_MODULE).get(K.delegation(delegator, operator));
    return raw ? BigInt(dec(raw)) : undefined;
  }

  async validatorDelegations(ctx: Context, operator: Uint8Array): Promise<Array<{ delegator: Uint8Array; shares: bigint }>> {
    const p = K.delegationByVal(operator);
    const out = [];
    for (const [k] of await ctx.store(STAKING_MODULE).iterate(p, prefixEnd(p))) {
      const delegator = Buffer.from(k.subarray(p.length));
      out.push({ delegator, shares: (await this.delegationShares(ctx, delegator, operator))! });
    }
    return out;
  }

  /** A delegator's delegations, in operator order. */
  async delegatorDelegations(ctx: Context, delegator: Uint8Array): Promise<Array<{ operator: Uint8Array; shares: bigint }>> {
    const p = K.delegation(delegator);
    const rows = await ctx.store(STAKING_MODULE).iterate(p, prefixEnd(p));
    return rows.map(([k, v]) => ({ operator: Buffer.from(k.subarray(p.length)), shares: BigInt(dec(v)) }));
  }

  /** Every delegation, in (delegator, operator) order: for genesis export. */
  async allDelegations(ctx: Context): Promise<Array<{ delegator: Uint8Array; operator: Uint8Array; shares: bigint }>> {
    const rows = await ctx.store(STAKING_MODULE).iterate(Buffer.from([K.DELEGATION]), Buffer.from([K.DELEGATION + 1]));
    return rows.map(([k, v]) => ({ delegator: Buffer.from(k.subarray(1, 21)), operator: Buffer.from(k.subarray(21, 41)), shares: BigInt(dec(v)) }));
  }

  setDelegation(ctx: Context, delegator: Uint8Array, operator: Uint8Array, shares: bigint): void {
    const s = ctx.store(STAKING_MODULE);
    if (shares === 0n) {
      s.delete(K.delegation(delegator, operator));
      s.delete(K.delegationByVal(operator, delegator));
    } else {
      s.set(K.delegation(delegator, operator), enc(shares.toString()));
      s.set(K.delegationByVal(operator, delegator), new Uint8Array());
    }
  }

  /** Tokens of the operator's own delegation to its validator. */
  async selfBond(ctx: Context, v: Validator): Promise<bigint> {
    const op = operatorOf(v);
    const shares = await this.delegationShares(ctx, op, op);
    return shares === undefined ? 0n : tokensFromShares(v, shares);
  }

  // ---- unbonding entries ---------------------------------------------------------------------

  async unbondingEntries(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<UnbondingEntry[]> {
    const raw = await ctx.store(STAKING_MODULE).get(K.unbonding(delegator, operator));
    return raw ? (JSON.parse(dec(raw)) as UnbondingEntry[]) : [];
  }

  setUnbondingEntries(ctx: Context, delegator: Uint8Array, operator: Uint8Array, entries: UnbondingEntry[]): void {
    if (entries.length === 0) ctx.store(STAKING_MODULE).delete(K.unbonding(delegator, operator));
    else ctx.store(STAKING_MODULE).set(K.unbonding(delegator, operator), enc(JSON.stringify(entries)));
  }

  /** Every (delegator, operator) with unbonding entries, in key order. */
  async allUnbondings(ctx: Context, delegator?: Uint8Array): Promise<Array<{ delegator: Uint8Array; operator: Uint8Array; entries: UnbondingEntry[] }>> {
    const p = delegator ? K.unbonding(delegator) : Buffer.from([K.UNBONDING]);
    const rows = await ctx.store(STAKING_MODULE).iterate(p, prefixEnd(p));
    return rows.map(([k, v]) => ({ delegator: Buffer.from(k.subarray(1, 21)), operator: Buffer.from(k.subarray(21, 41)), entries: JSON.parse(dec(v)) as UnbondingEntry[] }));
  }

  static valoper(op: Uint8Array): string {
    return formatValoperAddress(op);
  }
}
