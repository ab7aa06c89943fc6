/**
 * The bank part of the tx fuzzer (test/fuzz-tx.test.ts): our signed MsgSend txs (valid ones and
 * every kind of wrong one), a model of balances and sequences that predicts each one's FinalizeBlock
 * code, and the generators of junk built from them (byte mutations, random protobuf, field and
 * signature mutations, replays).
 */
import { TxRaw, TxBody, AuthInfo, type ModeInfo } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgSend, MsgMultiSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { SignMode } from "cosmjs-types/cosmos/tx/signing/v1beta1/signing";
import { PubKey } from "cosmjs-types/cosmos/crypto/secp256k1/keys";
import type { Any } from "cosmjs-types/google/protobuf/any";
import { type DirectSecp256k1HdWallet, encodePubkey, makeAuthInfoBytes, makeSignDoc } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { sha256 } from "@cosmjs/crypto";
import { fromBase64, toBech32 } from "@cosmjs/encoding";
import { strict as assert } from "assert";
import { QueryAllBalancesRequest, QueryAllBalancesResponse, QueryTotalSupplyRequest, QueryTotalSupplyResponse } from "cosmjs-types/cosmos/bank/v1beta1/query";
import { QueryAccountRequest, QueryAccountResponse } from "cosmjs-types/cosmos/auth/v1beta1/query";
import { BaseAccount } from "cosmjs-types/cosmos/auth/v1beta1/auth";
import { RequestQuery } from "cosmjs-types/tendermint/abci/types";
import type { PoiApp } from "../../src/app/app";
import { byteMutation, grpc, hex, protoField, randomProto, randomText, type Rng } from "./fuzz-gen";

// ---- chain parameters ------------------------------------------------------------------------------

export const CHAIN_ID = "poi-fuzz-1";
export const DENOM = "upoi";
export const RICH = 1_000_000_000_000n;
/** Can pay one 5000upoi fee, then no more: exercises "insufficient funds to pay fee". */
export const POOR = 7_000n;
export const MIN_GAS_PRICES = "0.025upoi";
/** Smaller than the node default so that random inputs also hit "tx too large". */
export const MAX_TX_BYTES = 1800;
export const GAS = 200_000n;
export const FEE = 5_000n; // 0.025upoi x 200000
export const requiredFee = (gas: bigint) => (gas * 25n + 999n) / 1000n;
export const CODE = { internal: 1, unauthorized: 4, insufficientFunds: 5, unknownAddress: 9, outOfGas: 11, insufficientFee: 13, txTooLarge: 21, timeout: 30, wrongSequence: 32 } as const;

export const tripleKey = (body: Uint8Array, auth: Uint8Array, sig: Uint8Array) => `${hex(body)}.${hex(auth)}.${hex(sig)}`;

/** The tripleKey of a TxRaw with one signature, or undefined for anything else. */
export function signedTriple(tx: Uint8Array): string | undefined {
  let raw: TxRaw;
  try {
    raw = TxRaw.decode(tx);
  } catch {
    return undefined;
  }
  return raw.signatures.length === 1 ? tripleKey(raw.bodyBytes, raw.authInfoBytes, raw.signatures[0]) : undefined;
}
export const FEE_COLLECTOR = toBech32("poi", sha256(new TextEncoder().encode("fee_collector")).subarray(0, 20));
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

// ---- our signed txs ---------------------------------------------------------------------------------

export interface SignedTx {
  bytes: Uint8Array;
  kind: string;
  from: string;
  to: string;
  amount: bigint;
  amountDenom: string;
  fee: bigint;
  feeDenom: string;
  gas: bigint;
  sequence: bigint;
  accountNumber: bigint;
  chainId: string;
  timeoutHeight: bigint;
}

export interface AccountState {
  accountNumber: bigint;
  sequence: bigint;
}

