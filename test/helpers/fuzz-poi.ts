/**
 * The poi part of the tx fuzzer (test/fuzz-tx.test.ts): inputs are seeded mutations of valid poi
 * messages (fuzz-poi-msgs.ts). A valid message is signed as it is, or with one field mutated and
 * re-signed, or with its encoded bytes mutated and re-signed, or signed wrongly (chain id, account
 * number, sequence, fee, gas, timeout, another account's key), or the signed tx's bytes are mutated
 * afterwards, or replayed; plus random bytes and aggregates sent to the mempool, and named malformed
 * training messages (fuzz-training.ts), most of which must fail in any state.
 *
 * Which of our txs get past the ante handler (and so pay their fee and use their sequence) is
 * predicted from the ante checks, in the order the app runs them, where the message itself decodes.
 */
import { TxRaw, TxBody, SignDoc } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { encodePubkey, makeAuthInfoBytes } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { toBech32 } from "@cosmjs/encoding";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ripemd160 } from "@noble/hashes/legacy.js";
import { byteMutation, BYTE_MUTATIONS, hex, varint, type Rng } from "./fuzz-gen";
import { CODE, DENOM, requiredFee, signedTriple, tripleKey, type AccountState, type Candidate } from "./fuzz-bank";
import { BaseAccount } from "cosmjs-types/cosmos/auth/v1beta1/auth";
import { QueryAccountRequest, QueryAccountResponse } from "cosmjs-types/cosmos/auth/v1beta1/query";
import type { PoiApp } from "../../src/app/app";
import { blockRequest, fmtCounts, GENESIS_TIME, grpc } from "./fuzz-gen";
import { MSG_TYPES, type BuiltMsg, type MsgType, type PoiWorld } from "./fuzz-poi-msgs";
import { SimValidators } from "./fuzz-aggregates";

export const POI_CHAIN_ID = "poi-fuzz-2";
/** Room for small models and results; random junk still hits "tx too large" now and then. */
export const POI_MAX_TX_BYTES = 16 * 1024;
export const POI_GAS = 2_000_000n;
export const POI_FEE = 50_000n;

/** One of our signed txs: its ante fields, and whether its messages were built valid (not mutated). */
export interface PoiSigned {
  bytes: Uint8Array;
  gen: string;
  msgType: MsgType | "twin";
  from: string;
  sequence: bigint;
  accountNumber: bigint;
  chainId: string;
  fee: bigint;
  feeDenom: string;
  gas: bigint;
  timeoutHeight: bigint;
  /** Every message was built valid and needs `from`'s signature: it decodes, so the ante decides. */
  validMsgs: boolean;
  /** A malformed message that no state lets succeed: its variant's name. */
  mustFail?: string;
}

/**
 * Our secp256k1 keys, from the seed, signing SIGN_MODE_DIRECT with @noble/curves directly (RFC 6979,
 * low-S, as CosmJS does, at a tenth of the cost of its HD wallet).
 */
export class FuzzKeys {
  private readonly secrets = new Map<string, Uint8Array>();
  readonly pubkeys = new Map<string, Uint8Array>();
  readonly addresses: string[];

  constructor(seed: number, n: number) {
    secp256k1.Point.BASE.precompute(8, false);
    this.addresses = Array.from({ length: n }, (_, i) => {
      const secret = sha256(Buffer.from(`poi fuzz poi key ${seed} ${i}`));
      const pubkey = secp256k1.getPublicKey(secret, true);
      const address = toBech32("poi", ripemd160(sha256(pubkey)));
      this.secrets.set(address, secret);
      this.pubkeys.set(address, pubkey);
      return address;
    });
  }

  /** The signature over sha256(SignDoc), 64 bytes r ‖ s. */
  sign(address: string, signDoc: Uint8Array): Uint8Array {
    return secp256k1.sign(signDoc, this.secrets.get(address)!);
  }
}

type AnteFields = Partial<Pick<PoiSigned, "sequence" | "accountNumber" | "chainId" | "fee" | "feeDenom" | "gas" | "timeoutHeight">> & { memo?: string };

