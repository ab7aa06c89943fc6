/**
 * Who a node's verifier votes as: its consensus address (from CometBFT's priv_validator_key.json) and
 * the secret its sampling seeds derive from (config/sampling_secret, 32 random bytes as hex, made on
 * first use, mode 0600). Losing the secret only loses the ability to reveal past seeds; keeping it
 * secret is what keeps the validator's samples unpredictable to workers.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { VerifierIdentity } from "../x/poi/verify/service";

export const SAMPLING_SECRET_FILE = "sampling_secret";

export function loadValidatorIdentity(home: string): VerifierIdentity {
  const keyFile = path.join(home, "config", "priv_validator_key.json");
  let address: unknown;
  try {
    address = (JSON.parse(fs.readFileSync(keyFile, "utf8")) as { address?: unknown }).address;
  } catch (err) {
    throw new Error(`cannot read the validator key ${keyFile}: ${(err as Error).message}`);
  }
  if (typeof address !== "string" || !/^[0-9A-Fa-f]{40}$/.test(address)) throw new Error(`${keyFile} has no 40-hex-character address`);
  const secretFile = path.join(home, "config", SAMPLING_SECRET_FILE);
  if (!fs.existsSync(secretFile)) fs.writeFileSync(secretFile, randomBytes(32).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
  const hex = fs.readFileSync(secretFile, "utf8").trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${secretFile} must hold 64 lowercase hex characters (32 bytes)`);
  return { validator: address.toUpperCase(), secret: Buffer.from(hex, "hex") };
}