/** What the chain should hold: balances (upoi) of every address we track, and our accounts. */
export class Model {
  constructor(readonly balances = new Map<string, bigint>(), readonly accounts = new Map<string, AccountState>()) {}
  clone(): Model {
    return new Model(new Map(this.balances), new Map([...this.accounts].map(([k, v]) => [k, { ...v }])));
  }
  balance(addr: string): bigint {
    return this.balances.get(addr) ?? 0n;
  }
  add(addr: string, delta: bigint): void {
    this.balances.set(addr, this.balance(addr) + delta);
  }
}

/** After a block: the model's balances, sequences and account numbers, and the supply, via gRPC. */
export async function checkBankState(app: PoiApp, model: Model, stranger: string, totalSupply: bigint, at: string): Promise<void> {
  for (const [addr, want] of model.balances) {
    const res = await grpc(app, "/cosmos.bank.v1beta1.Query/AllBalances", QueryAllBalancesRequest.encode({ address: addr, resolveDenom: false }).finish(), QueryAllBalancesResponse.decode);
    const got = res.balances.find((c) => c.denom === DENOM)?.amount ?? "0";
    assert.equal(got, want.toString(), `balance of ${addr} ${at}`);
    assert.ok(res.balances.every((c) => c.denom === DENOM), `${addr} holds only upoi`);
  }
  for (const [addr, want] of model.accounts) {
    const res = await grpc(app, "/cosmos.auth.v1beta1.Query/Account", QueryAccountRequest.encode({ address: addr }).finish(), QueryAccountResponse.decode);
    const acc = BaseAccount.decode(res.account!.value);
    assert.deepEqual([acc.accountNumber, acc.sequence], [want.accountNumber, want.sequence], `account ${addr} ${at}`);
  }
  const unknown = await app.query(RequestQuery.fromPartial({ path: "/cosmos.auth.v1beta1.Query/Account", data: QueryAccountRequest.encode({ address: stranger }).finish() }));
  assert.equal(unknown.code, 38, "the stranger never gets an account");
  const supply = await grpc(app, "/cosmos.bank.v1beta1.Query/TotalSupply", QueryTotalSupplyRequest.encode({}).finish(), QueryTotalSupplyResponse.decode);
  assert.deepEqual(supply.supply.map((c) => [c.denom, c.amount]), [[DENOM, totalSupply.toString()]]);
}

export interface Prediction {
  /** passes the ante handler: pays its fee and bumps its sequence */
  charged: boolean;
  code: number;
}

/** The FinalizeBlock outcome of one of our signed txs, from the checks in decodeTx and the ante handler, in their order. */
export function predict(m: Model, s: SignedTx, txLen: number, height: bigint): Prediction {
  const refused = (code: number): Prediction => ({ charged: false, code });
  if (txLen > MAX_TX_BYTES) return refused(CODE.txTooLarge);
  if (s.feeDenom !== DENOM) return refused(CODE.insufficientFee); // decodeTx: fees are paid in upoi
  if (10n * BigInt(txLen) > s.gas) return refused(CODE.outOfGas); // ante: tx size is charged first
  if (s.timeoutHeight !== 0n && height > s.timeoutHeight) return refused(CODE.timeout);
  const acc = m.accounts.get(s.from);
  if (!acc) return refused(CODE.unknownAddress);
  if (s.sequence !== acc.sequence) return refused(CODE.wrongSequence);
  if (s.chainId !== CHAIN_ID || s.accountNumber !== acc.accountNumber) return refused(CODE.unauthorized);
  if (m.balance(s.from) < s.fee) return refused(CODE.insufficientFunds);
  const afterFee = m.balance(s.from) - s.fee;
  const sendOk = s.amountDenom === DENOM ? s.amount <= afterFee : false;
  return { charged: true, code: sendOk ? 0 : CODE.insufficientFunds };
}

export function applyCharged(m: Model, s: SignedTx, p: Prediction): void {
  const acc = m.accounts.get(s.from)!;
  acc.sequence += 1n;
  m.add(s.from, -s.fee);
  m.add(FEE_COLLECTOR, s.fee);
  if (p.code === 0) {
    m.add(s.from, -s.amount);
    m.add(s.to, s.amount);
  }
}

