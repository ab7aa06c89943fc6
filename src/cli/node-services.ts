/**
 * What a node serves besides ABCI: the REST API with the explorer page (src/rest) and the app's
 * Prometheus metrics (src/metrics), on the ports of config/app.json (`rest_listen`, `metrics_listen`;
 * README "Ports"). `poi start` calls startNodeServices once the app is open; the servers live as long
 * as the process.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as http from "node:http";
import type { PoiApp } from "../app/app";
import { APP_NAME } from "../app/params";
import type { VerifierService } from "../x/poi/verify/service";
import { AppMetrics } from "../metrics/metrics";
import { RestServer, closeHttp, listenHttp } from "../rest/server";
import { COSMOS_SDK_API } from "../rest/gateway";
import type { NodeFacts } from "../rest/router";
import { PROJECT_ROOT } from "./cometbft-bin";
import type { AppConfig } from "./home";

export function nodeFacts(): NodeFacts {
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { version: string };
  return { appName: APP_NAME, version: pkg.version, cosmosSdkVersion: COSMOS_SDK_API };
}

export interface NodeServices {
  rest?: RestServer;
  metrics: AppMetrics;
  close(): Promise<void>;
}

export async function startNodeServices(o: { app: PoiApp; verifier?: VerifierService; config: AppConfig; log: (m: string) => void }): Promise<NodeServices> {
  const metrics = new AppMetrics(o.app, o.verifier);
  let metricsServer: http.Server | undefined;
  if (o.config.metrics_listen) {
    metricsServer = await listenHttp(o.config.metrics_listen, (req, res) => {
      if (new URL(req.url ?? "/", "http://x").pathname !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("metrics are at /metrics\n");
        return;
      }
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${err.message}\n`),
      );
    });
    o.log(`metrics: http://${o.config.metrics_listen}/metrics`);
  }
  const rest = o.config.rest_listen ? await RestServer.start({ listen: o.config.rest_listen, rpcUrl: o.config.rpc_url, node: nodeFacts(), log: o.log }) : undefined;
  return {
    rest, metrics,
    async close() {
      await rest?.close();
      if (metricsServer) await closeHttp(metricsServer);
    },
  };
}
