import type { AppModule } from "../../app/module";
import type { Context } from "../../app/context";

export const BLOCKINFO_MODULE = "blockinfo";

/** How many recent block hashes stay in state (PoI sampling draws its randomness from them). */
export const KEPT_BLOCK_HASHES = 256n;

// Keys inside "blockinfo/":
//   "chain_id"              -> chain id from InitChain
//   "last"                  -> height(8 BE) | time seconds(8 BE) | nanos(4 BE) of the last executed block
//   "h" | height(8 BE)      -> that block's hash, for the last KEPT_BLOCK_HASHES heights
const CHAIN_ID = Buffer.from("chain_id");
const LAST = Buffer.from("last");

export function heightKey(height: bigint): Uint8Array {
  const k = Buffer.alloc(9);
  k[0] = 0x68; // "h"
  k.writeBigUInt64BE(height, 1);
  return k;
}

/** Records the chain id and each block's height, time and hash: deterministic facts from the header. */
export class BlockInfoKeeper {
  async chainId(ctx: Context): Promise<string | undefined> {
    const raw = await ctx.store(BLOCKINFO_MODULE).get(CHAIN_ID);
    return raw ? Buffer.from(raw).toString("utf8") : undefined;
  }

  async blockHash(ctx: Context, height: bigint): Promise<Uint8Array | undefined> {
    return ctx.store(BLOCKINFO_MODULE).get(heightKey(height));
  }

  async recordBlock(ctx: Context): Promise<void> {
    const { height, timeSeconds, timeNanos, hash } = ctx.header;
    const store = ctx.store(BLOCKINFO_MODULE);
    const last = Buffer.alloc(20);
    last.writeBigUInt64BE(height, 0);
    last.writeBigInt64BE(timeSeconds, 8);
    last.writeUInt32BE(timeNanos, 16);
    store.set(LAST, last);
    store.set(heightKey(height), hash);
    if (height > KEPT_BLOCK_HASHES) store.delete(heightKey(height - KEPT_BLOCK_HASHES));
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
