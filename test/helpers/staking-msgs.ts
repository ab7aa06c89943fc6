/** Staking/slashing messages and queries for in-process tests (cosmjs-types codecs over PoiApp.query). */
import { ed25519 } from "@noble/curves/ed25519.js";
import { PubKey as Ed25519PubKey } from "cosmjs-types/cosmos/crypto/ed25519/keys";
import { MsgCreateValidator, MsgDelegate, MsgEditValidator, MsgUndelegate } from "cosmjs-types/cosmos/staking/v1beta1/tx";
import { MsgUnjail } from "cosmjs-types/cosmos/slashing/v1beta1/tx";
import type { PoiApp } from "../../src/app/app";
import type { PoiCodec } from "../../src/x/poi/types";
import { formatValoperAddress, parseAddress } from "../../src/app/address";
import { consensusAddress } from "../../src/x/valset/module";
import type { SimValidator } from "./poi-harness";

const asCodec = <T>(m: unknown) => m as PoiCodec<T>;
export const Codecs = {
  create: asCodec<MsgCreateValidator>(MsgCreateValidator), delegate: asCodec<MsgDelegate>(MsgDelegate), undelegate: asCodec<MsgUndelegate>(MsgUndelegate),
  edit: asCodec<MsgEditValidator>(MsgEditValidator), unjail: asCodec<MsgUnjail>(MsgUnjail),
};

export const dec = (x: string) => { // "0.1" -> 10^18-scaled digits
  const [i, f = ""] = x.split(".");
  return (BigInt(i) * 10n ** 18n + BigInt((f + "0".repeat(18)).slice(0, 18))).toString();
};

export const valoper = (account: string) => formatValoperAddress(parseAddress(account));

export function newValidatorKey(secret: Uint8Array = ed25519.utils.randomSecretKey()): SimValidator {
  const pubkey = ed25519.getPublicKey(secret);
  const address = consensusAddress(pubkey);
  return { secret, pubkey, address, hex: Buffer.from(address).toString("hex").toUpperCase(), votes: true };
}

export function createValidatorMsg(account: string, pubkey: Uint8Array, amount: bigint, rates = { rate: "0.1", max: "0.2", change: "0.01" }): Partial<MsgCreateValidator> {
  return {
    description: { moniker: "newval", identity: "", website: "", securityContact: "", details: "" },
    commission: { rate: dec(rates.rate), maxRate: dec(rates.max), maxChangeRate: dec(rates.change) },
    minSelfDelegation: "1", delegatorAddress: "", validatorAddress: valoper(account),
    pubkey: { typeUrl: "/cosmos.crypto.ed25519.PubKey", value: Ed25519PubKey.encode({ key: pubkey }).finish() },
    value: { denom: "upoi", amount: amount.toString() },
  };
}

/** A gRPC-path query against the app's latest committed state; throws with the log on a non-zero code. */
export async function query<Req, Res>(app: PoiApp, path: string, req: { encode(m: Req): { finish(): Uint8Array }; fromPartial(m: object): Req }, r: Partial<Req>, res: { decode(b: Uint8Array): Res }): Promise<Res> {
  const out = await app.query({ path, data: req.encode(req.fromPartial(r)).finish(), height: 0n, prove: false });
  if (out.code) throw new Error(`${path}: code ${out.code}: ${out.log}`);
  return res.decode(out.value!);
}
