import type {
  CommitInfo, ExecTxResult, Misbehavior, RequestExtendVote, RequestInitChain, RequestPrepareProposal, RequestProcessProposal, RequestVerifyVoteExtension, ValidatorUpdate,
} from "cosmjs-types/tendermint/abci/types";
import type { Context } from "./context";
import { ErrInvalidRequest } from "./errors";

/**
 * One message type. `decode` also does every stateless check (the SDK's ValidateBasic), so a
 * malformed message is refused in CheckTx before any fee is taken. `handle` executes it and returns
 * the encoded Msg response that goes into TxMsgData.
 */
export interface MsgHandler<T = unknown> {
  typeUrl: string;
  /** Module name reported in the tx's `message` event. */
  module: string;
  decode(value: Uint8Array): T;
  /** Addresses whose signatures the message needs, in order. */
  signers(msg: T): Uint8Array[];
  handle(ctx: Context, msg: T): Promise<{ typeUrl: string; value: Uint8Array }>;
}

/** Erases a handler's message type for the router; the router only passes `decode`'s output back in. */
export function msgHandler<T>(h: MsgHandler<T>): MsgHandler {
  return h as unknown as MsgHandler;
}

/** Answers one ABCI Query path (the gRPC method path, protobuf bytes in and out). */
export interface QueryHandler {
  path: string;
  handle(ctx: Context, data: Uint8Array): Promise<Uint8Array>;
}

/**
 * A tx a module makes itself rather than a signed Cosmos tx, e.g. poi's verdict aggregate, which the
 * proposer builds from vote extensions. Every block tx that `matches` is handed to its module instead
 * of the ante handler and the msg router; CheckTx refuses such txs and PrepareProposal drops them from
 * the mempool's. Modules' claims must not overlap (the first module in order that matches wins).
 */
export interface PseudoTxHandler {
  /** Whether `tx` is this module's pseudo-tx (e.g. a magic prefix that no Cosmos TxRaw starts with). */
  matches(tx: Uint8Array): boolean;
  /** The error CheckTx answers with: a pseudo-tx never enters the mempool. */
  mempoolError(tx: Uint8Array): Error;
  /** FinalizeBlock: executes the pseudo-tx at position `index` of the block. A bad one gets a failing result and changes nothing; never throws. */
  deliver(ctx: Context, tx: Uint8Array, index: number): Promise<Partial<ExecTxResult>>;
}

/**
 * A Cosmos-style module. It owns the key space "<name>/" and reaches other modules only through
 * keeper interfaces handed to its constructor (declared in its own expected_keepers.ts).
 *
 * The app calls every hook in module order. The ABCI++ hooks (prepareProposal ... verifyVoteExtension)
 * get a context over committed state through a throwaway branch, with the header of the height being
 * proposed or voted on; what they write is discarded.
 */
export interface AppModule {
  readonly name: string;
  /** `state` is this module's section of genesis app_state (undefined when absent). */
  initGenesis(ctx: Context, state: unknown): Promise<void>;
  exportGenesis(ctx: Context): Promise<unknown>;
  /**
   * InitChain, after every module's initGenesis: what CometBFT sends besides app_state (validators,
   * consensus params). Validators returned here go back to CometBFT as the initial set (it uses
   * them when genesis.json lists none).
   */
  initChain?(ctx: Context, req: RequestInitChain): Promise<ValidatorUpdate[] | void>;
  beginBlock?(ctx: Context, block: BlockVotes): Promise<void>;
  endBlock?(ctx: Context): Promise<ValidatorUpdate[] | void>;
  readonly msgHandlers?: readonly MsgHandler[];
  readonly queryHandlers?: readonly QueryHandler[];
  readonly pseudoTx?: PseudoTxHandler;
  /** PrepareProposal: txs this module puts at the head of the block, after earlier modules' and before the mempool's. They count against max_tx_bytes. */
  prepareProposal?(ctx: Context, req: RequestPrepareProposal): Promise<Uint8Array[]>;
  /** ProcessProposal: undefined accepts; a string rejects the block and says why. The block is accepted only if every module accepts. */
  processProposal?(ctx: Context, req: RequestProcessProposal): Promise<string | undefined>;
  /**
   * ExtendVote: this validator's vote extension. One module owns the vote extension, as with the
   * SDK's single ExtendVoteHandler: ModuleManager refuses a second module with extendVote or
   * verifyVoteExtension. Two modules sharing it would need an envelope (one field per module) owned by
   * the app; none exists yet. A throw is logged and becomes an empty extension.
   */
  extendVote?(ctx: Context, req: ExtendVoteRequest): Promise<Uint8Array>;
  /** VerifyVoteExtension: whether another validator's extension is acceptable (without an owner, every extension is). */
  verifyVoteExtension?(ctx: Context, req: VerifyVoteExtensionRequest): Promise<boolean>;
  /** After Commit, with the new committed state in place; must not block (start background work instead). */
  afterCommit?(): void;
}

