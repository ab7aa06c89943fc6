/**
 * An in-process poi-chain with N simulated validators: real PoiApp over LevelDB, real signed CosmJS
 * txs, real onnxruntime verification (VerifierService), and ed25519-signed vote extensions fed through
 * PrepareProposal -> ProcessProposal -> FinalizeBlock -> Commit exactly as CometBFT would.
 */
import { createHash, randomBytes } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { DirectSecp256k1HdWallet, encodePubkey, makeAuthInfoBytes, makeSignDoc } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { Bip39 } from "@cosmjs/crypto";
import { fromBase64 } from "@cosmjs/encoding";
import { TxRaw, TxBody } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { ExtendedCommitInfo, ResponseProcessProposal_ProposalStatus } from "cosmjs-types/tendermint/abci/types";
import { BlockIDFlag } from "cosmjs-types/tendermint/types/validator";
import { PoiApp } from "../../src/app/app";
import { Context } from "../../src/app/context";
import { parseAddress } from "../../src/app/address";
import { consensusAddress } from "../../src/x/valset/module";
import { voteExtensionSignBytes } from "../../src/x/poi/verdicts";
import { VerifierService, type VerifierFault } from "../../src/x/poi/verify/service";
import type { PoiCodec } from "../../src/x/poi/types";
import { tmpHome } from "./chain";
import { genesisValidators } from "../../src/x/staking/genesis";
import type { Misbehavior } from "cosmjs-types/tendermint/abci/types";

export const CHAIN_ID = "poi-harness";
const FEE = { amount: [{ denom: "upoi", amount: "2500000" }], gas: "100000000" };
const T0 = 1_700_000_000n;

export interface SimValidator {
  secret: Uint8Array;
  pubkey: Uint8Array;
  address: Uint8Array;
  /** Uppercase hex of the address, as the chain records votes. */
  hex: string;
  fault?: VerifierFault;
  /** When false this validator's precommit carries no extension (absent or late). */
  votes: boolean;
  /** With staking: false makes its precommit absent from decided_last_commit (a node that is down). */
  signs?: boolean;
  /** Its own verifier (own sampling secret), unless the harness runs without verification. */
  verifier?: VerifierService;
  /** Where its verifier keeps crash records (with verifierStateDirs). */
  stateDir?: string;
  /** Replaces the extension this validator signs (a Byzantine validator); gets the honest one. */
  extensionOverride?: (voteHeight: bigint, honest: Uint8Array) => Uint8Array | Promise<Uint8Array>;
}

export interface Account { name: string; address: string; wallet: DirectSecp256k1HdWallet; pubkey: Uint8Array; sequence: number; accountNumber: number }

export class Harness {
  app!: PoiApp;
  height = 0n;
  readonly validators: SimValidator[] = [];
  readonly accounts = new Map<string, Account>();
  /** Evidence handed to the next block's FinalizeBlock (then cleared). */
  nextMisbehavior: Misbehavior[] = [];
  /** Staking genesis: validators are x/staking validators and decided_last_commit lists their votes. */
  staking = false;
  /** The app's LevelDB home (a fresh temporary directory). */
  home = "";
  /** Whether validators run verifiers (Harness.create's `verify`). */
  verify = true;

