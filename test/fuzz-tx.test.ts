/**
 * Property test: random and mutated tx bytes fed to an in-process PoiApp (real LevelDB).
 *
 *   npx tsc -p tsconfig.json && npx mocha --no-config --timeout 600000 --exit dist/test/fuzz-tx.test.js
 *   FUZZ_SEED=0x1234abcd FUZZ_INPUTS=50000 npx mocha ...      # another seed / a longer run
 *
 * Everything derives from one seed (mulberry32 below), including the signed seed txs (RFC 6979
 * signatures are deterministic), so a failure reproduces from the seed printed at the start.
 *
 * What is asserted, for every input:
 *  - CheckTx (through `dispatch`, the server's own path) never throws, so the server would never
 *    answer with `Response.exception`; the response encodes as protobuf; its code is a non-negative
 *    integer, never 1 (`internal error`: a non-AppError escaped a handler, i.e. a bug); a refusal
 *    has codespace "sdk" and a log; gas_used <= gas_wanted.
 *  - CheckTx accepts only txs that carry, byte for byte, the (body_bytes, auth_info_bytes, signature)
 *    of a tx we signed ourselves with the right chain id and account number, from a funded account,
 *    at a sequence not below the committed one, paying the node's minimum gas price, and that
 *    can pay its message; and never the same (account, sequence) twice before a commit.
 *  - FinalizeBlock over batches of these inputs never throws and returns exactly one result per tx,
 *    each with the same code checks as above.
 *
 * State: why a model and a reference app rather than "app hash unchanged".
 *  The blockinfo module writes every block (the last block's height and time), so
 *  the app hash moves with every block, junk or not. And "CheckTx refused it" is not a sound test
 *  for "nothing was charged": CheckTx also refuses a tx whose *messages* would fail (say, a send of
 *  more than the balance), and such a tx, once in a block, passes the ante handler and pays its fee
 *  and sequence, as in the Cosmos SDK. So instead:
 *  - A tx can only get past the ante handler if its signature verifies over
 *    SignDoc(body_bytes, auth_info_bytes, chain_id, account_number) for the signer's key. Every key
 *    that holds an account is ours, and secp256k1 signatures cannot be forged (the app also refuses
 *    high-S, so there is one valid encoding per signature), so only a tx whose decoded triple is one
 *    we signed can ever change state. Every other input is "junk" and must change nothing.
 *  - For our own signed txs (valid ones, stale sequences, wrong chain id / account number, unknown
 *    signer, overspends, under-priced, tiny gas, expired, foreign fee denom, ...) a small model of
 *    balances and sequences predicts the FinalizeBlock code exactly (0, or the ante handler's refusal
 *    code, or 5 for a failed send that still pays its fee) and the state change.
 *  - A reference PoiApp is fed the same blocks (same header) holding only the txs the model says get
 *    past the ante handler. After every block both apps must report the same app hash: the whole
 *    Merkle state (auth, bank, blockinfo, everything) must be what the model's txs alone produce,
 *    so junk changed nothing, not even a sequence or an account number counter.
 *  - Every other block holds junk only (our txs that would pass the ante handler are left out):
 *    then the committed key/value state outside "blockinfo/" must be byte-identical to before, and
 *    blockinfo may only have changed "last".
 *  - After every block, the gRPC queries AllBalances (every tracked address, incl. the fee
 *    collector), Account (sequence, account number) and TotalSupply must match the model.
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import { TxRaw, TxBody, AuthInfo, type ModeInfo } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgSend, MsgMultiSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { SignMode } from "cosmjs-types/cosmos/tx/signing/v1beta1/signing";
import { Request, Response, RequestQuery } from "cosmjs-types/tendermint/abci/types";
import { PubKey } from "cosmjs-types/cosmos/crypto/secp256k1/keys";
import {
  QueryAllBalancesRequest, QueryAllBalancesResponse, QueryTotalSupplyRequest, QueryTotalSupplyResponse,
} from "cosmjs-types/cosmos/bank/v1beta1/query";
import { QueryAccountRequest, QueryAccountResponse } from "cosmjs-types/cosmos/auth/v1beta1/query";
import { BaseAccount } from "cosmjs-types/cosmos/auth/v1beta1/auth";
import type { Any } from "cosmjs-types/google/protobuf/any";
import { DirectSecp256k1HdWallet, encodePubkey, makeAuthInfoBytes, makeCosmoshubPath, makeSignDoc } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { Bip39, sha256 } from "@cosmjs/crypto";
import { fromBase64, toBech32 } from "@cosmjs/encoding";
import { PoiApp } from "../src/app/app";
import { dispatch } from "../src/abci/server";
import { tmpHome } from "./helpers/chain";
import { mulberry32 } from "../src/util/random";

// ---- deterministic randomness ----------------------------------------------------------------------

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("pick from an empty list");
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** a uint64 spread over all magnitudes */
  u64(): bigint {
    const bits = this.int(65);
    if (bits === 0) return 0n;
    let v = 0n;
    for (let i = 0; i < bits; i++) v = (v << 1n) | (this.chance(0.5) ? 1n : 0n);
    return v | (1n << BigInt(bits - 1));
  }
  weighted<T>(items: ReadonlyArray<readonly [number, T]>): T {
    const total = items.reduce((s, [w]) => s + w, 0);
    let r = this.float() * total;
    for (const [w, v] of items) {
      if ((r -= w) < 0) return v;
    }
    return items[items.length - 1][1];
  }
}

