/**
 * The gateway's route table: one entry per gRPC service. Cosmos services take their HTTP paths from
 * the `(google.api.http)` options of the vendored SDK .proto files; poi.v1.Query, whose .proto has
 * none, gets its bindings here. "abci" services forward every method to the app's query handler of the
 * same gRPC path; a method the module does not implement answers the SDK's 501 (gRPC code 12).
 */
import { AGGREGATE_MAGIC, isAggregateTx } from "../x/poi/verdicts";
import type { CometRpc } from "./comet-rpc";
import { b64Bytes, upperHex } from "./comet-convert";
import { messageType, toGatewayJson } from "./proto";
import { compileRoutes, type Route, type ServiceEntry } from "./router";
import { tendermintService } from "./tendermint-service";
import { checkHeight, txService } from "./tx-service";
import { invalidArgument } from "./errors";

/**
 * REST paths of poi.v1.Query, laid out as the SDK's gateways lay theirs out. Query parameters fill
 * the other request fields (e.g. `/poi/v1/tasks?status=TASK_STATUS_COMPLETED&worker=poi1...` and, once
 * Tasks takes a PageRequest, `pagination.limit=20`). Datasets is bound before its rpc exists: its route
 * appears when the rpc does.
 */
export const POI_HTTP: Record<string, string[]> = {
  Params: ["GET /poi/v1/params"],
  Models: ["GET /poi/v1/models"],
  Model: ["GET /poi/v1/models/{id}"],
  ModelBytes: ["GET /poi/v1/models/{id}/onnx"],
  Datasets: ["GET /poi/v1/datasets"],
  Dataset: ["GET /poi/v1/datasets/{id}"],
  DatasetItems: ["GET /poi/v1/datasets/{id}/items"],
  Tasks: ["GET /poi/v1/tasks"],
  Task: ["GET /poi/v1/tasks/{id}"],
  TaskInputs: ["GET /poi/v1/tasks/{id}/inputs"],
  TaskOutputs: ["GET /poi/v1/tasks/{id}/outputs"],
  Worker: ["GET /poi/v1/workers/{address}", "GET /poi/v1/worker/{address}"],
  Validator: ["GET /poi/v1/validators/{address}"],
  SeedRecord: ["GET /poi/v1/validators/{validator}/seed_records/{epoch}"],
  OpenTasks: ["GET /poi/v1/open_tasks"],
  Links: ["GET /poi/v1/links"],
  WorkScore: ["GET /poi/v1/validators/{validator}/work_score"],
  Training: ["GET /poi/v1/tasks/{id}/training"],
  Checkpoint: ["GET /poi/v1/tasks/{task_id}/checkpoints/{index}/chunks/{chunk}"],
};

/** The Cosmos SDK API level the gateway follows (its vendored .proto files), reported in node_info. */
export const COSMOS_SDK_API = "v0.50.14";

export const SERVICES: readonly ServiceEntry[] = [
  { service: "cosmos.auth.v1beta1.Query", served: "abci" },
  { service: "cosmos.bank.v1beta1.Query", served: "abci" },
  { service: "cosmos.tx.v1beta1.Service", served: txService },
  { service: "cosmos.base.tendermint.v1beta1.Service", served: tendermintService },
  { service: "poi.v1.Query", served: "abci", http: POI_HTTP },
  // Read by Keplr's staking screens and Ping.pub's dashboard and validator pages.
  { service: "cosmos.staking.v1beta1.Query", served: "abci" },
  { service: "cosmos.distribution.v1beta1.Query", served: "abci" },
  { service: "cosmos.mint.v1beta1.Query", served: "abci" },
  { service: "cosmos.slashing.v1beta1.Query", served: "abci" },
];

let compiled: Route[] | undefined;
export function gatewayRoutes(): Route[] {
  compiled ??= compileRoutes(SERVICES);
  return compiled;
}

/** GET /poi/v1/verdict_aggregates/{height}: the verdict aggregate at the head of a block, each vote extension decoded (for explorers). */
export const VERDICTS_ROUTE = /^\/poi\/v1\/verdict_aggregates\/([^/]+)$/;

export async function verdictAggregate(rpc: CometRpc, heightParam: string): Promise<Record<string, unknown>> {
  if (!/^\d{1,19}$/.test(heightParam)) throw invalidArgument(`height "${heightParam.slice(0, 32)}" is not an integer`);
  const height = await checkHeight(rpc, heightParam);
  const txs = (await rpc.block(height)).block.data.txs ?? [];
  const tx = txs.map(b64Bytes).find(isAggregateTx);
  if (!tx) return { height: height.toString(), aggregate: null };
  const bytes = tx.subarray(AGGREGATE_MAGIC.length);
  const json = toGatewayJson("poi.v1.VerdictAggregate", bytes);
  const agg = messageType("poi.v1.VerdictAggregate").decode(bytes) as unknown as { votes: Array<{ validator_address: Uint8Array; extension: Uint8Array }> };
  const votes = (json.votes as Array<Record<string, unknown>>).map((v, i) => {
    const raw = agg.votes[i];
    let extension: unknown = null;
    try {
      extension = raw.extension.length ? toGatewayJson("poi.v1.VoteExtension", raw.extension) : null;
    } catch {
      extension = null; // a malformed extension: the chain ignores it, so does the view
    }
    return { ...v, validator: upperHex(raw.validator_address), extension };
  });
  return { height: height.toString(), aggregate: { ...json, votes } };
}
