import type { RequestInitChain, RequestPrepareProposal, RequestProcessProposal } from "cosmjs-types/tendermint/abci/types";
import type { AppModule, ExtendVoteRequest, PseudoTxHandler, VerifyVoteExtensionRequest } from "../../app/module";
import type { Context } from "../../app/context";
import { ErrInvalidRequest } from "../../app/errors";
import { DEFAULT_PARAMS, POI_MODULE, PoiKeeper } from "./keeper";
import type { BankKeeper, ValsetKeeper } from "./expected_keepers";
import { poiMsgHandlers } from "./msgs/msg_server";
import { poiQueryHandlers } from "./queries";
import { endBlockTasks, type PoiDeps } from "./abci";
import { VerificationKeeper } from "./verification_keeper";
import { updateTaskIndexes } from "./indexes";
import { VerdictHooks, type VerdictSource } from "./verdict_hooks";
import type { Params } from "./types";

/** Genesis section "poi": the params (JSON, 64-bit values as decimal strings); defaults where absent. */
export interface PoiGenesis {
  params?: Partial<Record<keyof Params, string>>;
}

export class PoiModule implements AppModule {
  readonly name = POI_MODULE;
  readonly msgHandlers;
  readonly queryHandlers;
  readonly pseudoTx: PseudoTxHandler;
  private readonly deps: PoiDeps;
  /** Validators' seeds, reports, held income and stats. */
  readonly verification: VerificationKeeper;
  private readonly verdicts: VerdictHooks;

  constructor(readonly keeper: PoiKeeper, bank: BankKeeper, valset: ValsetKeeper) {
    this.verification = new VerificationKeeper();
    this.deps = { keeper, verification: this.verification, bank, valset };
    this.msgHandlers = poiMsgHandlers(keeper, bank);
    this.queryHandlers = poiQueryHandlers(keeper, this.deps.verification);
    this.verdicts = new VerdictHooks(this.deps);
    this.pseudoTx = this.verdicts.pseudoTx;
  }

  /** Attaches this validator's verifier (nodes do; in-process tests may not). */
  setVerifier(v: VerdictSource): void {
    this.verdicts.verifier = v;
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
    for (const k of ["catchBountyBps", "bondFactorBps"] as const) {
      if (BigInt(params[k]) > 10000n) throw ErrInvalidRequest(`poi genesis: params.${k} ${params[k]} is more than 10000`);
    }
    if (BigInt(params.deadlineMarginBlocks) + BigInt(params.claimBlocks) + BigInt(params.verifyTimeoutBlocks) > BigInt(params.maxDeadlineBlocks)) {
      throw ErrInvalidRequest("poi genesis: claimBlocks + verifyTimeoutBlocks + deadlineMarginBlocks exceed maxDeadlineBlocks: no task could be submitted");
    }
    this.keeper.setParams(ctx, params);
  }

  async exportGenesis(ctx: Context): Promise<PoiGenesis> {
    return { params: await this.keeper.params(ctx) };
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

  async verifyVoteExtension(_ctx: Context, req: VerifyVoteExtensionRequest): Promise<boolean> {
    return this.verdicts.verifyVoteExtension(req);
  }

  afterCommit(): void {
    this.verdicts.afterCommit();
  }
}
