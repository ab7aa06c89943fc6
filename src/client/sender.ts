/**
 * A transaction sender for tools (CLI, scripts): simulate → sign → broadcast_tx_sync → wait for
 * the block, keeping every refusal's code, codespace and log (CosmJS's own simulate drops the
 * codespace), and pipelining many txs of one account with consecutive sequences (dataset chunks).
 *
 * Refusals are results, not exceptions: `send` returns a SentTx whose `stage` says where it stopped
 * ("simulate": the node's simulation failed, nothing was broadcast; "check": CheckTx refused it, no
 * fee paid; "block": it failed in its block, the fee is kept). Transport problems do throw.
 */
import { createHash } from "node:crypto";
import { encodeSecp256k1Pubkey, type Coin, type StdFee } from "@cosmjs/amino";
import { fromHex } from "@cosmjs/encoding";
import { encodePubkey, type EncodeObject, type DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { calculateFee, GasPrice, SigningStargateClient } from "@cosmjs/stargate";
import { connectComet, type CometClient } from "@cosmjs/tendermint-rpc";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import { SimulateRequest, SimulateResponse } from "cosmjs-types/cosmos/tx/v1beta1/service";
import { AuthInfo, Fee, Tx, TxBody, TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { SignMode } from "cosmjs-types/cosmos/tx/signing/v1beta1/signing";
import { DEFAULT_GAS_PRICE, poiRegistry, walletFromMnemonic } from "./index";
import { chunkDataset } from "./poi";
import {
  MsgCreateDatasetCodec, MsgUploadDatasetChunkCodec, MsgRegisterModelResponseCodec, MsgCreateDatasetResponseCodec,
  MsgUploadDatasetChunkResponseCodec, MsgSubmitInferenceTaskResponseCodec, MsgClaimTaskResponseCodec, MsgSubmitResultResponseCodec,
  Q, type Dataset, type TensorSpec, type PoiCodec,
} from "../x/poi/types";

/** The Cosmos SDK's TxResponse fields (64-bit numbers as decimal strings), as `poi tx` prints them. */
export interface TxResult {
  txhash: string;
  height: string;
  code: number;
  codespace: string;
  raw_log: string;
  gas_wanted: string;
  gas_used: string;
}

export type TxStage = "simulate" | "check" | "block";

export interface SentTx extends TxResult {
  /** Where the tx stopped: refused by the simulation, refused by CheckTx, or included in a block. */
  stage: TxStage;
  /** The block's msg responses (code 0 only), in message order. */
  msgResponses: Array<{ typeUrl: string; value: Uint8Array }>;
}

/** A refused or failed tx, carrying its result. */
export class TxRefusedError extends Error {
  constructor(readonly result: SentTx, what = "tx") {
    super(`${what} ${describeRefusal(result)}`);
    this.name = "TxRefusedError";
  }
}

/** "was refused by the node's simulation with code 11 (codespace poi): ..." */
export function describeRefusal(r: SentTx): string {
  const where = r.stage === "simulate" ? "was refused by the node's simulation (nothing was broadcast)"
    : r.stage === "check" ? `${r.txhash} was refused by the node (CheckTx)`
    : `${r.txhash} failed in block ${r.height}`;
  return `${where} with code ${r.code} (codespace ${r.codespace || "-"}): ${r.raw_log}`;
}

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

/** How long `send` waits for its tx to appear in a block. */
const INCLUSION_TIMEOUT_MS = 90_000;
const POLL_MS = 200;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const why = cause instanceof Error ? cause.message : undefined;
  return why && !err.message.includes(why) ? `${err.message} (${why})` : err.message;
}

/** Decoders of our msg responses, by type URL (for printing). */
export const POI_RESPONSE_CODECS: Record<string, PoiCodec<unknown>> = Object.fromEntries(
  [MsgRegisterModelResponseCodec, MsgCreateDatasetResponseCodec, MsgUploadDatasetChunkResponseCodec, MsgSubmitInferenceTaskResponseCodec,
    MsgClaimTaskResponseCodec, MsgSubmitResultResponseCodec].map((c) => [c.typeUrl, c as PoiCodec<unknown>]),
);

export class PoiSender {
  private chainId?: string;

  private constructor(
    readonly node: string,
    readonly client: SigningStargateClient,
    readonly comet: CometClient,
    readonly wallet: DirectSecp256k1HdWallet,
    readonly address: string,
    private readonly pubkey: Uint8Array,
    readonly feeOptions: Required<Omit<FeeOptions, "fees">> & { fees?: Coin[] },
  ) {}

  static async connect(node: string, mnemonic: string, fee: FeeOptions = {}): Promise<PoiSender> {
    const wallet = await walletFromMnemonic(mnemonic);
    const [account] = await wallet.getAccounts();
    const gasPrice = fee.gasPrice ?? DEFAULT_GAS_PRICE;
    let comet: CometClient;
    let client: SigningStargateClient;
    try {
      comet = await connectComet(node);
      client = await SigningStargateClient.createWithSigner(comet, wallet, { registry: poiRegistry(), gasPrice: GasPrice.fromString(gasPrice) });
      await comet.status(); // fail here, with the node's URL, if it is not there
    } catch (err) {
      throw new Error(`cannot reach node ${node}: ${errorText(err)}`);
    }
    return new PoiSender(node, client, comet, wallet, account.address, account.pubkey, {
      gas: fee.gas ?? "auto", gasAdjustment: fee.gasAdjustment ?? 1.4, gasPrice, fees: fee.fees,
    });
  }

  disconnect(): void {
    this.client.disconnect();
  }

  /** Account number and sequence; a clear error when the account has never received tokens. */
  async account(): Promise<{ accountNumber: bigint; sequence: number }> {
    const acc = await this.client.getAccount(this.address);
    if (!acc) {
      throw new Error(`account ${this.address} does not exist on chain: it has never received tokens, so it cannot pay fees (send it some upoi first)`);
    }
    return { accountNumber: acc.accountNumber, sequence: acc.sequence };
  }

  async balance(denom = "upoi"): Promise<bigint> {
    return BigInt((await this.client.getBalance(this.address, denom)).amount);
  }

  async height(): Promise<number> {
    return this.client.getHeight();
  }

  private async getChainId(): Promise<string> {
    this.chainId ??= await this.client.getChainId();
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
      if ("stage" in r && r.code === 32 && r.codespace === "sdk" && attempt < 3) continue;
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
  async waitForTx(txhash: string, timeoutMs = INCLUSION_TIMEOUT_MS): Promise<SentTx> {
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
        if (!/not found/i.test(errorText(err))) throw new Error(`looking up tx ${txhash}: ${errorText(err)}`);
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

  /** Like send, but throws TxRefusedError unless the tx succeeded. */
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

  // ---- poi queries over this connection --------------------------------------------------------

  async queryDataset(id: string): Promise<Dataset | undefined> {
    const res = await this.comet.abciQuery({ path: "/poi.v1.Query/Dataset", data: Q.DatasetRequest.encode({ id }).finish() });
    if (res.code) return undefined;
    return Q.DatasetResponse.decode(res.value).dataset;
  }

  // ---- datasets ---------------------------------------------------------------------------------

  /**
   * Registers float32 items (back to back) as a dataset: MsgCreateDataset, then every chunk,
   * pipelined. If the dataset (same items, same chunking: same id) already exists and is incomplete
   * and ours, only the missing chunks are sent; if it is complete, `reuseComplete` returns it as is,
   * otherwise the create tx is sent anyway and the chain's refusal is thrown.
   */
  async uploadDataset(
    name: string, item: TensorSpec, items: Float32Array, itemsPerChunk: number,
    opts: { reuseComplete?: boolean; window?: number; onChunk?: (done: number, total: number) => void } = {},
  ): Promise<DatasetUpload> {
    const { numItems, chunks, hashes, datasetId } = chunkDataset(item, items, itemsPerChunk);

    const existing = await this.queryDataset(datasetId);
    let create: SentTx | undefined;
    if (existing?.complete && opts.reuseComplete) {
      return { datasetId, numItems, itemsPerChunk, numChunks: chunks.length, existed: true, create, chunks: [] };
    }
    if (!existing || existing.complete) {
      create = await this.sendOk([{
        typeUrl: MsgCreateDatasetCodec.typeUrl,
        value: MsgCreateDatasetCodec.fromPartial({ owner: this.address, name, item, numItems: String(numItems), itemsPerChunk: String(itemsPerChunk), chunkHashes: hashes }),
      }], "create dataset tx");
    } else if (existing.owner !== this.address) {
      throw new Error(`dataset ${datasetId} (the same items) was created by ${existing.owner} and is incomplete (${existing.chunksReceived}/${existing.numChunks} chunks); only its owner can upload them`);
    }
    let done = 0;
    const results = await this.sendPipelined(
      chunks.map((data, index) => [{ typeUrl: MsgUploadDatasetChunkCodec.typeUrl, value: MsgUploadDatasetChunkCodec.fromPartial({ owner: this.address, datasetId, index, data }) }]),
      {
        window: opts.window,
        // Resuming: a chunk that is already on chain is not an error.
        skip: (r) => existing !== undefined && /already uploaded/.test(r.raw_log),
        onDone: () => opts.onChunk?.(++done, chunks.length),
        what: (i) => `chunk ${i} upload tx`,
      },
    );
    return {
      datasetId, numItems, itemsPerChunk, numChunks: chunks.length, existed: existing !== undefined, create,
      chunks: results.flatMap((r, index) => (r ? [{ index, txhash: r.txhash, height: r.height, gas_used: r.gas_used }] : [])),
    };
  }
}

export interface DatasetUpload {
  datasetId: string;
  numItems: number;
  itemsPerChunk: number;
  numChunks: number;
  /** The dataset was already on chain (complete and reused, or incomplete and resumed). */
  existed: boolean;
  create?: SentTx;
  chunks: Array<{ index: number; txhash: string; height: string; gas_used: string }>;
}
