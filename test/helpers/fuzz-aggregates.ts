/**
 * Verdict aggregates for the tx fuzzer: 4 simulated validators (ed25519 keys from the seed) that sign
 * vote extensions as CometBFT would, and the head of each block: a valid aggregate (every validator,
 * or just over 2/3, verdicts on the tasks under verification), one that must be rejected (an extension the
 * rules refuse, missing, too little power, wrong height, duplicate or unknown validator,
 * a bad signature, out of place, twice), or a byte-mutated or random one whose fate only the app knows.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { consensusAddress } from "../../src/x/valset/module";
import { AGGREGATE_MAGIC, encodeAggregateTx, voteExtensionSignBytes } from "../../src/x/poi/verdicts";
import { isTraining, VoteExtensionCodec, type SegmentRequest, type SignedVoteExtension, type Task, type Verdict } from "../../src/x/poi/types";
import { byteMutation, BYTE_MUTATIONS, randomProto, type Rng } from "./fuzz-gen";
import { epochOf, seedCommitment } from "../../src/x/poi/sampling";

/** The fuzz chain's sampling epoch (the default param). */
const SEED_EPOCH_BLOCKS = 10n;

export const VALIDATOR_POWER = 10n;

interface SimValidator { secret: Uint8Array; pubkey: Uint8Array; address: Uint8Array }

/** What ProcessProposal must answer: accept, reject, or (undefined) whatever FinalizeBlock makes of it. */
export type Expectation = "accept" | "reject" | undefined;

export interface BlockHead {
  kind: string;
  /** The block's first tx, or none. */
  head?: Uint8Array;
  /** A second aggregate: after the first mempool tx, or last. */
  extra?: { tx: Uint8Array; at: "second" | "last" };
  expect: Expectation;
}

export class SimValidators {
  readonly validators: SimValidator[];
  private readonly stranger: SimValidator;

  constructor(seed: number, private readonly chainId: string) {
    const key = (i: number) => {
      const secret = sha256(Buffer.from(`poi fuzz validator ${seed} ${i}`));
      const pubkey = ed25519.getPublicKey(secret);
      return { secret, pubkey, address: consensusAddress(pubkey) };
    };
    this.validators = [0, 1, 2, 3].map(key);
    this.stranger = key(99);
  }

  /** InitChain's validators. */
  genesis(): Array<{ pubKey: { ed25519: Uint8Array }; power: bigint }> {
    return this.validators.map((v) => ({ pubKey: { ed25519: v.pubkey }, power: VALIDATOR_POWER }));
  }

  private vote(v: SimValidator, ext: Uint8Array, voteHeight: bigint, round = 0n): SignedVoteExtension {
    return { validatorAddress: v.address, extension: ext, signature: ed25519.sign(voteExtensionSignBytes(ext, voteHeight, round, this.chainId), v.secret) };
  }

  /**
   * One validator's extension: commitments to its seeds of the carrying block's epoch and the next (so
   * its verdicts count), a verdict on most tasks under verification (75% pass; a fail names an
   * item; training attempts always pass), and a request of 1..k segments on most training attempts whose requests are open. With
   * `junk`, something the extension rules refuse: garbage bytes, a verdict on a task not under
   * verification or on another attempt, two verdicts on one task, too many failed items, a segment
   * request that is not one (on an inference task, of a segment the task lacks, of too many).
   */
  private extension(r: Rng, verifying: readonly Task[], v: SimValidator, voteHeight: bigint, junk = false): Uint8Array {
    const carrying = epochOf(voteHeight + 1n, SEED_EPOCH_BLOCKS);
    const commitments = [carrying, carrying + 1n].map((e) => ({ epoch: e.toString(), hash: seedCommitment(sha256(Buffer.concat([v.secret, Buffer.from(`seed ${e}`)]))) }));
    const verdict = (t: { id: string; numItems: string }, attempt: number, pass: boolean): Verdict =>
      ({ taskId: t.id, attempt, pass, failedItems: pass ? [] : [String(r.int(Number(t.numItems) || 1))], cannotVerify: false });
    // Training attempts always pass: these validators cast no item verdicts, so a reported item would end in a
    // split that flags the train-step model, and a flagged model takes no new tasks for the rest of the run.
    // (Training workers are slashed here for reveals they owe.)
    const verdicts: Verdict[] = verifying.filter(() => r.chance(0.9)).map((t) => (isTraining(t) ? { ...verdict(t, t.attempt, true), accuracyBps: r.int(10001) } : verdict(t, t.attempt, r.chance(0.75))));
    const open = verifying.filter((t) => isTraining(t) && voteHeight + 1n <= BigInt(t.requestEndHeight ?? "0"));
    const segmentRequests: SegmentRequest[] = open.filter(() => r.chance(0.85)).map((t) => {
      const segments = Number(t.numItems) - 1;
      const chosen = new Set(Array.from({ length: r.range(1, t.k) }, () => String(r.int(segments))));
      return { taskId: t.id, attempt: t.attempt, segments: [...chosen] };
    });
    if (junk) {
      switch (r.int(open.length ? 8 : 5)) {
        // Bytes that cannot decode (field 1 with the invalid wire type 7 first): random bytes alone sometimes
        // decode to a harmless extension (unknown fields are skipped), which the rules rightly accept.
        case 0: return Buffer.concat([Uint8Array.of(0x0f), r.chance(0.5) ? r.bytes(r.range(1, 60)) : randomProto(r, 2)]);
        // A task id far above any this chain has made.
        case 1: verdicts.push(verdict({ id: (r.u64() | (1n << 62n)).toString(), numItems: "10" }, r.int(3), r.chance(0.5))); break;
        case 2: if (verifying.length) verdicts.push(verdict(verifying[0], verifying[0].attempt + 1 + r.int(3), true)); else return r.bytes(8); break;
        case 3: if (verdicts.length) verdicts.push({ ...verdicts[0], pass: !verdicts[0].pass, failedItems: verdicts[0].pass ? ["0"] : [] }); else return r.bytes(8); break;
        case 4: if (verifying.length) verdicts.push({ ...verdict(verifying[0], verifying[0].attempt, false), failedItems: ["0", "1", "2", "3", "4"] }); else return r.bytes(8); break;
        case 5: segmentRequests.push({ taskId: open[0].id, attempt: open[0].attempt, segments: [String(Number(open[0].numItems) - 1 + r.int(3))] }); break;
        case 6: segmentRequests.push({ taskId: open[0].id, attempt: open[0].attempt, segments: Array.from({ length: open[0].k + 1 }, (_, i) => String(i)) }); break;
        default: {
          const inference = verifying.find((t) => !isTraining(t));
          if (inference) segmentRequests.push({ taskId: inference.id, attempt: inference.attempt, segments: ["0"] });
          else segmentRequests.push({ taskId: open[0].id, attempt: open[0].attempt + 1, segments: ["0"] });
        }
      }
    }
    return VoteExtensionCodec.encode({ verdicts, itemVerdicts: [], commitments, reveals: [], segmentRequests }).finish();
  }

