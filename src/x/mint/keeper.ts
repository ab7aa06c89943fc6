/**
 * x/mint: mints each block's reward of the schedule (params.ts) into the `mint` module account and
 * passes it to `fee_collector`, where x/distribution takes it together with the block's fees.
 * The module is active once its params are in state (a genesis with a "mint" section).
 */
import type { Context } from "../../app/context";
import { moduleAddress } from "../../app/address";
import { decFromRatio } from "../../app/legacy-dec";
import { FEE_COLLECTOR } from "../auth/ante";
import type { BankKeeper } from "./expected_keepers";
import { blockReward, scheduledIssuance, type MintParams, type MintParamsJson, mintParamsJson, parseMintParams } from "./params";

export const MINT_MODULE = "mint";
export const MINT_MODULE_ACCOUNT = moduleAddress(MINT_MODULE);

// Keys inside "mint/":
//   0x00 -> params (JSON of MintParamsJson, fixed field order)
//   0x01 -> upoi minted by this module since the schedule began (decimal string)
const PARAMS = Buffer.from([0x00]);
const MINTED = Buffer.from([0x01]);

export class MintKeeper {
  constructor(private readonly bank: BankKeeper) {}

  /** Undefined: the module is not active on this chain (its genesis had no "mint" section). */
  async params(ctx: Context): Promise<MintParams | undefined> {
    const raw = await ctx.store(MINT_MODULE).get(PARAMS);
    return raw ? parseMintParams(JSON.parse(Buffer.from(raw).toString("utf8")) as MintParamsJson) : undefined;
  }

  setParams(ctx: Context, p: MintParams): void {
    ctx.store(MINT_MODULE).set(PARAMS, Buffer.from(JSON.stringify(mintParamsJson(p)), "utf8"));
  }

  async minted(ctx: Context): Promise<bigint> {
    const raw = await ctx.store(MINT_MODULE).get(MINTED);
    return raw ? BigInt(Buffer.from(raw).toString("utf8")) : 0n;
  }

  setMinted(ctx: Context, v: bigint): void {
    ctx.store(MINT_MODULE).set(MINTED, Buffer.from(v.toString(), "utf8"));
  }

  /** What block `height` mints: its scheduled reward, limited by what the cap leaves. */
  static amountAt(p: MintParams, height: bigint, mintedBefore: bigint): bigint {
    const left = p.maxMinted > mintedBefore ? p.maxMinted - mintedBefore : 0n;
    const r = blockReward(p, height);
    return r < left ? r : left;
  }

  /** BeginBlock: mint this block's reward and hand it to fee_collector. */
  async mintBlock(ctx: Context): Promise<bigint> {
    const p = await this.params(ctx);
    if (!p) return 0n;
    const before = await this.minted(ctx);
    const amount = MintKeeper.amountAt(p, ctx.header.height, before);
    if (amount > 0n) {
      const coins = [{ denom: p.mintDenom, amount }];
      await this.bank.mintCoins(ctx, MINT_MODULE_ACCOUNT, coins);
      await this.bank.sendCoins(ctx, MINT_MODULE_ACCOUNT, FEE_COLLECTOR, coins);
      this.setMinted(ctx, before + amount);
    }
    const { inflation, annualProvisions } = await this.rates(ctx, p);
    ctx.events.emit("mint", [["amount", amount.toString()], ["inflation", inflation], ["annual_provisions", annualProvisions]]);
    return amount;
  }

  /**
   * Annual provisions: what the schedule mints over the next blocks_per_year blocks after the
   * current height (halvings in that window included, limited by the cap). Inflation: that divided by
   * the current supply. Both LegacyDec texts, truncated.
   */
  async rates(ctx: Context, p: MintParams): Promise<{ inflation: string; annualProvisions: string }> {
    const h = ctx.header.height;
    const minted = await this.minted(ctx);
    const left = p.maxMinted > minted ? p.maxMinted - minted : 0n;
    const scheduled = scheduledIssuance(p, h + 1n, h + p.blocksPerYear);
    const annual = scheduled < left ? scheduled : left;
    const supply = await this.bank.getSupply(ctx, p.mintDenom);
    return { inflation: decFromRatio(annual, supply), annualProvisions: decFromRatio(annual, 1n) };
  }
}
