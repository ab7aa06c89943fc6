import "../util/cosmjs-types-int64"; // before any encoding: fixes cosmjs-types int64 in [2^31, 2^32)
import "../util/cosmjs-types-alloc"; // encodes allocate only the bytes they return
import {
  RequestCheckTx, RequestFinalizeBlock, RequestInfo, RequestInitChain, RequestPrepareProposal,
  RequestProcessProposal, RequestQuery, ResponseCheckTx, ResponseFinalizeBlock, ResponseInfo,
  ResponseInitChain, ResponseQuery, ExecTxResult, ValidatorUpdate,
  ResponseOfferSnapshot_Result, ResponseApplySnapshotChunk_Result,
  ResponseProcessProposal_ProposalStatus, ResponseVerifyVoteExtension_VerifyStatus,
} from "cosmjs-types/tendermint/abci/types";
import type { Timestamp } from "cosmjs-types/google/protobuf/timestamp";
import { BlockIDFlag } from "cosmjs-types/tendermint/types/validator";
import { SimulateRequest, SimulateResponse } from "cosmjs-types/cosmos/tx/v1beta1/service";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import type { AbciApplication } from "../abci/server";
import { Branch, CommitStore, type CommittedSnapshot } from "../store/store";
import { BlockHeader, Context, EventManager, moduleStorePrefix } from "./context";
import { ModuleManager, type AppModule, type ExtendVoteRequest, type VerifyVoteExtensionRequest } from "./module";
import { AppError, ErrInvalidRequest, ErrNotFound, ErrUnknownRequest, toAbciError } from "./errors";
import { APP_NAME, APP_VERSION } from "./params";
import { BankKeeper } from "../x/bank/keeper";
import { BankModule } from "../x/bank/module";
import { BlockInfoKeeper, BlockInfoModule } from "../x/blockinfo/module";
import { AccountKeeper } from "../x/auth/keeper";
import { PoiKeeper } from "../x/poi/keeper";
import { PoiModule } from "../x/poi/module";
import { AuthModule } from "../x/auth/module";
import { AnteHandler, MinGasPrice } from "../x/auth/ante";
import { TxRunner } from "./tx-runner";
import { SigVerifyCache } from "../x/auth/sigcache";
import { DecodedTxCache } from "../x/auth/txcache";
import { orderBySignerSequence } from "../x/auth/proposal-order";
import { ValsetKeeper, ValsetModule } from "../x/valset/module";
import { BONDED_POOL_ADDRESS, StakingKeeper } from "../x/staking/keeper";
import { StakingModule } from "../x/staking/module";
import { StakingSlasher } from "../x/staking/slash";
import { ZERO_WORK } from "../x/staking/expected_keepers";
import { SlashingKeeper } from "../x/slashing/keeper";
import { SlashingModule } from "../x/slashing/module";
import { MintKeeper } from "../x/mint/keeper";
import { MintModule } from "../x/mint/module";
import { DistributionKeeper } from "../x/distribution/keeper/keeper";
import { DistributionModule } from "../x/distribution/module";
import { POI_MODULE_ACCOUNT } from "../x/poi/keeper";
import { poiModuleHoldings } from "../x/poi/holdings";
import {
  INVARIANTS_QUERY_PATH, InvariantRegistry, bondedPoolInvariant, distributionInvariant, mintInvariant, nonNegativeInvariant, poiAccountInvariant, supplyInvariant,
} from "./invariants";

export interface AppOptions {
  /**
   * This node's cap on txs entering its mempool (CheckTx only; default 1 MiB). It can only make
   * CheckTx stricter: what a block may hold is the chain's max_tx_bytes param (x/auth), the same on
   * every node.
   */
  maxTxBytes?: number;
  /** This node's mempool floor, e.g. "0.025upoi" (CheckTx only; never part of consensus). */
  minGasPrices?: string;
  log?: (msg: string) => void;
}

