/**
 * `poi tx bank send` and `poi query bank|auth ...`: gaiad-style commands over CosmJS, against a
 * node's CometBFT RPC. Keys come from the file keyring of ./keys.
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { fromHex } from "@cosmjs/encoding";
import { type Coin, type StdFee } from "@cosmjs/amino";
import { type MsgSendEncodeObject, type StargateClient, calculateFee, GasPrice } from "@cosmjs/stargate";
import { connectComet, type CometClient } from "@cosmjs/tendermint-rpc";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { parseAddress } from "../app/address";
import { connectReader, connectSigner, DEFAULT_GAS_PRICE, type ConnectedSigner } from "../client";
import type { TxResult } from "../client/sender";
import { OUTPUT_OPTION, type OutputFormat, UsageError, errorMessage, outputFormat, positionals, printJson, printLines } from "./common";
import { KEYRING_OPTIONS, keyringDir, readKey } from "./keys";

export const DEFAULT_NODE = "http://127.0.0.1:26657";
export const DEFAULT_GAS_ADJUSTMENT = 1.4;
/** How long `tx` waits for its transaction to appear in a block. */
const INCLUSION_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

export const NODE_OPTION = { node: { type: "string" } } as const;

// Cosmos SDK coin syntax: an integer amount followed by a denom (letter, then 2..127 of [a-zA-Z0-9/:._-]).
const COIN_RE = /^([0-9]+)([a-zA-Z][a-zA-Z0-9/:._-]{2,127})$/;
const DENOM_RE = /^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$/;

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

export function checkNodeUrl(node: string): string {
  let url: URL;
  try {
    url = new URL(node);
  } catch {
    throw new Error(`--node "${node}" is not a URL; want e.g. ${DEFAULT_NODE}`);
  }
  if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) throw new Error(`--node "${node}" must be an http(s) or ws(s) URL`);
  return node;
}

async function reach<T>(node: string, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (err) {
    throw new Error(`cannot reach node ${node}: ${errorMessage(err)}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function printTxResult(r: TxResult, output: OutputFormat): void {
  if (output === "json") printJson(r);
  else printLines([`txhash: ${r.txhash}`, `height: ${r.height}`, `code: ${r.code}`, ...(r.code ? [`codespace: ${r.codespace}`, `raw_log: ${r.raw_log}`] : []), `gas_used: ${r.gas_used}`, `gas_wanted: ${r.gas_wanted}`]);
}

/** Polls the node's tx index until `hash` is in a block. */
async function waitForTx(comet: CometClient, hash: string): Promise<TxResult> {
  const deadline = Date.now() + INCLUSION_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await comet.tx({ hash: fromHex(hash) });
      return {
        txhash: hash, height: String(res.height), code: res.result.code, codespace: res.result.codespace ?? "",
        raw_log: res.result.log ?? "", gas_wanted: res.result.gasWanted.toString(), gas_used: res.result.gasUsed.toString(),
      };
    } catch (err) {
      if (!/not found/i.test(errorMessage(err))) throw new Error(`looking up tx ${hash}: ${errorMessage(err)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`tx ${hash} entered the mempool but was not in a block after ${INCLUSION_TIMEOUT_MS / 1000} s; look it up later by its hash`);
    }
    await sleep(POLL_MS);
  }
}

interface SendOptions {
  node: string;
  fromKey: string;
  keyringDir: string;
  to: string;
  amount: Coin[];
  fees?: Coin[];
  gas: "auto" | number;
  gasAdjustment: number;
  gasPrices: string;
  memo: string;
}

