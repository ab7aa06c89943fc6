/** Staking announces changes; other modules (distribution, slashing) react (the SDK's StakingHooks). */
import type { Context } from "../../app/context";

/** Called by staking around every change, as the SDK's StakingHooks (B implements them for rewards). */
export interface StakingHooks {
  afterValidatorCreated?(ctx: Context, operator: Uint8Array): Promise<void>;
  /** Before a delegation is created or its shares change (B settles its rewards here). */
  beforeDelegationSharesModified?(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<void>;
  afterDelegationModified?(ctx: Context, delegator: Uint8Array, operator: Uint8Array): Promise<void>;
  beforeValidatorSlashed?(ctx: Context, operator: Uint8Array, fractionBps: bigint): Promise<void>;
}

/** The hooks in the order added; each call runs them one after another. */
export class HookList implements Required<StakingHooks> {
  private readonly hooks: StakingHooks[] = [];
  add(h: StakingHooks): void { this.hooks.push(h); }
  async afterValidatorCreated(ctx: Context, op: Uint8Array) { for (const h of this.hooks) await h.afterValidatorCreated?.(ctx, op); }
  async beforeDelegationSharesModified(ctx: Context, del: Uint8Array, op: Uint8Array) { for (const h of this.hooks) await h.beforeDelegationSharesModified?.(ctx, del, op); }
  async afterDelegationModified(ctx: Context, del: Uint8Array, op: Uint8Array) { for (const h of this.hooks) await h.afterDelegationModified?.(ctx, del, op); }
  async beforeValidatorSlashed(ctx: Context, op: Uint8Array, bps: bigint) { for (const h of this.hooks) await h.beforeValidatorSlashed?.(ctx, op, bps); }
}
