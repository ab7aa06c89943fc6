/**
 * `poi tx bank send` and `poi query bank|auth ...`: gaiad-style commands over CosmJS, against a
 * node's CometBFT RPC. Keys come from the file keyring of ./keys.
 */
import { parseArgs } from "node:util";
import type { Coin } from "@cosmjs/amino";
import type { MsgSendEncodeObject } from "@cosmjs/stargate";
import { TxRefusedError, txResultOf, type SentTx, type TxResult } from "../client/results";
import type { FeeOptions } from "../client/tx";
import { DENOM_RE, FEE_OPTIONS, NODE_OPTION, checkAddress, checkNodeUrl, feeOptions, parseCoinsArg } from "./args";
import { withQueryClient, withTxClient } from "./clients";
import { OUTPUT_OPTION, type OutputFormat, UsageError, outputFormat, positionals, printJson, printLines } from "./common";
import { KEYRING_OPTIONS, keyringDir } from "./keys";

/** How long `tx` waits for its transaction to appear in a block. */
const INCLUSION_TIMEOUT_MS = 60_000;

function printTxResult(r: TxResult, output: OutputFormat): void {
  if (output === "json") printJson(r);
  else printLines([`txhash: ${r.txhash}`, `height: ${r.height}`, `code: ${r.code}`, ...(r.code ? [`codespace: ${r.codespace}`, `raw_log: ${r.raw_log}`] : []), `gas_used: ${r.gas_used}`, `gas_wanted: ${r.gas_wanted}`]);
}

interface SendOptions {
  node: string;
  fromKey: string;
  keyringDir: string;
  to: string;
  amount: Coin[];
  fee: FeeOptions;
  memo: string;
}

/**
 * Signs and broadcasts one MsgSend and waits for its block. A tx refused by CheckTx or failing in its
 * block still returns its result; a refused simulation (--gas auto) throws.
 */
export async function bankSend(o: SendOptions): Promise<SentTx> {
  return withTxClient(o.node, o.keyringDir, o.fromKey, { ...o.fee, inclusionTimeoutMs: INCLUSION_TIMEOUT_MS }, async (s) => {
    const msg: MsgSendEncodeObject = {
      typeUrl: "/cosmos.bank.v1beta1.MsgSend",
      value: { fromAddress: s.address, toAddress: o.to, amount: o.amount },
    };
    const r = await s.send([msg], o.memo);
    if (r.stage === "simulate") throw new Error(`estimating gas failed: the node's simulation of the tx failed with code ${r.code}: ${r.raw_log}`);
    return r;
  });
}

/** `poi tx bank send FROM TO AMOUNT ...` */
export async function runTx(argv: string[]): Promise<void> {
  const [module, sub, ...args] = argv;
  if (module !== "bank" || sub !== "send") {
    throw new UsageError(`unknown tx command "${[module, sub].filter(Boolean).join(" ")}" (want: tx bank send FROM_KEY TO_ADDRESS AMOUNT, or tx poi ...)`);
  }
  const { values, positionals: pos } = parseArgs({
    args, allowPositionals: true,
    options: { ...KEYRING_OPTIONS, ...OUTPUT_OPTION, ...NODE_OPTION, ...FEE_OPTIONS, memo: { type: "string" } },
  });
  const output = outputFormat(values.output);
  const [from, to, amount] = positionals("tx bank send", pos, ["FROM_KEY", "TO_ADDRESS", "AMOUNT"]);
  const fee = feeOptions(values);
  const result = await bankSend({
    node: checkNodeUrl(values.node),
    fromKey: from,
    keyringDir: keyringDir(values),
    to: checkAddress(to, "recipient address"),
    amount: parseCoinsArg(amount, "amount"),
    fee,
    memo: values.memo ?? "",
  });
  printTxResult(txResultOf(result), output);
  if (result.code !== 0) throw new TxRefusedError(result);
}

/** An account as `query auth account` prints it (Cosmos SDK JSON names, 64-bit numbers as strings). */
export interface AccountJson {
  "@type": string;
  address: string;
  pub_key: { "@type": string; key: string } | null;
  account_number: string;
  sequence: string;
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
    const node = checkNodeUrl(values.node);
    const denom = values.denom;
    if (denom !== undefined) {
      if (!DENOM_RE.test(denom)) throw new Error(`invalid --denom "${denom}": want a letter followed by 2-127 of A-Z a-z 0-9 / : . _ -`);
      const amount = await withQueryClient(node, (q) => q.balance(address, denom));
      if (output === "json") printJson({ denom, amount: String(amount) });
      else printLines([`amount: "${amount}"`, `denom: ${denom}`]);
      return;
    }
    const balances = await withQueryClient(node, (q) => q.allBalances(address));
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
    const node = checkNodeUrl(values.node);
    const acc = await withQueryClient(node, (q) => q.account(address));
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
