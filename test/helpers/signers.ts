import { sha256 } from "@noble/hashes/sha2.js";
import { DirectSecp256k1Wallet, encodePubkey, makeAuthInfoBytes, makeSignBytes, makeSignDoc } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { fromBase64 } from "@cosmjs/encoding";
import { TxBody, TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";

/** A test key: its wallet, bech32 address and compressed public key. */
export interface Signer {
  wallet: DirectSecp256k1Wallet;
  address: string;
  pubkey: Uint8Array;
}

/** The key sha256(seed). */
export async function signer(seed: string): Promise<Signer> {
  const wallet = await DirectSecp256k1Wallet.fromKey(sha256(Buffer.from(seed)), "poi");
  const [acc] = await wallet.getAccounts();
  return { wallet, address: acc.address, pubkey: acc.pubkey };
}

/** A FinalizeBlock request at `height` with no votes, timed `t0` + height seconds. */
export function block(height: bigint, txs: Uint8Array[] = [], t0 = 1_700_000_000n) {
  return {
    txs, height, time: { seconds: t0 + height, nanos: 0 }, hash: Buffer.alloc(32, Number(height)),
    decidedLastCommit: { round: 0, votes: [] }, misbehavior: [], nextValidatorsHash: new Uint8Array(), proposerAddress: Buffer.alloc(20),
  };
}

/** A MsgSend of 1upoi from `s` to `to` (fee 5000upoi, gas 200000), signed offline; returns the tx and the sign bytes and signature inside it. */
export async function signedSend(s: Signer, sequence: bigint, accountNumber: bigint, chainId: string, to: string) {
  const msg = MsgSend.fromPartial({ fromAddress: s.address, toAddress: to, amount: [{ denom: "upoi", amount: "1" }] });
  const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: [{ typeUrl: MsgSend.typeUrl, value: MsgSend.encode(msg).finish() }] })).finish();
  const authInfoBytes = makeAuthInfoBytes([{ pubkey: encodePubkey(encodeSecp256k1Pubkey(s.pubkey)), sequence }], [{ denom: "upoi", amount: "5000" }], 200_000, undefined, undefined);
  const doc = makeSignDoc(bodyBytes, authInfoBytes, chainId, accountNumber);
  const { signature } = await s.wallet.signDirect(s.address, doc);
  const sig = fromBase64(signature.signature);
  return { tx: TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [sig] }).finish(), signBytes: makeSignBytes(doc), sig };
}
