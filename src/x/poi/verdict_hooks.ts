/**
 * The verdict pipeline's ABCI++ hooks (formats and checks in verdicts.ts; design in README,
 * "Verification and consensus-safe verdicts"): the proposer's aggregate in PrepareProposal, its checks
 * in ProcessProposal and FinalizeBlock, CheckTx's refusal of it, this validator's verdicts in
 * ExtendVote. PoiModule exposes these as its AppModule hooks.
 */
import type { ExecTxResult, RequestPrepareProposal, RequestProcessProposal } from "cosmjs-types/tendermint/abci/types";
import type { Context } from "../../app/context";
import type { ExtendVoteRequest, PseudoTxHandler, VerifyVoteExtensionRequest } from "../../app/module";
import { toAbciError } from "../../app/errors";
import { Branch } from "../../store/store";
import { ErrInvalidAggregate } from "./errors";
import type { PoiDeps } from "./outcomes";
import { applyExtension } from "./extension_apply";
import { extensionProblem } from "./extension_rules";
import {
  buildAggregate, checkAggregate, decodeAggregateTx, encodeAggregateTx, isAggregateTx, MAX_EXTENSION_BYTES, validVotes,
} from "./verdicts";

/**
 * A validator's source of verdicts (verify/service.ts): it re-executes samples off the ABCI path after
 * each Commit and hands its verdicts to ExtendVote.
 */
export interface VerdictSource {
  /** Encoded VoteExtension with the verdicts ready now; must answer quickly. */
  extension(height: bigint): Promise<Uint8Array>;
  /** Called after each Commit; must not block. */
  onCommit(): void;
}

export class VerdictHooks {
  /** This validator's verifier (nodes attach one; in-process tests may not). */
  verifier?: VerdictSource;

  private readonly keeper: PoiDeps["keeper"];
  private readonly valset: PoiDeps["valset"];

  constructor(private readonly deps: PoiDeps) {
    this.keeper = deps.keeper;
    this.valset = deps.valset;
  }

  /** Whether blocks at `height` must open with a verdict aggregate (vote extensions exist from enable height + 1). */
  async aggregateRequired(ctx: Context, height: bigint): Promise<boolean> {
    const enable = await this.keeper.voteExtensionsEnableHeight(ctx);
    return enable > 0n && height > enable;
  }

  /**
   * The aggregate of the last commit's extensions whose signatures verify and whose content follows
   * the rules (late precommits reach local_last_commit unverified), as the block's first tx. It must
   * fit max_tx_bytes with the txs: if it does not, the largest extensions are left out for as long as
   * the rest still hold more than 2/3 of the power.
   */
  async prepareProposal(ctx: Context, req: RequestPrepareProposal): Promise<Uint8Array[]> {
    if (!(await this.aggregateRequired(ctx, req.height))) return [];
    const agg = buildAggregate(req.localLastCommit, req.height - 1n);
    const validators = await this.valset.validators(ctx);
    const params = await this.keeper.params(ctx);
    const votes = [];
    for (const v of validVotes(agg, validators, ctx.header.chainId)) {
      if ((await extensionProblem(ctx, this.keeper, this.deps.verification, params, req.height - 1n, v.extension)) === undefined) votes.push(v);
    }
    agg.votes = votes;
    let tx = encodeAggregateTx(agg);
    if (BigInt(tx.length) > req.maxTxBytes) {
      const power = new Map(validators.map((v) => [Buffer.from(v.address).toString("hex"), v.power]));
      const total = validators.reduce((s, v) => s + v.power, 0n);
      const bySize = [...agg.votes].sort((a, b) => b.extension.length - a.extension.length);
      let signed = agg.votes.reduce((s, v) => s + (power.get(Buffer.from(v.validatorAddress).toString("hex")) ?? 0n), 0n);
      for (const v of bySize) {
        if (BigInt(tx.length) <= req.maxTxBytes) break;
        const p = power.get(Buffer.from(v.validatorAddress).toString("hex")) ?? 0n;
        if ((signed - p) * 3n <= total * 2n) continue;
        signed -= p;
        agg.votes = agg.votes.filter((x) => x !== v);
        tx = encodeAggregateTx(agg);
      }
    }
    return [tx];
  }

