/**
 * A small JSON-RPC client for the CometBFT v0.38 RPC, returning its JSON as CometBFT writes it (hex
 * hashes, base64 txs, RFC 3339 times, event attributes with their `index` flag). CosmJS's client
 * drops some of these fields (`info`, attribute `index`), which the gateway's JSON carries.
 */
import { Code, GatewayError } from "./errors";

export class CometRpcError extends Error {
  constructor(readonly method: string, readonly rpcMessage: string, readonly data: string) {
    super(`${method}: ${rpcMessage}${data ? `: ${data}` : ""}`);
  }
}

export interface RawBlockId { hash: string; parts: { total: number; hash: string } }
export interface RawHeader {
  version: { block: string; app?: string }; chain_id: string; height: string; time: string; last_block_id: RawBlockId;
  last_commit_hash: string; data_hash: string; validators_hash: string; next_validators_hash: string; consensus_hash: string;
  app_hash: string; last_results_hash: string; evidence_hash: string; proposer_address: string;
}
export interface RawCommitSig { block_id_flag: number; validator_address: string; timestamp: string; signature: string | null }
export interface RawBlock {
  header: RawHeader; data: { txs: string[] | null }; evidence: { evidence: unknown[] | null };
  last_commit: { height: string; round: number; block_id: RawBlockId; signatures: RawCommitSig[] } | null;
}
export interface RawBlockResponse { block_id: RawBlockId; block: RawBlock }
export interface RawEvent { type: string; attributes: Array<{ key: string; value: string; index?: boolean }> | null }
export interface RawTxResult {
  code: number; data: string | null; log: string; info: string; gas_wanted: string; gas_used: string; events: RawEvent[] | null; codespace: string;
}
export interface RawTx { hash: string; height: string; index: number; tx_result: RawTxResult; tx: string }
export interface RawValidator { address: string; pub_key: { type: string; value: string }; voting_power: string; proposer_priority: string }
export interface RawStatus {
  node_info: {
    protocol_version: { p2p: string; block: string; app: string }; id: string; listen_addr: string; network: string; version: string;
    channels: string; moniker: string; other: { tx_index: string; rpc_address: string };
  };
  sync_info: { latest_block_height: string; latest_block_time: string; catching_up: boolean; latest_app_hash: string };
  validator_info: { address: string; voting_power: string };
}
export interface RawBlockResults { height: string; txs_results: RawTxResult[] | null; finalize_block_events: RawEvent[] | null }
export interface RawQueryResponse {
  code: number; log: string; info: string; index: string; key: string | null; value: string | null; height: string; codespace: string;
  proofOps: { ops: Array<{ type: string; key: string; data: string }> } | null;
}
export interface RawBroadcast { code: number; data: string; log: string; codespace: string; hash: string }

export class CometRpc {
  private id = 0;

  constructor(readonly url: string, private readonly timeoutMs = 10_000) {}

  /** Calls `method`; CometBFT's own errors throw CometRpcError, an unreachable node a 503 GatewayError. */
  async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params }), signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new GatewayError(Code.Unavailable, `CometBFT RPC ${this.url} unreachable: ${(err as Error).message}`);
    }
    let body: { result?: T; error?: { message?: string; data?: string } };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new GatewayError(Code.Unavailable, `CometBFT RPC ${this.url} answered ${method} with HTTP ${res.status} and no JSON`);
    }
    if (body.error) throw new CometRpcError(method, body.error.message ?? "error", body.error.data ?? "");
    return body.result as T;
  }

  status(): Promise<RawStatus> {
    return this.call("status");
  }
  block(height?: bigint): Promise<RawBlockResponse> {
    return this.call("block", height === undefined ? {} : { height: height.toString() });
  }
  blockResults(height: bigint): Promise<RawBlockResults> {
    return this.call("block_results", { height: height.toString() });
  }
  tx(hashHex: string): Promise<RawTx> {
    return this.call("tx", { hash: Buffer.from(hashHex, "hex").toString("base64"), prove: false });
  }
  txSearch(query: string, page: number, perPage: number, orderBy: string): Promise<{ txs: RawTx[]; total_count: string }> {
    return this.call("tx_search", { query, prove: false, page: String(page), per_page: String(perPage), order_by: orderBy });
  }
  validators(height: bigint | undefined, page: number, perPage: number): Promise<{ block_height: string; validators: RawValidator[]; total: string }> {
    return this.call("validators", { ...(height === undefined ? {} : { height: height.toString() }), page: String(page), per_page: String(perPage) });
  }
  broadcast(mode: "sync" | "async", tx: Uint8Array): Promise<RawBroadcast> {
    return this.call(`broadcast_tx_${mode}`, { tx: Buffer.from(tx).toString("base64") });
  }
  abciQuery(path: string, data: Uint8Array, height = 0n, prove = false): Promise<{ response: RawQueryResponse }> {
    return this.call("abci_query", { path, data: Buffer.from(data).toString("hex"), height: height.toString(), prove });
  }
}
