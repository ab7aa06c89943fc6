/**
 * CosmJS's QueryClient over an in-process PoiApp: the CometClient slice QueryClient uses (abciQuery)
 * answered by app.query, so unmodified CosmJS query extensions decode our responses.
 */
import { QueryClient } from "@cosmjs/stargate";
import type { CometClient } from "@cosmjs/tendermint-rpc";
import type { PoiApp } from "../../src/app/app";

export function inProcessComet(app: PoiApp): CometClient {
  const comet = {
    async abciQuery(params: { path: string; data: Uint8Array; height?: number; prove?: boolean }) {
      const r = await app.query({ path: params.path, data: params.data, height: BigInt(params.height ?? 0), prove: false });
      return { key: r.key ?? new Uint8Array(), value: r.value ?? new Uint8Array(), height: Number(r.height ?? 0), code: r.code ?? 0, codespace: r.codespace ?? "", log: r.log ?? "", index: 0 };
    },
    disconnect() {},
  };
  return comet as unknown as CometClient;
}

export function inProcessQueryClient(app: PoiApp): QueryClient {
  return new QueryClient(inProcessComet(app));
}
