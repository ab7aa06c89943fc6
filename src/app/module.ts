import type { ValidatorUpdate } from "cosmjs-types/tendermint/abci/types";
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
 * A Cosmos-style module. It owns the key space "<name>/" and reaches other modules only through
 * keeper interfaces handed to its constructor.
 */
export interface AppModule {
  readonly name: string;
  /** `state` is this module's section of genesis app_state (undefined when absent). */
  initGenesis(ctx: Context, state: unknown): Promise<void>;
  exportGenesis(ctx: Context): Promise<unknown>;
  beginBlock?(ctx: Context): Promise<void>;
  endBlock?(ctx: Context): Promise<ValidatorUpdate[] | void>;
  readonly msgHandlers?: readonly MsgHandler[];
  readonly queryHandlers?: readonly QueryHandler[];
}

/**
 * Holds modules in a fixed order (the order hooks run in) and the routes to their handlers.
 * Route maps are used only for lookup, never iterated, so their order cannot leak into state.
 */
export class ModuleManager {
  private readonly msgRoutes = new Map<string, MsgHandler>();
  private readonly queryRoutes = new Map<string, QueryHandler>();

  constructor(readonly modules: readonly AppModule[]) {
    const names = new Set<string>();
    for (const m of modules) {
      if (names.has(m.name)) throw new Error(`module ${m.name} registered twice`);
      names.add(m.name);
      for (const h of m.msgHandlers ?? []) {
        if (this.msgRoutes.has(h.typeUrl)) throw new Error(`two handlers for ${h.typeUrl}`);
        this.msgRoutes.set(h.typeUrl, h);
      }
      for (const h of m.queryHandlers ?? []) {
        if (this.queryRoutes.has(h.path)) throw new Error(`two handlers for query ${h.path}`);
        this.queryRoutes.set(h.path, h);
      }
    }
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