/** Sequences and account numbers of our accounts (all rich: fees never fail). */
export class AnteModel {
  constructor(readonly accounts = new Map<string, AccountState>()) {}
  clone(): AnteModel {
    return new AnteModel(new Map([...this.accounts].map(([k, v]) => [k, { ...v }])));
  }

  /** Past the ante handler, or refused with this code (exact when the messages decode). */
  predict(s: PoiSigned, txLen: number, height: bigint): { charged: boolean; code: number } {
    const refused = (code: number) => ({ charged: false, code });
    if (txLen > POI_MAX_TX_BYTES) return refused(CODE.txTooLarge);
    if (s.feeDenom !== DENOM) return refused(CODE.insufficientFee);
    if (10n * BigInt(txLen) > s.gas) return refused(CODE.outOfGas);
    if (s.timeoutHeight !== 0n && height > s.timeoutHeight) return refused(CODE.timeout);
    const acc = this.accounts.get(s.from);
    if (!acc) return refused(CODE.unknownAddress);
    if (s.sequence !== acc.sequence) return refused(CODE.wrongSequence);
    if (s.chainId !== POI_CHAIN_ID || s.accountNumber !== acc.accountNumber) return refused(CODE.unauthorized);
    return { charged: true, code: 0 };
  }

  charge(s: PoiSigned): void {
    this.accounts.get(s.from)!.sequence += 1n;
  }
}

export class PoiFuzzer {
  readonly signed = new Map<string, PoiSigned>();
  readonly signedList: PoiSigned[] = [];
  private readonly corpus: Uint8Array[] = [];
  /** Where each account's chain of valid txs in this block has got to (valid txs follow each other). */
  private readonly roundNext = new Map<string, bigint>();
  signatures = 0;

  constructor(
    private readonly rng: Rng,
    private readonly keys: FuzzKeys,
    readonly world: PoiWorld,
    /** A key of ours whose address has no account. */
    readonly stranger: string,
    private readonly ante: () => AnteModel,
    private readonly height: () => bigint,
    private readonly validators: SimValidators,
  ) {}

