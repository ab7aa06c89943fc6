import type { ValidatorUpdate } from "cosmjs-types/tendermint/abci/types";
import type { AppModule } from "../../app/module";
import type { Context } from "../../app/context";
import { STAKING_MODULE } from "./keys";
import type { StakingKeeper } from "./keeper";
import { stakingMsgHandlers } from "./msg-server";
import { stakingQueryHandlers } from "./grpc-query";
import { exportStakingGenesis, initStakingGenesis, type StakingGenesis } from "./genesis";
import { stakingEndBlock, type StakingDeps } from "./abci";
import type { BankKeeper, ValsetRecorder, WorkScoreReader } from "./expected_keepers";

export class StakingModule implements AppModule {
  readonly name = STAKING_MODULE;
  readonly msgHandlers;
  readonly queryHandlers;
  private readonly deps: StakingDeps;

  constructor(readonly keeper: StakingKeeper, bank: BankKeeper, valset: ValsetRecorder, work: WorkScoreReader) {
    this.deps = { keeper, bank, valset, work };
    // x/poi pays a validator's verification income to its operator (x/valset's record).
    keeper.addHooks({
      afterValidatorCreated: async (ctx, operator) => {
        const v = await keeper.validator(ctx, operator);
        if (v) valset.setOperator(ctx, v.consAddress, operator);
      },
    });
    this.msgHandlers = stakingMsgHandlers(keeper, bank);
    this.queryHandlers = stakingQueryHandlers(keeper, bank);
  }

  /** Part C's work scores, once x/poi provides them (the app starts with a source of zeros). */
  setWorkScoreReader(work: WorkScoreReader): void {
    this.deps.work = work;
  }

  initGenesis(ctx: Context, state: unknown): Promise<void> {
    return initStakingGenesis(ctx, this.deps, state);
  }

  exportGenesis(ctx: Context): Promise<StakingGenesis> {
    return exportStakingGenesis(ctx, this.deps);
  }

  endBlock(ctx: Context): Promise<ValidatorUpdate[]> {
    return stakingEndBlock(ctx, this.deps);
  }
}
