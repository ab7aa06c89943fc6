/**
 * The explorer's two data sources: this node's REST API (the page's own origin, gRPC-gateway JSON)
 * and its CometBFT RPC (URL from /explorer/config.json). Nothing else is read.
 */
export type Obj = Record<string, any>;

export interface ExplorerConfig { rpc: string; rest: string }

async function getJson(url: string): Promise<Obj> {
  const res = await fetch(url, { cache: "no-store" });
  const body = (await res.json()) as Obj;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${body.message ?? ""}`);
  return body;
}

export class Api {
  constructor(readonly config: ExplorerConfig) {}

  static async load(): Promise<Api> {
    return new Api((await getJson("config.json")) as ExplorerConfig);
  }

  /** A REST path such as "/poi/v1/tasks"; `query` adds URL parameters. */
  rest(path: string, query: Record<string, string> = {}): Promise<Obj> {
    const qs = new URLSearchParams(query).toString();
    return getJson(`${this.config.rest}${path}${qs ? `?${qs}` : ""}`);
  }

  /** A CometBFT RPC method's `result`. */
  async rpc(method: string, params: Record<string, string> = {}): Promise<Obj> {
    const qs = new URLSearchParams(params).toString();
    const body = await getJson(`${this.config.rpc}/${method}${qs ? `?${qs}` : ""}`);
    if (!body.result) throw new Error(`rpc ${method}: ${JSON.stringify(body.error).slice(0, 200)}`);
    return body.result as Obj;
  }
}
