/**
 * A node's REST API (the Cosmos SDK's gRPC-gateway JSON, src/rest/gateway.ts) and its explorer page at
 * /explorer. Queries go to the app through CometBFT's abci_query, so they take the same ABCI path (and
 * lock) as every other query; blocks, txs and broadcasts go to CometBFT's RPC. CORS is open (`*`).
 */
import * as http from "node:http";
import { CometRpc, CometRpcError } from "./comet-rpc";
import { b64Bytes } from "./comet-convert";
import { Code, GatewayError, fromAppError, invalidArgument, unimplemented } from "./errors";
import { VERDICTS_ROUTE, gatewayRoutes, verdictAggregate } from "./gateway";
import { parseRequest } from "./request";
import { toGatewayJson } from "./proto";
import { matchRoute, type MethodContext, type NodeFacts } from "./router";
import { serveExplorer } from "./explorer-files";

export interface RestServerOptions {
  /** "host:port" or "tcp://host:port". */
  listen: string;
  /** This node's CometBFT RPC, e.g. "http://127.0.0.1:26657". */
  rpcUrl: string;
  node: NodeFacts;
  log?: (msg: string) => void;
}

/** The largest POST body taken (a simulate or broadcast of a 4 MiB tx, in base64 inside JSON). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "Content-Type, Accept, Authorization",
  "access-control-max-age": "600",
};

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:tcp:\/\/)?([^:/]+):(\d+)$/.exec(listen);
  if (!m) throw new Error(`bad listen address "${listen}" (want host:port or tcp://host:port)`);
  return { host: m[1], port: Number(m[2]) };
}

/** Starts an HTTP server on `listen`; a port already taken rejects with a message naming it. */
export function listenHttp(listen: string, handler: http.RequestListener): Promise<http.Server> {
  const { host, port } = parseListen(listen);
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`cannot listen on ${host}:${port}: ${(err as Error).message}`)));
    server.listen(port, host, () => resolve(server));
  });
}

export function closeHttp(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...CORS, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new GatewayError(Code.ResourceExhausted, `request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`request body is not JSON: ${(err as Error).message}`);
  }
}

export class RestServer {
  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(opts: RestServerOptions): Promise<RestServer> {
    const rpc = new CometRpc(opts.rpcUrl);
    const log = opts.log ?? (() => undefined);
    const abciQuery = async (path: string, data: Uint8Array) => {
      const { response: r } = await rpc.abciQuery(path, data);
      if (r.code) throw fromAppError(r.codespace ?? "", r.code, r.log ?? "");
      return b64Bytes(r.value);
    };
    const routes = gatewayRoutes();

    const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
      if (req.method === "OPTIONS") {
        res.writeHead(204, { ...CORS, ...(req.headers["access-control-request-headers"] ? { "access-control-allow-headers": String(req.headers["access-control-request-headers"]) } : {}) });
        res.end();
        return;
      }
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/explorer" || url.pathname.startsWith("/explorer/")) return serveExplorer(url.pathname, res, { rpc: opts.rpcUrl, cors: CORS });
      const verdicts = VERDICTS_ROUTE.exec(url.pathname);
      if (verdicts && req.method === "GET") return send(res, 200, await verdictAggregate(rpc, decodeURIComponent(verdicts[1])));
      const match = matchRoute(routes, req.method ?? "GET", url.pathname);
      if (!match) throw unimplemented();
      const body = match.route.body ? await readJson(req) : undefined;
      const ctx: MethodContext = { request: parseRequest(match.route.requestType, match.params, url.searchParams, body), rpc, abciQuery, node: opts.node };
      const out = await match.route.handler(ctx);
      send(res, 200, toGatewayJson(match.route.responseType.fullName, out));
    };

    const server = await listenHttp(opts.listen, (req, res) => {
      handle(req, res).catch((err: unknown) => {
        const e = err instanceof GatewayError ? err
          : err instanceof CometRpcError ? invalidArgument(err.data || err.rpcMessage)
          : new GatewayError(Code.Internal, `internal error: ${(err as Error).message}`);
        if (e.code === Code.Internal) log(`rest: ${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
        if (!res.headersSent) send(res, e.httpStatus, e.body());
        else res.end();
      });
    });
    const { host, port } = parseListen(opts.listen);
    const rest = new RestServer(server, `http://${host}:${(server.address() as { port: number }).port ?? port}`);
    log(`rest: gateway API on ${rest.url}, explorer on ${rest.url}/explorer/`);
    return rest;
  }

  close(): Promise<void> {
    return closeHttp(this.server);
  }
}