function parseSeed(text: string | undefined): number {
  if (!text) return 0x5eedf00d;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`FUZZ_SEED must be a 32-bit unsigned integer, got "${text}"`);
  return n;
}

// ---- chain parameters ------------------------------------------------------------------------------

const CHAIN_ID = "poi-fuzz-1";
const DENOM = "upoi";
const RICH = 1_000_000_000_000n;
/** Can pay one 5000upoi fee, then no more: exercises "insufficient funds to pay fee". */
const POOR = 7_000n;
const MIN_GAS_PRICES = "0.025upoi";
/** The chain's max_tx_bytes (and the node's): small, so that random inputs also hit "tx too large". */
const MAX_TX_BYTES = 1800;
const GAS = 200_000n;
const FEE = 5_000n; // 0.025upoi x 200000
const GENESIS_TIME = 1_700_000_000n;
const requiredFee = (gas: bigint) => (gas * 25n + 999n) / 1000n;
const CODE = { internal: 1, unauthorized: 4, insufficientFunds: 5, unknownAddress: 9, outOfGas: 11, insufficientFee: 13, txTooLarge: 21, timeout: 30, wrongSequence: 32 } as const;

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const tripleKey = (body: Uint8Array, auth: Uint8Array, sig: Uint8Array) => `${hex(body)}.${hex(auth)}.${hex(sig)}`;
const FEE_COLLECTOR = toBech32("poi", sha256(new TextEncoder().encode("fee_collector")).subarray(0, 20));
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

// ---- our signed txs ---------------------------------------------------------------------------------

