/**
 * The sampling beacon poi-chain used before per-validator seeds, kept only as the target of a
 * regression test of the attack on it (test/poi-sampling.test.ts): the beacon of a block was sha256
 * over (address ‖ signature) of the vote extensions its proposer put into the aggregate, and a task's
 * sample was drawn from sha256(beacon ‖ task ‖ attempt ‖ root). The proposer chose the extensions and
 * signed its own, so it could try beacons until one missed the fabricated items.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { u64 } from "../../src/util/bigint";

export function oldBeaconOf(votes: ReadonlyArray<{ validatorAddress: Uint8Array; signature: Uint8Array }>): Uint8Array {
  const sorted = [...votes].sort((a, b) => Buffer.compare(Buffer.from(a.validatorAddress), Buffer.from(b.validatorAddress)));
  return sha256(Buffer.concat([Buffer.from("poi/beacon/v1"), ...sorted.flatMap((v) => [Buffer.from(v.validatorAddress), Buffer.from(v.signature)])]));
}

export function oldSampleSeed(beacon: Uint8Array, taskId: bigint, attempt: number, root: Uint8Array): Uint8Array {
  const a = Buffer.alloc(4);
  a.writeUInt32BE(attempt);
  return sha256(Buffer.concat([Buffer.from("poi/sample/v1"), beacon, u64(taskId), a, root]));
}
