/** poi's msg server: every Msg handler of the module, by concern (registry.ts, tasks.ts, links.ts). */
import type { MsgHandler } from "../../../app/module";
import type { PoiKeeper } from "../keeper";
import type { BankKeeper, ValsetKeeper } from "../expected_keepers";
import type { WorkKeeper } from "../work_keeper";
import { linkMsgHandlers } from "./links";
import { registryMsgHandlers } from "./registry";
import { taskMsgHandlers } from "./tasks";

export function poiMsgHandlers(keeper: PoiKeeper, bank: BankKeeper, work: WorkKeeper, valset: ValsetKeeper): MsgHandler[] {
  return [...registryMsgHandlers(keeper), ...taskMsgHandlers(keeper, bank), ...linkMsgHandlers(work, valset)];
}
