/** The connections of `poi tx ...` and `poi query ...`: a PoiTxClient for a keyring key, a PoiQueryClient. */
import { PoiQueryClient } from "../client/query";
import { PoiTxClient, type TxClientOptions } from "../client/tx";
import { readKey } from "./keys";

/** Connects as key `from` of the keyring in `keyringDir`, runs `fn`, disconnects. */
export async function withTxClient<T>(node: string, keyringDir: string, from: string, opts: TxClientOptions, fn: (s: PoiTxClient) => Promise<T>): Promise<T> {
  const key = readKey(keyringDir, from);
  const sender = await PoiTxClient.connect(node, key.mnemonic, opts);
  try {
    if (sender.address !== key.address) throw new Error(`key "${key.name}": its mnemonic gives ${sender.address}, but the key file says ${key.address}`);
    return await fn(sender);
  } finally {
    sender.disconnect();
  }
}

export async function withQueryClient<T>(node: string, fn: (q: PoiQueryClient) => Promise<T>): Promise<T> {
  const q = await PoiQueryClient.connect(node);
  try {
    return await fn(q);
  } finally {
    q.disconnect();
  }
}
