/**
 * cosmos.tx.v1beta1.Service as the SDK v0.50 serves it (x/auth/tx/service.go): Simulate goes to the
 * app's ABCI handler; txs, searches and broadcasts go to CometBFT's RPC and are decoded here. Where
 * the SDK answers bad input with a 500 (an empty search query, an unknown broadcast mode, a failing
 * simulation) this gateway answers 400.
 */
import { Code, GatewayError, invalidArgument, notFound } from "./errors";
import { CometRpcError, type CometRpc, type RawHeader, type RawTx } from "./comet-rpc";
import { block, blockId, decodeBlockTx, txResponse } from "./comet-convert";
import { encodeMessage } from "./proto";
import type { MethodContext, MethodHandler } from "./router";

type Obj = Record<string, unknown>;
const DEFAULT_LIMIT = 100;
const HASH = /^[0-9a-fA-F]{64}$/;

const num = (v: unknown) => Number(v ?? 0);
const bytesOf = (v: unknown) => (v instanceof Uint8Array ? v : new Uint8Array());

/** A tx's block time, as the SDK puts it into TxResponse.timestamp. */
async function blockTimes(rpc: CometRpc, heights: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const h of new Set(heights)) out.set(h, (await rpc.call<{ header: RawHeader }>("header", { height: h })).header.time);
  return out;
}

async function txResponses(rpc: CometRpc, raws: RawTx[]): Promise<{ txs: Obj[]; responses: Obj[] }> {
  const times = await blockTimes(rpc, raws.map((r) => r.height));
  return {
    txs: raws.map((r) => decodeBlockTx(Buffer.from(r.tx, "base64")).tx ?? {}),
    responses: raws.map((r) => txResponse(r, times.get(r.height)!)),
  };
}

/** CometBFT's refusals of a search or lookup are the caller's input (bad query, page out of range). */
function searchError(err: unknown): unknown {
  return err instanceof CometRpcError ? invalidArgument(err.data || err.rpcMessage) : err;
}

async function latestHeight(rpc: CometRpc): Promise<bigint> {
  return BigInt((await rpc.status()).sync_info.latest_block_height);
}

/** A height path parameter the chain has: 1 ≤ height ≤ latest. */
export async function checkHeight(rpc: CometRpc, height: unknown): Promise<bigint> {
  const h = BigInt(String(height ?? 0));
  const latest = await latestHeight(rpc);
  if (h < 1n || h > latest) throw invalidArgument(`requested height ${h} but height must not be less than 1 or greater than the current height ${latest}`);
  return h;
}

const Simulate: MethodHandler = async ({ request, abciQuery }) => {
  let txBytes = bytesOf(request.tx_bytes);
  if (txBytes.length === 0 && request.tx) txBytes = encodeMessage("cosmos.tx.v1beta1.Tx", request.tx as Obj);
  if (txBytes.length === 0) throw invalidArgument("empty txBytes is not allowed");
  return abciQuery("/cosmos.tx.v1beta1.Service/Simulate", encodeMessage("cosmos.tx.v1beta1.SimulateRequest", { tx_bytes: txBytes }));
};

/** A tx by hash as GetTxResponse {tx, tx_response}; a hash CometBFT does not know is a 404. */
export async function getTx(rpc: CometRpc, hash: string): Promise<Obj> {
  if (hash === "") throw invalidArgument("tx hash cannot be empty");
  if (!HASH.test(hash)) throw invalidArgument(`invalid tx hash "${hash.slice(0, 80)}": want 64 hex characters`);
  let raw: RawTx;
  try {
    raw = await rpc.tx(hash);
  } catch (err) {
    if (err instanceof CometRpcError && /not found/.test(err.message)) throw notFound(`tx not found: ${hash}`);
    throw err;
  }
  const { txs, responses } = await txResponses(rpc, [raw]);
  return { tx: txs[0], tx_response: responses[0] };
}

const GetTx: MethodHandler = ({ request, rpc }) => getTx(rpc, String(request.hash ?? ""));

const ORDER: Record<string, string> = { ORDER_BY_ASC: "asc", ORDER_BY_DESC: "desc" };