  /** The head of the block at `height` (votes of height - 1) over these tasks under verification. */
  head(r: Rng, height: bigint, verifying: readonly Task[]): BlockHead {
    const voteHeight = height - 1n;
    const signedBy = (vs: readonly SimValidator[], h = voteHeight) => vs.map((v) => this.vote(v, this.extension(r, verifying, v, h), h));
    const agg = (votes: SignedVoteExtension[], h = voteHeight, round = 0n) => encodeAggregateTx({ height: h.toString(), round: round.toString(), votes });
    const all = this.validators;
    const threeOfFour = () => { const skip = r.int(4); return all.filter((_, i) => i !== skip); };
    const kind = r.weighted<string>([
      [40, "valid"], [12, "valid-3-of-4"], [5, "junk-extension"], [5, "absent"], [4, "too-few"], [4, "wrong-height"], [3, "duplicate-validator"], [3, "unknown-validator"],
      [4, "bad-signature"], [3, "wrong-round"], [8, "mutated-bytes"], [4, "random-after-magic"], [4, "misplaced"], [3, "twice"],
    ]);
    switch (kind) {
      case "valid": return { kind, head: agg(signedBy(all)), expect: "accept" };
      case "valid-3-of-4": return { kind, head: agg(signedBy(threeOfFour())), expect: "accept" };
      case "junk-extension": {
        const votes = signedBy(all);
        const j = r.int(4);
        votes[j] = this.vote(all[j], this.extension(r, verifying, all[j], voteHeight, true), voteHeight);
        return { kind, head: agg(votes), expect: "reject" };
      }
      case "absent": return { kind, expect: "reject" };
      case "too-few": return { kind, head: agg(signedBy(all.slice(0, r.range(0, 2)))), expect: "reject" };
      case "wrong-height": {
        const h = r.pick([voteHeight - 1n, height, voteHeight + BigInt(r.range(2, 100))]);
        return { kind, head: agg(signedBy(all, h), h), expect: "reject" };
      }
      case "duplicate-validator": {
        const votes = signedBy(all);
        votes.push({ ...votes[r.int(4)] });
        return { kind, head: agg(votes), expect: "reject" };
      }
      case "unknown-validator": return { kind, head: agg([...signedBy(all), this.vote(this.stranger, new Uint8Array(), voteHeight)]), expect: "reject" };
      case "bad-signature": {
        const votes = signedBy(all);
        const v = votes[r.int(4)];
        const sig = Uint8Array.from(v.signature);
        sig[r.int(64)] ^= 1 << r.int(8);
        v.signature = r.chance(0.8) ? sig : sig.subarray(0, r.int(64));
        return { kind, head: agg(votes), expect: "reject" };
      }
      case "wrong-round": return { kind, head: agg(signedBy(all), voteHeight, BigInt(r.range(1, 3))), expect: "reject" };
      case "mutated-bytes": {
        const valid = agg(signedBy(all));
        const body = byteMutation(r, r.pick(BYTE_MUTATIONS), () => valid.subarray(AGGREGATE_MAGIC.length))!;
        return { kind, head: Buffer.concat([AGGREGATE_MAGIC, body]), expect: undefined };
      }
      case "random-after-magic": return { kind, head: Buffer.concat([AGGREGATE_MAGIC, r.chance(0.5) ? r.bytes(r.int(200)) : randomProto(r, 3)]), expect: undefined };
      case "misplaced": return { kind, extra: { tx: agg(signedBy(all)), at: "second" }, expect: "reject" };
      case "twice": {
        const valid = agg(signedBy(all));
        return { kind, head: valid, extra: { tx: r.chance(0.5) ? valid : agg(signedBy(all)), at: "last" }, expect: "reject" };
      }
      default: throw new Error(kind);
    }
  }

  /** A valid-looking aggregate as a mempool tx (CheckTx must refuse it). */
  mempoolAggregate(r: Rng, height: bigint): Uint8Array {
    return encodeAggregateTx({ height: (height - 1n).toString(), round: "0", votes: this.validators.map((v) => this.vote(v, this.extension(r, [], v, height - 1n), height - 1n)) });
  }
}
