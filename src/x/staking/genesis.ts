/**
 * Genesis section "staking": params, validators (cosmos.staking.v1beta1.Validator JSON), delegations,
 * unbonding entries, the powers last sent to CometBFT and tombstoned validators. Bank's genesis holds
 * the pools' coins; they must equal the bonded tokens and the unbonding balances. Without
 * last_validator_powers (a new chain), the first set is computed here and recorded in x/valset.
 */
import { Validator } from "cosmjs-types/cosmos/staking/v1beta1/staking";
import type { Context } from "../../app/context";
import { formatAddress, formatValoperAddress, parseAddress, parseValoperAddress } from "../../app/address";
import { ErrInvalidRequest } from "../../app/errors";
import { consensusAddress } from "../valset/module";
import { K, STAKING_MODULE } from "./keys";
import { PubKey as Ed25519PubKey } from "cosmjs-types/cosmos/crypto/ed25519/keys";
import { BONDED_POOL_ADDRESS, ED25519_PUBKEY_TYPE_URL, NOT_BONDED_POOL_ADDRESS, operatorOf, validatorPubkey, type UnbondingEntry } from "./keeper";
import { DEC_ONE, parseStakingParams, stakingParamsJson } from "./params";
import { applyValidatorUpdates, type StakingDeps } from "./abci";

export interface StakingGenesis {
  params?: Record<string, unknown>;
  validators?: unknown[];
  delegations?: Array<{ delegator_address: string; validator_address: string; shares: string }>;
  unbonding_delegations?: Array<{ delegator_address: string; validator_address: string; entries: UnbondingEntry[] }>;
  last_validator_powers?: Array<{ address: string; power: string }>;
  tombstoned?: string[];
}

const DIGITS = /^[0-9]{1,40}$/;

function digits(v: unknown, where: string): bigint {
  if (typeof v !== "string" || !DIGITS.test(v)) throw ErrInvalidRequest(`staking genesis: ${where} must be a decimal string`);
  return BigInt(v);
}

export async function initStakingGenesis(ctx: Context, deps: StakingDeps, state: unknown): Promise<void> {
  const { keeper: k } = deps;
  const g = (state ?? {}) as StakingGenesis;
  const params = parseStakingParams(g.params);
  k.setParams(ctx, params);
  const shareSums = new Map<string, bigint>();
  let bonded = 0n;
  for (const [i, json] of (g.validators ?? []).entries()) {
    let v: Validator;
    try {
      v = Validator.fromJSON(json);
      validatorPubkey(v);
    } catch (err) {
      throw ErrInvalidRequest(`staking genesis: validators[${i}] is not a cosmos.staking.v1beta1.Validator with an ed25519 key: ${(err as Error).message}`);
    }
    const op = parseValoperAddress(v.operatorAddress, `staking genesis validators[${i}].operator_address`);
    if (await k.getValidator(ctx, op)) throw ErrInvalidRequest(`staking genesis: validator ${v.operatorAddress} listed twice`);
    const cons = consensusAddress(validatorPubkey(v));
    if (await k.getValidatorByConsAddr(ctx, cons)) throw ErrInvalidRequest(`staking genesis: validators[${i}] reuses a consensus key`);
    bonded += digits(v.tokens, `validators[${i}].tokens`);
    digits(v.delegatorShares, `validators[${i}].delegator_shares`);
    k.setValidator(ctx, v);
    deps.valset.setOperator(ctx, cons, op);
    shareSums.set(v.operatorAddress, 0n);
  }
  for (const [i, d] of (g.delegations ?? []).entries()) {
    const del = parseAddress(d.delegator_address, `staking genesis delegations[${i}].delegator_address`);
    const op = parseValoperAddress(d.validator_address, `staking genesis delegations[${i}].validator_address`);
    if (!shareSums.has(d.validator_address)) throw ErrInvalidRequest(`staking genesis: delegations[${i}] to unknown validator ${d.validator_address}`);
    const shares = digits(d.shares, `delegations[${i}].shares`);
    shareSums.set(d.validator_address, shareSums.get(d.validator_address)! + shares);
    k.setDelegation(ctx, del, op, shares);
  }
  for (const v of await k.allValidators(ctx)) {
    if (shareSums.get(v.operatorAddress) !== BigInt(v.delegatorShares)) throw ErrInvalidRequest(`staking genesis: delegations to ${v.operatorAddress} hold ${shareSums.get(v.operatorAddress)} shares, the validator says ${v.delegatorShares}`);
  }
  let unbonding = 0n;
  for (const [i, u] of (g.unbonding_delegations ?? []).entries()) {
    const del = parseAddress(u.delegator_address, `staking genesis unbonding_delegations[${i}].delegator_address`);
    const op = parseValoperAddress(u.validator_address, `staking genesis unbonding_delegations[${i}].validator_address`);
    for (const e of u.entries) {
      unbonding += digits(e.balance, `unbonding_delegations[${i}] balance`);
      ctx.store(STAKING_MODULE).set(K.unbondingQueue(digits(e.completion_height, `unbonding_delegations[${i}] completion_height`), del, op), new Uint8Array());
    }
    k.setUnbondingEntries(ctx, del, op, u.entries);
  }
  for (const t of g.tombstoned ?? []) k.tombstone(ctx, parseValoperAddress(t, "staking genesis tombstoned"));
  const pool = await deps.bank.getBalance(ctx, BONDED_POOL_ADDRESS, params.bond_denom);
  if (pool !== bonded) throw ErrInvalidRequest(`staking genesis: bonded_tokens_pool holds ${pool}${params.bond_denom}, validators' tokens sum to ${bonded}${params.bond_denom}`);
  const notBonded = await deps.bank.getBalance(ctx, NOT_BONDED_POOL_ADDRESS, params.bond_denom);
  if (notBonded !== unbonding) throw ErrInvalidRequest(`staking genesis: not_bonded_tokens_pool holds ${notBonded}${params.bond_denom}, unbonding entries sum to ${unbonding}${params.bond_denom}`);
  if ((g.validators ?? []).length === 0) return;
  if (g.last_validator_powers) {
    for (const p of g.last_validator_powers) k.setLastPower(ctx, parseValoperAddress(p.address, "staking genesis last_validator_powers"), digits(p.power, "last_validator_powers power"));
    return;
  }
  const updates = await applyValidatorUpdates(ctx, deps, true);
  if (updates.length === 0) throw ErrInvalidRequest("staking genesis: no validator has power (each needs a self-bond of at least min_self_bond and tokens worth one power unit)");
  await deps.valset.setGenesisValidators(ctx, updates);
}