// ---- the fuzzer ---------------------------------------------------------------------------------------

export interface Candidate {
  bytes: Uint8Array;
  gen: string;
}

export class Fuzzer {
  /** every tx we signed, by (body, auth_info, signature) */
  readonly signed = new Map<string, SignedTx>();
  readonly signedList: SignedTx[] = [];
  /** recent inputs, mutated again */
  private readonly corpus: Uint8Array[] = [];
  /** valid txs at an account's current sequence, re-signed when the sequence moves */
  private readonly fresh = new Map<string, SignedTx[]>();
  signatures = 0;

  constructor(
    private readonly rng: Rng,
    private readonly wallet: DirectSecp256k1HdWallet,
    private readonly pubkeys: Map<string, Uint8Array>,
    /** funded senders (rich and poor) */
    readonly senders: string[],
    /** a key of ours whose address has no account */
    readonly stranger: string,
    readonly recipients: string[],
    private readonly model: () => Model,
    private readonly height: () => bigint,
  ) {}

  async sign(o: {
    kind: string; from: string; to?: string; amount?: bigint; amountDenom?: string; fee?: bigint; feeDenom?: string; gas?: bigint;
    sequence?: bigint; accountNumber?: bigint; chainId?: string; memo?: string; timeoutHeight?: bigint;
  }): Promise<SignedTx> {
    const acc = this.model().accounts.get(o.from);
    const s: SignedTx = {
      bytes: new Uint8Array(),
      kind: o.kind,
      from: o.from,
      to: o.to ?? this.rng.pick(this.recipients),
      amount: o.amount ?? BigInt(this.rng.range(1, 1000)),
      amountDenom: o.amountDenom ?? DENOM,
      fee: o.fee ?? FEE,
      feeDenom: o.feeDenom ?? DENOM,
      gas: o.gas ?? GAS,
      sequence: o.sequence ?? acc?.sequence ?? 0n,
      accountNumber: o.accountNumber ?? acc?.accountNumber ?? 0n,
      chainId: o.chainId ?? CHAIN_ID,
      timeoutHeight: o.timeoutHeight ?? 0n,
    };
    const msg = MsgSend.fromPartial({ fromAddress: s.from, toAddress: s.to, amount: [{ denom: s.amountDenom, amount: s.amount.toString() }] });
    const bodyBytes = TxBody.encode(TxBody.fromPartial({
      messages: [{ typeUrl: MsgSend.typeUrl, value: MsgSend.encode(msg).finish() }],
      memo: o.memo ?? (this.rng.chance(0.3) ? randomText(this.rng, 40) : ""),
      timeoutHeight: s.timeoutHeight,
    })).finish();
    const pubkey = encodePubkey(encodeSecp256k1Pubkey(this.pubkeys.get(s.from)!));
    const authInfoBytes = makeAuthInfoBytes([{ pubkey, sequence: s.sequence }], [{ denom: s.feeDenom, amount: s.fee.toString() }], Number(s.gas), undefined, undefined);
    const { signature } = await this.wallet.signDirect(s.from, makeSignDoc(bodyBytes, authInfoBytes, s.chainId, s.accountNumber));
    this.signatures++;
    const sig = fromBase64(signature.signature);
    s.bytes = TxRaw.encode(TxRaw.fromPartial({ bodyBytes, authInfoBytes, signatures: [sig] })).finish();
    this.signed.set(tripleKey(bodyBytes, authInfoBytes, sig), s);
    this.signedList.push(s);
    return s;
  }

  /** A tx of `from` that is valid right now (current sequence, right chain id and account number). */
  async valid(from: string): Promise<SignedTx> {
    const acc = this.model().accounts.get(from)!;
    let list = this.fresh.get(from);
    if (!list || list.length === 0 || list[0].sequence !== acc.sequence) {
      list = [];
      this.fresh.set(from, list);
    }
    if (list.length < 3 && (list.length === 0 || this.rng.chance(0.3))) list.push(await this.sign({ kind: "valid", from }));
    return this.rng.pick(list);
  }

