/**
 * Routes of the gateway, made the way grpc-gateway makes them: from each gRPC method's
 * `(google.api.http)` binding in the .proto files (or from bindings given for services whose .proto
 * has none, like poi.v1.Query), with the method's request and response types. A method is served by
 * forwarding to the app's ABCI query handler of the same gRPC path, by a handler written here (the tx
 * and CometBFT services), or answers 501 Unimplemented.
 */
import type * as protobuf from "protobufjs";
import { service as lookupService } from "./proto";
import { unimplemented } from "./errors";
import { encodeRequest } from "./request";
import type { CometRpc } from "./comet-rpc";

/** What a handler gets: the request as a plain object of its type (snake_case), and the node's backends. */
export interface MethodContext {
  request: Record<string, unknown>;
  rpc: CometRpc;
  /** ABCI Query through CometBFT; an app refusal throws the matching GatewayError. */
  abciQuery(path: string, data: Uint8Array): Promise<Uint8Array>;
  node: NodeFacts;
}

export interface NodeFacts {
  appName: string;
  version: string;
  /** The SDK API level the gateway follows (application_version.cosmos_sdk_version). */
  cosmosSdkVersion: string;
}

/** Returns the response as protobuf bytes or a plain object of the method's response type. */
export type MethodHandler = (ctx: MethodContext) => Promise<Uint8Array | Record<string, unknown>>;

export interface ServiceEntry {
  /** Full gRPC service name, e.g. "cosmos.bank.v1beta1.Query". */
  service: string;
  /**
   * "abci": every method goes to the app's query handler at "/<service>/<Method>" (a method the app
   * lacks answers 501 from the app); otherwise handlers by method name (methods without one answer 501).
   */
  served: "abci" | Record<string, MethodHandler>;
  /** HTTP bindings by method ("GET /poi/v1/tasks/{id}") for services whose .proto declares none; bindings of methods the service lacks are unused. */
  http?: Record<string, string[]>;
}

export interface Route {
  verb: string;
  segments: string[];
  pattern: string;
  method: protobuf.Method;
  requestType: protobuf.Type;
  responseType: protobuf.Type;
  /** The JSON body fills the request ("*"), or there is none. */
  body: boolean;
  handler: MethodHandler;
}

interface HttpRule { get?: string; post?: string; put?: string; delete?: string; patch?: string; body?: string; additional_bindings?: HttpRule | HttpRule[] }

function rulesOf(method: protobuf.Method): HttpRule[] {
  const opt = (method.parsedOptions ?? []).find((o: Record<string, unknown>) => o["(google.api.http)"]);
  if (!opt) return [];
  const rule = opt["(google.api.http)"] as HttpRule;
  const extra = rule.additional_bindings;
  return [rule, ...(Array.isArray(extra) ? extra : extra ? [extra] : [])];
}

function bindings(method: protobuf.Method, given?: string[]): Array<{ verb: string; pattern: string; body: boolean }> {
  if (given) {
    return given.map((b) => {
      const [verb, pattern] = b.split(" ");
      return { verb, pattern, body: verb === "POST" };
    });
  }
  return rulesOf(method).flatMap((r) => {
    const verb = (["get", "post", "put", "delete", "patch"] as const).find((v) => r[v]);
    return verb ? [{ verb: verb.toUpperCase(), pattern: r[verb]!, body: r.body === "*" }] : [];
  });
}

function handlerFor(entry: ServiceEntry, method: protobuf.Method): MethodHandler {
  const path = `/${entry.service}/${method.name}`;
  if (entry.served === "abci") {
    const requestType = method.resolvedRequestType!;
    return (ctx) => ctx.abciQuery(path, encodeRequest(requestType, ctx.request));
  }
  return entry.served[method.name] ?? (async () => { throw unimplemented(`${path} is not implemented by this node`); });
}

/** Every route of `entries`, most specific first (more literal segments win over parameters). */
export function compileRoutes(entries: readonly ServiceEntry[]): Route[] {
  const routes: Route[] = [];
  for (const entry of entries) {
    const svc = lookupService(entry.service);
    svc.resolveAll();
    for (const method of svc.methodsArray) {
      if (entry.http && !entry.http[method.name]) continue;
      for (const b of bindings(method, entry.http?.[method.name])) {
        routes.push({
          verb: b.verb, pattern: b.pattern, segments: b.pattern.split("/").filter(Boolean), method, body: b.body,
          requestType: method.resolvedRequestType!, responseType: method.resolvedResponseType!, handler: handlerFor(entry, method),
        });
      }
    }
  }
  const literals = (r: Route) => r.segments.filter((s) => !s.startsWith("{")).length;
  return routes.sort((a, b) => literals(b) - literals(a));
}

/** The route for `verb` and `path` with its path parameters, or undefined. */
export function matchRoute(routes: readonly Route[], verb: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split("/").filter(Boolean);
  for (const route of routes) {
    if (route.verb !== verb || route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (const [i, seg] of route.segments.entries()) {
      if (seg.startsWith("{")) {
        let value: string;
        try {
          value = decodeURIComponent(parts[i]);
        } catch {
          value = parts[i];
        }
        params[seg.slice(1, -1).split("=")[0]] = value;
      } else if (seg !== parts[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return { route, params };
  }
  return undefined;
}