  async sign(from: string, msgs: Array<{ typeUrl: string; value: Uint8Array }>, meta: { gen: string; msgType: PoiSigned["msgType"]; validMsgs: boolean; mustFail?: string }, o: AnteFields = {}, key = from): Promise<PoiSigned> {
    const acc = this.ante().accounts.get(from);
    const s: PoiSigned = {
      bytes: new Uint8Array(), ...meta, from, sequence: o.sequence ?? acc?.sequence ?? 0n, accountNumber: o.accountNumber ?? acc?.accountNumber ?? 0n,
      chainId: o.chainId ?? POI_CHAIN_ID, fee: o.fee ?? POI_FEE, feeDenom: o.feeDenom ?? DENOM, gas: o.gas ?? POI_GAS, timeoutHeight: o.timeoutHeight ?? 0n,
    };
    const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: msgs, memo: o.memo ?? "", timeoutHeight: s.timeoutHeight })).finish();
    const pubkey = encodePubkey(encodeSecp256k1Pubkey(this.keys.pubkeys.get(key)!));
    const authInfoBytes = makeAuthInfoBytes([{ pubkey, sequence: s.sequence }], [{ denom: s.feeDenom, amount: s.fee.toString() }], Number(s.gas), undefined, undefined);
    const sig = this.keys.sign(key, SignDoc.encode({ bodyBytes, authInfoBytes, chainId: s.chainId, accountNumber: s.accountNumber }).finish());
    this.signatures++;
    s.bytes = TxRaw.encode(TxRaw.fromPartial({ bodyBytes, authInfoBytes, signatures: [sig] })).finish();
    this.signed.set(tripleKey(bodyBytes, authInfoBytes, sig), s);
    this.signedList.push(s);
    if (this.signedList.length > 5000) this.signedList.splice(0, 1000);
    return s;
  }

  /** The same ante fields as `s` with a message that fails and changes nothing (a send of a denom nobody has). */
  twin(s: PoiSigned): Promise<PoiSigned> {
    const send = MsgSend.fromPartial({ fromAddress: s.from, toAddress: s.from, amount: [{ denom: "uatom", amount: "1" }] });
    return this.sign(s.from, [{ typeUrl: MsgSend.typeUrl, value: MsgSend.encode(send).finish() }], { gen: "twin", msgType: "twin", validMsgs: true }, s);
  }

  /** Our signed tx for `tx`'s decoded (body, auth_info, signature), if it is one. */
  classify(tx: Uint8Array): PoiSigned | undefined {
    const triple = signedTriple(tx);
    return triple === undefined ? undefined : this.signed.get(triple);
  }

  /** A new block: valid txs start again from each account's committed sequence. */
  startRound(): void {
    this.roundNext.clear();
  }

  /** The next sequence of `from`'s chain of valid txs in this block (taken). */
  private nextSequence(from: string): bigint | undefined {
    const committed = this.ante().accounts.get(from)?.sequence;
    if (committed === undefined) return undefined;
    const n = this.roundNext.get(from) ?? committed;
    this.roundNext.set(from, n + 1n);
    return n;
  }

  remember(tx: Uint8Array): void {
    if (this.corpus.length < 300) this.corpus.push(tx);
    else this.corpus[this.rng.int(this.corpus.length)] = tx;
  }

  async next(): Promise<Candidate> {
    const r = this.rng;
    const picked = r.weighted<string>([
      [26, "valid"], [20, "fields"], [10, "msg-bytes"], [8, "ante"], [4, "wrong-key"], [3, "multi-msg"],
      [16, "tx-bytes"], [6, "replay"], [3, "random-bytes"], [2, "mempool-aggregate"], [8, "bad-training"],
    ]);
    const kind = this.signedList.length === 0 && ["tx-bytes", "replay"].includes(picked) ? "valid" : picked;
    const type = r.pick(MSG_TYPES);
    const signedAs = async (b: BuiltMsg, validMsgs: boolean, o: AnteFields = {}, key?: string) =>
      (await this.sign(b.signer, [{ typeUrl: b.typeUrl, value: b.value }], { gen: `${kind}:${b.type}`, msgType: b.type, validMsgs }, o, key ?? b.signer));
    switch (kind) {
      case "valid": {
        const b = this.world.build(type);
        const s = await signedAs(b, true, { sequence: this.nextSequence(b.signer) });
        return { gen: s.gen, bytes: s.bytes };
      }
      case "fields": {
        const b = this.world.mutateFields(this.world.build(type));
        const key = this.keys.pubkeys.has(b.signer) ? b.signer : this.rng.pick(this.world.requesters);
        const s = await signedAs(b, false, {}, key);
        return { gen: s.gen, bytes: s.bytes };
      }
      case "msg-bytes": {
        const b = this.world.build(type);
        // Either a byte mutation, or a varint field of more than 64 bits appended (protobufjs alone would wrap it).
        const overflow = () => Buffer.concat([Uint8Array.from(varint(BigInt(r.range(1, 12) * 8))), Uint8Array.from([...r.bytes(9).map((x) => x | 0x80), r.range(2, 127)])]);
        const value = r.chance(0.2) ? Buffer.concat([b.value, overflow()]) : byteMutation(r, r.pick(BYTE_MUTATIONS), () => b.value)!;
        const s = await signedAs({ ...b, value }, false);
        return { gen: s.gen, bytes: s.bytes };
      }
      case "ante": {
        const b = this.world.build(type);
        const acc = this.ante().accounts.get(b.signer)!;
        const what = r.pick(["chain-id", "account-number", "seq-past", "seq-future", "seq-next", "stranger", "underpriced", "tiny-gas", "expired", "fee-denom", "big-memo"]);
        const o: AnteFields = {
          "chain-id": { chainId: r.pick(["poi-fuzz-1", "", POI_CHAIN_ID + " "]) },
          "account-number": { accountNumber: acc.accountNumber + BigInt(r.range(1, 7)) },
          "seq-past": { sequence: acc.sequence > 0n ? BigInt(r.int(Number(acc.sequence))) : 1n },
          "seq-future": { sequence: acc.sequence + BigInt(r.range(2, 5)) },
          "seq-next": { sequence: acc.sequence + 1n },
          stranger: {},
          underpriced: { fee: BigInt(r.range(0, Number(POI_FEE) - 1)) },
          "tiny-gas": { gas: BigInt(r.range(1, 999)), fee: 1n }, // below the size's gas (10 per byte)
          expired: { timeoutHeight: BigInt(r.range(1, Math.max(1, Number(this.height()) - 1))) },
          "fee-denom": { feeDenom: "uatom" },
          "big-memo": { memo: "m".repeat(r.pick([256, 257])) },
        }[what]!;
        const built = what === "stranger" ? this.world.build(r.pick(["register-model", "create-dataset", "submit-task", "claim"] as const), this.stranger) : b;
        const s = await this.sign(built.signer, [{ typeUrl: built.typeUrl, value: built.value }], { gen: `ante-${what}:${built.type}`, msgType: built.type, validMsgs: what !== "big-memo" || o.memo!.length <= 256 }, o);
        return { gen: s.gen, bytes: s.bytes };
      }
      case "wrong-key": {
        const b = this.world.build(type);
        const key = r.pick([...this.world.requesters, ...this.world.workers].filter((a) => a !== b.signer));
        const s = await signedAs(b, false, {}, key);
        return { gen: s.gen, bytes: s.bytes };
      }
      case "multi-msg": {
        const from = r.pick(this.world.requesters);
        const msgs = Array.from({ length: r.range(2, 3) }, () => this.world.build(r.pick(["register-model", "create-dataset", "submit-task"] as const), from));
        const s = await this.sign(from, msgs, { gen: `multi-msg:${msgs.map((m) => m.type).join("+")}`, msgType: msgs[0].type, validMsgs: msgs.every((m) => m.signer === from) }, { sequence: this.nextSequence(from) });
        return { gen: "multi-msg", bytes: s.bytes };
      }
      case "tx-bytes": {
        const op = r.pick([...BYTE_MUTATIONS]);
        const base = () => (this.corpus.length && r.chance(0.3) ? r.pick(this.corpus) : r.pick(this.signedList).bytes);
        return { gen: `tx-bytes:${op}`, bytes: byteMutation(r, op, base)! };
      }
      case "bad-training": {
        const b = this.world.badTraining();
        const signer = this.keys.pubkeys.has(b.signer) ? b.signer : b.key;
        const s = await this.sign(signer, [{ typeUrl: b.typeUrl, value: b.value }], { gen: `bad:${b.variant}`, msgType: b.type, validMsgs: false, mustFail: b.mustFail ? b.variant : undefined }, {}, b.key);
        return { gen: s.gen, bytes: s.bytes };
      }
      case "replay":
        return { gen: "replay", bytes: r.pick(this.signedList).bytes };
      case "random-bytes":
        return { gen: kind, bytes: r.bytes(r.int(400)) };
      case "mempool-aggregate":
        return { gen: kind, bytes: this.validators.mempoolAggregate(r, this.height()) };
      default:
        throw new Error(kind);
    }
  }
}