  /** Our signed tx for `tx`'s decoded (body, auth_info, signature), if it is one. */
  classify(tx: Uint8Array): SignedTx | undefined {
    const triple = signedTriple(tx);
    return triple === undefined ? undefined : this.signed.get(triple);
  }

  remember(tx: Uint8Array): void {
    if (this.corpus.length < 300) this.corpus.push(tx);
    else this.corpus[this.rng.int(this.corpus.length)] = tx;
  }

  private base(): Uint8Array {
    if (this.corpus.length > 0 && this.rng.chance(0.25)) return this.rng.pick(this.corpus);
    return this.rng.pick(this.signedList).bytes;
  }

  async next(): Promise<Candidate> {
    const r = this.rng;
    const gen = r.weighted<string>([
      [10, "random-bytes"], [8, "truncate"], [10, "bit-flip"], [6, "insert"], [6, "delete"], [6, "splice"], [4, "overwrite"],
      [6, "raw-random-fields"], [8, "structured"], [10, "field-mutation"], [8, "sig-mutation"], [9, "re-signed"],
      [7, "replay"], [3, "unknown-field"],
    ]);
    return { gen, bytes: await this.generate(gen) };
  }

  private async generate(gen: string): Promise<Uint8Array> {
    const r = this.rng;
    const mutated = byteMutation(r, gen, () => this.base());
    if (mutated) return mutated;
    switch (gen) {
      case "random-bytes":
        return r.bytes(r.chance(0.2) ? r.int(16) : r.int(2001));
      case "raw-random-fields": {
        const pickBytes = () => r.weighted<() => Uint8Array>([
          [3, () => r.bytes(r.int(300))],
          [2, () => randomProto(r, 3)],
          [2, () => (r.pick(this.signedList).bytes)],
          [2, () => { const t = TxRaw.decode(r.pick(this.signedList).bytes); return r.chance(0.5) ? t.bodyBytes : t.authInfoBytes; }],
          [1, () => new Uint8Array()],
        ])();
        const sigs = Array.from({ length: r.weighted([[1, 0], [6, 1], [1, 2], [1, r.range(3, 9)]]) }, () => (r.chance(0.8) ? r.bytes(64) : r.bytes(r.int(100))));
        return TxRaw.encode({ bodyBytes: pickBytes(), authInfoBytes: pickBytes(), signatures: sigs }).finish();
      }
      case "structured":
        return this.structured();
      case "field-mutation":
        return this.fieldMutation();
      case "sig-mutation":
        return this.sigMutation();
      case "re-signed":
        return (await this.reSigned()).bytes;
      case "replay": {
        if (r.chance(0.65)) return (await this.valid(r.pick(this.senders))).bytes;
        return r.pick(this.signedList).bytes;
      }
      case "unknown-field": {
        // A well-formed TxRaw plus a field it does not define: it decodes to the same triple, so it
        // is as valid (or invalid) as the tx it extends; the model classifies it by its triple.
        const s = r.chance(0.6) ? await this.valid(r.pick(this.senders)) : r.pick(this.signedList);
        const field = r.range(4, 2000);
        return Buffer.concat([s.bytes, protoField(field, r.chance(0.5) ? { varint: r.u64() } : { bytes: r.bytes(r.int(40)) })]);
      }
      default:
        throw new Error(`unknown generator ${gen}`);
    }
  }

