import "../util/cosmjs-types-int64"; // before any encoding: fixes cosmjs-types int64 in [2^31, 2^32)
import "../util/cosmjs-types-alloc"; // encodes allocate only the bytes they return
import * as net from "node:net";
import * as fs from "node:fs";
import {
  Request,
  Response,
  RequestInfo, ResponseInfo,
  RequestInitChain, ResponseInitChain,
  RequestQuery, ResponseQuery,
  RequestCheckTx, ResponseCheckTx,
  ResponseCommit,
  ResponseListSnapshots,
  RequestOfferSnapshot, ResponseOfferSnapshot,
  RequestLoadSnapshotChunk, ResponseLoadSnapshotChunk,
  RequestApplySnapshotChunk, ResponseApplySnapshotChunk,
  RequestPrepareProposal, ResponsePrepareProposal,
  RequestProcessProposal, ResponseProcessProposal,
  RequestExtendVote, ResponseExtendVote,
  RequestVerifyVoteExtension, ResponseVerifyVoteExtension,
  RequestFinalizeBlock, ResponseFinalizeBlock,
} from "cosmjs-types/tendermint/abci/types";
import { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, frame } from "./framing";

type Partial<T> = { [K in keyof T]?: T[K] };

/**
 * The application side of ABCI 2.0. Echo and Flush are answered by the server itself. Info and
 * Query run beside the other calls, outside the lock: they must read committed state only, from a
 * snapshot of one height, and never write.
 */
export interface AbciApplication {
  /**
   * True if CheckTx reads only committed state and its own check state, so that it may run while a
   * block is proposed or executed (never during Commit, InitChain or a snapshot restore). Otherwise
   * every call but Info and Query runs under one lock.
   */
  readonly checkTxBesideBlock?: boolean;
  info(req: RequestInfo): Promise<Partial<ResponseInfo>>;
  initChain(req: RequestInitChain): Promise<Partial<ResponseInitChain>>;
  query(req: RequestQuery): Promise<Partial<ResponseQuery>>;
  checkTx(req: RequestCheckTx): Promise<Partial<ResponseCheckTx>>;
  commit(): Promise<Partial<ResponseCommit>>;
  listSnapshots(): Promise<Partial<ResponseListSnapshots>>;
  offerSnapshot(req: RequestOfferSnapshot): Promise<Partial<ResponseOfferSnapshot>>;
  loadSnapshotChunk(req: RequestLoadSnapshotChunk): Promise<Partial<ResponseLoadSnapshotChunk>>;
  applySnapshotChunk(req: RequestApplySnapshotChunk): Promise<Partial<ResponseApplySnapshotChunk>>;
  prepareProposal(req: RequestPrepareProposal): Promise<Partial<ResponsePrepareProposal>>;
  processProposal(req: RequestProcessProposal): Promise<Partial<ResponseProcessProposal>>;
  extendVote(req: RequestExtendVote): Promise<Partial<ResponseExtendVote>>;
  verifyVoteExtension(req: RequestVerifyVoteExtension): Promise<Partial<ResponseVerifyVoteExtension>>;
  finalizeBlock(req: RequestFinalizeBlock): Promise<Partial<ResponseFinalizeBlock>>;
}

export type Logger = (msg: string) => void;

/** Serialises async work: ABCI state access from the four connections never interleaves. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

// CheckTx and FinalizeBlock answers take the app's events and tx results as they are, not through
// Response.fromPartial's deep copy (most of what these answers allocate): their types are the
// complete Event and ExecTxResult, made fresh for each call.

function checkTxResponse(res: Partial<ResponseCheckTx>): Response {
  const out = Response.fromPartial({ checkTx: { ...res, events: [] } });
  out.checkTx!.events = res.events ?? [];
  return out;
}

function finalizeBlockResponse(res: Partial<ResponseFinalizeBlock>): Response {
  const out = Response.fromPartial({ finalizeBlock: { ...res, txResults: [], events: [] } });
  out.finalizeBlock!.txResults = res.txResults ?? [];
  out.finalizeBlock!.events = res.events ?? [];
  return out;
}

/** Answers one decoded request. Exported for in-process tests that drive the app without a socket. */
export async function dispatch(app: AbciApplication, req: Request): Promise<Response> {
  if (req.echo) return Response.fromPartial({ echo: { message: req.echo.message } });
  if (req.flush) return Response.fromPartial({ flush: {} });
  if (req.info) return Response.fromPartial({ info: await app.info(req.info) });
  if (req.initChain) return Response.fromPartial({ initChain: await app.initChain(req.initChain) });
  if (req.query) return Response.fromPartial({ query: await app.query(req.query) });
  if (req.checkTx) return checkTxResponse(await app.checkTx(req.checkTx));
  if (req.commit) return Response.fromPartial({ commit: await app.commit() });
  if (req.listSnapshots) return Response.fromPartial({ listSnapshots: await app.listSnapshots() });
  if (req.offerSnapshot) return Response.fromPartial({ offerSnapshot: await app.offerSnapshot(req.offerSnapshot) });
  if (req.loadSnapshotChunk) return Response.fromPartial({ loadSnapshotChunk: await app.loadSnapshotChunk(req.loadSnapshotChunk) });
  if (req.applySnapshotChunk) return Response.fromPartial({ applySnapshotChunk: await app.applySnapshotChunk(req.applySnapshotChunk) });
  if (req.prepareProposal) return Response.fromPartial({ prepareProposal: await app.prepareProposal(req.prepareProposal) });
  if (req.processProposal) return Response.fromPartial({ processProposal: await app.processProposal(req.processProposal) });
  if (req.extendVote) return Response.fromPartial({ extendVote: await app.extendVote(req.extendVote) });
  if (req.verifyVoteExtension) return Response.fromPartial({ verifyVoteExtension: await app.verifyVoteExtension(req.verifyVoteExtension) });
  if (req.finalizeBlock) return finalizeBlockResponse(await app.finalizeBlock(req.finalizeBlock));
  throw new Error("request with no known method set");
}

