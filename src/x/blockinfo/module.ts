import type { AppModule } from "../../app/module";
import type { Context } from "../../app/context";
import { ErrInvalidRequest } from "../../app/errors";

export const BLOCKINFO_MODULE = "blockinfo";

// Keys inside "blockinfo/":
//   "chain_id"              -> chain id from InitChain
//   "last"                  -> height(8 BE) | time seconds(8 BE) | nanos(4 BE) of the last executed block
const CHAIN_ID = Buffer.from("chain_id");
const LAST = Buffer.from("last");

export interface LastBlock {
  height: bigint;
  timeSeconds: bigint;
  timeNanos: number;
}

/**
 * Genesis section "blockinfo": the last executed block of an exported chain (absent on a new chain).
 * The chain id is not in it: it comes from InitChain.
 */
export interface BlockInfoGenesis {
  last_block?: { height: string; time_seconds: string; time_nanos: number };
}

/** Records the chain id and each block's height and time: deterministic facts from the header. */
export class BlockInfoKeeper {
  async chainId(ctx: Context): Promise<string | undefined> {
    const raw = await ctx.store(BLOCKINFO_MODULE).get(CHAIN_ID);
    return raw ? Buffer.from(raw).toString("utf8") : undefined;
  }

  async recordBlock(ctx: Context): Promise<void> {
    this.setLastBlock(ctx, ctx.header);
  }

  async lastBlock(ctx: Context): Promise<LastBlock | undefined> {
    const raw = await ctx.store(BLOCKINFO_MODULE).get(LAST);
    if (!raw) return undefined;
    const b = Buffer.from(raw);
    return { height: b.readBigUInt64BE(0), timeSeconds: b.readBigInt64BE(8), timeNanos: b.readUInt32BE(16) };
  }

  setLastBlock(ctx: Context, { height, timeSeconds, timeNanos }: LastBlock): void {
    const last = Buffer.alloc(20);
    last.writeBigUInt64BE(height, 0);
    last.writeBigInt64BE(timeSeconds, 8);
    last.writeUInt32BE(timeNanos, 16);
    ctx.store(BLOCKINFO_MODULE).set(LAST, last);
  }

  setChainId(ctx: Context, chainId: string): void {
    ctx.store(BLOCKINFO_MODULE).set(CHAIN_ID, Buffer.from(chainId, "utf8"));
  }
}

export class BlockInfoModule implements AppModule {
  readonly name = BLOCKINFO_MODULE;
  constructor(readonly keeper: BlockInfoKeeper) {}

  async initGenesis(ctx: Context, state: unknown): Promise<void> {
    this.keeper.setChainId(ctx, ctx.header.chainId);
    const last = (state as BlockInfoGenesis | undefined)?.last_block;
    if (last === undefined) return;
    const ok = typeof last === "object" && last !== null && /^[0-9]{1,19}$/.test(String(last.height)) && /^-?[0-9]{1,19}$/.test(String(last.time_seconds)) &&
      Number.isInteger(last.time_nanos) && last.time_nanos >= 0 && last.time_nanos < 1_000_000_000;
    if (!ok) throw ErrInvalidRequest(`blockinfo genesis: last_block must be {height, time_seconds, time_nanos}, got ${JSON.stringify(last).slice(0, 200)}`);
    this.keeper.setLastBlock(ctx, { height: BigInt(last.height), timeSeconds: BigInt(last.time_seconds), timeNanos: last.time_nanos });
  }

  async exportGenesis(ctx: Context): Promise<BlockInfoGenesis> {
    const last = await this.keeper.lastBlock(ctx);
    return last ? { last_block: { height: last.height.toString(), time_seconds: last.timeSeconds.toString(), time_nanos: last.timeNanos } } : {};
  }

  async beginBlock(ctx: Context): Promise<void> {
    await this.keeper.recordBlock(ctx);
  }
}
