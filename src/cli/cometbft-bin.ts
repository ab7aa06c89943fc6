import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..", "..");

function versionOf(bin: string): string | undefined {
  try {
    return execFileSync(bin, ["version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split("\n")[0];
  } catch {
    return undefined;
  }
}

/**
 * Finds CometBFT the same way scripts/install-cometbft.sh does: $COMETBFT_BIN, then .bin/cometbft,
 * then `cometbft` on PATH; each must report a 0.38.x version.
 */
export function resolveCometbft(): string {
  const candidates: string[] = [];
  if (process.env.COMETBFT_BIN) candidates.push(process.env.COMETBFT_BIN);
  else {
    candidates.push(path.join(PROJECT_ROOT, ".bin", "cometbft"));
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) if (dir) candidates.push(path.join(dir, "cometbft"));
  }
  for (const bin of candidates) {
    if (!fs.existsSync(bin)) continue;
    const v = versionOf(bin);
    if (v?.startsWith("0.38.")) return bin;
  }
  throw new Error(
    process.env.COMETBFT_BIN
      ? `$COMETBFT_BIN=${process.env.COMETBFT_BIN} is not a CometBFT 0.38.x binary`
      : "CometBFT 0.38.x not found: run `bash scripts/install-cometbft.sh` (needs Go) or set COMETBFT_BIN",
  );
}
