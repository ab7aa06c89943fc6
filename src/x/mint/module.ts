import type { AppModule } from "../../app/module";
import type { Context } from "../../app/context";
import { ErrInvalidRequest } from "../../app/errors";
import { MINT_MODULE, MintKeeper } from "./keeper";
import { type MintParamsJson, mintParamsJson, parseMintParams } from "./params";
import { mintQueryHandlers } from "./queries";

/**
 * Genesis section "mint": `{ params?: MintParamsJson, minted?: "N" }`. A genesis without the section
 * leaves the module inactive (nothing minted, queries answer not found); `{}` takes the defaults.
 */
export interface MintGenesis {
  params?: MintParamsJson;
  minted?: string;
}

export class MintModule implements AppModule {
  readonly name = MINT_MODULE;
  readonly queryHandlers;

  constructor(readonly keeper: MintKeeper) {
    this.queryHandlers = mintQueryHandlers(keeper);
  }

  async initGenesis(ctx: Context, state: unknown): Promise<void> {
    if (state === undefined || state === null) return;
    if (typeof state !== "object" || Array.isArray(state)) throw ErrInvalidRequest("mint genesis must be an object");
    const g = state as MintGenesis;
    const params = parseMintParams(g.params);
    const minted = g.minted ?? "0";
    if (typeof minted !== "string" || !/^(0|[1-9][0-9]{0,38})$/.test(minted)) throw ErrInvalidRequest(`mint genesis: minted must be a non-negative integer string, got ${JSON.stringify(minted)?.slice(0, 60)}`);
    this.keeper.setParams(ctx, params);
    this.keeper.setMinted(ctx, BigInt(minted));
  }

  async exportGenesis(ctx: Context): Promise<MintGenesis | undefined> {
    const p = await this.keeper.params(ctx);
    return p ? { params: mintParamsJson(p), minted: (await this.keeper.minted(ctx)).toString() } : undefined;
  }

  async beginBlock(ctx: Context): Promise<void> {
    await this.keeper.mintBlock(ctx);
  }
}
