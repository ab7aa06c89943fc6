/**
 * The Slasher (the SDK's keeper/slash.go): burns a fraction of a validator's bonded tokens and of its
 * unbonding entries, and jails. A jailed validator's power becomes 0 at the next end block.
 */
import type { Context } from "../../app/context";
import type { BankKeeper } from "./expected_keepers";
import { BONDED_POOL_ADDRESS, NOT_BONDED_POOL_ADDRESS, type StakingKeeper } from "./keeper";
import { BPS } from "./params";

/** A slashes and jails; C calls it for audit penalties, A's slashing module for downtime/double sign. */
export interface Slasher {
  /** Burns fractionBps/10000 of the validator's bonded tokens (and of its unbonding entries). */
  slash(ctx: Context, consAddr: Uint8Array, fractionBps: bigint, reason: string): Promise<bigint /* burned */>;
  jail(ctx: Context, consAddr: Uint8Array, reason: string): Promise<void>;
}

export class StakingSlasher implements Slasher {
  constructor(private readonly k: StakingKeeper, private readonly bank: BankKeeper) {}

  async slash(ctx: Context, consAddr: Uint8Array, fractionBps: bigint, reason: string): Promise<bigint> {
    const v = await this.k.getValidatorByConsAddr(ctx, consAddr);
    if (!v || fractionBps <= 0n) return 0n;
    const bps = fractionBps > BPS ? BPS : fractionBps;
    const { bond_denom: denom } = await this.k.params(ctx);
    const operator = (await this.k.info(ctx, v)).operator;
    await this.k.hooks.beforeValidatorSlashed(ctx, operator, bps);
    const tokens = BigInt(v.tokens);
    const fromBonded = (tokens * bps) / BPS;
    if (fromBonded > 0n) await this.bank.burnCoins(ctx, BONDED_POOL_ADDRESS, [{ denom, amount: fromBonded }]);
    this.k.setValidator(ctx, { ...(await this.k.getValidator(ctx, operator))!, tokens: (tokens - fromBonded).toString() });
    let fromUnbonding = 0n;
    for (const u of await this.k.allUnbondings(ctx)) {
      if (!Buffer.from(u.operator).equals(operator)) continue;
      const entries = u.entries.map((e) => {
        const cut = (BigInt(e.balance) * bps) / BPS;
        fromUnbonding += cut;
        return { ...e, balance: (BigInt(e.balance) - cut).toString() };
      });
      this.k.setUnbondingEntries(ctx, u.delegator, u.operator, entries);
    }
    if (fromUnbonding > 0n) await this.bank.burnCoins(ctx, NOT_BONDED_POOL_ADDRESS, [{ denom, amount: fromUnbonding }]);
    const burned = fromBonded + fromUnbonding;
    ctx.events.emit("slash", [["address", Buffer.from(consAddr).toString("hex").toUpperCase()], ["fraction_bps", bps.toString()], ["reason", reason], ["burned_coins", burned.toString()]]);
    return burned;
  }

  async jail(ctx: Context, consAddr: Uint8Array, reason: string): Promise<void> {
    const v = await this.k.getValidatorByConsAddr(ctx, consAddr);
    if (!v || v.jailed) return;
    this.k.setValidator(ctx, { ...v, jailed: true });
    ctx.events.emit("jail", [["address", Buffer.from(consAddr).toString("hex").toUpperCase()], ["reason", reason]]);
  }

  /** Double sign: the validator may never unjail nor take delegations again. */
  async tombstone(ctx: Context, consAddr: Uint8Array): Promise<void> {
    const v = await this.k.getValidatorByConsAddr(ctx, consAddr);
    if (v) this.k.tombstone(ctx, (await this.k.info(ctx, v)).operator);
  }

  validatorByConsAddr(ctx: Context, consAddr: Uint8Array) {
    return this.k.validatorByConsAddr(ctx, consAddr);
  }

  validator(ctx: Context, operator: Uint8Array) {
    return this.k.validator(ctx, operator);
  }

  /** Whether the operator's own delegation meets its minimum (chain-wide and its own). */
  async selfBondMeetsMinimum(ctx: Context, operator: Uint8Array): Promise<{ ok: boolean; selfBond: bigint; minimum: bigint }> {
    const v = await this.k.getValidator(ctx, operator);
    if (!v) return { ok: false, selfBond: 0n, minimum: 0n };
    const params = await this.k.params(ctx);
    const own = BigInt(v.minSelfDelegation || "0");
    const minimum = own > params.min_self_bond ? own : params.min_self_bond;
    const selfBond = await this.k.selfBond(ctx, v);
    return { ok: selfBond >= minimum, selfBond, minimum };
  }

  /** Lifts the jail (x/slashing's MsgUnjail has checked the jail period and the self-bond). */
  async unjail(ctx: Context, operator: Uint8Array): Promise<void> {
    const v = await this.k.getValidator(ctx, operator);
    if (v?.jailed) this.k.setValidator(ctx, { ...v, jailed: false });
  }
}
