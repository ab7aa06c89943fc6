/**
 * The explorer page's files at /explorer/: index.html and style.css from src/explorer, the scripts
 * `npm run build` compiled from src/explorer/*.ts into dist/src/explorer, and config.json telling the
 * page where this node's CometBFT RPC is (the REST API is the page's own origin).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as http from "node:http";

/** dist/src/rest (compiled) → the repository root. */
const ROOT = path.resolve(__dirname, "..", "..", "..");
const SOURCES = path.join(ROOT, "src", "explorer");
const COMPILED = path.join(ROOT, "dist", "src", "explorer");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".map": "application/json",
};

export function serveExplorer(pathname: string, res: http.ServerResponse, opts: { rpc: string; cors: Record<string, string> }): void {
  if (pathname === "/explorer") {
    res.writeHead(302, { ...opts.cors, location: "/explorer/" });
    res.end();
    return;
  }
  const name = pathname.slice("/explorer/".length) || "index.html";
  if (name === "config.json") {
    const text = JSON.stringify({ rpc: opts.rpc, rest: "" });
    res.writeHead(200, { ...opts.cors, "content-type": "application/json", "cache-control": "no-store" });
    res.end(text);
    return;
  }
  const file = /^[a-z0-9-]+\.(html|css|js|js\.map)$/.test(name) ? path.join(name.endsWith(".html") || name.endsWith(".css") ? SOURCES : COMPILED, name) : undefined;
  if (!file || !fs.existsSync(file)) {
    res.writeHead(404, { ...opts.cors, "content-type": "text/plain" });
    res.end(file ? `${name} not found (run npm run build)` : "not found");
    return;
  }
  res.writeHead(200, { ...opts.cors, "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
  fs.createReadStream(file).pipe(res);
}