export interface AbciServerOptions {
  maxFrameBytes?: number;
  log?: Logger;
}

/**
 * ABCI socket server. CometBFT opens four connections (query, snapshot, mempool, consensus);
 * each is answered strictly in request order. Requests that change or execute on application state
 * run under a lock, so a CheckTx never observes a half-applied FinalizeBlock or Commit; Info and
 * Query run outside it, on committed snapshots (see AbciApplication). An app whose CheckTx keeps to
 * committed state (checkTxBesideBlock) has CheckTx under a lock of its own, which Commit, InitChain
 * and snapshot restores also take: CheckTx may then run while a consensus call awaits, as CometBFT
 * allows (it locks its mempool only around Commit).
 */
export class AbciServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly appLock = new Mutex();
  private readonly checkLock = new Mutex();
  private readonly maxFrameBytes: number;
  private readonly log: Logger;
  private connections = 0;
  /** Responses sent and socket writes (syscalls) used for them, over every connection. */
  readonly stats = { responses: 0, writes: 0 };

  constructor(private readonly app: AbciApplication, opts: AbciServerOptions = {}) {
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.log = opts.log ?? ((m) => console.error(m));
    this.server = net.createServer((s) => this.onConnection(s));
  }

  /** addr: "tcp://host:port" or "unix:///path" (CometBFT's proxy_app syntax). */
  listen(addr: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      const done = () => { this.server.off("error", reject); resolve(); };
      if (addr.startsWith("unix://")) {
        const path = addr.slice("unix://".length);
        if (fs.existsSync(path)) fs.unlinkSync(path);
        this.server.listen(path, done);
      } else {
        const m = /^(?:tcp:\/\/)?([^:]+):(\d+)$/.exec(addr);
        if (!m) throw new Error(`bad ABCI listen address "${addr}" (want tcp://host:port or unix:///path)`);
        this.server.listen(Number(m[2]), m[1], done);
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(socket: net.Socket): void {
    const id = ++this.connections;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(this.maxFrameBytes);
    // Responses go out in request order: each request's handling is chained after the previous one.
    let chain: Promise<void> = Promise.resolve();
    let closed = false;
    // Responses ready in the same turn of the event loop (a pipelined run of CheckTx answered from
    // memory, a batch ending in Flush) leave in one write: cork at the first, uncork once the turn's
    // work is done. Nothing waits for later input, so no response is delayed past its turn.
    let corked = false;
    const send = (bytes: Uint8Array) => {
      this.stats.responses++;
      if (!corked) {
        corked = true;
        socket.cork();
        setImmediate(() => {
          corked = false;
          this.stats.writes++;
          socket.uncork();
        });
      }
      socket.write(bytes);
    };

    socket.on("data", (chunk) => {
      let messages: Uint8Array[];
      try {
        messages = decoder.push(chunk);
      } catch (err) {
        this.log(`abci: closing connection ${id}: ${(err as Error).message}`);
        closed = true;
        socket.destroy();
        return;
      }
      for (const bytes of messages) {
        chain = chain.then(async () => {
          if (closed) return;
          const res = await this.handle(id, bytes);
          if (!closed) send(frame(Response.encode(res).finish()));
        });
      }
    });
    socket.on("error", (err) => this.log(`abci: connection ${id} error: ${err.message}`));
    socket.on("close", () => { closed = true; this.sockets.delete(socket); });
  }

  private async handle(conn: number, bytes: Uint8Array): Promise<Response> {
    let req: Request;
    try {
      req = Request.decode(bytes);
    } catch (err) {
      return this.exception(conn, `undecodable request: ${(err as Error).message}`);
    }
    if (req.echo || req.flush) return dispatch(this.app, req);
    // Info and Query read a committed snapshot: a query (a 4 MB model, a long task list) never holds
    // up FinalizeBlock or Commit, and never waits for them.
    const beside = req.info !== undefined || req.query !== undefined;
    try {
      if (beside) return await dispatch(this.app, req);
      const run = () => dispatch(this.app, req);
      if (!this.app.checkTxBesideBlock) return await this.appLock.run(run);
      if (req.checkTx) return await this.checkLock.run(run);
      const exclusive = req.commit !== undefined || req.initChain !== undefined || req.offerSnapshot !== undefined || req.applySnapshotChunk !== undefined;
      return await this.appLock.run(exclusive ? () => this.checkLock.run(run) : run);
    } catch (err) {
      // Only reached by an application bug: request handlers turn bad input into result codes.
      // CometBFT stops when it gets an exception, which is the safe outcome for a broken state machine.
      return this.exception(conn, (err as Error).stack ?? String(err));
    }
  }

  private exception(conn: number, error: string): Response {
    this.log(`abci: connection ${conn}: answering with exception: ${error}`);
    return Response.fromPartial({ exception: { error } });
  }
}