  /**
   * `accounts` are funded test accounts; each validator i also gets an account "operator<i>" (funded
   * with 0 unless `balances` says otherwise) that receives its verification income.
   */
  static async create(opts: {
    validators: number; accounts: string[]; balances?: Record<string, string>; params?: Record<string, string>; verify?: boolean;
    faults?: Record<number, VerifierFault>; verifierStateDirs?: boolean;
    /** Each validator i is an x/staking validator bonded by operator<i> with selfBond upoi (operators get 10^12 upoi), commission commissionBps[i] (default 10%). */
    staking?: { selfBond: bigint; params?: Record<string, unknown>; slashing?: Record<string, string>; commissionBps?: bigint[] };
    /** More genesis sections (e.g. mint, distribution), added to app_state as they are. */
    genesis?: Record<string, unknown>;
    /** Derives every key (validators', accounts', sampling secrets) from this seed: two harnesses with one seed build the same chain. */
    seed?: number;
  }): Promise<Harness> {
    const h = new Harness();
    h.staking = opts.staking !== undefined;
    h.verify = opts.verify !== false;
    const derive = (label: string) => (opts.seed === undefined ? undefined : createHash("sha256").update(`poi-harness ${opts.seed} ${label}`).digest());
    for (let i = 0; i < opts.validators; i++) {
      const secret = derive(`validator ${i}`) ?? ed25519.utils.randomSecretKey();
      const pubkey = ed25519.getPublicKey(secret);
      const address = consensusAddress(pubkey);
      h.validators.push({ secret, pubkey, address, hex: Buffer.from(address).toString("hex").toUpperCase(), fault: opts.faults?.[i], votes: true });
    }
    const operators = h.validators.map((_, i) => `operator${i}`);
    for (const [i, name] of [...opts.accounts, ...operators].entries()) {
      const entropy = derive(`account ${name}`);
      const wallet = entropy ? await DirectSecp256k1HdWallet.fromMnemonic(Bip39.encode(entropy.subarray(0, 16)).toString(), { prefix: "poi" })
        : await DirectSecp256k1HdWallet.generate(12, { prefix: "poi" });
      const [acc] = await wallet.getAccounts();
      h.accounts.set(name, { name, address: acc.address, wallet, pubkey: acc.pubkey, sequence: 0, accountNumber: i });
    }
    h.home = tmpHome("poi-harness");
    h.app = await PoiApp.open(h.home, { minGasPrices: "0.025upoi" });
    const operatorFunds = opts.staking ? "1000000000000" : "0";
    const balances = [...h.accounts.values()].map((a) => ({ address: a.address, coins: [{ denom: "upoi", amount: opts.balances?.[a.name] ?? (operators.includes(a.name) ? operatorFunds : "1000000000000") }] }))
      .filter((b) => b.coins[0].amount !== "0");
    const valset = { operators: h.validators.map((v, i) => ({ address: v.hex, operator: h.account(`operator${i}`).address })) };
    const appState: Record<string, unknown> = { bank: { balances }, valset, poi: { params: opts.params ?? {} } };
    if (opts.staking) {
      const specs = h.validators.map((v, i) => ({ operator: h.account(`operator${i}`).address, pubkey: v.pubkey, selfBond: opts.staking!.selfBond, moniker: `validator${i}`,
        commissionRate: opts.staking!.commissionBps && (opts.staking!.commissionBps[i] * 10n ** 18n) / 10_000n }));
      const g = genesisValidators(specs, opts.staking.params);
      for (const b of balances) if (operators.some((o) => h.account(o).address === b.address)) b.coins[0].amount = (BigInt(b.coins[0].amount) - opts.staking.selfBond).toString();
      balances.push({ address: g.bondedPool.address, coins: [{ denom: "upoi", amount: g.bondedPool.amount.toString() }] });
      appState.staking = g.staking;
      appState.slashing = { params: opts.staking.slashing ?? {} };
    }
    await h.app.initChain({
      time: { seconds: T0, nanos: 0 }, chainId: CHAIN_ID, initialHeight: 1n,
      validators: opts.staking ? [] : h.validators.map((v) => ({ pubKey: { ed25519: v.pubkey }, power: 10n })),
      consensusParams: { abci: { voteExtensionsEnableHeight: 1n } },
      appStateBytes: Buffer.from(JSON.stringify({ ...appState, ...opts.genesis })),
    });
    if (h.verify) {
      for (const [i, v] of h.validators.entries()) {
        if (opts.verifierStateDirs) v.stateDir = tmpHome("verifier-state");
        v.verifier = new VerifierService(h.app, { validator: v.hex, secret: derive(`sampling ${i}`) ?? randomBytes(32) }, { fault: v.fault, stateDir: v.stateDir });
      }
    }
    // Account numbers follow genesis order; read them to sign correctly.
    await h.block([]);
    for (const a of h.accounts.values()) {
      const acc = await h.app.accounts.getAccount(h.app.queryContext(), parseAddress(a.address));
      if (acc) a.accountNumber = Number(acc.accountNumber);
    }
    return h;
  }

  /**
   * Signs for `v` from now on (a validator made by MsgCreateValidator; it votes once it is in the set),
   * with its own verifier sampling from `samplingSecret` when the harness verifies.
   */
  addValidator(v: SimValidator, samplingSecret: Uint8Array = randomBytes(32)): void {
    if (this.verify) v.verifier = new VerifierService(this.app, { validator: v.hex, secret: samplingSecret }, { fault: v.fault });
    this.validators.push(v);
  }