  /** Valid protobuf all the way down, with random values in every field. */
  private structured(): Uint8Array {
    const r = this.rng;
    const any = (): Any => r.weighted<() => Any>([
      [4, () => ({ typeUrl: MsgSend.typeUrl, value: MsgSend.encode(MsgSend.fromPartial({ fromAddress: this.addr(), toAddress: this.addr(), amount: this.coins() })).finish() })],
      [2, () => ({
        typeUrl: MsgMultiSend.typeUrl,
        value: MsgMultiSend.encode(MsgMultiSend.fromPartial({
          inputs: Array.from({ length: r.int(3) }, () => ({ address: this.addr(), coins: this.coins() })),
          outputs: Array.from({ length: r.int(4) }, () => ({ address: this.addr(), coins: this.coins() })),
        })).finish(),
      })],
      [1, () => ({ typeUrl: MsgSend.typeUrl, value: r.chance(0.5) ? r.bytes(r.int(80)) : randomProto(r, 2) })],
      [1, () => ({ typeUrl: r.pick(["", "/", "/cosmos.bank.v1beta1.MsgSend ", "/cosmos.staking.v1beta1.MsgDelegate", randomText(r, 30)]), value: r.bytes(r.int(40)) })],
    ])();
    const body = TxBody.fromPartial({
      messages: Array.from({ length: r.weighted([[1, 0], [8, 1], [2, r.range(2, 9)]]) }, any),
      memo: r.chance(0.2) ? randomText(r, r.chance(0.5) ? 300 : 260) : randomText(r, 20),
      timeoutHeight: r.chance(0.7) ? 0n : r.u64(),
      extensionOptions: r.chance(0.05) ? [{ typeUrl: "/x", value: new Uint8Array() }] : [],
      nonCriticalExtensionOptions: r.chance(0.05) ? [{ typeUrl: "/y", value: new Uint8Array() }] : [],
    });
    const signerInfo = () => ({
      publicKey: r.weighted<Any | undefined>([
        [3, { typeUrl: "/cosmos.crypto.secp256k1.PubKey", value: PubKey.encode({ key: r.chance(0.5) ? this.pubkeys.get(r.pick(this.senders))! : Uint8Array.from([r.pick([2, 3, 4]), ...r.bytes(r.pick([32, 31, 64]))]) }).finish() }],
        [1, { typeUrl: r.pick(["/cosmos.crypto.ed25519.PubKey", "/cosmos.crypto.multisig.LegacyAminoPubKey", ""]), value: r.bytes(r.int(40)) }],
        [1, undefined],
      ]),
      modeInfo: r.weighted<ModeInfo | undefined>([
        [5, { single: { mode: SignMode.SIGN_MODE_DIRECT } }],
        [1, { single: { mode: r.pick([SignMode.SIGN_MODE_UNSPECIFIED, SignMode.SIGN_MODE_LEGACY_AMINO_JSON, SignMode.SIGN_MODE_TEXTUAL, 999 as SignMode]) } }],
        [1, { multi: { bitarray: { extraBitsStored: 1, elems: r.bytes(1) }, modeInfos: [] } }],
        [1, undefined],
      ]),
      sequence: r.chance(0.5) ? BigInt(r.int(4)) : r.u64(),
    });
    const authInfo = AuthInfo.fromPartial({
      signerInfos: Array.from({ length: r.weighted([[1, 0], [8, 1], [1, r.range(2, 9)]]) }, signerInfo),
      fee: r.chance(0.9) ? {
        amount: r.chance(0.7) ? [{ denom: DENOM, amount: r.pick(["5000", "0", "1", "-5", "99999999999999999999999", r.u64().toString()]) }] : this.coins(),
        gasLimit: r.chance(0.6) ? GAS : r.u64(),
        payer: r.chance(0.9) ? "" : this.addr(),
        granter: r.chance(0.95) ? "" : this.addr(),
      } : undefined,
    });
    const signatures = Array.from({ length: r.weighted([[1, 0], [8, 1], [1, r.range(2, 9)]]) }, () => r.bytes(r.chance(0.9) ? 64 : r.int(80)));
    return TxRaw.encode({ bodyBytes: TxBody.encode(body).finish(), authInfoBytes: AuthInfo.encode(authInfo).finish(), signatures }).finish();
  }

  private addr(): string {
    const r = this.rng;
    return r.weighted<() => string>([
      [4, () => r.pick([...this.senders, this.stranger, ...this.recipients])],
      [2, () => toBech32("poi", r.bytes(r.pick([20, 32, 19, 33, 0])))],
      [1, () => toBech32(r.pick(["cosmos", "poix", "po"]), r.bytes(20))],
      [1, () => r.pick(this.senders).toUpperCase()],
      [1, () => { const a = r.pick(this.senders); const i = r.range(4, a.length - 1); return a.slice(0, i) + (a[i] === "q" ? "p" : "q") + a.slice(i + 1); }],
      [1, () => randomText(r, 100)],
      [1, () => ""],
    ])();
  }