/** Proof op type for `/store/<module>/key` queries; verify with src/store/proof.ts. */
export const STORE_PROOF_OP = "poi:smt";

/** The poi-chain state machine: routes ABCI calls to modules over a versioned Merkle store. */
export class PoiApp implements AbciApplication {
  /** CheckTx runs on its own branch of committed state (checkState), so it may run beside a block. */
  readonly checkTxBesideBlock = true;
  readonly accounts = new AccountKeeper();
  readonly bank = new BankKeeper(this.accounts);
  readonly poi = new PoiKeeper();
  readonly valset = new ValsetKeeper();
  readonly staking = new StakingKeeper();
  /** Slashes and jails (slashing's downtime and double sign; poi's audits). */
  readonly slasher = new StakingSlasher(this.staking, this.bank);
  readonly slashing = new SlashingKeeper(this.slasher);
  /** Work scores reach power through stakingModule.setWorkScoreReader (x/poi's, wired in the constructor). */
  readonly stakingModule = new StakingModule(this.staking, this.bank, this.valset, ZERO_WORK);
  readonly mint = new MintKeeper(this.bank);
  readonly distribution = new DistributionKeeper(this.bank, this.staking);
  /** Nodes attach their verifier here (poiModule.setVerifier). */
  readonly poiModule: PoiModule;
  /** Signature verifications remembered across CheckTx, FinalizeBlock and Recheck (x/auth/sigcache.ts). */
  readonly sigCache = new SigVerifyCache();
  /** Txs decoded once per node: in CheckTx, then reused in FinalizeBlock and Recheck (x/auth/txcache.ts). */
  readonly txCache = new DecodedTxCache();
  private readonly txRunner: TxRunner;
  readonly blockInfo = new BlockInfoKeeper();
  readonly modules: ModuleManager;
  /** Whole-state checks (invariants.ts); a module adds its own with one register call below. */
  readonly invariants = new InvariantRegistry();
  private checkState: Branch;
  /** Height of a FinalizeBlock whose writes wait for Commit. */
  private finalizedHeight: bigint | undefined;
  private chainId = "";
  /** The last committed block's time: CheckTx runs under it, as the SDK's check state does. */
  private lastBlockTime = { seconds: 0n, nanos: 0 };
  private pendingBlockTime = { seconds: 0n, nanos: 0 };
  private readonly log: (msg: string) => void;

  private constructor(readonly store: CommitStore, opts: AppOptions) {
    this.log = opts.log ?? (() => undefined);
    // Order = genesis and block-hook order: auth before bank, since balances create accounts; mint
    // before distribution, which hands out what mint put in fee_collector.
    this.poiModule = new PoiModule(this.poi, this.bank, this.valset, this.slasher, this.distribution);
    const modules: AppModule[] = [
      new BlockInfoModule(this.blockInfo), new ValsetModule(this.valset), new AuthModule(this.accounts), new BankModule(this.bank),
      this.stakingModule, new SlashingModule(this.slashing, this.slasher), new MintModule(this.mint), new DistributionModule(this.distribution, this.bank),
      this.poiModule,
    ];
    // End blocks: poi tallies first, then staking turns stake and work into validator updates.
    this.modules = new ModuleManager(modules, [this.stakingModule.name]);
    this.txRunner = new TxRunner({
      accounts: this.accounts, modules: this.modules, ante: new AnteHandler(this.accounts, this.bank, this.sigCache), txCache: this.txCache,
      maxTxBytes: opts.maxTxBytes ?? 1024 * 1024, minGasPrice: opts.minGasPrices ? MinGasPrice.parse(opts.minGasPrices) : undefined,
    });
    // Issue 12's wiring: distribution settles rewards around staking changes and pays for verified work;
    // staking turns poi's work scores into power; poi slashes audit failures through staking.
    this.staking.addHooks(this.distribution.stakingHooks());
    this.poiModule.addWorkHooks(this.distribution.workHooks());
    this.stakingModule.setWorkScoreReader(this.poiModule.work);
    this.invariants.register(nonNegativeInvariant(this.bank));
    this.invariants.register(supplyInvariant(this.bank));
    this.invariants.register(mintInvariant(this.mint, this.bank));
    this.invariants.register(distributionInvariant(this.distribution, this.bank));
    this.invariants.register(bondedPoolInvariant(this.staking, this.bank, BONDED_POOL_ADDRESS, () => true)); // every validator's tokens stay in the bonded pool
    this.invariants.register(poiAccountInvariant(this.bank, POI_MODULE_ACCOUNT, (ctx) => poiModuleHoldings(ctx, this.poi)));
    this.checkState = new Branch(store.committed);
  }