  account(name: string): Account {
    const a = this.accounts.get(name);
    if (!a) throw new Error(`no account ${name}`);
    return a;
  }

  /** Signs one tx of `from` at its current sequence carrying `msg` (or each of several). */
  async signTx<T>(from: string, codec: PoiCodec<T>, msg: Partial<T> | Array<Partial<T>>): Promise<Uint8Array> {
    const a = this.account(from);
    const messages = (Array.isArray(msg) ? msg : [msg]).map((m) => ({ typeUrl: codec.typeUrl, value: codec.encode(codec.fromPartial(m)).finish() }));
    const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages })).finish();
    const authInfoBytes = makeAuthInfoBytes([{ pubkey: encodePubkey(encodeSecp256k1Pubkey(a.pubkey)), sequence: a.sequence }], FEE.amount, Number(FEE.gas), undefined, undefined);
    const { signature } = await a.wallet.signDirect(a.address, makeSignDoc(bodyBytes, authInfoBytes, CHAIN_ID, a.accountNumber));
    return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [fromBase64(signature.signature)] }).finish();
  }

  /** CheckTx then, if accepted, a block with the tx. Returns where it ended and its result. */
  async send<T>(from: string, codec: PoiCodec<T>, msg: Partial<T>): Promise<{ code: number; log: string; codespace: string; data?: Uint8Array; stage: "check" | "block"; events: Array<{ type: string; attributes: Array<{ key: string; value: string }> }> }> {
    const tx = await this.signTx(from, codec, msg);
    const check = await this.app.checkTx({ tx, type: 0 });
    if (check.code) return { code: check.code, log: check.log ?? "", codespace: check.codespace ?? "", stage: "check", events: [] };
    const res = await this.block([tx]);
    const r = res.txResults!.at(-1)!; // after the verdict aggregate
    this.account(from).sequence++;
    return { code: r.code, log: r.log, codespace: r.codespace, data: r.data, stage: "block", events: r.events };
  }

  /** The extensions each validator would attach at `height` (its verifier's verdicts, signed). */
  async signedExtensions(voteHeight: bigint): Promise<ExtendedCommitInfo> {
    const votes = [];
    const inSet = await this.setAt(voteHeight);
    for (const v of this.validators) {
      if (!inSet.has(v.hex)) continue;
      if (!v.votes) { votes.push({ validator: { address: v.address, power: 10n }, voteExtension: new Uint8Array(), extensionSignature: new Uint8Array(), blockIdFlag: BlockIDFlag.BLOCK_ID_FLAG_ABSENT }); continue; }
      const honest = v.verifier ? await v.verifier.extension(voteHeight) : new Uint8Array();
      const ext = v.extensionOverride ? await v.extensionOverride(voteHeight, honest) : honest;
      const sig = ed25519.sign(voteExtensionSignBytes(ext, voteHeight, 0n, CHAIN_ID), v.secret);
      votes.push({ validator: { address: v.address, power: 10n }, voteExtension: ext, extensionSignature: sig, blockIdFlag: BlockIDFlag.BLOCK_ID_FLAG_COMMIT });
    }
    return ExtendedCommitInfo.fromPartial({ round: 0, votes });
  }

  /** Hex consensus addresses of the set CometBFT uses at `height` (every validator without staking). */
  async setAt(height: bigint): Promise<Set<string>> {
    if (!this.staking) return new Set(this.validators.map((v) => v.hex));
    return new Set((await this.app.valset.validatorsAt(this.app.queryContext(), height)).map((v) => Buffer.from(v.address).toString("hex").toUpperCase()));
  }

  /**
   * decided_last_commit of block `height` (none at height 1): without staking every validator with
   * power 10; with staking the set of height−1. Absent where a validator does not sign or vote.
   */
  async decidedLastCommit(height: bigint) {
    if (height <= 1n) return { round: 0, votes: [] };
    if (!this.staking) {
      return {
        round: 0,
        votes: this.validators.map((v) => ({ validator: { address: v.address, power: 10n }, blockIdFlag: v.votes && v.signs !== false ? BlockIDFlag.BLOCK_ID_FLAG_COMMIT : BlockIDFlag.BLOCK_ID_FLAG_ABSENT })),
      };
    }
    const set = await this.app.valset.validatorsAt(this.app.queryContext(), height - 1n);
    const signs = new Map(this.validators.map((v) => [v.hex, v.signs !== false && v.votes]));
    return {
      round: 0,
      votes: set.map((v) => ({
        validator: { address: v.address, power: v.power },
        blockIdFlag: signs.get(Buffer.from(v.address).toString("hex").toUpperCase()) === false ? BlockIDFlag.BLOCK_ID_FLAG_ABSENT : BlockIDFlag.BLOCK_ID_FLAG_COMMIT,
      })),
    };
  }

  /** One height: PrepareProposal (with last height's extensions) -> ProcessProposal -> FinalizeBlock -> Commit. */
  async block(mempool: Uint8Array[], tamper?: (txs: Uint8Array[]) => Uint8Array[]) {
    const height = this.height + 1n;
    const localLastCommit = height > 1n ? await this.signedExtensions(height - 1n) : ExtendedCommitInfo.fromPartial({});
    const common = { height, time: { seconds: T0 + height, nanos: 0 }, proposerAddress: this.validators[0].address, nextValidatorsHash: new Uint8Array(), misbehavior: [] };
    const prepared = await this.app.prepareProposal({ ...common, maxTxBytes: 22_000_000n, txs: mempool, localLastCommit });
    const txs = tamper ? tamper(prepared.txs) : prepared.txs;
    const status = (await this.app.processProposal({ ...common, txs, proposedLastCommit: { round: 0, votes: [] }, hash: Buffer.alloc(32, Number(height % 256n)) })).status;
    if (status !== ResponseProcessProposal_ProposalStatus.ACCEPT) return { rejected: true as const, txResults: undefined, events: undefined };
    const misbehavior = this.nextMisbehavior;
    this.nextMisbehavior = [];
    const res = await this.app.finalizeBlock({ ...common, misbehavior, txs, hash: Buffer.alloc(32, Number(height % 256n)), decidedLastCommit: await this.decidedLastCommit(height) });
    await this.app.commit();
    this.height = height;
    for (const v of this.validators) v.verifier?.onCommit();
    for (const v of this.validators) await v.verifier?.idle();
    return { rejected: false as const, ...res };
  }

  /**
   * Executes `txs` as the next block (with `timeOffset` seconds added to the usual time) through
   * ProcessProposal and FinalizeBlock WITHOUT committing: `inspect` reads the pending state, which is
   * then dropped (the next FinalizeBlock starts over). Undefined if ProcessProposal rejects.
   */
  async dryRun<T>(txs: Uint8Array[], timeOffset: bigint, inspect: (ctx: Context) => Promise<T>): Promise<T | undefined> {
    const height = this.height + 1n;
    const common = { height, time: { seconds: T0 + height + timeOffset, nanos: 0 }, proposerAddress: this.validators[0].address, nextValidatorsHash: new Uint8Array(), misbehavior: [] };
    const hash = Buffer.alloc(32, Number((height + timeOffset) % 256n));
    const status = (await this.app.processProposal({ ...common, txs, proposedLastCommit: { round: 0, votes: [] }, hash })).status;
    if (status !== ResponseProcessProposal_ProposalStatus.ACCEPT) return undefined;
    await this.app.finalizeBlock({ ...common, txs, hash, decidedLastCommit: { round: 0, votes: [] } });
    const header = { chainId: CHAIN_ID, height, timeSeconds: common.time.seconds, timeNanos: 0, hash, proposer: common.proposerAddress };
    const out = await inspect(new Context(this.app.store.working, header, "query"));
    this.app.store.discardPending();
    return out;
  }


  /** PrepareProposal for the next height over `mempool`, with last height's signed extensions. */
  async propose(mempool: Uint8Array[]): Promise<Uint8Array[]> {
    const height = this.height + 1n;
    const localLastCommit = await this.signedExtensions(height - 1n);
    const prepared = await this.app.prepareProposal({
      height, time: { seconds: T0 + height, nanos: 0 }, proposerAddress: this.validators[0].address, nextValidatorsHash: new Uint8Array(), misbehavior: [],
      maxTxBytes: 22_000_000n, txs: mempool, localLastCommit,
    });
    return prepared.txs;
  }

  async blocks(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await this.block([]);
  }

  async close(): Promise<void> {
    for (const v of this.validators) await v.verifier?.close();
    await this.app.close();
  }
}
