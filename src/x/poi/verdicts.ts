/**
 * Verdicts reach consensus through ABCI++ vote extensions:
 *   1. at height H every validator's ExtendVote carries its verdicts (VoteExtension) and CometBFT
 *      signs the extension with the validator's ed25519 key;
 *   2. the proposer of H+1 gets those signed extensions in PrepareProposal's local_last_commit and puts
 *      them, unchanged, into a pseudo-tx at the head of its block (a VerdictAggregate);
 *   3. ProcessProposal and FinalizeBlock check every signature against the validator set and that the
 *      signers hold more than 2/3 of the power; FinalizeBlock then records the verdicts.
 * Validators may disagree about floats; they cannot disagree about which signed votes are in a block.
 */
import type { ExtendedCommitInfo } from "cosmjs-types/tendermint/abci/types";
import { BlockIDFlag } from "cosmjs-types/tendermint/types/validator";
import { encodeUvarint } from "../../util/varint";
import { verifyEd25519 } from "./ed25519";
import type { ConsensusValidator } from "./expected_keepers";
import { VerdictAggregateCodec, VoteExtensionCodec, type VerdictAggregate, type VoteExtension } from "./types";

/** Prefix that marks the aggregate pseudo-tx; a Cosmos TxRaw never starts with it (0x0a is field 1). */
export const AGGREGATE_MAGIC = Buffer.from("POI/VERDICTS/1\n", "utf8");

/** Largest vote extension we make or take (keeps consensus messages small). */
export const MAX_EXTENSION_BYTES = 64 * 1024;

export function isAggregateTx(tx: Uint8Array): boolean {
  return tx.length >= AGGREGATE_MAGIC.length && Buffer.from(tx.subarray(0, AGGREGATE_MAGIC.length)).equals(AGGREGATE_MAGIC);
}

export function encodeAggregateTx(agg: VerdictAggregate): Uint8Array {
  return Buffer.concat([AGGREGATE_MAGIC, VerdictAggregateCodec.encode(agg).finish()]);
}

export function decodeAggregateTx(tx: Uint8Array): VerdictAggregate {
  return VerdictAggregateCodec.decode(tx.subarray(AGGREGATE_MAGIC.length));
}

function uvarint(n: number): Buffer {
  return Buffer.from(encodeUvarint(n));
}

function sfixed64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(v);
  return b;
}

/**
 * What CometBFT signs for a vote extension: the length-delimited protobuf of
 * CanonicalVoteExtension{extension=1 bytes, height=2 sfixed64, round=3 sfixed64, chain_id=4 string}
 * (cometbft types/vote.go VoteExtensionSignBytes, proto/tendermint/types/canonical.proto). gogoproto
 * omits proto3 default values, so an empty extension and round 0 are absent.
 */
export function voteExtensionSignBytes(extension: Uint8Array, height: bigint, round: bigint, chainId: string): Uint8Array {
  const parts: Buffer[] = [];
  if (extension.length) parts.push(Buffer.from([0x0a]), uvarint(extension.length), Buffer.from(extension));
  if (height !== 0n) parts.push(Buffer.from([0x11]), sfixed64(height));
  if (round !== 0n) parts.push(Buffer.from([0x19]), sfixed64(round));
  const chain = Buffer.from(chainId, "utf8");
  if (chain.length) parts.push(Buffer.from([0x22]), uvarint(chain.length), chain);
  const body = Buffer.concat(parts);
  return Buffer.concat([uvarint(body.length), body]);
}

/** The proposer's aggregate: every vote of the last commit that carries a signed extension. */
export function buildAggregate(commit: ExtendedCommitInfo | undefined, voteHeight: bigint): VerdictAggregate {
  const votes = (commit?.votes ?? [])
    .filter((v) => v.blockIdFlag === BlockIDFlag.BLOCK_ID_FLAG_COMMIT && v.extensionSignature.length > 0 && v.validator)
    .map((v) => ({ validatorAddress: v.validator!.address, extension: v.voteExtension, signature: v.extensionSignature }));
  return { height: voteHeight.toString(), round: String(commit?.round ?? 0), votes };
}