  static async open(dir: string, opts: AppOptions = {}): Promise<PoiApp> {
    const app = new PoiApp(await CommitStore.open(dir), opts);
    app.chainId = (await app.blockInfo.chainId(app.queryContext())) ?? "";
    const last = await app.blockInfo.lastBlock(app.queryContext());
    if (last) app.lastBlockTime = { seconds: last.timeSeconds, nanos: last.timeNanos };
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
    // x/poi reports audit failures by seed epoch and x/distribution forfeits by reward epoch: one numbering.
    const dist = await this.distribution.state.params(ctx), poiParams = await this.poi.params(ctx);
    const seedEpochBlocks = BigInt(poiParams.seedEpochBlocks), protocolFee = BigInt(poiParams.protocolFeePerMegaUnit);
    if (dist && dist.epochBlocks !== seedEpochBlocks) {
      throw new Error(`genesis: distribution.params.epoch_blocks (${dist.epochBlocks}) must equal poi.params.seedEpochBlocks (${seedEpochBlocks})`);
    }
    // Minted coins paid per work unit must stay below the protocol fee each unit costs, or self-dealing
    // (requester = worker) would be paid by issuance for the work credit that buys power.
    if (dist && (dist.maxWorkerRewardPerMegaUnit < 1n || dist.maxWorkerRewardPerMegaUnit >= protocolFee)) {
      throw new Error(`genesis: distribution.params.max_worker_reward_per_mega_unit (${dist.maxWorkerRewardPerMegaUnit}) must be at least 1 and below poi.params.protocolFeePerMegaUnit (${protocolFee})`);
    }
    const validators: ValidatorUpdate[] = [];
    for (const m of this.modules.modules) if (m.initChain) validators.push(...((await m.initChain(ctx, req)) ?? []));
    // Genesis writes stay pending and are committed together with the first block.
    const appHash = await this.store.computeHash();
    this.log(`init_chain chain_id=${req.chainId} initial_height=${req.initialHeight} app_hash=${hex(appHash)}`);
    return { appHash, validators };
  }

  // ---- mempool ---------------------------------------------------------------------------------

  async checkTx(req: RequestCheckTx): Promise<Partial<ResponseCheckTx>> {
    const pseudoTx = this.modules.pseudoTxHandler(req.tx);
    if (pseudoTx) {
      const e = toAbciError(pseudoTx.mempoolError(req.tx));
      return { code: e.code, codespace: e.codespace, log: e.log };
    }
    // No events are built in CheckTx (new or Recheck): the Cosmos SDK's CheckTx answers a valid tx
    // without events (it runs no messages there and keeps the ante's events for blocks and
    // simulations), and CometBFT's mempool and broadcast_tx_sync ignore them anyway.
    const header = this.header(this.store.lastHeight + 1n, this.lastBlockTime.seconds, this.lastBlockTime.nanos, new Uint8Array(), new Uint8Array());
    return this.txRunner.run(new Context(this.checkState, header, "check", new EventManager(false)), req.tx);
  }

  // ---- block production: each module's ABCI++ hooks, in module order ----------------------------

