import type { AppModule } from "../../app/module";
import type { Context } from "../../app/context";
import { ErrInvalidRequest } from "../../app/errors";
import { DEFAULT_PARAMS, POI_MODULE, PoiKeeper } from "./keeper";
import { poiMsgHandlers } from "./msgs";
import { poiQueryHandlers } from "./queries";
import type { Params } from "./types";

/** Genesis section "poi": the params (JSON, 64-bit values as decimal strings); defaults where absent. */
export interface PoiGenesis {
  params?: Partial<Record<keyof Params, string>>;
}

export class PoiModule implements AppModule {
  readonly name = POI_MODULE;
  readonly msgHandlers;
  readonly queryHandlers;

  constructor(readonly keeper: PoiKeeper) {
    this.msgHandlers = poiMsgHandlers(keeper);
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
    this.keeper.setParams(ctx, params);
  }

  async exportGenesis(ctx: Context): Promise<PoiGenesis> {
    return { params: await this.keeper.params(ctx) };
  }
}