/** Signs and broadcasts one MsgSend and waits for its block. A tx that fails still returns its result. */
export async function bankSend(o: SendOptions): Promise<TxResult> {
  const key = readKey(o.keyringDir, o.fromKey);
  const signer: ConnectedSigner = await reach(o.node, () => connectSigner(o.node, key.mnemonic, o.gasPrices));
  const comet = await reach(o.node, () => connectComet(o.node));
  try {
    if (signer.address !== key.address) throw new Error(`key "${key.name}": its mnemonic gives ${signer.address}, but the key file says ${key.address}`);
    const msg: MsgSendEncodeObject = {
      typeUrl: "/cosmos.bank.v1beta1.MsgSend",
      value: { fromAddress: key.address, toAddress: o.to, amount: o.amount },
    };
    let gasLimit: number;
    if (o.gas === "auto") {
      let estimate: number;
      try {
        estimate = await signer.client.simulate(key.address, [msg], o.memo);
      } catch (err) {
        const m = /^Query failed with \((\d+)\): ([\s\S]*)$/.exec(errorMessage(err));
        throw new Error(m ? `estimating gas failed: the node's simulation of the tx failed with code ${m[1]}: ${m[2]}` : `estimating gas failed: ${errorMessage(err)}`);
      }
      gasLimit = Math.ceil(estimate * o.gasAdjustment);
    } else {
      gasLimit = o.gas;
    }
    const fee: StdFee = o.fees ? { amount: o.fees, gas: String(gasLimit) } : calculateFee(gasLimit, GasPrice.fromString(o.gasPrices));
    const txRaw = await signer.client.sign(key.address, [msg], fee, o.memo);
    const bytes = TxRaw.encode(txRaw).finish();
    const txhash = createHash("sha256").update(bytes).digest("hex").toUpperCase();
    const checked = await comet.broadcastTxSync({ tx: bytes });
    if (checked.code !== 0) {
      // Refused by CheckTx: never entered the mempool, so no block, no fee, no sequence bump.
      return { txhash, height: "0", code: checked.code, codespace: checked.codespace ?? "", raw_log: checked.log ?? "", gas_wanted: checked.gasWanted.toString(), gas_used: checked.gasUsed.toString() };
    }
    return await waitForTx(comet, txhash);
  } finally {
    signer.client.disconnect();
    comet.disconnect();
  }
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

/** `poi tx bank send FROM TO AMOUNT ...` */
export async function runTx(argv: string[]): Promise<void> {
  const [module, sub, ...args] = argv;
  if (module !== "bank" || sub !== "send") {
    throw new UsageError(`unknown tx command "${[module, sub].filter(Boolean).join(" ")}" (want: tx bank send FROM_KEY TO_ADDRESS AMOUNT, or tx poi ...)`);
  }
  const { values, positionals: pos } = parseArgs({
    args, allowPositionals: true,
    options: {
      ...KEYRING_OPTIONS, ...OUTPUT_OPTION, ...NODE_OPTION,
      fees: { type: "string" }, gas: { type: "string" }, "gas-adjustment": { type: "string" }, "gas-prices": { type: "string" }, memo: { type: "string" },
    },
  });
  const output = outputFormat(values.output);
  const [from, to, amount] = positionals("tx bank send", pos, ["FROM_KEY", "TO_ADDRESS", "AMOUNT"]);
  if (values.fees !== undefined && values["gas-prices"] !== undefined) throw new Error("give either --fees or --gas-prices, not both");
  const result = await bankSend({
    node: checkNodeUrl(values.node ?? DEFAULT_NODE),
    fromKey: from,
    keyringDir: keyringDir(values),
    to: checkAddress(to, "recipient address"),
    amount: parseCoinsArg(amount, "amount"),
    fees: values.fees !== undefined ? parseCoinsArg(values.fees, "--fees") : undefined,
    gas: gasOption(values.gas),
    gasAdjustment: gasAdjustmentOption(values["gas-adjustment"]),
    gasPrices: gasPricesOption(values["gas-prices"]),
    memo: values.memo ?? "",
  });
  printTxResult(result, output);
  if (result.code !== 0) {
    const where = result.height === "0" ? "was refused by the node (CheckTx)" : `failed in block ${result.height}`;
    throw new Error(`tx ${result.txhash} ${where} with code ${result.code} (codespace ${result.codespace || "-"}): ${result.raw_log}`);
  }
}

/** An account as `query auth account` prints it (Cosmos SDK JSON names, 64-bit numbers as strings). */
export interface AccountJson {
  "@type": string;
  address: string;
  pub_key: { "@type": string; key: string } | null;
  account_number: string;
  sequence: string;
}

async function withReader<T>(node: string, fn: (c: StargateClient) => Promise<T>): Promise<T> {
  const client = await reach(node, () => connectReader(node));
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** `poi query bank balances ADDRESS [--denom D]` and `poi query auth account ADDRESS` */
export async function runQuery(argv: string[]): Promise<void> {
  const [module, sub, ...args] = argv;
  const what = [module, sub].filter(Boolean).join(" ");
  if (what === "bank balances") {
    const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { ...OUTPUT_OPTION, ...NODE_OPTION, denom: { type: "string" } } });
    const output = outputFormat(values.output);
    const [address] = positionals("query bank balances", pos, ["ADDRESS"]);
    checkAddress(address, "address");
    const node = checkNodeUrl(values.node ?? DEFAULT_NODE);
    const denom = values.denom;
    if (denom !== undefined) {
      if (!DENOM_RE.test(denom)) throw new Error(`invalid --denom "${denom}": want a letter followed by 2-127 of A-Z a-z 0-9 / : . _ -`);
      const coin = await withReader(node, (c) => c.getBalance(address, denom));
      if (output === "json") printJson({ denom: coin.denom, amount: coin.amount });
      else printLines([`amount: "${coin.amount}"`, `denom: ${coin.denom}`]);
      return;
    }
    const balances = await withReader(node, (c) => c.getAllBalances(address));
    if (output === "json") printJson({ balances: balances.map((b) => ({ denom: b.denom, amount: b.amount })) });
    else if (balances.length === 0) printLines(["balances: []"]);
    else printLines(["balances:", ...balances.flatMap((b) => [`- amount: "${b.amount}"`, `  denom: ${b.denom}`])]);
    return;
  }
  if (what === "auth account") {
    const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { ...OUTPUT_OPTION, ...NODE_OPTION } });
    const output = outputFormat(values.output);
    const [address] = positionals("query auth account", pos, ["ADDRESS"]);
    checkAddress(address, "address");
    const node = checkNodeUrl(values.node ?? DEFAULT_NODE);
    const acc = await withReader(node, (c) => c.getAccount(address));
    if (!acc) throw new Error(`account ${address} not found`);
    const json: AccountJson = {
      "@type": "/cosmos.auth.v1beta1.BaseAccount",
      address: acc.address,
      pub_key: acc.pubkey
        ? { "@type": acc.pubkey.type === "tendermint/PubKeySecp256k1" ? "/cosmos.crypto.secp256k1.PubKey" : acc.pubkey.type, key: String(acc.pubkey.value) }
        : null,
      account_number: acc.accountNumber.toString(),
      sequence: acc.sequence.toString(),
    };
    if (output === "json") printJson(json);
    else printLines([`'@type': ${json["@type"]}`, `address: ${json.address}`, `pub_key: ${json.pub_key ? JSON.stringify(json.pub_key) : "null"}`, `account_number: "${json.account_number}"`, `sequence: "${json.sequence}"`]);
    return;
  }
  throw new UsageError(`unknown query "${what}" (want: query bank balances ADDRESS [--denom D] | query auth account ADDRESS | query poi ...)`);
}