interface SignedTx {
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

interface AccountState {
  accountNumber: bigint;
  sequence: bigint;
}

/** What the chain should hold: balances (upoi) of every address we track, and our accounts. */
class Model {
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

interface Prediction {
  /** passes the ante handler: pays its fee and bumps its sequence */
  charged: boolean;
  code: number;
}

/** The FinalizeBlock outcome of one of our signed txs, from the checks in decodeTx and the ante handler, in their order. */
function predict(m: Model, s: SignedTx, txLen: number, height: bigint): Prediction {
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

function applyCharged(m: Model, s: SignedTx, p: Prediction): void {
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

interface Candidate {
  bytes: Uint8Array;
  gen: string;
}

class Fuzzer {
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
    let raw: TxRaw;
    try {
      raw = TxRaw.decode(tx);
    } catch {
      return undefined;
    }
    if (raw.signatures.length !== 1) return undefined;
    return this.signed.get(tripleKey(raw.bodyBytes, raw.authInfoBytes, raw.signatures[0]));
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
    switch (gen) {
      case "random-bytes":
        return r.bytes(r.chance(0.2) ? r.int(16) : r.int(2001));
      case "truncate": {
        const b = this.base();
        return b.subarray(0, r.int(b.length + 1)).slice();
      }
      case "bit-flip": {
        const b = this.base().slice();
        if (b.length === 0) return b;
        for (let n = r.range(1, r.chance(0.7) ? 1 : 8); n > 0; n--) b[r.int(b.length)] ^= 1 << r.int(8);
        return b;
      }
      case "insert": {
        const b = this.base();
        const at = r.int(b.length + 1);
        return Buffer.concat([b.subarray(0, at), r.chance(0.5) ? r.bytes(r.range(1, 4)) : r.bytes(r.range(1, 64)), b.subarray(at)]);
      }
      case "delete": {
        const b = this.base();
        if (b.length === 0) return b;
        const at = r.int(b.length);
        const n = r.range(1, r.chance(0.6) ? 1 : 32);
        return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
      }
      case "splice": {
        const a = this.base();
        const b = this.base();
        return Buffer.concat([a.subarray(0, r.int(a.length + 1)), b.subarray(r.int(b.length + 1))]);
      }
      case "overwrite": {
        const b = this.base().slice();
        if (b.length === 0) return b;
        const at = r.int(b.length);
        const fill = r.pick([0x00, 0xff, 0x80, 0x7f, 0x0a, 0x12]);
        for (let i = at; i < Math.min(b.length, at + r.range(1, 12)); i++) b[i] = r.chance(0.7) ? fill : r.int(256);
        return b;
      }
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

function randomText(r: Rng, maxLen: number): string {
  const alphabet = ["a", "z", "0", "9", " ", "/", ".", "-", "_", ":", "é", "😀", "\u0000", "\uffff", "poi1", "upoi"];
  let s = "";
  const n = r.int(maxLen + 1);
  while ([...s].length < n) s += r.pick(alphabet);
  return s;
}

function varint(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return out;
}

function protoField(field: number, v: { varint: bigint } | { bytes: Uint8Array }): Uint8Array {
  if ("varint" in v) return Uint8Array.from([...varint(BigInt(field << 3)), ...varint(v.varint)]);
  return Uint8Array.from([...varint(BigInt((field << 3) | 2)), ...varint(BigInt(v.bytes.length)), ...v.bytes]);
}

/** A random but well-formed protobuf message (fields 1..6, varints and nested messages / bytes). */
function randomProto(r: Rng, depth: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let n = r.int(6); n > 0; n--) {
    const field = r.chance(0.9) ? r.range(1, 6) : r.range(7, 100);
    if (r.chance(0.35)) parts.push(protoField(field, { varint: r.u64() }));
    else parts.push(protoField(field, { bytes: depth > 0 && r.chance(0.5) ? randomProto(r, depth - 1) : r.bytes(r.int(40)) }));
  }
  return Buffer.concat(parts);
}

// ---- the app under test ---------------------------------------------------------------------------------

function blockRequest(height: bigint, txs: Uint8Array[]): Request {
  return Request.fromPartial({
    finalizeBlock: {
      txs, height, time: { seconds: GENESIS_TIME + height, nanos: 0 }, hash: sha256(Buffer.from(`block ${height}`)),
      decidedLastCommit: { round: 0, votes: [] }, misbehavior: [], nextValidatorsHash: new Uint8Array(), proposerAddress: Buffer.alloc(20, 7),
    },
  });
}

async function grpc<T>(app: PoiApp, path: string, data: Uint8Array, decode: (b: Uint8Array) => T): Promise<T> {
  const res = await app.query(RequestQuery.fromPartial({ path, data, height: 0n, prove: false }));
  assert.equal(res.code ?? 0, 0, `query ${path}: ${res.log}`);
  return decode(res.value ?? new Uint8Array());
}

/** Committed key/value state as hex pairs: [outside blockinfo/, inside blockinfo/]. */
async function dumpState(app: PoiApp): Promise<{ rest: Map<string, string>; blockinfo: Map<string, string> }> {
  const rest = new Map<string, string>();
  const blockinfo = new Map<string, string>();
  for (const [k, v] of await app.store.committed.iterate(new Uint8Array())) {
    (Buffer.from(k).toString("latin1").startsWith("blockinfo/") ? blockinfo : rest).set(hex(k), hex(v));
  }
  return { rest, blockinfo };
}

interface Stats {
  inputs: number;
  gens: Map<string, number>;
  checkCodes: Map<number, number>;
  blockCodes: Map<number, number>;
  checkAccepted: number;
  acceptedNotCanonical: number;
  charged: number;
  chargedFailed: number;
  junkInBlocks: number;
  blocks: number;
  junkOnlyBlocks: number;
}

const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

describe("fuzz: random and mutated txs against PoiApp (in process)", function () {
  const seed = parseSeed(process.env.FUZZ_SEED);
  const target = Number(process.env.FUZZ_INPUTS ?? 10_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it(`${target} inputs: no throw, no exception, no internal error; only our signed txs are accepted or charged; junk changes no state`, async function () {
    console.log(`    fuzz-tx: seed=0x${seed.toString(16)} inputs=${target} (reproduce with FUZZ_SEED=0x${seed.toString(16)} FUZZ_INPUTS=${target})`);
    const started = Date.now();
    const rng = new Rng(seed);

    // Keys: 6 accounts of one HD wallet (fixed mnemonic from the seed), plus 3 plain recipient addresses.
    const mnemonic = Bip39.encode(sha256(Buffer.from(`poi fuzz ${seed}`))).toString();
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "poi", hdPaths: [0, 1, 2, 3, 4, 5].map((i) => makeCosmoshubPath(i)) });
    const keys = await wallet.getAccounts();
    const pubkeys = new Map(keys.map((k) => [k.address, k.pubkey]));
    const rich = keys.slice(0, 4).map((k) => k.address);
    const poor = keys[4].address;
    const stranger = keys[5].address;
    const recipients = [...Array.from({ length: 3 }, () => toBech32("poi", rng.bytes(20))), toBech32("poi", rng.bytes(32)), ...rich];
    const genesisBalances = [...rich.map((a) => [a, RICH] as const), [poor, POOR] as const];
    const totalSupply = genesisBalances.reduce((s, [, v]) => s + v, 0n);
    const appState = {
      auth: { params: { max_tx_bytes: String(MAX_TX_BYTES) } },
      bank: { balances: genesisBalances.map(([address, amount]) => ({ address, coins: [{ denom: DENOM, amount: amount.toString() }] })) },
    };

    const open = async (name: string) => { const d = tmpHome(name); dirs.push(d); return PoiApp.open(d, { minGasPrices: MIN_GAS_PRICES, maxTxBytes: MAX_TX_BYTES }); };
    const app = await open("fuzz-app");
    const ref = await open("fuzz-ref");
    const init = { time: { seconds: GENESIS_TIME, nanos: 0 }, chainId: CHAIN_ID, validators: [], appStateBytes: Buffer.from(JSON.stringify(appState)), initialHeight: 1n };
    const h0 = await app.initChain(Request.fromPartial({ initChain: init }).initChain!);
    const h0ref = await ref.initChain(Request.fromPartial({ initChain: init }).initChain!);
    assert.equal(hex(h0.appHash!), hex(h0ref.appHash!));

    let model = new Model();
    for (const [a, v] of genesisBalances) model.balances.set(a, v);
    model.balances.set(FEE_COLLECTOR, 0n);
    for (const a of recipients) if (!model.balances.has(a)) model.balances.set(a, 0n);
    let height = 0n;
    const fuzzer = new Fuzzer(rng, wallet, pubkeys, [...rich, poor], stranger, recipients, () => model, () => height + 1n);

    const stats: Stats = {
      inputs: 0, gens: new Map(), checkCodes: new Map(), blockCodes: new Map(), checkAccepted: 0, acceptedNotCanonical: 0,
      charged: 0, chargedFailed: 0, junkInBlocks: 0, blocks: 0, junkOnlyBlocks: 0,
    };
    const where = (what: string, c: Candidate) => `${what} [seed=0x${seed.toString(16)} height=${height + 1n} gen=${c.gen}] input=${hex(c.bytes)}`;

    // After a block: the model's balances, sequences and account numbers, and the supply, via gRPC.
    const checkModel = async () => {
      for (const [addr, want] of model.balances) {
        const res = await grpc(app, "/cosmos.bank.v1beta1.Query/AllBalances", QueryAllBalancesRequest.encode({ address: addr, resolveDenom: false }).finish(), QueryAllBalancesResponse.decode);
        const got = res.balances.find((c) => c.denom === DENOM)?.amount ?? "0";
        assert.equal(got, want.toString(), `balance of ${addr} after height ${height} [seed=0x${seed.toString(16)}]`);
        assert.ok(res.balances.every((c) => c.denom === DENOM), `${addr} holds only upoi`);
      }
      for (const [addr, want] of model.accounts) {
        const res = await grpc(app, "/cosmos.auth.v1beta1.Query/Account", QueryAccountRequest.encode({ address: addr }).finish(), QueryAccountResponse.decode);
        const acc = BaseAccount.decode(res.account!.value);
        assert.deepEqual([acc.accountNumber, acc.sequence], [want.accountNumber, want.sequence], `account ${addr} after height ${height} [seed=0x${seed.toString(16)}]`);
      }
      const stranger = await app.query(RequestQuery.fromPartial({ path: "/cosmos.auth.v1beta1.Query/Account", data: QueryAccountRequest.encode({ address: fuzzer.stranger }).finish() }));
      assert.equal(stranger.code, 38, "the stranger never gets an account");
      const supply = await grpc(app, "/cosmos.bank.v1beta1.Query/TotalSupply", QueryTotalSupplyRequest.encode({}).finish(), QueryTotalSupplyResponse.decode);
      assert.deepEqual(supply.supply.map((c) => [c.denom, c.amount]), [[DENOM, totalSupply.toString()]]);
    };

    // Genesis is committed with block 1: run an empty block first so queries see it.
    for (const a of [app, ref]) { await a.finalizeBlock(blockRequest(1n, []).finalizeBlock!); await a.commit(); }
    height = 1n;
    for (const addr of [...rich, poor]) {
      const res = await grpc(app, "/cosmos.auth.v1beta1.Query/Account", QueryAccountRequest.encode({ address: addr }).finish(), QueryAccountResponse.decode);
      const acc = BaseAccount.decode(res.account!.value);
      model.accounts.set(addr, { accountNumber: acc.accountNumber, sequence: acc.sequence });
      assert.equal(acc.sequence, 0n);
    }
    await checkModel();

    // Seed txs: a few valid ones per account, and one of every re-signed kind.
    for (const a of [...rich, poor]) await fuzzer.valid(a);

    for (let round = 0; stats.inputs < target; round++) {
      const n = Math.min(target - stats.inputs, rng.range(40, 260));
      const candidates: Candidate[] = [];
      for (let i = 0; i < n; i++) {
        const c = await fuzzer.next();
        candidates.push(c);
        bump(stats.gens, c.gen);
      }
      stats.inputs += n;

      // -- CheckTx, as CometBFT's mempool connection would send it.
      const acceptedThisEpoch = new Set<string>();
      for (const c of candidates) {
        let res: Response;
        try {
          res = await dispatch(app, Request.fromPartial({ checkTx: { tx: c.bytes, type: 0 } }));
        } catch (err) {
          assert.fail(where(`CheckTx threw ${(err as Error).stack}`, c));
        }
        assert.doesNotThrow(() => Response.encode(res).finish(), where("CheckTx response does not encode", c));
        const ct = res.checkTx;
        assert.ok(ct, where("no checkTx in the response", c));
        assert.ok(Number.isInteger(ct.code) && ct.code >= 0, where(`CheckTx code ${ct.code} is not a non-negative integer`, c));
        assert.notEqual(ct.code, CODE.internal, where(`CheckTx internal error: ${ct.log}`, c));
        assert.ok(ct.gasUsed >= 0n && ct.gasUsed <= ct.gasWanted, where(`gas used ${ct.gasUsed} > wanted ${ct.gasWanted}`, c));
        bump(stats.checkCodes, ct.code);
        if (ct.code !== 0) {
          assert.equal(ct.codespace, "sdk", where("refusal without codespace", c));
          assert.ok(ct.log.length > 0, where("refusal without a log", c));
          continue;
        }
        // Accepted: must be, byte for byte in body / auth_info / signature, a tx we signed correctly.
        stats.checkAccepted++;
        const s = fuzzer.classify(c.bytes);
        assert.ok(s, where("CheckTx accepted a tx we never signed", c));
        if (hex(s.bytes) !== hex(c.bytes)) stats.acceptedNotCanonical++;
        const acc = model.accounts.get(s.from);
        assert.ok(acc && s.chainId === CHAIN_ID && s.accountNumber === acc.accountNumber, where(`CheckTx accepted a tx signed for chain "${s.chainId}" / account number ${s.accountNumber} (${s.kind})`, c));
        assert.ok(s.feeDenom === DENOM && s.fee >= requiredFee(s.gas), where(`CheckTx accepted fee ${s.fee}${s.feeDenom} for gas ${s.gas}`, c));
        assert.ok(s.gas >= 10n * BigInt(c.bytes.length), where("CheckTx accepted a tx whose gas cannot pay its size", c));
        assert.ok(s.timeoutHeight === 0n || s.timeoutHeight >= height + 1n, where("CheckTx accepted an expired tx", c));
        assert.ok(s.amountDenom === DENOM && s.amount + s.fee <= model.balance(s.from), where(`CheckTx accepted a send it cannot pay (${s.kind})`, c));
        assert.ok(s.sequence >= acc.sequence, where(`CheckTx accepted sequence ${s.sequence} below the committed ${acc.sequence}`, c));
        const id = `${s.from}/${s.sequence}`;
        assert.ok(!acceptedThisEpoch.has(id), where(`CheckTx accepted ${id} twice before a commit`, c));
        acceptedThisEpoch.add(id);
      }

      // -- One block: every other round junk only, else everything in generation order.
      const junkOnly = round % 2 === 0;
      const next = height + 1n;
      const blockModel = model.clone();
      const txs: Uint8Array[] = [];
      const expected: Array<{ c: Candidate; s?: SignedTx; p?: Prediction }> = [];
      const refTxs: Uint8Array[] = [];
      for (const c of candidates) {
        const s = fuzzer.classify(c.bytes);
        const p = s ? predict(blockModel, s, c.bytes.length, next) : undefined;
        if (s && p!.charged) {
          if (junkOnly) continue;
          applyCharged(blockModel, s, p!);
          refTxs.push(c.bytes);
        }
        txs.push(c.bytes);
        expected.push({ c, s, p });
      }
      const before = junkOnly ? await dumpState(app) : undefined;
      let fb: Response;
      try {
        fb = await dispatch(app, blockRequest(next, txs));
      } catch (err) {
        assert.fail(`FinalizeBlock threw at height ${next} [seed=0x${seed.toString(16)}]: ${(err as Error).stack}`);
      }
      assert.doesNotThrow(() => Response.encode(fb).finish(), "FinalizeBlock response encodes");
      const results = fb.finalizeBlock!.txResults;
      assert.equal(results.length, txs.length, `one result per tx at height ${next}`);
      for (const [i, { c, s, p }] of expected.entries()) {
        const res = results[i];
        assert.ok(Number.isInteger(res.code) && res.code >= 0, where(`result code ${res.code}`, c));
        assert.notEqual(res.code, CODE.internal, where(`FinalizeBlock internal error: ${res.log}`, c));
        assert.ok(res.gasUsed >= 0n && res.gasUsed <= res.gasWanted, where("gas used > wanted", c));
        bump(stats.blockCodes, res.code);
        if (res.code !== 0) assert.ok(res.codespace === "sdk" && res.log.length > 0, where("failure without codespace or log", c));
        if (s && p) {
          assert.equal(res.code, p.code, where(`our ${s.kind} tx (seq ${s.sequence}): want code ${p.code}, got ${res.code} "${res.log}"`, c));
          if (p.charged) {
            stats.charged++;
            if (p.code !== 0) stats.chargedFailed++;
          } else stats.junkInBlocks++;
        } else {
          assert.notEqual(res.code, 0, where("FinalizeBlock accepted a tx we never signed", c));
          stats.junkInBlocks++;
        }
      }
      await dispatch(app, Request.fromPartial({ commit: {} }));
      const refFb = await ref.finalizeBlock(blockRequest(next, refTxs).finalizeBlock!);
      await ref.commit();
      assert.equal(
        hex(fb.finalizeBlock!.appHash), hex(refFb.appHash!),
        `app hash at height ${next} differs from an app that got only the ${refTxs.length} charged txs of this block's ${txs.length} [seed=0x${seed.toString(16)}]: junk changed state`,
      );
      const info = await app.info({ version: "", blockVersion: 0n, p2pVersion: 0n, abciVersion: "" });
      assert.equal(info.lastBlockHeight, next);
      assert.equal(hex(info.lastBlockAppHash!), hex(fb.finalizeBlock!.appHash));
      height = next;
      model = blockModel;
      stats.blocks++;

      if (before) {
        stats.junkOnlyBlocks++;
        const after = await dumpState(app);
        assert.deepEqual([...after.rest], [...before.rest], `a junk-only block changed state outside blockinfo at height ${height} [seed=0x${seed.toString(16)}]`);
        const changed = [...new Set([...before.blockinfo.keys(), ...after.blockinfo.keys()])].filter((k) => before.blockinfo.get(k) !== after.blockinfo.get(k));
        const allowed = new Set([hex(Buffer.from("blockinfo/last"))]);
        assert.ok(changed.every((k) => allowed.has(k)), `junk-only block changed blockinfo keys ${changed.join(",")}`);
      }
      await checkModel();
      for (const c of candidates) if (rng.chance(0.3)) fuzzer.remember(c.bytes);
    }

    // Plausibility: the run exercised acceptance and charging, and most inputs were junk.
    assert.ok(stats.inputs >= target);
    assert.ok(stats.checkAccepted > 0 && stats.charged > 0, "some valid txs must have been accepted and executed");
    assert.ok(stats.checkAccepted < stats.inputs / 5, `accepted ${stats.checkAccepted} of ${stats.inputs}: implausibly many`);
    assert.ok(stats.junkInBlocks > stats.inputs / 2);
    const fmt = (m: Map<number | string, number>) => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => `${k}:${v}`).join(" ");
    console.log(`    fuzz-tx: ${stats.inputs} inputs in ${stats.blocks} blocks (${stats.junkOnlyBlocks} junk-only), ${((Date.now() - started) / 1000).toFixed(1)} s, ${fuzzer.signatures} txs signed`);
    console.log(`    fuzz-tx: generators ${fmt(stats.gens)}`);
    console.log(`    fuzz-tx: CheckTx codes ${fmt(stats.checkCodes)}; accepted ${stats.checkAccepted} (${stats.acceptedNotCanonical} not byte-identical to the tx we signed, same triple)`);
    console.log(`    fuzz-tx: FinalizeBlock codes ${fmt(stats.blockCodes)}; charged ${stats.charged} (${stats.chargedFailed} failed after paying), junk ${stats.junkInBlocks}`);
    await app.close();
    await ref.close();
  });

  // Regression test, found while building the fuzzer above (its "overspend" and "foreign-denom"
  // txs): a tx that CheckTx refuses must leave the mempool's check state as it was, no fee taken and
  // no sequence used. runTx used to write the ante branch (fee + sequence bump) into the check state
  // before the messages ran and to keep it when CheckTx then refused the tx because a message
  // failed, so the account's next valid tx at that sequence was refused with code 32 until the next
  // Commit (while FinalizeBlock would have accepted it).
  it("a tx CheckTx refuses because its message would fail leaves the check state untouched (fee and sequence)", async function () {
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(Bip39.encode(sha256(Buffer.from("poi fuzz check state"))).toString(), { prefix: "poi" });
    const [key] = await wallet.getAccounts();
    const d = tmpHome("fuzz-check");
    dirs.push(d);
    const app = await PoiApp.open(d, { minGasPrices: MIN_GAS_PRICES });
    const appState = { bank: { balances: [{ address: key.address, coins: [{ denom: DENOM, amount: "100000" }] }] } };
    await app.initChain(Request.fromPartial({ initChain: { time: { seconds: GENESIS_TIME, nanos: 0 }, chainId: CHAIN_ID, appStateBytes: Buffer.from(JSON.stringify(appState)), initialHeight: 1n } }).initChain!);
    let height = 0n;
    const commitBlock = async () => { height++; await app.finalizeBlock(blockRequest(height, []).finalizeBlock!); await app.commit(); };
    await commitBlock();
    const sign = async (amount: bigint, denom: string) => {
      const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages: [{ typeUrl: MsgSend.typeUrl, value: MsgSend.encode(MsgSend.fromPartial({ fromAddress: key.address, toAddress: key.address, amount: [{ denom, amount: amount.toString() }] })).finish() }] })).finish();
      const authInfoBytes = makeAuthInfoBytes([{ pubkey: encodePubkey(encodeSecp256k1Pubkey(key.pubkey)), sequence: 0n }], [{ denom: DENOM, amount: FEE.toString() }], Number(GAS), undefined, undefined);
      const { signature } = await wallet.signDirect(key.address, makeSignDoc(bodyBytes, authInfoBytes, CHAIN_ID, 0n));
      return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [fromBase64(signature.signature)] }).finish();
    };
    const good = await sign(10n, DENOM);
    const refusedTxs = { overspend: await sign(10_000_000n, DENOM), "foreign denom": await sign(5n, "uatom") };
    for (const [what, bad] of Object.entries(refusedTxs)) {
      await commitBlock(); // a fresh check state
      const refused = await app.checkTx({ tx: bad, type: 0 });
      assert.equal(refused.code, CODE.insufficientFunds, `${what}: ${refused.log}`);
      const res = await app.checkTx({ tx: good, type: 0 });
      assert.equal(res.code, 0, `after CheckTx refused the ${what} tx (input ${hex(bad)}), the account's valid tx at the same sequence is refused: ${res.log}`);
    }
    await app.close();
  });
});