/**
 * The app under test and its reference, at height 1: 4 validators with vote extensions on from
 * height 1, 5 funded accounts of 6 keys (the last has no account), short claims and verification
 * timeouts so tasks move. Returns the committed sequences and account numbers.
 */
export async function openPoiFuzzChain(seed: number, open: (name: string) => Promise<PoiApp>) {
  const keys = new FuzzKeys(seed, 6);
  const funded = keys.addresses.slice(0, 5);
  const validators = new SimValidators(seed, POI_CHAIN_ID);
  const appState = { auth: { params: { max_tx_bytes: String(POI_MAX_TX_BYTES) } }, bank: { balances: funded.map((address) => ({ address, coins: [{ denom: DENOM, amount: "1000000000000" }] })) }, poi: { params: {
    claimBlocks: "4", verifyTimeoutBlocks: "4", deadlineMarginBlocks: "1", minBond: "1", bondFactorBps: "1",
    // training: requests for 3 blocks, reveals for 6; checkpoints of fuzz-training.ts's MLP (88 bytes) in 2 chunks
    segmentRequestBlocks: "3", revealBlocks: "6", maxDatasetChunkBytes: "64",
  } } };
  const [app, ref] = [await open("fuzz-poi-app"), await open("fuzz-poi-ref")];
  const init = {
    time: { seconds: GENESIS_TIME, nanos: 0 }, chainId: POI_CHAIN_ID, validators: validators.genesis(), consensusParams: { abci: { voteExtensionsEnableHeight: 1n } },
    appStateBytes: Buffer.from(JSON.stringify(appState)), initialHeight: 1n,
  };
  for (const a of [app, ref]) {
    await a.initChain(init);
    await a.finalizeBlock(blockRequest(1n, []).finalizeBlock!);
    await a.commit();
  }
  const accounts = new Map<string, AccountState>();
  for (const address of funded) {
    const acc = BaseAccount.decode((await grpc(app, "/cosmos.auth.v1beta1.Query/Account", QueryAccountRequest.encode({ address }).finish(), QueryAccountResponse.decode)).account!.value);
    accounts.set(address, { accountNumber: acc.accountNumber, sequence: acc.sequence });
  }
  return { app, ref, keys, validators, accounts };
}