  private coins(): Array<{ denom: string; amount: string }> {
    const r = this.rng;
    const denom = () => r.pick([DENOM, DENOM, "uatom", "", "a", "ab", "abc", "x".repeat(128), "x".repeat(129), "u/poi", "üpoi", "1poi", randomText(r, 10)]);
    const amount = () => r.pick(["1", "1000", "0", "-1", "1.5", "", " 1", "0x10", "١", "9".repeat(78), "9".repeat(79), "1000000000000", "1000000000001", r.u64().toString()]);
    return Array.from({ length: r.weighted([[1, 0], [6, 1], [2, 2], [1, r.range(3, 6)]]) }, () => ({ denom: denom(), amount: amount() }));
  }

  /** One of our txs with one field changed and the original signature kept. */
  private async fieldMutation(): Promise<Uint8Array> {
    const r = this.rng;
    const s = r.chance(0.7) ? await this.valid(r.pick(this.senders)) : r.pick(this.signedList);
    const raw = TxRaw.decode(s.bytes);
    const body = TxBody.decode(raw.bodyBytes);
    const auth = AuthInfo.decode(raw.authInfoBytes);
    const msg = MsgSend.decode(body.messages[0].value);
    const what = r.pick(["amount", "to", "from", "denom", "memo", "timeout", "sequence", "fee", "gas", "pubkey", "payer", "reencode"]);
    switch (what) {
      case "amount": msg.amount[0].amount = (BigInt(msg.amount[0].amount) + BigInt(r.range(1, 10 ** 6)) * (r.chance(0.5) ? 1n : -1n)).toString().replace("-", ""); break;
      case "to": msg.toAddress = this.addr(); break;
      case "from": msg.fromAddress = r.pick(this.senders); break;
      case "denom": msg.amount[0].denom = r.pick(["uatom", "upoj", "UPOI"]); break;
      case "memo": body.memo += r.pick(["x", " ", "\u0000", "😀"]); break;
      case "timeout": body.timeoutHeight = r.chance(0.5) ? 1n : r.u64(); break;
      case "sequence": auth.signerInfos[0].sequence += r.chance(0.5) ? 1n : -1n; if (auth.signerInfos[0].sequence < 0n) auth.signerInfos[0].sequence = 1n; break;
      case "fee": auth.fee!.amount[0].amount = r.pick(["4999", "5001", "0", "1000000"]); break;
      case "gas": auth.fee!.gasLimit = r.pick([GAS - 1n, GAS + 1n, 1n, 10n ** 10n]); break;
      case "pubkey": auth.signerInfos[0].publicKey = r.chance(0.5) ? undefined : encodePubkey(encodeSecp256k1Pubkey(this.pubkeys.get(r.pick(this.senders))!)); break;
      case "payer": auth.fee!.payer = r.pick([s.from, r.pick(this.senders)]); break;
      case "reencode": break; // same content, re-encoded: may be byte-identical (then it is still our tx)
    }
    body.messages[0].value = MsgSend.encode(msg).finish();
    return TxRaw.encode({
      bodyBytes: ["amount", "to", "from", "denom", "memo", "timeout", "reencode"].includes(what) ? TxBody.encode(body).finish() : raw.bodyBytes,
      authInfoBytes: ["sequence", "fee", "gas", "pubkey", "payer"].includes(what) ? AuthInfo.encode(auth).finish() : raw.authInfoBytes,
      signatures: raw.signatures,
    }).finish();
  }

