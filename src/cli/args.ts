/**
 * Checks of the arguments and options of `poi tx ...`, `poi query ...` and `poi worker`: node URL,
 * addresses, coins, fee options, ids, counts and float32 files. Each error names the argument.
 */
import * as fs from "node:fs";
import type { Coin } from "@cosmjs/amino";
import { GasPrice } from "@cosmjs/stargate";
import { parseAddress } from "../app/address";
import { BOND_DENOM } from "../app/params";
import { DEFAULT_GAS_PRICE } from "../client";
import type { FeeOptions } from "../client/tx";
import { TASK_STATUS_NAMES, type TaskStatus } from "../x/poi/types";
import { UsageError, errorMessage } from "./common";

export const DEFAULT_NODE = "http://127.0.0.1:26657";
export const DEFAULT_GAS_ADJUSTMENT = 1.4;

export const NODE_OPTION = { node: { type: "string" } } as const;
export const FEE_OPTIONS = {
  fees: { type: "string" }, gas: { type: "string" }, "gas-adjustment": { type: "string" }, "gas-prices": { type: "string" },
} as const;
export type FeeValues = { [K in keyof typeof FEE_OPTIONS]?: string };

// Cosmos SDK coin syntax: an integer amount followed by a denom (letter, then 2..127 of [a-zA-Z0-9/:._-]).
const COIN_RE = /^([0-9]+)([a-zA-Z][a-zA-Z0-9/:._-]{2,127})$/;
export const DENOM_RE = /^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$/;

/** Parses "1000upoi" or "1000upoi,5uatom": positive integer amounts, valid and distinct denoms. */
export function parseCoinsArg(text: string, what: string): Coin[] {
  const coins: Coin[] = [];
  for (const part of text.split(",")) {
    const m = COIN_RE.exec(part.trim());
    if (!m) throw new Error(`invalid ${what} "${text}": want an integer amount followed by a denom, e.g. 1000upoi`);
    const amount = BigInt(m[1]);
    if (amount === 0n) throw new Error(`invalid ${what} "${text}": amounts must be positive`);
    if (m[1].length > 78) throw new Error(`invalid ${what} "${text}": amount too large`);
    if (coins.some((c) => c.denom === m[2])) throw new Error(`invalid ${what} "${text}": denom ${m[2]} appears twice`);
    coins.push({ denom: m[2], amount: amount.toString() });
  }
  return coins;
}

/** Checks a bech32 poi address with the chain's own rules; the error names `what`. */
export function checkAddress(address: string, what: string): string {
  try {
    parseAddress(address, what);
  } catch (err) {
    throw new Error(errorMessage(err));
  }
  return address;
}

/** `--node`, default DEFAULT_NODE: an http(s) or ws(s) URL. */
export function checkNodeUrl(node: string | undefined): string {
  node ??= DEFAULT_NODE;
  let url: URL;
  try {
    url = new URL(node);
  } catch {
    throw new Error(`--node "${node}" is not a URL; want e.g. ${DEFAULT_NODE}`);
  }
  if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) throw new Error(`--node "${node}" must be an http(s) or ws(s) URL`);
  return node;
}

export function gasOption(value: string | undefined): "auto" | number {
  if (value === undefined || value === "auto") return "auto";
  if (!/^[0-9]+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    throw new Error(`invalid --gas "${value}": want a positive integer or "auto"`);
  }
  return Number(value);
}

export function gasAdjustmentOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_GAS_ADJUSTMENT;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new Error(`invalid --gas-adjustment "${value}": want a positive number, e.g. 1.4`);
  return n;
}

export function gasPricesOption(value: string | undefined): string {
  if (value === undefined) return DEFAULT_GAS_PRICE;
  try {
    GasPrice.fromString(value);
  } catch (err) {
    throw new Error(`invalid --gas-prices "${value}": ${errorMessage(err)}; want e.g. ${DEFAULT_GAS_PRICE}`);
  }
  return value;
}

/** --fees | --gas-prices, --gas, --gas-adjustment. */
export function feeOptions(values: FeeValues): FeeOptions {
  if (values.fees !== undefined && values["gas-prices"] !== undefined) throw new Error("give either --fees or --gas-prices, not both");
  return {
    gas: gasOption(values.gas),
    gasAdjustment: gasAdjustmentOption(values["gas-adjustment"]),
    gasPrice: gasPricesOption(values["gas-prices"]),
    fees: values.fees !== undefined ? parseCoinsArg(values.fees, "--fees") : undefined,
  };
}

/** A required option. */
export function need<T>(v: T | undefined, flag: string, command: string): T {
  if (v === undefined) throw new UsageError(`${command} needs --${flag}`);
  return v;
}

export function positiveInt(value: string, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^[0-9]+$/.test(value) || Number(value) <= 0 || Number(value) > max) {
    throw new Error(`invalid ${what} "${value}": want a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ""}`);
  }
  return Number(value);
}

export function nonNegativeInt(value: string, what: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new Error(`invalid ${what} "${value}": want an integer >= 0`);
  return Number(value);
}

export function taskIdArg(value: string): string {
  if (!/^[0-9]{1,19}$/.test(value) || BigInt(value) === 0n) throw new Error(`invalid task id "${value}": want a positive integer`);
  return BigInt(value).toString();
}

/** A model or dataset id: the hex sha256 of its content. */
export function contentIdArg(value: string, what: string): string {
  if (!/^[0-9a-f]{64}$/.test(value)) throw new Error(`invalid ${what} "${value}": want 64 lowercase hex characters (a sha256)`);
  return value;
}

/** "1000upoi" or "1000": a positive amount of upoi. */
export function upoiArg(value: string, what: string): bigint {
  const m = /^([0-9]+)(upoi)?$/.exec(value.trim());
  if (!m) throw new Error(`invalid ${what} "${value}": want an integer amount of ${BOND_DENOM}, e.g. 1000${BOND_DENOM}`);
  const n = BigInt(m[1]);
  if (n === 0n) throw new Error(`invalid ${what} "${value}": must be positive`);
  return n;
}

/** --status: a task status by name (open, claimed, ...) or number. */
export function taskStatusArg(value: string): TaskStatus {
  const v = value.toLowerCase().replace(/-/g, "_");
  for (const [n, name] of Object.entries(TASK_STATUS_NAMES)) {
    if (Number(n) !== 0 && (name === v || n === v)) return Number(n) as TaskStatus;
  }
  const names = Object.entries(TASK_STATUS_NAMES).filter(([n]) => n !== "0").map(([, name]) => name);
  throw new Error(`invalid --status "${value}": want one of ${names.join(", ")}`);
}

export function readFile(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${flag} ${file}: ${errorMessage(err)}`);
  }
}

/** Raw float32 little-endian values from a file. */
export function readFloats(file: string, flag: string): Float32Array {
  const bytes = readFile(file, flag);
  if (bytes.length === 0) throw new Error(`${flag} ${file} is empty`);
  if (bytes.length % 4 !== 0) throw new Error(`${flag} ${file} is ${bytes.length} bytes, not a whole number of float32 values (4 bytes each)`);
  const f = new Float32Array(bytes.length / 4);
  for (let i = 0; i < f.length; i++) f[i] = bytes.readFloatLE(i * 4);
  return f;
}