  async prepareProposal(req: RequestPrepareProposal): Promise<{ txs: Uint8Array[] }> {
    const ctx = this.proposalContext(req.height, req.time, undefined, req.proposerAddress);
    const txs: Uint8Array[] = [];
    let bytes = 0n;
    for (const m of this.modules.modules) {
      if (!m.prepareProposal) continue;
      for (const tx of await m.prepareProposal(ctx, req)) {
        txs.push(tx);
        bytes += BigInt(tx.length);
      }
    }
    // Then the mempool in its order (without pseudo-txs), up to the byte budget CometBFT gives us,
    // with each sender's txs in sequence order (x/auth/proposal-order.ts).
    const mempool: Uint8Array[] = [];
    for (const tx of req.txs) {
      if (this.modules.pseudoTxHandler(tx)) continue;
      if (bytes + BigInt(tx.length) > req.maxTxBytes) break;
      bytes += BigInt(tx.length);
      mempool.push(tx);
    }
    const ordered = orderBySignerSequence(mempool, this.txRunner.tryDecode);
    if (ordered !== mempool) this.log(`prepare_proposal height=${req.height}: put each sender's txs in sequence order (the mempool had some out of order)`);
    for (const tx of ordered) txs.push(tx);
    return { txs };
  }

  /** Accepts a block only if every module does (bad ordinary txs just get failing results in FinalizeBlock). */
  async processProposal(req: RequestProcessProposal): Promise<{ status: ResponseProcessProposal_ProposalStatus }> {
    const { ACCEPT, REJECT } = ResponseProcessProposal_ProposalStatus;
    const ctx = this.proposalContext(req.height, req.time, req.hash, req.proposerAddress);
    for (const m of this.modules.modules) {
      const reason = m.processProposal ? await m.processProposal(ctx, req) : undefined;
      if (reason !== undefined) {
        this.log(`process_proposal height=${req.height} rejected by ${m.name}: ${reason}`);
        return { status: REJECT };
      }
    }
    return { status: ACCEPT };
  }

  async extendVote(req: ExtendVoteRequest): Promise<{ voteExtension: Uint8Array }> {
    const owner = this.modules.voteExtensionOwner;
    if (!owner?.extendVote) return { voteExtension: new Uint8Array() };
    try {
      return { voteExtension: await owner.extendVote(this.proposalContext(req.height, req.time, req.hash, req.proposerAddress), req) };
    } catch (err) {
      this.log(`extend_vote height=${req.height}: ${(err as Error).message}`);
      return { voteExtension: new Uint8Array() };
    }
  }

  async verifyVoteExtension(req: VerifyVoteExtensionRequest): Promise<{ status: ResponseVerifyVoteExtension_VerifyStatus }> {
    const { ACCEPT, REJECT } = ResponseVerifyVoteExtension_VerifyStatus;
    const owner = this.modules.voteExtensionOwner;
    if (!owner?.verifyVoteExtension) return { status: ACCEPT };
    try {
      const ctx = this.proposalContext(req.height ?? this.store.lastHeight + 1n, undefined, req.hash, undefined);
      return { status: (await owner.verifyVoteExtension(ctx, req)) ? ACCEPT : REJECT };
    } catch (err) {
      this.log(`verify_vote_extension height=${req.height}: ${(err as Error).message}`);
      return { status: REJECT };
    }
  }