/** tx_search as GetTxsEventResponse {txs, tx_responses, total}; page from 1, limit default 100. */
export async function searchTxs(rpc: CometRpc, query: string, page: number, limit: number, orderBy: "asc" | "desc" | ""): Promise<Obj & { tx_responses: Obj[]; total: string }> {
  if (query === "") throw invalidArgument("query cannot be empty");
  let found: { txs: RawTx[]; total_count: string };
  try {
    found = await rpc.txSearch(query, page || 1, limit || DEFAULT_LIMIT, orderBy);
  } catch (err) {
    throw searchError(err);
  }
  const { txs, responses } = await txResponses(rpc, found.txs);
  return { txs, tx_responses: responses, pagination: null, total: found.total_count };
}

const GetTxsEvent: MethodHandler = async ({ request, rpc }) => {
  // SDK ≤ 0.47 clients send `events` (each "type.attr='value'"); 0.50 takes one `query`.
  const events = (request.events as string[] | undefined) ?? [];
  const query = String(request.query ?? "") || events.join(" AND ");
  const orderBy = (ORDER[String(request.order_by ?? "")] ?? "") as "asc" | "desc" | "";
  return searchTxs(rpc, query, num(request.page), num(request.limit), orderBy);
};

const GetBlockWithTxs: MethodHandler = async ({ request, rpc }) => {
  const height = await checkHeight(rpc, request.height);
  const res = await rpc.block(height);
  const pagination = (request.pagination ?? {}) as Obj;
  const offset = num(pagination.offset);
  const limit = num(pagination.limit) || DEFAULT_LIMIT;
  const all = (res.block.data.txs ?? []).map((t) => Buffer.from(t, "base64"));
  if (offset >= all.length && all.length !== 0) throw invalidArgument(`out of range: cannot paginate ${all.length} txs with offset ${offset} and limit ${limit}`);
  const picked = pagination.reverse === true
    ? all.slice(Math.max(0, offset - limit + 1), offset + 1).reverse()
    : all.slice(offset, offset + limit);
  return {
    txs: picked.map((t) => decodeBlockTx(t).tx ?? {}),
    block_id: blockId(res.block_id), block: block(res.block), pagination: { next_key: new Uint8Array(), total: String(all.length) },
  };
};

/** CometBFT's mempool refusals the SDK turns into a TxResponse code (client/broadcast.go CheckCometError). */
const MEMPOOL_CODES: Array<[RegExp, number, string]> = [
  [/tx already exists in cache/, 19, "tx already in mempool"],
  [/mempool is full/, 20, "mempool is full"],
  [/tx too large/, 21, "tx too large"],
];

const BroadcastTx: MethodHandler = async ({ request, rpc }: MethodContext) => {
  const txBytes = bytesOf(request.tx_bytes);
  if (txBytes.length === 0) throw invalidArgument("invalid empty tx");
  const modeName = String(request.mode ?? "BROADCAST_MODE_UNSPECIFIED");
  const mode = modeName === "BROADCAST_MODE_SYNC" ? "sync" : modeName === "BROADCAST_MODE_ASYNC" ? "async" : undefined;
  if (!mode) throw invalidArgument(`unsupported return type ${modeName.replace("BROADCAST_MODE_", "").toLowerCase()}; supported types: sync, async`);
  const empty = { height: "0", logs: [], info: "", gas_wanted: "0", gas_used: "0", tx: null, timestamp: "", events: [] };
  try {
    const r = await rpc.broadcast(mode, txBytes);
    return { tx_response: { ...empty, txhash: r.hash.toUpperCase(), codespace: r.codespace ?? "", code: r.code ?? 0, data: (r.data ?? "").toUpperCase(), raw_log: r.log ?? "" } };
  } catch (err) {
    if (!(err instanceof CometRpcError)) throw err;
    const known = MEMPOOL_CODES.find(([re]) => re.test(err.message));
    if (!known) throw new GatewayError(Code.InvalidArgument, err.data || err.rpcMessage);
    const txhash = Buffer.from(await crypto.subtle.digest("SHA-256", txBytes)).toString("hex").toUpperCase();
    return { tx_response: { ...empty, txhash, codespace: "sdk", code: known[1], data: "", raw_log: known[2] } };
  }
};

export const txService: Record<string, MethodHandler> = { Simulate, GetTx, GetTxsEvent, GetBlockWithTxs, BroadcastTx };