/** What FinalizeBlock carries besides txs: who signed the previous block and evidence of double signing. */
export interface BlockVotes {
  decidedLastCommit: CommitInfo;
  misbehavior: Misbehavior[];
}

export type ExtendVoteRequest = Partial<RequestExtendVote> & Pick<RequestExtendVote, "height">;
export type VerifyVoteExtensionRequest = Partial<RequestVerifyVoteExtension> & Pick<RequestVerifyVoteExtension, "voteExtension">;

/**
 * Holds modules in a fixed order (the order hooks run in) and the routes to their handlers.
 * Route maps are used only for lookup, never iterated, so their order cannot leak into state.
 */
export class ModuleManager {
  private readonly msgRoutes = new Map<string, MsgHandler>();
  private readonly queryRoutes = new Map<string, QueryHandler>();
  /** The module that makes and checks vote extensions, if any. */
  readonly voteExtensionOwner: AppModule | undefined;

  /** The modules with an end block, in the order their end blocks run. */
  readonly endBlockers: readonly AppModule[];

  /**
   * `endBlockOrder` (the SDK's SetOrderEndBlockers) names modules whose end blocks run after the
   * others, in that order; the rest run first, in module order.
   */
  constructor(readonly modules: readonly AppModule[], endBlockOrder: readonly string[] = []) {
    const names = new Set<string>();
    for (const m of modules) {
      if (names.has(m.name)) throw new Error(`module ${m.name} registered twice`);
      names.add(m.name);
      if (m.extendVote || m.verifyVoteExtension) {
        if (this.voteExtensionOwner) throw new Error(`modules ${this.voteExtensionOwner.name} and ${m.name} both handle vote extensions; one module owns them`);
        this.voteExtensionOwner = m;
      }
      for (const h of m.msgHandlers ?? []) {
        if (this.msgRoutes.has(h.typeUrl)) throw new Error(`two handlers for ${h.typeUrl}`);
        this.msgRoutes.set(h.typeUrl, h);
      }
      for (const h of m.queryHandlers ?? []) {
        if (this.queryRoutes.has(h.path)) throw new Error(`two handlers for query ${h.path}`);
        this.queryRoutes.set(h.path, h);
      }
    }
    for (const n of endBlockOrder) if (!names.has(n)) throw new Error(`end block order names unknown module ${n}`);
    const late = endBlockOrder.map((n) => modules.find((m) => m.name === n)!);
    this.endBlockers = [...modules.filter((m) => !endBlockOrder.includes(m.name)), ...late].filter((m) => m.endBlock);
  }

  msgHandler(typeUrl: string): MsgHandler | undefined {
    return this.msgRoutes.get(typeUrl);
  }

  queryHandler(path: string): QueryHandler | undefined {
    return this.queryRoutes.get(path);
  }

  module(name: string): AppModule | undefined {
    return this.modules.find((m) => m.name === name);
  }

  /** The module whose pseudo-tx `tx` is, if any (see PseudoTxHandler). */
  pseudoTxHandler(tx: Uint8Array): PseudoTxHandler | undefined {
    return this.modules.find((m) => m.pseudoTx?.matches(tx))?.pseudoTx;
  }
}

/** The two functions of a cosmjs-types / protobufjs message codec that query routing needs. */
export interface ProtoCodec<T> {
  decode(input: Uint8Array): T;
  encode(message: T): { finish(): Uint8Array };
}

/** A gRPC-style query over ABCI: decodes the request, runs `fn`, encodes the response. */
export function grpcQuery<Req, Res>(path: string, req: ProtoCodec<Req>, res: ProtoCodec<Res>, fn: (ctx: Context, request: Req) => Promise<Res>): QueryHandler {
  return {
    path,
    async handle(ctx, data) {
      let request: Req;
      try {
        request = req.decode(data);
      } catch (err) {
        throw ErrInvalidRequest(`cannot decode ${path} request: ${(err as Error).message}`);
      }
      return res.encode(await fn(ctx, request)).finish();
    },
  };
}
