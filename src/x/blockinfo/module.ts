import type { AppModule } from "../../app/module";
import type { Context } from "../../app/context";

export const BLOCKINFO_MODULE = "blockinfo";

// Keys inside "blockinfo/":
//   "chain_id"              -> chain id from InitChain
//   "last"                  -> height(8 BE) | time seconds(8 BE) | nanos(4 BE) of the last executed block
const CHAIN_ID = Buffer.from("chain_id");
const LAST = Buffer.from("last");

/** Records the chain id and each block's height and time: deterministic facts from the header. */
export class BlockInfoKeeper {
  async chainId(ctx: Context): Promise<string | undefined> {
    const raw = await ctx.store(BLOCKINFO_MODULE).get(CHAIN_ID);
    return raw ? Buffer.from(raw).toString("utf8") : undefined;
  }

  async recordBlock(ctx: Context): Promise<void> {
    const { height, timeSeconds, timeNanos } = ctx.header;
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

  async initGenesis(ctx: Context): Promise<void> {
    this.keeper.setChainId(ctx, ctx.header.chainId);
  }

  async exportGenesis(): Promise<Record<string, never>> {
    return {};
  }

  async beginBlock(ctx: Context): Promise<void> {
    await this.keeper.recordBlock(ctx);
  }
}
