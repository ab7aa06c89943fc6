/**
 * `poi chain-info --node URL [--rest URL] [--chain-id ID]`: the Keplr ChainInfo of the chain a node
 * runs, for `window.keplr.experimentalSuggestChain`. The chain id comes from the node unless
 * --chain-id gives it (then nothing is contacted); REST defaults to the node's own REST port (RPC is
 * base+1, REST base+3: the RPC port + 2).
 */
import { parseArgs } from "node:util";
import { BECH32, BOND_DENOM } from "../app/params";
import { DEFAULT_GAS_PRICE } from "../client";
import { errorMessage } from "../client/results";
import { rpcFor } from "./chain-cmds";
import { NODE_OPTION, checkNodeUrl } from "./args";
import { UsageError, positionals, printJson } from "./common";

const POI = { coinDenom: "POI", coinMinimalDenom: BOND_DENOM, coinDecimals: 6 };

/** The nodes' minimum gas price (0.025upoi) as Keplr's "low" step; average and high pay more to get in first. */
export function gasPriceStep(): { low: number; average: number; high: number } {
  const low = Number(/^([0-9.]+)/.exec(DEFAULT_GAS_PRICE)![1]);
  const step = (f: number) => Number((low * f).toFixed(6));
  return { low, average: step(1.2), high: step(1.6) };
}

export function chainInfo(o: { rpc: string; rest: string; chainId: string }): Record<string, unknown> {
  return {
    rpc: o.rpc, rest: o.rest, chainId: o.chainId, chainName: `PoI ${o.chainId}`,
    stakeCurrency: POI,
    bip44: { coinType: 118 },
    bech32Config: {
      bech32PrefixAccAddr: BECH32.acc, bech32PrefixAccPub: BECH32.accPub, bech32PrefixValAddr: BECH32.valoper,
      bech32PrefixValPub: BECH32.valoperPub, bech32PrefixConsAddr: BECH32.valcons, bech32PrefixConsPub: BECH32.valconsPub,
    },
    currencies: [POI],
    feeCurrencies: [{ ...POI, gasPriceStep: gasPriceStep() }],
    features: [],
  };
}

/** The REST URL of the node whose RPC is `rpc` (same host, port + 2). */
export function defaultRest(rpc: string): string {
  const url = new URL(rpc.replace(/^ws(s?):/, "http$1:"));
  url.port = String(Number(url.port || (url.protocol === "https:" ? 443 : 80)) + 2);
  url.pathname = "";
  return url.toString().replace(/\/$/, "");
}

export async function runChainInfo(argv: string[]): Promise<void> {
  const { values, positionals: pos } = parseArgs({
    args: argv, allowPositionals: true, options: { ...NODE_OPTION, rest: { type: "string" }, "chain-id": { type: "string" } },
  });
  positionals("chain-info", pos, []);
  const rpc = checkNodeUrl(values.node).replace(/\/$/, "");
  let rest = values.rest ?? defaultRest(rpc);
  try {
    rest = new URL(rest).toString().replace(/\/$/, "");
  } catch {
    throw new UsageError(`--rest "${rest}" is not a URL`);
  }
  let chainId = values["chain-id"];
  if (chainId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$/.test(chainId)) throw new UsageError(`--chain-id "${chainId.slice(0, 60)}" is not a chain id`);
  try {
    chainId ??= (await rpcFor(rpc).status()).node_info.network;
  } catch (err) {
    throw new Error(`cannot read the chain id from ${rpc}: ${errorMessage(err)}`);
  }
  printJson(chainInfo({ rpc, rest, chainId }));
}
