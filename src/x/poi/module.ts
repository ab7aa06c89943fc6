import type { ExecTxResult } from "cosmjs-types/tendermint/abci/types";
import type { AppModule } from "../../app/module";
import type { Context } from "../../app/context";
import { ErrInvalidRequest, toAbciError } from "../../app/errors";
import { Branch } from "../../store/store";
import type { BankKeeperI } from "../bank/keeper";
import type { ValsetKeeper } from "../valset/module";
import { DEFAULT_PARAMS, POI_MODULE, PoiKeeper } from "./keeper";
import { poiMsgHandlers } from "./msgs";
import { poiQueryHandlers } from "./queries";
import { endBlockTasks, recordVerdicts, taskMsgHandlers, type TaskDeps } from "./tasks";
import { beaconOf, checkAggregate, decodeAggregateTx } from "./verdicts";
import { ErrInvalidAggregate } from "./errors";
import type { Params } from "./types";

/** Genesis section "poi": the params (JSON, 64-bit values as decimal strings); defaults where absent. */
export interface PoiGenesis {
  params?: Partial<Record<keyof Params, string>>;
}

export class PoiModule implements AppModule {
  readonly name = POI_MODULE;
  readonly msgHandlers;
  readonly queryHandlers;
  private readonly deps: TaskDeps;

  constructor(readonly keeper: PoiKeeper, bank: BankKeeperI, valset: ValsetKeeper) {
    this.deps = { keeper, bank, valset };
    this.msgHandlers = [...poiMsgHandlers(keeper), ...taskMsgHandlers(this.deps)];
    this.queryHandlers = poiQueryHandlers(keeper);
  }

  async initGenesis(ctx: Context, state: unknown): Promise<void> {
    const g = (state ?? {}) as PoiGenesis;
    const params: Params = { ...DEFAULT_PARAMS };
    for (const k of Object.keys(DEFAULT_PARAMS).sort() as Array<keyof Params>) {
      const v = g.params?.[k];
      if (v === undefined) continue;
      if (typeof v !== "string" || !/^[1-9][0-9]{0,15}$/.test(v)) throw ErrInvalidRequest(`poi genesis: params.${k} must be a positive integer string, got ${JSON.stringify(v)}`);
      params[k] = v;
    }
    if (BigInt(params.slashToRequesterBps) > 10000n) throw ErrInvalidRequest(`poi genesis: params.slashToRequesterBps ${params.slashToRequesterBps} is more than 10000`);
    this.keeper.setParams(ctx, params);
  }

  async exportGenesis(ctx: Context): Promise<PoiGenesis> {
    return { params: await this.keeper.params(ctx) };
  }

  async endBlock(ctx: Context): Promise<void> {
    await endBlockTasks(ctx, this.deps);
  }

  /**
   * Applies the verdict aggregate at the head of a block: checks it again (FinalizeBlock also runs
   * during replay, without ProcessProposal), stores the block's beacon and records the verdicts. A bad
   * aggregate changes nothing and gets an error code in its tx result.
   */
  async applyAggregate(ctx: Context, tx: Uint8Array): Promise<Partial<ExecTxResult>> {
    const branch = new Branch(ctx.kv);
    const bctx = ctx.withKV(branch);
    try {
      let checked;
      const agg = decodeAggregateTx(tx);
      try {
        checked = checkAggregate(agg, await this.deps.valset.validators(bctx), ctx.header.chainId, ctx.header.height);
      } catch (err) {
        throw ErrInvalidAggregate((err as Error).message);
      }
      this.keeper.setBeacon(bctx, ctx.header.height, beaconOf(agg));
      let recorded = 0;
      for (const vote of checked) {
        if (vote.extension) recorded += await recordVerdicts(bctx, this.keeper, vote.validatorHex, vote.extension.verdicts);
      }
      bctx.events.emit("poi_verdict_aggregate", [["vote_height", agg.height], ["votes", String(checked.length)], ["verdicts_recorded", String(recorded)]]);
      branch.write();
      return { code: 0, events: bctx.events.events };
    } catch (err) {
      const e = toAbciError(err);
      return { code: e.code, codespace: e.codespace, log: e.log };
    }
  }
}
