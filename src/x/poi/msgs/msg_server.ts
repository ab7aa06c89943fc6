/** poi's msg server: every Msg handler of the module, by concern (registry.ts, tasks.ts, training.ts, training_commit.ts, links.ts). */
import type { MsgHandler } from "../../../app/module";
import type { PoiKeeper } from "../keeper";
import type { BankKeeper, ValsetKeeper } from "../expected_keepers";
import type { WorkKeeper } from "../work_keeper";
import { linkMsgHandlers } from "./links";
import { registryMsgHandlers } from "./registry";
import { taskMsgHandlers } from "./tasks";
import { trainingSubmitHandler } from "./training";
import { trainingCommitHandlers } from "./training_commit";

export function poiMsgHandlers(keeper: PoiKeeper, bank: BankKeeper, work: WorkKeeper, valset: ValsetKeeper): MsgHandler[] {
  return [...registryMsgHandlers(keeper), ...taskMsgHandlers(keeper, bank), trainingSubmitHandler(keeper, bank), ...trainingCommitHandlers(keeper), ...linkMsgHandlers(work, valset)];
}
