import { sha256 } from "@noble/hashes/sha2.js";
import { DirectSecp256k1Wallet } from "@cosmjs/proto-signing";

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
