import type { RequestInitChain, RequestPrepareProposal, RequestProcessProposal } from "cosmjs-types/tendermint/abci/types";
import type { AppModule, ExtendVoteRequest, PseudoTxHandler, VerifyVoteExtensionRequest } from "../../app/module";
import type { Context } from "../../app/context";
import { POI_MODULE, PoiKeeper } from "./keeper";
import { exportPoiGenesis, initPoiGenesis, type PoiGenesis } from "./genesis";
import type { BankKeeper, CommunityPool, Slasher, ValsetKeeper, WorkHooks } from "./expected_keepers";
import { WorkKeeper } from "./work_keeper";
import { poiMsgHandlers } from "./msgs/msg_server";
import { poiQueryHandlers } from "./queries";
import { endBlockTasks, type PoiDeps } from "./abci";
import { VerificationKeeper } from "./verification_keeper";
import { updateTaskIndexes } from "./indexes";
import { VerdictHooks, type VerdictSource } from "./verdict_hooks";

export class PoiModule implements AppModule {
  readonly name = POI_MODULE;
  readonly msgHandlers;
  readonly queryHandlers;
  readonly pseudoTx: PseudoTxHandler;
  private readonly deps: PoiDeps;
  /** Validators' seeds, reports, held income and stats. */
  readonly verification: VerificationKeeper;
  private readonly verdicts: VerdictHooks;
  /** Worker links and work scores; its workScore is the WorkScoreReader other modules read. */
  readonly work: WorkKeeper;

  /** `slasher` takes audit penalties (x/staking's once it exists); `communityPool` receives protocol fees (burned without one). */
  constructor(readonly keeper: PoiKeeper, bank: BankKeeper, valset: ValsetKeeper, slasher: Slasher, communityPool?: CommunityPool) {
    this.verification = new VerificationKeeper();
    this.work = new WorkKeeper();
    this.deps = { keeper, verification: this.verification, bank, valset, work: this.work, hooks: [], slasher, communityPool };
    this.msgHandlers = poiMsgHandlers(keeper, bank, this.work, valset);
    this.queryHandlers = poiQueryHandlers(keeper, this.deps.verification, this.work, valset);
    this.verdicts = new VerdictHooks(this.deps);
    this.pseudoTx = this.verdicts.pseudoTx;
  }

  /** Adds work hooks (x/distribution's); they run in the order added. */
  addWorkHooks(h: WorkHooks): void {
    this.deps.hooks.push(h);
  }

  /** Sends protocol fees to distribution's community pool instead of burning them. */
  setCommunityPool(p: CommunityPool): void {
    this.deps.communityPool = p;
  }

  /** Replaces the slasher (the app wires x/staking's once it exists; tests a fake). */
  setSlasher(s: Slasher): void {
    this.deps.slasher = s;
  }

  /** Attaches this validator's verifier (nodes do; in-process tests may not). */
  setVerifier(v: VerdictSource): void {
    this.verdicts.verifier = v;
  }

  /** The whole "poi/" key space, through the table in genesis.ts. */
  async initGenesis(ctx: Context, state: unknown): Promise<void> {
    await initPoiGenesis(ctx, state);
  }

  async exportGenesis(ctx: Context): Promise<PoiGenesis> {
    return exportPoiGenesis(ctx);
  }

  /** Verdicts arrive only once vote extensions are on: record from which height. */
  async initChain(ctx: Context, req: RequestInitChain): Promise<void> {
    this.keeper.setVoteExtensionsEnableHeight(ctx, req.consensusParams?.abci?.voteExtensionsEnableHeight ?? 0n);
  }

  async endBlock(ctx: Context): Promise<void> {
    await endBlockTasks(ctx, this.deps);
    await updateTaskIndexes(ctx); // last: after every task write of the block
  }

  prepareProposal(ctx: Context, req: RequestPrepareProposal): Promise<Uint8Array[]> {
    return this.verdicts.prepareProposal(ctx, req);
  }

  processProposal(ctx: Context, req: RequestProcessProposal): Promise<string | undefined> {
    return this.verdicts.processProposal(ctx, req);
  }

  extendVote(_ctx: Context, req: ExtendVoteRequest): Promise<Uint8Array> {
    return this.verdicts.extendVote(req);
  }

  verifyVoteExtension(ctx: Context, req: VerifyVoteExtensionRequest): Promise<boolean> {
    return this.verdicts.verifyVoteExtension(ctx, req);
  }

  afterCommit(): void {
    this.verdicts.afterCommit();
  }
}