  async finalizeBlock(req: RequestFinalizeBlock): Promise<Partial<ResponseFinalizeBlock>> {
    if (this.finalizedHeight !== undefined) {
      // A FinalizeBlock that was never committed (CometBFT re-executes after a crash): start over.
      this.store.discardPending();
    }
    const header: BlockHeader = {
      ...this.header(req.height, req.time?.seconds ?? 0n, req.time?.nanos ?? 0, req.hash, req.proposerAddress),
      lastCommitVotes: (req.decidedLastCommit?.votes ?? []).map((v) => ({
        address: v.validator?.address ?? new Uint8Array(), power: v.validator?.power ?? 0n, signed: v.blockIdFlag === BlockIDFlag.BLOCK_ID_FLAG_COMMIT,
      })),
    };
    const blockCtx = new Context(this.store.working, header, "deliver");
    const votes = { decidedLastCommit: req.decidedLastCommit ?? { round: 0, votes: [] }, misbehavior: req.misbehavior ?? [] };
    for (const m of this.modules.modules) if (m.beginBlock) await m.beginBlock(blockCtx, votes);
    const txResults: ExecTxResult[] = [];
    for (const [i, tx] of req.txs.entries()) {
      const txCtx = blockCtx.withKV(this.store.working);
      const pseudoTx = this.modules.pseudoTxHandler(tx);
      txResults.push(execTxResult(pseudoTx ? await pseudoTx.deliver(txCtx, tx, i) : await this.txRunner.run(txCtx, tx)));
    }
    const validatorUpdates: ValidatorUpdate[] = [];
    for (const m of this.modules.endBlockers) validatorUpdates.push(...((await m.endBlock!(blockCtx)) ?? []));
    const appHash = await this.store.computeHash();
    this.finalizedHeight = req.height;
    this.pendingBlockTime = { seconds: header.timeSeconds, nanos: header.timeNanos };
    return { txResults, events: blockCtx.events.events, validatorUpdates, appHash };
  }

  async commit(): Promise<{ retainHeight: bigint }> {
    if (this.finalizedHeight === undefined) throw new Error("Commit without FinalizeBlock");
    await this.store.commit(this.finalizedHeight);
    this.finalizedHeight = undefined;
    this.lastBlockTime = this.pendingBlockTime;
    // The mempool's view restarts from the new committed state; CometBFT re-checks the remaining txs.
    this.checkState = new Branch(this.store.committed);
    for (const m of this.modules.modules) m.afterCommit?.();
    return { retainHeight: 0n }; // keep every block: replay and historical queries need them
  }

  // ---- queries ---------------------------------------------------------------------------------

  /**
   * Runs beside block execution, not under the ABCI lock: every query reads one committed height
   * through a store snapshot, so a Commit that lands meanwhile cannot tear it, and FinalizeBlock and
   * Commit never wait for a query (nor a query for them).
   */
  async query(req: RequestQuery): Promise<Partial<ResponseQuery>> {
    const snap = this.store.snapshot();
    const height = snap.height;
    try {
      if (req.height !== 0n && req.height !== height && !req.path.startsWith("/store/")) {
        throw ErrInvalidRequest(`queries run at the latest height ${height}; height ${req.height} is only served for /store/ paths`);
      }
      const storeMatch = /^\/store\/([a-z0-9_]+)\/key$/.exec(req.path);
      if (storeMatch) {
        const key = Buffer.concat([moduleStorePrefix(storeMatch[1]), req.data]);
        const res = await this.store.query(key, { height: req.height === 0n ? height : req.height, prove: req.prove });
        return {
          code: 0, key, value: res.value ?? new Uint8Array(), height: res.height,
          proofOps: res.proof ? { ops: [{ type: STORE_PROOF_OP, key, data: res.proof }] } : undefined,
        };
      }
      if (req.path === "/cosmos.tx.v1beta1.Service/Simulate") return { code: 0, value: await this.simulate(req.data, snap), height };
      if (req.path === INVARIANTS_QUERY_PATH) {
        // JSON [{name, broken, message}] over this height's state: the on-demand check (`poi debug invariants`).
        const results = await this.invariants.run(new Context(snap.kv, this.header(height, 0n, 0, new Uint8Array(), new Uint8Array()), "query"));
        return { code: 0, value: Buffer.from(JSON.stringify(results), "utf8"), height };
      }
      const handler = this.modules.queryHandler(req.path);
      if (!handler) throw ErrUnknownRequest(`no query handler for path "${req.path}"`);
      const value = await handler.handle(new Context(snap.kv, this.header(height, 0n, 0, new Uint8Array(), new Uint8Array()), "query"), req.data);
      return { code: 0, value, height };
    } catch (err) {
      const e = toAbciError(err);
      // CosmJS recognises a missing account by this gRPC-style text.
      const log = ErrNotFound.is(err) ? `rpc error: code = NotFound desc = ${e.log}` : e.log;
      return { code: e.code, codespace: e.codespace, log, height };
    } finally {
      snap.release();
    }
  }

