import {
  RequestCheckTx, RequestFinalizeBlock, RequestInfo, RequestInitChain, RequestPrepareProposal,
  RequestProcessProposal, RequestQuery, ResponseCheckTx, ResponseFinalizeBlock, ResponseInfo,
  ResponseInitChain, ResponseQuery, ExecTxResult, ValidatorUpdate,
  ResponseOfferSnapshot_Result, ResponseApplySnapshotChunk_Result,
  ResponseProcessProposal_ProposalStatus, ResponseVerifyVoteExtension_VerifyStatus,
} from "cosmjs-types/tendermint/abci/types";
import { TxRaw, TxBody } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import type { AbciApplication } from "../abci/server";
import { Branch, CommitStore } from "../store/store";
import { BlockHeader, Context, moduleStorePrefix } from "./context";
import { ModuleManager, type AppModule } from "./module";
import { ErrInvalidRequest, ErrNotFound, ErrTxDecode, ErrTxTooLarge, ErrUnknownRequest, toAbciError } from "./errors";
import { APP_NAME, APP_VERSION } from "./params";
import { BankKeeper } from "../x/bank/keeper";
import { BankModule } from "../x/bank/module";
import { BlockInfoKeeper, BlockInfoModule } from "../x/blockinfo/module";

export interface AppOptions {
  /** Largest tx accepted into the mempool or a block. */
  maxTxBytes?: number;
  log?: (msg: string) => void;
}

/** Proof op type for `/store/<module>/key` queries; verify with src/store/proof.ts. */
export const STORE_PROOF_OP = "poi:smt";

/** The poi-chain state machine: routes ABCI calls to modules over a versioned Merkle store. */
export class PoiApp implements AbciApplication {
  readonly bank = new BankKeeper();
  readonly blockInfo = new BlockInfoKeeper();
  readonly modules: ModuleManager;
  private checkState: Branch;
  /** Height of a FinalizeBlock whose writes wait for Commit. */
  private finalizedHeight: bigint | undefined;
  private chainId = "";
  private readonly maxTxBytes: number;
  private readonly log: (msg: string) => void;

  private constructor(readonly store: CommitStore, opts: AppOptions) {
    this.maxTxBytes = opts.maxTxBytes ?? 1024 * 1024;
    this.log = opts.log ?? (() => undefined);
    const modules: AppModule[] = [new BlockInfoModule(this.blockInfo), new BankModule(this.bank)];
    this.modules = new ModuleManager(modules);
    this.checkState = new Branch(store.committed);
  }

  static async open(dir: string, opts: AppOptions = {}): Promise<PoiApp> {
    const app = new PoiApp(await CommitStore.open(dir), opts);
    app.chainId = (await app.blockInfo.chainId(app.queryContext())) ?? "";
    return app;
  }

  close(): Promise<void> {
    return this.store.close();
  }

  // ---- info / genesis ------------------------------------------------------------------------

  async info(_req: RequestInfo): Promise<Partial<ResponseInfo>> {
    const height = this.store.lastHeight;
    return {
      data: APP_NAME,
      version: APP_NAME + "/" + APP_VERSION.toString(),
      appVersion: APP_VERSION,
      lastBlockHeight: height,
      lastBlockAppHash: height === 0n ? new Uint8Array() : this.store.lastAppHash,
    };
  }

  async initChain(req: RequestInitChain): Promise<Partial<ResponseInitChain>> {
    this.chainId = req.chainId;
    const header = this.header(req.initialHeight - 1n, req.time?.seconds ?? 0n, req.time?.nanos ?? 0, new Uint8Array(), new Uint8Array());
    const appState = parseAppState(req.appStateBytes);
    const ctx = new Context(this.store.working, header, "genesis");
    for (const m of this.modules.modules) await m.initGenesis(ctx, appState[m.name]);
    // Genesis writes stay pending and are committed together with the first block.
    const appHash = await this.store.computeHash();
    this.log(`init_chain chain_id=${req.chainId} app_hash=${hex(appHash)}`);
    return { appHash, validators: [] as ValidatorUpdate[] };
  }

  // ---- mempool ---------------------------------------------------------------------------------

  async checkTx(req: RequestCheckTx): Promise<Partial<ResponseCheckTx>> {
    const ctx = new Context(this.checkState, this.header(this.store.lastHeight + 1n, 0n, 0, new Uint8Array(), new Uint8Array()), "check");
    return this.runTx(ctx, req.tx);
  }

  // ---- block production ------------------------------------------------------------------------

  async prepareProposal(req: RequestPrepareProposal): Promise<{ txs: Uint8Array[] }> {
    // Keep mempool order and stop at the byte budget CometBFT gives us.
    const txs: Uint8Array[] = [];
    let bytes = 0n;
    for (const tx of req.txs) {
      if (bytes + BigInt(tx.length) > req.maxTxBytes) break;
      bytes += BigInt(tx.length);
      txs.push(tx);
    }
    return { txs };
  }

  async processProposal(_req: RequestProcessProposal): Promise<{ status: ResponseProcessProposal_ProposalStatus }> {
    // Bad txs in a block get failing results in FinalizeBlock; the block itself is acceptable.
    return { status: ResponseProcessProposal_ProposalStatus.ACCEPT };
  }

  async extendVote(): Promise<{ voteExtension: Uint8Array }> {
    return { voteExtension: new Uint8Array() };
  }

  async verifyVoteExtension(): Promise<{ status: ResponseVerifyVoteExtension_VerifyStatus }> {
    return { status: ResponseVerifyVoteExtension_VerifyStatus.ACCEPT };
  }