  /** One of our txs with a damaged, malleated or borrowed signature. */
  private async sigMutation(): Promise<Uint8Array> {
    const r = this.rng;
    const s = r.chance(0.7) ? await this.valid(r.pick(this.senders)) : r.pick(this.signedList);
    const raw = TxRaw.decode(s.bytes);
    let sig: Uint8Array = raw.signatures[0].slice();
    const what = r.pick(["flip", "high-s", "swap-rs", "zero-r", "zero-s", "truncate", "extend", "empty", "borrow", "random", "der"]);
    switch (what) {
      case "flip": sig[r.int(64)] ^= 1 << r.int(8); break;
      case "high-s": {
        // (r, n - s) verifies mathematically; the app must refuse it (low-S only), like the SDK.
        const sv = BigInt("0x" + hex(sig.subarray(32)));
        sig.set(Buffer.from((SECP256K1_N - sv).toString(16).padStart(64, "0"), "hex"), 32);
        break;
      }
      case "swap-rs": sig = Buffer.concat([sig.subarray(32), sig.subarray(0, 32)]); break;
      case "zero-r": sig.fill(0, 0, 32); break;
      case "zero-s": sig.fill(0, 32); break;
      case "truncate": sig = sig.subarray(0, r.int(64)); break;
      case "extend": sig = Buffer.concat([sig, r.bytes(r.range(1, 2))]); break;
      case "empty": sig = new Uint8Array(); break;
      case "borrow": sig = TxRaw.decode(r.pick(this.signedList).bytes).signatures[0]; break;
      case "random": sig = r.bytes(64); break;
      case "der": sig = Buffer.concat([Uint8Array.of(0x30, 0x44, 0x02, 0x20), sig.subarray(0, 32), Uint8Array.of(0x02, 0x20), sig.subarray(32)]); break;
    }
    const signatures = r.chance(0.1) ? [sig, raw.signatures[0]] : [sig];
    return TxRaw.encode({ bodyBytes: raw.bodyBytes, authInfoBytes: raw.authInfoBytes, signatures }).finish();
  }

  /** A freshly and correctly signed tx that is wrong in one way (or, for some kinds, right). */
  private async reSigned(): Promise<SignedTx> {
    const r = this.rng;
    const from = r.pick(this.senders);
    const acc = this.model().accounts.get(from)!;
    const kind = r.pick(["chain-id", "account-number", "seq-past", "seq-future", "seq-next", "stranger", "overspend", "underpriced", "tiny-gas", "expired", "fee-denom", "foreign-denom", "self-send", "big-memo"]);
    switch (kind) {
      case "chain-id": return this.sign({ kind, from, chainId: r.pick(["poi-fuzz-2", "", "poi-localnet", CHAIN_ID + " "]) });
      case "account-number": return this.sign({ kind, from, accountNumber: acc.accountNumber + BigInt(r.range(1, 7)) });
      case "seq-past": return this.sign({ kind, from, sequence: acc.sequence > 0n ? BigInt(r.int(Number(acc.sequence))) : 1n });
      case "seq-future": return this.sign({ kind, from, sequence: acc.sequence + BigInt(r.range(2, 5)) });
      case "seq-next": return this.sign({ kind, from, sequence: acc.sequence + 1n });
      case "stranger": return this.sign({ kind, from: this.stranger, sequence: 0n, accountNumber: BigInt(r.int(12)) });
      case "overspend": return this.sign({ kind, from, amount: this.model().balance(from) + BigInt(r.range(1, 10 ** 9)) });
      case "underpriced": return this.sign({ kind, from, fee: BigInt(r.range(0, 4999)) }); // valid in a block, below this node's price
      case "tiny-gas": return this.sign({ kind, from, gas: BigInt(r.range(1, 999)), fee: 1n });
      case "expired": return this.sign({ kind, from, timeoutHeight: BigInt(r.range(1, Math.max(1, Number(this.height()) - 1))) });
      case "fee-denom": return this.sign({ kind, from, feeDenom: "uatom" });
      case "foreign-denom": return this.sign({ kind, from, amountDenom: "uatom", amount: 5n });
      case "self-send": return this.sign({ kind, from, to: from });
      case "big-memo": return this.sign({ kind, from, memo: "m".repeat(250) });
      default: throw new Error(kind);
    }
  }
}
