/**
 * gaiad-style chain commands over a node's CometBFT RPC, printing what the SDK's CLI prints (proto
 * JSON with .proto field names, through the REST gateway's own conversions in src/rest):
 *   poi status                          CometBFT's status (node_info, sync_info, validator_info)
 *   poi query tx HASH                   a TxResponse
 *   poi query txs --query "..."         a SearchTxsResult (--page, --limit, --order-by asc|desc)
 *   poi query block [HEIGHT]            a tendermint.types.Block (the latest without HEIGHT)
 */
import { parseArgs } from "node:util";
import { CometRpc } from "../rest/comet-rpc";
import { block } from "../rest/comet-convert";
import { GatewayError } from "../rest/errors";
import { toGatewayJson } from "../rest/proto";
import { getTx, searchTxs } from "../rest/tx-service";
import { NODE_OPTION, checkNodeUrl } from "./args";
import { OUTPUT_OPTION, type OutputFormat, UsageError, outputFormat, positionals, printJson, printLines } from "./common";
import { yamlLines } from "./render";

export const CHAIN_QUERIES = ["tx", "txs", "block"];

/** An RPC client for `--node` (ws:// URLs are served over http:// too). */
export function rpcFor(node: string | undefined): CometRpc {
  return new CometRpc(checkNodeUrl(node).replace(/^ws(s?):/, "http$1:").replace(/\/websocket\/?$/, ""));
}

function print(value: unknown, output: OutputFormat): void {
  if (output === "json") printJson(value);
  else printLines(yamlLines(value));
}

/** Gateway errors (not found, bad input, node down) as the CLI's plain errors. */
async function orMessage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof GatewayError) throw new Error(err.message);
    throw err;
  }
}

function positiveInt(v: string | undefined, name: string): number {
  if (v === undefined) return 0;
  if (!/^[1-9][0-9]{0,8}$/.test(v)) throw new UsageError(`--${name} must be a positive integer, got "${v}"`);
  return Number(v);
}

/** `poi status` */
export async function runStatus(argv: string[]): Promise<void> {
  const { values, positionals: pos } = parseArgs({ args: argv, allowPositionals: true, options: { ...OUTPUT_OPTION, ...NODE_OPTION } });
  positionals("status", pos, []);
  const output = outputFormat(values.output);
  print(await orMessage(() => rpcFor(values.node).status()), output);
}

/** `poi query tx|txs|block ...` */
export async function runChainQuery(argv: string[]): Promise<void> {
  const [what, ...args] = argv;
  const { values, positionals: pos } = parseArgs({
    args, allowPositionals: true,
    options: { ...OUTPUT_OPTION, ...NODE_OPTION, query: { type: "string" }, page: { type: "string" }, limit: { type: "string" }, "order-by": { type: "string" } },
  });
  const output = outputFormat(values.output);
  const searchFlags = ["query", "page", "limit", "order-by"] as const;
  if (what !== "txs") for (const f of searchFlags) if (values[f] !== undefined) throw new UsageError(`query ${what}: --${f} does not apply`);
  const rpc = rpcFor(values.node);
  if (what === "tx") {
    const [hash] = positionals("query tx", pos, ["HASH"]);
    const res = await orMessage(() => getTx(rpc, hash.replace(/^0x/i, "")));
    print(toGatewayJson("cosmos.base.abci.v1beta1.TxResponse", res.tx_response as Record<string, unknown>), output);
    return;
  }
  if (what === "txs") {
    positionals("query txs", pos, []);
    if (!values.query) throw new UsageError(`query txs needs --query "EVENT_QUERY", e.g. --query "message.sender='poi1...'"`);
    const order = values["order-by"] ?? "";
    if (!["", "asc", "desc"].includes(order)) throw new UsageError(`--order-by must be asc or desc, got "${order}"`);
    const page = positiveInt(values.page, "page") || 1;
    const limit = positiveInt(values.limit, "limit") || 100;
    const res = await orMessage(() => searchTxs(rpc, values.query!, page, limit, order as "asc" | "desc" | ""));
    const total = Number(res.total);
    print(toGatewayJson("cosmos.base.abci.v1beta1.SearchTxsResult", {
      total_count: res.total, count: String(res.tx_responses.length), page_number: String(page),
      page_total: String(Math.max(1, Math.ceil(total / limit))), limit: String(limit), txs: res.tx_responses,
    }), output);
    return;
  }
  if (what === "block") {
    if (pos.length > 1) throw new UsageError(`query block: unexpected argument "${pos[1]}"`);
    const height = pos[0] === undefined ? undefined : BigInt(positiveInt(pos[0], "HEIGHT (argument)"));
    const res = await orMessage(async () => {
      const latest = BigInt((await rpc.status()).sync_info.latest_block_height);
      if (height !== undefined && height > latest) throw new Error(`height ${height} is above the latest height ${latest}`);
      return rpc.block(height);
    });
    print(toGatewayJson("tendermint.types.Block", block(res.block)), output);
    return;
  }
  throw new UsageError(`unknown query "${what ?? ""}" (want: query tx HASH | query txs --query Q | query block [HEIGHT])`);
}