  async finalizeBlock(req: RequestFinalizeBlock): Promise<Partial<ResponseFinalizeBlock>> {
    if (this.finalizedHeight !== undefined) {
      // A FinalizeBlock that was never committed (CometBFT re-executes after a crash): start over.
      this.store.discardPending();
    }
    const header = this.header(req.height, req.time?.seconds ?? 0n, req.time?.nanos ?? 0, req.hash, req.proposerAddress);
    const blockCtx = new Context(this.store.working, header, "deliver");
    for (const m of this.modules.modules) if (m.beginBlock) await m.beginBlock(blockCtx);
    const txResults: ExecTxResult[] = [];
    for (const tx of req.txs) txResults.push(ExecTxResult.fromPartial(await this.runTx(blockCtx.withKV(this.store.working), tx)));
    const validatorUpdates: ValidatorUpdate[] = [];
    for (const m of this.modules.modules) {
      if (m.endBlock) validatorUpdates.push(...((await m.endBlock(blockCtx)) ?? []));
    }
    const appHash = await this.store.computeHash();
    this.finalizedHeight = req.height;
    return { txResults, events: blockCtx.events.events, validatorUpdates, appHash };
  }

  async commit(): Promise<{ retainHeight: bigint }> {
    if (this.finalizedHeight === undefined) throw new Error("Commit without FinalizeBlock");
    await this.store.commit(this.finalizedHeight);
    this.finalizedHeight = undefined;
    // The mempool's view restarts from the new committed state; CometBFT re-checks the remaining txs.
    this.checkState = new Branch(this.store.committed);
    return { retainHeight: 0n }; // keep every block: replay and historical queries need them
  }

  // ---- queries ---------------------------------------------------------------------------------

  async query(req: RequestQuery): Promise<Partial<ResponseQuery>> {
    const height = this.store.lastHeight;
    try {
      if (req.height !== 0n && req.height !== height && !req.path.startsWith("/store/")) {
        throw ErrInvalidRequest(`queries run at the latest height ${height}; height ${req.height} is only served for /store/ paths`);
      }
      const storeMatch = /^\/store\/([a-z0-9_]+)\/key$/.exec(req.path);
      if (storeMatch) {
        const key = Buffer.concat([moduleStorePrefix(storeMatch[1]), req.data]);
        const res = await this.store.query(key, { height: req.height === 0n ? undefined : req.height, prove: req.prove });
        return {
          code: 0, key, value: res.value ?? new Uint8Array(), height: res.height,
          proofOps: res.proof ? { ops: [{ type: STORE_PROOF_OP, key, data: res.proof }] } : undefined,
        };
      }
      const handler = this.modules.queryHandler(req.path);
      if (!handler) throw ErrUnknownRequest(`no query handler for path "${req.path}"`);
      const value = await handler.handle(this.queryContext(), req.data);
      return { code: 0, value, height };
    } catch (err) {
      const e = toAbciError(err);
      // CosmJS recognises a missing account by this gRPC-style text.
      const log = ErrNotFound.is(err) ? `rpc error: code = NotFound desc = ${e.log}` : e.log;
      return { code: e.code, codespace: e.codespace, log, height };
    }
  }

  // ---- snapshots: not offered (state sync is off in our configs) -------------------------------

  async listSnapshots() { return { snapshots: [] }; }
  async offerSnapshot() { return { result: ResponseOfferSnapshot_Result.ABORT }; }
  async loadSnapshotChunk() { return { chunk: new Uint8Array() }; }
  async applySnapshotChunk() { return { result: ResponseApplySnapshotChunk_Result.ABORT, refetchChunks: [], rejectSenders: [] }; }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Context over committed state for queries. */
  queryContext(): Context {
    return new Context(this.store.committed, this.header(this.store.lastHeight, 0n, 0, new Uint8Array(), new Uint8Array()), "query");
  }

  private header(height: bigint, timeSeconds: bigint, timeNanos: number, hash: Uint8Array, proposer: Uint8Array): BlockHeader {
    return { chainId: this.chainId, height, timeSeconds, timeNanos, hash, proposer };
  }

  /**
   * Runs one tx in a branch of `ctx.kv`: its writes reach the parent only if every message succeeds.
   * Any failure becomes a result code; nothing here throws.
   */
  private async runTx(ctx: Context, txBytes: Uint8Array): Promise<Partial<ExecTxResult>> {
    const branch = new Branch(ctx.kv);
    const txCtx = ctx.withKV(branch);
    try {
      if (txBytes.length > this.maxTxBytes) throw ErrTxTooLarge(`tx is ${txBytes.length} bytes, limit ${this.maxTxBytes}`);
      const body = decodeTxBody(txBytes);
      if (body.messages.length === 0) throw ErrInvalidRequest("tx has no messages");
      const handlers = body.messages.map((m) => {
        const h = this.modules.msgHandler(m.typeUrl);
        if (!h) throw ErrUnknownRequest(`unrecognized message type "${m.typeUrl}"`);
        return h;
      });
      if (ctx.mode === "check") return { code: 0 };
      const msgResponses = [];
      for (let i = 0; i < handlers.length; i++) msgResponses.push(await handlers[i].handle(txCtx, body.messages[i].value));
      branch.write();
      return { code: 0, data: TxMsgData.encode({ data: [], msgResponses }).finish(), events: txCtx.events.events };
    } catch (err) {
      const e = toAbciError(err);
      return { code: e.code, codespace: e.codespace, log: e.log };
    }
  }
}

function decodeTxBody(txBytes: Uint8Array): TxBody {
  try {
    const raw = TxRaw.decode(txBytes);
    return TxBody.decode(raw.bodyBytes);
  } catch (err) {
    throw ErrTxDecode(`cannot decode tx: ${(err as Error).message}`);
  }
}

function parseAppState(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new Error(`genesis app_state is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("genesis app_state must be a JSON object");
  return parsed as Record<string, unknown>;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex").toUpperCase();
}

