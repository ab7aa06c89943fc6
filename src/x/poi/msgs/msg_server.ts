/** poi's msg server: every Msg handler of the module, by concern (registry.ts, tasks.ts). */
import type { MsgHandler } from "../../../app/module";
import type { PoiKeeper } from "../keeper";
import type { BankKeeper } from "../expected_keepers";
import { registryMsgHandlers } from "./registry";
import { taskMsgHandlers } from "./tasks";

export function poiMsgHandlers(keeper: PoiKeeper, bank: BankKeeper): MsgHandler[] {
  return [...registryMsgHandlers(keeper), ...taskMsgHandlers(keeper, bank)];
}