  // ---- snapshots: not offered (state sync is off in our configs) -------------------------------

  async listSnapshots() { return { snapshots: [] }; }
  async offerSnapshot() { return { result: ResponseOfferSnapshot_Result.ABORT }; }
  async loadSnapshotChunk() { return { chunk: new Uint8Array() }; }
  async applySnapshotChunk() { return { result: ResponseApplySnapshotChunk_Result.ABORT, refetchChunks: [], rejectSenders: [] }; }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Context over the latest committed state (whatever height is latest at each read), for in-process readers. */
  queryContext(): Context {
    return new Context(this.store.committed, this.header(this.store.lastHeight, 0n, 0, new Uint8Array(), new Uint8Array()), "query");
  }

  /** Context for the ABCI++ hooks: committed state through a throwaway branch, the header of `height`. */
  private proposalContext(height: bigint, time: Timestamp | undefined, hash: Uint8Array | undefined, proposer: Uint8Array | undefined): Context {
    const header = this.header(height, time?.seconds ?? 0n, time?.nanos ?? 0, hash ?? new Uint8Array(), proposer ?? new Uint8Array());
    return new Context(new Branch(this.store.committed), header, "proposal");
  }

  private header(height: bigint, timeSeconds: bigint, timeNanos: number, hash: Uint8Array, proposer: Uint8Array): BlockHeader {
    return { chainId: this.chainId, height, timeSeconds, timeNanos, hash, proposer };
  }

  /** `/cosmos.tx.v1beta1.Service/Simulate`: runs the tx on a throwaway branch of the query's committed snapshot. */
  private async simulate(data: Uint8Array, snap: CommittedSnapshot): Promise<Uint8Array> {
    let req: SimulateRequest;
    try {
      req = SimulateRequest.decode(data);
    } catch (err) {
      throw ErrInvalidRequest(`cannot decode SimulateRequest: ${(err as Error).message}`);
    }
    if (req.txBytes.length === 0) throw ErrInvalidRequest("SimulateRequest.tx_bytes is empty");
    const header = this.header(snap.height + 1n, this.lastBlockTime.seconds, this.lastBlockTime.nanos, new Uint8Array(), new Uint8Array());
    const res = await this.txRunner.run(new Context(new Branch(snap.kv), header, "simulate"), req.txBytes);
    if (res.code) throw new AppError(res.codespace ?? "", res.code, res.log ?? "", undefined);
    return SimulateResponse.encode({
      gasInfo: { gasWanted: res.gasWanted ?? 0n, gasUsed: res.gasUsed ?? 0n },
      result: { data: new Uint8Array(), log: "", events: res.events ?? [], msgResponses: TxMsgData.decode(res.data ?? new Uint8Array()).msgResponses },
    }).finish();
  }
}

/** The defaults filled in, as ExecTxResult.fromPartial would, without its deep copy of the events (EventManager's, made for this tx). */
function execTxResult(r: Partial<ExecTxResult>): ExecTxResult {
  return {
    code: r.code ?? 0, data: r.data ?? new Uint8Array(), log: r.log ?? "", info: r.info ?? "", gasWanted: r.gasWanted ?? 0n, gasUsed: r.gasUsed ?? 0n,
    events: r.events ?? [], codespace: r.codespace ?? "",
  };
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

