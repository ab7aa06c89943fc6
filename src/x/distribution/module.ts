import type { AppModule } from "../../app/module";
import type { Context } from "../../app/context";
import type { BankKeeper } from "./expected_keepers";
import { DistributionKeeper } from "./keeper/keeper";
import { DISTRIBUTION_MODULE } from "./keeper/state";
import { exportDistributionGenesis, initDistributionGenesis } from "./genesis";
import { distributionMsgHandlers } from "./msg-server";
import { distributionQueryHandlers } from "./grpc-query";

export class DistributionModule implements AppModule {
  readonly name = DISTRIBUTION_MODULE;
  readonly msgHandlers;
  readonly queryHandlers;

  constructor(readonly keeper: DistributionKeeper, private readonly bank: BankKeeper) {
    this.msgHandlers = distributionMsgHandlers(keeper);
    this.queryHandlers = distributionQueryHandlers(keeper);
  }

  initGenesis(ctx: Context, state: unknown): Promise<void> {
    return initDistributionGenesis(ctx, this.keeper.state, this.bank, state);
  }

  exportGenesis(ctx: Context): Promise<unknown> {
    return exportDistributionGenesis(ctx, this.keeper.state);
  }

  /** After mint: the pot is fee_collector's balance, the previous block's fees plus this block's mint. */
  beginBlock(ctx: Context): Promise<void> {
    return this.keeper.beginBlock(ctx);
  }
}