  /**
   * Bad txs in a block get failing results in FinalizeBlock; what makes a block unacceptable is a
   * missing or invalid verdict aggregate, or one anywhere but first.
   */
  async processProposal(ctx: Context, req: RequestProcessProposal): Promise<string | undefined> {
    const required = await this.aggregateRequired(ctx, req.height);
    for (const [i, tx] of req.txs.entries()) {
      if (!isAggregateTx(tx)) continue;
      if (i !== 0) return `verdict aggregate at position ${i}; it may only be the block's first tx`;
      if (!required) return `verdict aggregate at height ${req.height}, where no vote extensions precede the block`;
      try {
        const agg = decodeAggregateTx(tx);
        checkAggregate(agg, await this.valset.validators(ctx), ctx.header.chainId, req.height);
        const params = await this.keeper.params(ctx);
        for (const v of agg.votes) {
          const problem = await extensionProblem(ctx, this.keeper, this.deps.verification, params, req.height - 1n, v.extension);
          if (problem) return `extension of ${Buffer.from(v.validatorAddress).toString("hex").toUpperCase()} breaks the rules: ${problem}`;
        }
      } catch (err) {
        return (err as Error).message;
      }
    }
    if (required && (req.txs.length === 0 || !isAggregateTx(req.txs[0]))) return "no verdict aggregate";
    return undefined;
  }

  async extendVote(req: ExtendVoteRequest): Promise<Uint8Array> {
    return this.verifier ? this.verifier.extension(req.height) : new Uint8Array();
  }

  /** The size cap and the content rules (extension_rules.ts), against committed state. */
  async verifyVoteExtension(ctx: Context, req: VerifyVoteExtensionRequest): Promise<boolean> {
    if (req.voteExtension.length > MAX_EXTENSION_BYTES) return false;
    const height = req.height ?? ctx.header.height;
    return (await extensionProblem(ctx, this.keeper, this.deps.verification, await this.keeper.params(ctx), height, req.voteExtension)) === undefined;
  }

  afterCommit(): void {
    this.verifier?.onCommit();
  }

  /** The aggregate as a pseudo-tx: never from the mempool, only as a block's first tx. */
  readonly pseudoTx: PseudoTxHandler = {
    matches: isAggregateTx,
    mempoolError: () => ErrInvalidAggregate("verdict aggregates are made by the block proposer from vote extensions; they cannot be sent as txs"),
    deliver: async (ctx, tx, index) => {
      if (index !== 0) return { ...toAbciError(ErrInvalidAggregate("a verdict aggregate may only be a block's first tx")) };
      return this.applyAggregate(ctx, tx);
    },
  };

  /**
   * Applies the verdict aggregate at the head of a block: checks it again (FinalizeBlock also runs
   * during replay, without ProcessProposal), then applies each validator's extension in address
   * order. A bad aggregate changes nothing and gets an error code in its tx result.
   */
  private async applyAggregate(ctx: Context, tx: Uint8Array): Promise<Partial<ExecTxResult>> {
    const branch = new Branch(ctx.kv);
    const bctx = ctx.withKV(branch);
    try {
      let checked;
      const agg = decodeAggregateTx(tx);
      try {
        checked = checkAggregate(agg, await this.valset.validators(bctx), ctx.header.chainId, ctx.header.height);
      } catch (err) {
        throw ErrInvalidAggregate((err as Error).message);
      }
      const params = await this.keeper.params(bctx);
      const total = { commitments: 0, reveals: 0, verdicts: 0, itemVerdicts: 0, segmentRequests: 0 };
      // As in ProcessProposal: an extension that breaks the rules voids the aggregate.
      for (const v of agg.votes) {
        const problem = await extensionProblem(bctx, this.keeper, this.deps.verification, params, BigInt(agg.height), v.extension);
        if (problem) throw ErrInvalidAggregate(`extension of ${Buffer.from(v.validatorAddress).toString("hex").toUpperCase()} breaks the rules: ${problem}`);
      }
      for (const vote of checked) {
        if (!vote.extension) continue;
        const a = await applyExtension(bctx, this.deps, params, vote.validatorHex, vote.extension);
        total.commitments += a.commitments; total.reveals += a.reveals; total.verdicts += a.verdicts; total.itemVerdicts += a.itemVerdicts;
        total.segmentRequests += a.segmentRequests;
      }
      bctx.events.emit("poi_verdict_aggregate", [
        ["vote_height", agg.height], ["votes", String(checked.length)], ["verdicts_recorded", String(total.verdicts)],
        ["item_verdicts_recorded", String(total.itemVerdicts)], ["seed_commitments", String(total.commitments)], ["seed_reveals", String(total.reveals)],
        ["segment_requests", String(total.segmentRequests)],
      ]);
      branch.write();
      return { code: 0, events: bctx.events.events };
    } catch (err) {
      const e = toAbciError(err);
      return { code: e.code, codespace: e.codespace, log: e.log };
    }
  }
}