export async function exportStakingGenesis(ctx: Context, deps: StakingDeps): Promise<StakingGenesis> {
  const { keeper: k } = deps;
  const validators = await k.allValidators(ctx);
  const tombstoned = [];
  for (const v of validators) if (await k.isTombstoned(ctx, operatorOf(v))) tombstoned.push(v.operatorAddress);
  return {
    params: stakingParamsJson(await k.params(ctx)),
    validators: validators.map((v) => Validator.toJSON(v)),
    delegations: (await k.allDelegations(ctx)).map((d) => ({ delegator_address: formatAddress(d.delegator), validator_address: formatValoperAddress(d.operator), shares: d.shares.toString() })),
    unbonding_delegations: (await k.allUnbondings(ctx)).map((u) => ({ delegator_address: formatAddress(u.delegator), validator_address: formatValoperAddress(u.operator), entries: u.entries })),
    last_validator_powers: (await k.lastPowers(ctx)).map((p) => ({ address: formatValoperAddress(p.operator), power: p.power.toString() })),
    tombstoned,
  };
}

/** A validator of a new chain: its operator account bonds `selfBond` to it at genesis. */
export interface GenesisValidatorSpec { operator: string; pubkey: Uint8Array; selfBond: bigint; moniker: string; commissionRate?: bigint }

/**
 * The staking section making each spec a validator with its self-delegation (for `poi init`, localnets
 * and tests), and the coins that bank's genesis must move: each operator pays its self-bond into
 * bonded_tokens_pool (`bondedPool` is that account's address and balance).
 */
export function genesisValidators(specs: readonly GenesisValidatorSpec[], params: Record<string, unknown> = {}): { staking: StakingGenesis; bondedPool: { address: string; amount: bigint } } {
  const validators = specs.map((s) => Validator.toJSON(Validator.fromPartial({
    operatorAddress: formatValoperAddress(parseAddress(s.operator)),
    consensusPubkey: { typeUrl: ED25519_PUBKEY_TYPE_URL, value: Ed25519PubKey.encode({ key: s.pubkey }).finish() },
    tokens: s.selfBond.toString(), delegatorShares: (s.selfBond * DEC_ONE).toString(), description: { moniker: s.moniker },
    commission: { commissionRates: { rate: (s.commissionRate ?? DEC_ONE / 10n).toString(), maxRate: (DEC_ONE / 5n).toString(), maxChangeRate: (DEC_ONE / 100n).toString() }, updateTime: { seconds: 0n, nanos: 0 } },
    minSelfDelegation: "1",
  })));
  const delegations = specs.map((s) => ({ delegator_address: s.operator, validator_address: formatValoperAddress(parseAddress(s.operator)), shares: (s.selfBond * DEC_ONE).toString() }));
  return { staking: { params, validators, delegations }, bondedPool: { address: formatAddress(BONDED_POOL_ADDRESS), amount: specs.reduce((t, s) => t + s.selfBond, 0n) } };
}
