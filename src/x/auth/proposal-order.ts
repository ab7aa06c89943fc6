import type { DecodedTx } from "./ante";

/**
 * A proposal's txs with each account's txs in ascending sequence order, in the positions that
 * account's txs already held; every other tx keeps its place. Only txs with one signer move (a tx
 * with several signers has several sequences); `decode` returns undefined for a tx it cannot decode,
 * which stays where it is.
 *
 * Why: CometBFT v0.38's mempool can hold one sender's txs out of sequence order. Measured on a
 * loaded 4-validator localnet, a proposal held a sender's seq 813 before its 812 (CheckTx, which
 * takes exact sequences, had accepted 812 first); run in that order 813 fails (sequence mismatch)
 * and so does every later tx of that sender in the block. The Go SDK's simapp (v0.50, CometBFT's
 * mempool order) failed the same way under the same load. The ante handler still checks every
 * sequence, so this only picks which valid order the proposer proposes; it is a pure function of
 * the txs.
 */
export function orderBySignerSequence(txs: Uint8Array[], decode: (tx: Uint8Array) => DecodedTx | undefined): Uint8Array[] {
  const positions = new Map<string, number[]>(); // signer (hex) -> its txs' indices, ascending
  const sequences: bigint[] = [];
  let outOfOrder = false;
  txs.forEach((tx, i) => {
    const d = decode(tx);
    if (!d || d.signers.length !== 1 || d.authInfo.signerInfos.length !== 1) return;
    const signer = Buffer.from(d.signers[0]).toString("hex");
    sequences[i] = d.authInfo.signerInfos[0].sequence;
    const mine = positions.get(signer);
    if (!mine) {
      positions.set(signer, [i]);
      return;
    }
    if (sequences[mine[mine.length - 1]] > sequences[i]) outOfOrder = true;
    mine.push(i);
  });
  if (!outOfOrder) return txs;
  const out = txs.slice();
  for (const mine of positions.values()) {
    // Stable: equal sequences (a replayed or conflicting tx) keep their relative order.
    const bySequence = [...mine].sort((a, b) => (sequences[a] < sequences[b] ? -1 : sequences[a] > sequences[b] ? 1 : a - b));
    mine.forEach((pos, k) => {
      out[pos] = txs[bySequence[k]];
    });
  }
  return out;
}