/**
 * The votes of an aggregate that a proposer may include: known validator, first vote of each, size
 * within limits, valid signature. Precommits that arrived after 2/3 reach local_last_commit without
 * VerifyVoteExtension having run, so the proposer filters before it proposes.
 */
export function validVotes(agg: VerdictAggregate, validators: readonly ConsensusValidator[], chainId: string): VerdictAggregate["votes"] {
  const byAddress = new Map(validators.map((v) => [validatorHex(v.address), v]));
  const seen = new Set<string>();
  return agg.votes.filter((vote) => {
    const hex = validatorHex(vote.validatorAddress);
    const val = byAddress.get(hex);
    if (!val || seen.has(hex) || vote.extension.length > MAX_EXTENSION_BYTES || vote.signature.length !== 64) return false;
    const msg = voteExtensionSignBytes(vote.extension, BigInt(agg.height), BigInt(agg.round), chainId);
    const ok = verifyEd25519(vote.signature, msg, val.pubkey);
    if (ok) seen.add(hex);
    return ok;
  });
}

/** A validator's consensus address as uppercase hex (CometBFT's spelling): how TaskVote.validator stores it. */
export function validatorHex(address: Uint8Array): string {
  return Buffer.from(address).toString("hex").toUpperCase();
}

export interface CheckedVote {
  validatorHex: string;
  power: bigint;
  extension: VoteExtension | undefined; // undefined when the signed bytes do not decode: no verdicts
}

/**
 * Checks an aggregate for block `blockHeight`: votes of height blockHeight-1, each from a distinct
 * known validator with a valid ed25519 signature over the canonical sign bytes, together holding more
 * than 2/3 of the power. Returns the checked votes in address order, or throws naming the fault.
 */
export function checkAggregate(agg: VerdictAggregate, validators: readonly ConsensusValidator[], chainId: string, blockHeight: bigint): CheckedVote[] {
  if (BigInt(agg.height) !== blockHeight - 1n) throw new Error(`aggregate is for votes at height ${agg.height}, want ${blockHeight - 1n}`);
  const round = BigInt(agg.round);
  if (round < 0n) throw new Error(`negative round ${round}`);
  const byAddress = new Map(validators.map((v) => [validatorHex(v.address), v]));
  const total = validators.reduce((s, v) => s + v.power, 0n);
  const seen = new Set<string>();
  const out: CheckedVote[] = [];
  let signed = 0n;
  for (const vote of agg.votes) {
    const hex = validatorHex(vote.validatorAddress);
    const val = byAddress.get(hex);
    if (!val) throw new Error(`vote from unknown validator ${hex}`);
    if (seen.has(hex)) throw new Error(`two votes from validator ${hex}`);
    seen.add(hex);
    if (vote.extension.length > MAX_EXTENSION_BYTES) throw new Error(`extension of ${hex} is ${vote.extension.length} bytes, limit ${MAX_EXTENSION_BYTES}`);
    const msg = voteExtensionSignBytes(vote.extension, BigInt(agg.height), round, chainId);
    const ok = vote.signature.length === 64 && verifyEd25519(vote.signature, msg, val.pubkey);
    if (!ok) throw new Error(`bad extension signature from validator ${hex}`);
    signed += val.power;
    let extension: VoteExtension | undefined;
    try { extension = VoteExtensionCodec.decode(vote.extension); } catch { extension = undefined; }
    out.push({ validatorHex: hex, power: val.power, extension });
  }
  if (signed * 3n <= total * 2n) throw new Error(`signed power ${signed} of ${total} is not more than 2/3`);
  return out.sort((a, b) => (a.validatorHex < b.validatorHex ? -1 : a.validatorHex > b.validatorHex ? 1 : 0));
}