/** The header fields of the ABCI++ block requests (ProcessProposal, FinalizeBlock) at height `h`. */
export function blockHeader(h: bigint, proposerAddress: Uint8Array) {
  return { height: h, time: { seconds: GENESIS_TIME + h, nanos: 0 }, hash: sha256(Buffer.from(`block ${h}`)), misbehavior: [], nextValidatorsHash: new Uint8Array(), proposerAddress };
}

/** What the poi fuzz run counts, by generator, code, block head and message type; printed at the end. */
export class PoiStats {
  inputs = 0;
  blocks = 0;
  accepted = 0;
  rejected = 0;
  readonly gens = new Map<string, number>();
  readonly checkCodes = new Map<number, number>();
  readonly blockCodes = new Map<number, number>();
  readonly heads = new Map<string, number>();
  readonly chargedByType = new Map<string, number>();
  /** Our signed txs by (first) message type, whatever became of them. */
  readonly signedByType = new Map<string, number>();
  readonly okByType = new Map<string, number>();

  print(ms: number, extra: string): void {
    console.log(`    fuzz-poi: ${this.inputs} inputs in ${this.blocks} blocks, ${(ms / 1000).toFixed(1)} s, ${extra}`);
    console.log(`    fuzz-poi: generators ${fmtCounts(this.gens)}`);
    console.log(`    fuzz-poi: signed by message type ${fmtCounts(this.signedByType)}`);
    console.log(`    fuzz-poi: charged by message type ${fmtCounts(this.chargedByType)}; succeeded ${fmtCounts(this.okByType)}`);
    console.log(`    fuzz-poi: block heads ${fmtCounts(this.heads)}; ProcessProposal accepted ${this.accepted}, rejected ${this.rejected}`);
    console.log(`    fuzz-poi: CheckTx codes ${fmtCounts(this.checkCodes)}; FinalizeBlock codes ${fmtCounts(this.blockCodes)}`);
  }
}

/** Whether a FinalizeBlock result is of a tx that got past the ante handler (it reports the sequence it used). */
export function charged(res: { events?: Array<{ type: string; attributes: Array<{ key: string }> }> }): boolean {
  return (res.events ?? []).some((e) => e.type === "tx" && e.attributes.some((a) => a.key === "acc_seq"));
}

/** CheckTx accepted `s`: it must be signed right, pay the node's price, afford its size and not be expired. */
export function acceptable(s: PoiSigned, ante: AnteModel, txLen: number, height: bigint): string | undefined {
  const acc = ante.accounts.get(s.from);
  if (!acc || s.chainId !== POI_CHAIN_ID || s.accountNumber !== acc.accountNumber) return `signed for chain "${s.chainId}" / account number ${s.accountNumber}`;
  if (s.feeDenom !== DENOM || s.fee < requiredFee(s.gas)) return `fee ${s.fee}${s.feeDenom} for gas ${s.gas}`;
  if (s.gas < 10n * BigInt(txLen)) return "gas below its size";
  if (s.timeoutHeight !== 0n && s.timeoutHeight < height) return "expired";
  if (s.sequence < acc.sequence) return `sequence ${s.sequence} below the committed ${acc.sequence}`;
  return undefined;
}

export { hex };
