/**
 * x/slashing lite (the SDK's keeper/infractions.go): liveness over a sliding window of
 * decided_last_commit votes, jail and slash on downtime, slash + jail + tombstone on double signing
 * (FinalizeBlock's misbehavior). Signing infos are cosmos.slashing.v1beta1.ValidatorSigningInfo.
 */
import { toBech32 } from "@cosmjs/encoding";
import { ValidatorSigningInfo } from "cosmjs-types/cosmos/slashing/v1beta1/slashing";
import { BlockIDFlag } from "cosmjs-types/tendermint/types/validator";
import type { Context } from "../../app/context";
import type { BlockVotes } from "../../app/module";
import { VALCONS_PREFIX } from "../../app/params";
import type { StakingKeeper } from "./expected_keepers";
import { parseSlashingParams, type SlashingParams, slashingParamsJson } from "./params";

export const SLASHING_MODULE = "slashing";
/** jailed_until of a tombstoned validator: 9999-12-31T23:59:59Z, as the SDK's JailedForever. */
export const JAILED_FOREVER = 253402300799n;

// Keys inside "slashing/":
//   0x01 -> params JSON
//   0x02 | consensus address -> ValidatorSigningInfo protobuf
//   0x03 | consensus address | index (8 BE) -> empty: that block of the window was missed
const PARAMS = Buffer.from([0x01]);
const infoKey = (cons: Uint8Array) => Buffer.concat([Buffer.from([0x02]), cons]);
const missedKey = (cons: Uint8Array, index?: bigint) => {
  const i = Buffer.alloc(index === undefined ? 0 : 8);
  if (index !== undefined) i.writeBigUInt64BE(index);
  return Buffer.concat([Buffer.from([0x03]), cons, i]);
};

export const formatConsAddress = (cons: Uint8Array) => toBech32(VALCONS_PREFIX, cons);
const consHex = (cons: Uint8Array) => Buffer.from(cons).toString("hex").toUpperCase();

export class SlashingKeeper {
  constructor(private readonly staking: StakingKeeper) {}

  async params(ctx: Context): Promise<SlashingParams> {
    const raw = await ctx.store(SLASHING_MODULE).get(PARAMS);
    return parseSlashingParams(raw ? JSON.parse(Buffer.from(raw).toString("utf8")) : {});
  }

  setParams(ctx: Context, p: SlashingParams): void {
    ctx.store(SLASHING_MODULE).set(PARAMS, Buffer.from(JSON.stringify(slashingParamsJson(p)), "utf8"));
  }

  async signingInfo(ctx: Context, cons: Uint8Array): Promise<ValidatorSigningInfo | undefined> {
    const raw = await ctx.store(SLASHING_MODULE).get(infoKey(cons));
    return raw ? ValidatorSigningInfo.decode(raw) : undefined;
  }

  setSigningInfo(ctx: Context, cons: Uint8Array, info: ValidatorSigningInfo): void {
    ctx.store(SLASHING_MODULE).set(infoKey(cons), ValidatorSigningInfo.encode(info).finish());
  }

  /** Every signing info, in consensus-address order. */
  async signingInfos(ctx: Context): Promise<Array<{ cons: Uint8Array; info: ValidatorSigningInfo }>> {
    const rows = await ctx.store(SLASHING_MODULE).iterate(Buffer.from([0x02]), Buffer.from([0x03]));
    return rows.map(([k, v]) => ({ cons: Buffer.from(k.subarray(1)), info: ValidatorSigningInfo.decode(v) }));
  }

  /** Missed-block indexes of a validator's window, ascending. */
  async missedIndexes(ctx: Context, cons: Uint8Array): Promise<bigint[]> {
    const p = missedKey(cons);
    const rows = await ctx.store(SLASHING_MODULE).iterate(p, missedKey(cons, (1n << 64n) - 1n));
    return rows.map(([k]) => Buffer.from(k).readBigUInt64BE(21));
  }

  setMissed(ctx: Context, cons: Uint8Array, index: bigint, missed: boolean): void {
    if (missed) ctx.store(SLASHING_MODULE).set(missedKey(cons, index), new Uint8Array());
    else ctx.store(SLASHING_MODULE).delete(missedKey(cons, index));
  }

  /** BeginBlock: liveness from the previous block's votes, then double-sign evidence. */
  async beginBlock(ctx: Context, block: BlockVotes): Promise<void> {
    const params = await this.params(ctx);
    for (const vote of block.decidedLastCommit.votes) {
      if (vote.validator) await this.handleSignature(ctx, params, vote.validator.address, vote.blockIdFlag === BlockIDFlag.BLOCK_ID_FLAG_ABSENT);
    }
    for (const m of block.misbehavior) if (m.validator) await this.handleDoubleSign(ctx, params, m.validator.address, m.height);
  }

  private async handleSignature(ctx: Context, params: SlashingParams, cons: Uint8Array, missed: boolean): Promise<void> {
    const v = await this.staking.validatorByConsAddr(ctx, cons);
    if (!v || v.jailed) return;
    const h = ctx.header.height;
    const info = (await this.signingInfo(ctx, cons)) ?? ValidatorSigningInfo.fromPartial({ address: formatConsAddress(cons), startHeight: h, jailedUntil: { seconds: 0n, nanos: 0 } });
    const window = params.signed_blocks_window;
    const index = info.indexOffset % window;
    info.indexOffset += 1n;
    const wasMissed = (await ctx.store(SLASHING_MODULE).get(missedKey(cons, index))) !== undefined;
    if (missed !== wasMissed) {
      this.setMissed(ctx, cons, index, missed);
      info.missedBlocksCounter += missed ? 1n : -1n;
    }
    if (missed) ctx.events.emit("liveness", [["address", formatConsAddress(cons)], ["missed_blocks", info.missedBlocksCounter.toString()], ["height", h.toString()]]);
    const maxMissed = window - (window * params.min_signed_per_window_bps) / 10_000n;
    if (h > info.startHeight + window && info.missedBlocksCounter > maxMissed) {
      await this.staking.slash(ctx, cons, params.slash_fraction_downtime_bps, "missing_signature");
      await this.staking.jail(ctx, cons, "missing_signature");
      info.jailedUntil = { seconds: ctx.header.timeSeconds + params.downtime_jail_seconds, nanos: ctx.header.timeNanos };
      info.missedBlocksCounter = 0n;
      info.indexOffset = 0n;
      for (const i of await this.missedIndexes(ctx, cons)) this.setMissed(ctx, cons, i, false);
    }
    this.setSigningInfo(ctx, cons, info);
  }

  private async handleDoubleSign(ctx: Context, params: SlashingParams, cons: Uint8Array, height: bigint): Promise<void> {
    const v = await this.staking.validatorByConsAddr(ctx, cons);
    if (!v || v.tombstoned) return;
    await this.staking.slash(ctx, cons, params.slash_fraction_double_sign_bps, "double_sign");
    await this.staking.jail(ctx, cons, "double_sign");
    await this.staking.tombstone(ctx, cons);
    const info = (await this.signingInfo(ctx, cons)) ?? ValidatorSigningInfo.fromPartial({ address: formatConsAddress(cons), startHeight: ctx.header.height });
    info.tombstoned = true;
    info.jailedUntil = { seconds: JAILED_FOREVER, nanos: 0 };
    this.setSigningInfo(ctx, cons, info);
    ctx.events.emit("slash", [["address", formatConsAddress(cons)], ["reason", "double_sign"], ["infraction_height", height.toString()], ["validator", consHex(cons)]]);
  }
}
