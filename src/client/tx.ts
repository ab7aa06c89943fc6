/**
 * The one tx sender of poi-chain, for one account: simulate → sign (CosmJS's own
 * SigningStargateClient.sign, SIGN_MODE_DIRECT) → broadcast_tx_sync → wait for the block.
 *
 * - Any CosmJS OfflineDirectSigner works (`connectWithSigner`); `connect` takes a mnemonic.
 * - Refusals are results, not exceptions: `send` returns a SentTx whose `stage` says where it stopped
 *   ("simulate": the node's simulation failed, nothing was broadcast; "check": CheckTx refused it, no
 *   fee paid; "block": it failed in its block, the fee is kept), with the node's code, codespace and
 *   log (CosmJS's own simulate drops the codespace). `sendOk` and the typed methods throw
 *   TxRefusedError, which carries that result. Transport problems throw.
 * - `sendPipelined` keeps many txs of the account in the mempool at once (consecutive sequences);
 *   `uploadDataset` uses it for dataset chunks and resumes an incomplete dataset.
 * - One typed method per poi message, returning its decoded msg response and the tx, and one per SDK
 *   message we send; the messages are built in ./staking-msgs, ./training-msgs and ./dataset-upload.
 */
import { createHash } from "node:crypto";
import { encodeSecp256k1Pubkey, type Coin, type StdFee } from "@cosmjs/amino";
import { fromHex } from "@cosmjs/encoding";
import { encodePubkey, type EncodeObject, type OfflineDirectSigner } from "@cosmjs/proto-signing";
import { calculateFee, GasPrice, SigningStargateClient } from "@cosmjs/stargate";
import { connectComet, type CometClient } from "@cosmjs/tendermint-rpc";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import { SimulateRequest, SimulateResponse } from "cosmjs-types/cosmos/tx/v1beta1/service";
import { AuthInfo, Fee, Tx, TxBody, TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { SignMode } from "cosmjs-types/cosmos/tx/signing/v1beta1/signing";
import { resultRoot } from "../x/poi/commitment";
import {
  MsgClaimTaskCodec, MsgClaimTaskResponseCodec, MsgCreateDatasetCodec, MsgCreateDatasetResponseCodec, MsgRegisterModelCodec,
  MsgRegisterModelResponseCodec, MsgSubmitInferenceTaskCodec, MsgSubmitInferenceTaskResponseCodec, MsgSubmitResultCodec,
  MsgSubmitResultResponseCodec, MsgUploadDatasetChunkCodec, MsgUploadDatasetChunkResponseCodec, ModelKind, type PoiCodec, type TensorSpec,
  MsgLinkWorkerCodec, MsgLinkWorkerResponseCodec, MsgAcceptWorkerLinkCodec, MsgAcceptWorkerLinkResponseCodec, MsgUnlinkWorkerCodec, MsgUnlinkWorkerResponseCodec,
  MsgSubmitTrainingTaskCodec, MsgSubmitTrainingTaskResponseCodec, MsgCommitTrainingCodec, MsgCommitTrainingResponseCodec,
  type MsgCommitTraining, type MsgRevealCheckpoint,
} from "../x/poi/types";
import { datasetChunkMsg, uploadDataset, type UploadDatasetOptions } from "./dataset-upload";
import { DEFAULT_GAS_PRICE, poiRegistry, walletFromMnemonic } from "./index";
import type { DatasetUpload, InferenceTaskSpec, TrainingTaskSpec } from "./poi-msgs";
import { PoiQueryClient } from "./query";
import { TxRefusedError, errorMessage, type SentTx } from "./results";
import { createValidatorMsg, delegateMsg, editValidatorMsg, undelegateMsg, unjailMsg, valoperOf, withdrawCommissionMsg, withdrawRewardsMsg, type NewValidator } from "./staking-msgs";
import { revealTxs, trainingTaskMsg } from "./training-msgs";

export interface FeeOptions {
  /** "auto" (simulate, × gasAdjustment) or a fixed gas limit. Default "auto". */
  gas?: "auto" | number;
  /** Default 1.4. */
  gasAdjustment?: number;
  /** Default 0.025upoi (the localnet's minimum). */
  gasPrice?: string;
  /** Fixed fee; overrides gasPrice. */
  fees?: Coin[];
}

export interface TxClientOptions extends FeeOptions {
  /** How long `send` waits for a tx accepted by CheckTx to appear in a block (default 90 s). */
  inclusionTimeoutMs?: number;
}

const DEFAULT_INCLUSION_TIMEOUT_MS = 90_000;

const POLL_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type TaskId = string | number | bigint;
type Sent<R> = R & { tx: SentTx };

export class PoiTxClient {
  private chainId?: string;

  private constructor(
    /** CosmJS's signing client (our registry and gas price) over this connection. */
    readonly client: SigningStargateClient,
    /** Queries over the same connection. */
    readonly query: PoiQueryClient,
    private readonly comet: CometClient,
    readonly address: string,
    private readonly pubkey: Uint8Array,
    readonly feeOptions: Required<Omit<FeeOptions, "fees">> & { fees?: Coin[] },
    private readonly inclusionTimeoutMs: number,
  ) {}

  /** Connects as the first account of `mnemonic` (prefix poi, the Cosmos HD path). */
  static async connect(node: string, mnemonic: string, opts: TxClientOptions = {}): Promise<PoiTxClient> {
    return PoiTxClient.connectWithSigner(node, await walletFromMnemonic(mnemonic), opts);
  }

  /** Connects as the first account of any CosmJS direct signer (a wallet, a hardware signer, ...). */
  static async connectWithSigner(node: string, signer: OfflineDirectSigner, opts: TxClientOptions = {}): Promise<PoiTxClient> {
    const [account] = await signer.getAccounts();
    const gasPrice = opts.gasPrice ?? DEFAULT_GAS_PRICE;
    let comet: CometClient;
    try {
      comet = await connectComet(node);
    } catch (err) {
      throw new Error(`cannot reach node ${node}: ${errorMessage(err)}`);
    }
    const client = SigningStargateClient.createWithSigner(comet, signer, { registry: poiRegistry(), gasPrice: GasPrice.fromString(gasPrice) });
    return new PoiTxClient(client, PoiQueryClient.create(comet), comet, account.address, account.pubkey, {
      gas: opts.gas ?? "auto", gasAdjustment: opts.gasAdjustment ?? 1.4, gasPrice, fees: opts.fees,
    }, opts.inclusionTimeoutMs ?? DEFAULT_INCLUSION_TIMEOUT_MS);
  }

  disconnect(): void {
    this.client.disconnect();
  }

  /** Account number and sequence; a clear error when the account has never received tokens. */
  async account(): Promise<{ accountNumber: bigint; sequence: number }> {
    const acc = await this.query.account(this.address);
    if (!acc) {
      throw new Error(`account ${this.address} does not exist on chain: it has never received tokens, so it cannot pay fees (send it some upoi first)`);
    }
    return { accountNumber: acc.accountNumber, sequence: acc.sequence };
  }

  private async getChainId(): Promise<string> {
    this.chainId ??= await this.query.chainId();
    return this.chainId;
  }

  /**
   * Runs the tx through the node's Simulate against committed state, as CosmJS does, but keeping the
   * refusal's code and codespace. The simulated tx carries the account's committed sequence (txs of
   * a pipeline still in the mempool are not in it); a block committed in between is retried.
   */
  async simulate(msgs: readonly EncodeObject[], memo = ""): Promise<{ gasUsed: number } | SentTx> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.simulateAt(msgs, memo, (await this.account()).sequence);
      if ("stage" in r && r.code === 32 && r.codespace === "sdk" && attempt < 6) {
        await sleep(POLL_MS); // the account query and the simulation saw different blocks: let them settle
        continue;
      }
      return r;
    }
  }

  private async simulateAt(msgs: readonly EncodeObject[], memo: string, seq: number): Promise<{ gasUsed: number } | SentTx> {
    const tx = Tx.fromPartial({
      authInfo: AuthInfo.fromPartial({
        fee: Fee.fromPartial({}),
        signerInfos: [{ publicKey: encodePubkey(encodeSecp256k1Pubkey(this.pubkey)), sequence: BigInt(seq), modeInfo: { single: { mode: SignMode.SIGN_MODE_UNSPECIFIED } } }],
      }),
      body: TxBody.fromPartial({ messages: msgs.map((m) => this.client.registry.encodeAsAny(m)), memo }),
      signatures: [new Uint8Array()],
    });
    const res = await this.comet.abciQuery({
      path: "/cosmos.tx.v1beta1.Service/Simulate",
      data: SimulateRequest.encode(SimulateRequest.fromPartial({ txBytes: Tx.encode(tx).finish() })).finish(),
    });
    if (res.code) {
      return { txhash: "", height: "0", code: res.code, codespace: res.codespace ?? "", raw_log: res.log ?? "", gas_wanted: "0", gas_used: "0", stage: "simulate", msgResponses: [] };
    }
    const sim = SimulateResponse.decode(res.value);
    return { gasUsed: Number(sim.gasInfo?.gasUsed ?? 0n) };
  }

  private fee(gasUsed: number | undefined): StdFee {
    const o = this.feeOptions;
    const gas = o.gas === "auto" ? Math.ceil((gasUsed ?? 0) * o.gasAdjustment) : o.gas;
    return o.fees ? { amount: o.fees, gas: String(gas) } : calculateFee(gas, GasPrice.fromString(o.gasPrice));
  }

  /**
   * Simulates (when gas is "auto"), signs with `signer` (default: the account's current number and
   * sequence) and broadcasts. Returns the tx hash, or the refusal (stage simulate or check).
   */
  async broadcast(msgs: readonly EncodeObject[], memo = "", signer?: { accountNumber: bigint; sequence: number }): Promise<{ txhash: string } | SentTx> {
    const acc = signer ?? (await this.account());
    let gasUsed: number | undefined;
    if (this.feeOptions.gas === "auto") {
      const sim = await this.simulate(msgs, memo);
      if ("stage" in sim) return sim;
      gasUsed = sim.gasUsed;
    }
    const fee = this.fee(gasUsed);
    const chainId = await this.getChainId();
    const txRaw = await this.client.sign(this.address, [...msgs], fee, memo, { accountNumber: acc.accountNumber, sequence: acc.sequence, chainId });
    const bytes = TxRaw.encode(txRaw).finish();
    const txhash = createHash("sha256").update(bytes).digest("hex").toUpperCase();
    const checked = await this.comet.broadcastTxSync({ tx: bytes });
    if (checked.code !== 0) {
      return {
        txhash, height: "0", code: checked.code, codespace: checked.codespace ?? "", raw_log: checked.log ?? "",
        gas_wanted: checked.gasWanted.toString(), gas_used: checked.gasUsed.toString(), stage: "check", msgResponses: [],
      };
    }
    return { txhash };
  }

  /** Polls the node's tx index until `txhash` is in a block. */
  async waitForTx(txhash: string, timeoutMs = this.inclusionTimeoutMs): Promise<SentTx> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await this.comet.tx({ hash: fromHex(txhash) });
        const r = res.result;
        return {
          txhash, height: String(res.height), code: r.code, codespace: r.codespace ?? "", raw_log: r.log ?? "",
          gas_wanted: r.gasWanted.toString(), gas_used: r.gasUsed.toString(), stage: "block",
          msgResponses: r.code === 0 && r.data ? TxMsgData.decode(r.data).msgResponses : [],
        };
      } catch (err) {
        if (!/not found/i.test(errorMessage(err))) throw new Error(`looking up tx ${txhash}: ${errorMessage(err)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`tx ${txhash} entered the mempool but was not in a block after ${Math.round(timeoutMs / 1000)} s; look it up later by its hash`);
      }
      await sleep(POLL_MS);
    }
  }

  /** One tx, start to finish. A refused or failing tx comes back as a result with code ≠ 0. */
  async send(msgs: readonly EncodeObject[], memo = ""): Promise<SentTx> {
    const b = await this.broadcast(msgs, memo);
    if ("stage" in b) return b;
    return this.waitForTx(b.txhash);
  }

  /** Like send, but throws TxRefusedError (its message starts with `what`) unless the tx succeeded. */
  async sendOk(msgs: readonly EncodeObject[], what = "tx", memo = ""): Promise<SentTx> {
    const r = await this.send(msgs, memo);
    if (r.code !== 0) throw new TxRefusedError(r, what);
    return r;
  }

  /**
   * Many txs of this account, up to `window` in the mempool at once (consecutive sequences).
   * `skip(refusal)` may accept a simulation refusal as "nothing to do" (e.g. a chunk already there).
   * Stops at the first other refusal, after waiting for the txs already broadcast, and throws it.
   */
  async sendPipelined(
    batches: ReadonlyArray<readonly EncodeObject[]>,
    opts: { window?: number; skip?: (r: SentTx, index: number) => boolean; onDone?: (r: SentTx | undefined, index: number) => void; what?: (index: number) => string } = {},
  ): Promise<Array<SentTx | undefined>> {
    const window = opts.window ?? 8;
    const acc = await this.account();
    let sequence = acc.sequence;
    const results: Array<SentTx | undefined> = new Array(batches.length).fill(undefined);
    const inflight: Array<{ index: number; txhash: string }> = [];
    let failure: TxRefusedError | undefined;
    const drainOne = async () => {
      const { index, txhash } = inflight.shift()!;
      const r = await this.waitForTx(txhash);
      results[index] = r;
      opts.onDone?.(r, index);
      if (r.code !== 0 && !failure) failure = new TxRefusedError(r, opts.what?.(index) ?? `tx ${index}`);
    };
    for (let i = 0; i < batches.length && !failure; i++) {
      const b = await this.broadcast(batches[i], "", { accountNumber: acc.accountNumber, sequence });
      if ("stage" in b) {
        if (b.stage === "simulate" && opts.skip?.(b, i)) {
          opts.onDone?.(undefined, i);
          continue;
        }
        failure = new TxRefusedError(b, opts.what?.(i) ?? `tx ${i}`);
        results[i] = b;
        break;
      }
      sequence++;
      inflight.push({ index: i, txhash: b.txhash });
      if (inflight.length >= window) await drainOne();
    }
    while (inflight.length) await drainOne();
    if (failure) throw failure;
    return results;
  }

  // ---- staking, slashing and distribution (Cosmos SDK messages: ./staking-msgs) ---------------

  /** This account's validator operator address (poivaloper1...). */
  get valoperAddress(): string {
    return valoperOf(this.address);
  }

  /** MsgCreateValidator: `pubkey` the 32-byte ed25519 consensus key; rates are decimals such as "0.1". */
  createValidator(pubkey: Uint8Array, selfBond: Coin, v: NewValidator) {
    return this.sendOk([createValidatorMsg(this.valoperAddress, pubkey, selfBond, v)], "create-validator tx");
  }

  /** MsgEditValidator: a new moniker and/or commission rate (decimal such as "0.12"); omitted fields stay. */
  editValidator(e: { moniker?: string; rate?: string }) {
    return this.sendOk([editValidatorMsg(this.valoperAddress, e)], "edit-validator tx");
  }

  delegate(validator: string, amount: Coin) {
    return this.sendOk([delegateMsg(this.address, validator, amount)], "delegate tx");
  }

  undelegate(validator: string, amount: Coin) {
    return this.sendOk([undelegateMsg(this.address, validator, amount)], "unbond tx");
  }

  /** MsgUnjail for this account's validator. */
  unjail() {
    return this.sendOk([unjailMsg(this.valoperAddress)], "unjail tx");
  }

  /** MsgWithdrawDelegatorReward: this account's rewards from `validator` (poivaloper...). */
  async withdrawRewards(validator: string): Promise<SentTx> {
    return this.sendOk([withdrawRewardsMsg(this.address, validator)], "withdraw-rewards tx");
  }

  /** MsgWithdrawValidatorCommission: the commission of the validator this account operates. */
  async withdrawCommission(): Promise<SentTx> {
    return this.sendOk([withdrawCommissionMsg(this.address)], "withdraw-commission tx");
  }

  // ---- poi messages, one typed method each -------------------------------------------------------

  /** Sends one message; throws TxRefusedError (named `what`) unless it succeeds; decodes its response. */
  private async sendMsg<M, R>(what: string, codec: PoiCodec<M>, value: Partial<M>, responseCodec: PoiCodec<R>): Promise<Sent<R>> {
    const tx = await this.sendOk([{ typeUrl: codec.typeUrl, value: codec.fromPartial(value) }], what);
    return { ...responseCodec.decode(tx.msgResponses[0].value), tx };
  }

  /** Registers an inference model, or with `trainStepOf` a train-step graph of that (inference) model id. */
  registerModel(onnx: Uint8Array, name: string, inputs: TensorSpec[], outputs: TensorSpec[], opts: { trainStepOf?: string } = {}) {
    const link = opts.trainStepOf === undefined ? {} : { kind: ModelKind.TRAIN_STEP, parentModelId: opts.trainStepOf };
    return this.sendMsg("register-model tx", MsgRegisterModelCodec, { owner: this.address, name, onnx, inputs, outputs, ...link }, MsgRegisterModelResponseCodec);
  }

  createDataset(name: string, item: TensorSpec, numItems: number, itemsPerChunk: number, chunkHashes: Uint8Array[]) {
    return this.sendMsg("create dataset tx", MsgCreateDatasetCodec, {
      owner: this.address, name, item, numItems: String(numItems), itemsPerChunk: String(itemsPerChunk), chunkHashes,
    }, MsgCreateDatasetResponseCodec);
  }

  uploadDatasetChunk(datasetId: string, index: number, data: Uint8Array) {
    return this.sendMsg(`chunk ${index} upload tx`, MsgUploadDatasetChunkCodec, datasetChunkMsg(this.address, datasetId, index, data), MsgUploadDatasetChunkResponseCodec);
  }

  /**
   * Registers float32 items (back to back) as a dataset: MsgCreateDataset, then every chunk,
   * pipelined. If the dataset (same items, same chunking: same id) already exists and is incomplete
   * and ours, only the missing chunks are sent; if it is complete, `reuseComplete` returns it as is,
   * otherwise the create tx is sent anyway and the chain's refusal is thrown.
   */
  uploadDataset(name: string, item: TensorSpec, items: Float32Array, itemsPerChunk: number, opts: UploadDatasetOptions = {}): Promise<DatasetUpload> {
    return uploadDataset(this, name, item, items, itemsPerChunk, opts);
  }

  submitInferenceTask(spec: InferenceTaskSpec) {
    const inputs = spec.inputs ? new Uint8Array(spec.inputs.buffer, spec.inputs.byteOffset, spec.inputs.byteLength) : new Uint8Array();
    return this.sendMsg("submit-inference tx", MsgSubmitInferenceTaskCodec, {
      requester: this.address, modelId: spec.modelId, datasetId: spec.dataset?.id ?? "", start: String(spec.dataset?.start ?? 0),
      count: String(spec.dataset?.count ?? 0), inputs, rewardPerItem: String(spec.rewardPerItem), k: spec.k,
      deadlineBlocks: String(spec.deadlineBlocks), bond: String(spec.bond),
    }, MsgSubmitInferenceTaskResponseCodec);
  }

  submitTrainingTask(s: TrainingTaskSpec) {
    return this.sendMsg("submit-training tx", MsgSubmitTrainingTaskCodec, trainingTaskMsg(this.address, s), MsgSubmitTrainingTaskResponseCodec);
  }

  /** As the claimant: the training commitment (src/ml/training-task.ts commitMsg builds it). */
  commitTraining(msg: Omit<MsgCommitTraining, "worker">) {
    return this.sendMsg("commit-training tx", MsgCommitTrainingCodec, { ...msg, worker: this.address }, MsgCommitTrainingResponseCodec);
  }

  /**
   * Reveals checkpoint chunks (one MsgRevealCheckpoint per chunk, as the chain takes them; revealMsgs
   * in src/ml/training-task.ts builds them), several to a tx up to `txBytes` of data (default 3 MiB,
   * under the 4 MiB tx cap), the txs pipelined; a tx whose chunks are already revealed is skipped.
   */
  revealCheckpoint(chunks: ReadonlyArray<Omit<MsgRevealCheckpoint, "worker">>, opts: { window?: number; txBytes?: number } = {}) {
    const txs = revealTxs(this.address, chunks, opts.txBytes);
    return this.sendPipelined(txs, { window: opts.window, skip: (r) => /already revealed/.test(r.raw_log), what: (i) => `reveal tx ${i + 1} of ${txs.length}` });
  }

  /** As a validator's operator: offers to link `worker` (it accepts with acceptWorkerLink). */
  linkWorker(worker: string) {
    return this.sendMsg("link-worker tx", MsgLinkWorkerCodec, { operator: this.address, worker }, MsgLinkWorkerResponseCodec);
  }

  /** As a worker: accepts `operator`'s offer; its verified work then counts for that validator. */
  acceptWorkerLink(operator: string) {
    return this.sendMsg("accept-link tx", MsgAcceptWorkerLinkCodec, { worker: this.address, operator }, MsgAcceptWorkerLinkResponseCodec);
  }

  /** As the operator or the worker itself: ends `worker`'s link (an operator also withdraws its offer this way). */
  unlinkWorker(worker: string) {
    return this.sendMsg("unlink-worker tx", MsgUnlinkWorkerCodec, { sender: this.address, worker }, MsgUnlinkWorkerResponseCodec);
  }

  claimTask(taskId: TaskId) {
    return this.sendMsg("claim tx", MsgClaimTaskCodec, { worker: this.address, taskId: String(taskId) }, MsgClaimTaskResponseCodec);
  }

  /**
   * Submits the outputs of every item (each item's outputs concatenated, items back to back) with
   * their Merkle root, computed from `outputs` unless `root` is given.
   */
  async submitResult(taskId: TaskId, outputs: Float32Array, numItems: number, root?: Uint8Array): Promise<Sent<{ resultHeight: string; resultRoot: Uint8Array }>> {
    const bytes = new Uint8Array(outputs.buffer, outputs.byteOffset, outputs.byteLength);
    const rootBytes = root ?? resultRoot(bytes, numItems, bytes.length / numItems);
    const r = await this.sendMsg("submit-result tx", MsgSubmitResultCodec, { worker: this.address, taskId: String(taskId), outputs: bytes, resultRoot: rootBytes }, MsgSubmitResultResponseCodec);
    return { ...r, resultRoot: rootBytes };
  }
}
