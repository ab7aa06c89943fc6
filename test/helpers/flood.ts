/**
 * An in-process 4-validator chain (Harness, with each validator's verifier) that a requester floods
 * with open tasks of a tiny model, and per-block measurements of its empty blocks: state reads
 * counted by the store and FinalizeBlock wall time. Used by test/poi-flood.test.ts and
 * `npm run bench -- flood`.
 */
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import { Harness } from "./poi-harness";
import { buildMlp } from "../../src/x/poi/onnx/builder";
import { randomMlpWeights } from "../../src/ml/train";
import { validateModel } from "../../src/x/poi/onnx/validate";
import { POI_MODULE } from "../../src/x/poi/keeper";
import { countOf, TASK_INDEX } from "../../src/x/poi/indexes";
import { MsgRegisterModelCodec, MsgRegisterModelResponseCodec, MsgSubmitInferenceTaskCodec, TaskStatus } from "../../src/x/poi/types";

const MSGS_PER_TX = 1000;
const TXS_PER_BLOCK = 5;
/** The first tasks fall due at this many blocks after submission; the later ones much later. */
export const FIRST_DEADLINE_BLOCKS = 100;
const LATER_DEADLINE_BLOCKS = 50_000;

export interface BlockReads {
  /** Height mod the sampling epoch: blocks compared across runs sit at the same phase. */
  phase: number;
  finalize: number;
  /** All validators' ExtendVote (the extensions of the previous height, built in this block's round). */
  extend: number;
  /** The verifiers' scans of committed state after Commit. */
  scan: number;
}

export class FloodChain {
  private submitted = 0;
  private firstSubmitHeight = 0n;
  private lastFinalize = { reads: 0, micros: 0 };
  private extendReads = 0;
  private commitEndReads = 0;

  private constructor(readonly h: Harness, private readonly modelId: string, private readonly epochBlocks: bigint) {}

  static async create(): Promise<FloodChain> {
    const h = await Harness.create({ validators: 4, accounts: ["requester"] });
    const onnx = buildMlp({ inputSize: 4, hidden: 3, outputs: 2, weights: randomMlpWeights(4, 3, 2, 11) });
    const info = validateModel(onnx);
    const spec = (x: { name: string; shape: number[]; dtype: string }) => ({ name: x.name, shape: x.shape.map(String), dtype: x.dtype });
    const r = await h.send("requester", MsgRegisterModelCodec, {
      owner: h.account("requester").address, name: "tiny", onnx, inputs: info.inputs.map(spec), outputs: info.outputs.map(spec),
    });
    if (r.code !== 0) throw new Error(`register model: ${r.log}`);
    const modelId = MsgRegisterModelResponseCodec.decode(TxMsgData.decode(r.data!).msgResponses[0].value).modelId;
    const params = await h.app.poi.params(h.app.queryContext());
    const chain = new FloodChain(h, modelId, BigInt(params.seedEpochBlocks));
    // ExtendVote looks back over the seed-reveal window: past it, an extension's reads no longer
    // grow with the chain's age, so measurements at different heights compare.
    const settled = (BigInt(params.revealWindowEpochs) + 2n) * chain.epochBlocks;
    while (h.height < settled) await h.block([]);
    chain.instrument();
    return chain;
  }

  /** Counts state reads (and times FinalizeBlock) around the calls a block makes. */
  private instrument(): void {
    const { app } = this.h;
    const stats = app.store.stats;
    const finalize = app.finalizeBlock.bind(app);
    app.finalizeBlock = async (req) => {
      const reads = stats.stateReads;
      const t0 = process.hrtime.bigint();
      const res = await finalize(req);
      this.lastFinalize = { reads: stats.stateReads - reads, micros: Number((process.hrtime.bigint() - t0) / 1000n) };
      return res;
    };
    const commit = app.commit.bind(app);
    app.commit = async () => {
      const res = await commit();
      this.commitEndReads = stats.stateReads;
      return res;
    };
    for (const v of this.h.validators) {
      const verifier = v.verifier!;
      const extension = verifier.extension.bind(verifier);
      verifier.extension = async (height) => {
        const reads = stats.stateReads;
        const ext = await extension(height);
        this.extendReads += stats.stateReads - reads;
        return ext;
      };
    }
  }

  /** Submits `n` more open tasks (one item each, k = 1), in as few blocks as the tx size allows. */
  async openTasks(n: number): Promise<void> {
    const { h } = this;
    const requester = h.account("requester").address;
    const deadline = this.submitted === 0 ? FIRST_DEADLINE_BLOCKS : LATER_DEADLINE_BLOCKS;
    let left = n;
    while (left > 0) {
      const txs: Uint8Array[] = [];
      for (let t = 0; t < TXS_PER_BLOCK && left > 0; t++) {
        const count = Math.min(MSGS_PER_TX, left);
        const msgs = Array.from({ length: count }, (_, i) => ({
          requester, modelId: this.modelId, inputs: new Uint8Array(Float32Array.of(1, 2, 3, (this.submitted + i) % 1000).buffer),
          rewardPerItem: "1", k: 1, deadlineBlocks: String(deadline), bond: "100000",
        }));
        txs.push(await h.signTx("requester", MsgSubmitInferenceTaskCodec, msgs));
        h.account("requester").sequence++;
        this.submitted += count;
        left -= count;
      }
      if (this.firstSubmitHeight === 0n) this.firstSubmitHeight = h.height + 1n;
      const res = await h.block(txs);
      const failed = (res.txResults ?? []).filter((r) => r.code !== 0);
      if (res.rejected || failed.length) throw new Error(`task submission failed: ${res.rejected ? "block rejected" : failed[0].log}`);
    }
  }

  async openCount(): Promise<bigint> {
    return countOf(this.h.app.queryContext().store(POI_MODULE), TASK_INDEX.byStatus(TaskStatus.OPEN));
  }

  /** One empty block, measured. */
  async measuredBlock(): Promise<BlockReads & { finalizeMicros: number }> {
    const { h } = this;
    this.extendReads = 0;
    await h.block([]);
    const scan = h.app.store.stats.stateReads - this.commitEndReads;
    return { phase: Number(h.height % this.epochBlocks), finalize: this.lastFinalize.reads, extend: this.extendReads, scan, finalizeMicros: this.lastFinalize.micros };
  }

  /**
   * Settles (a few empty blocks, up to the start of an epoch), then measures the empty blocks of one
   * whole sampling epoch.
   */
  async measureEpoch(): Promise<BlockReads[]> {
    const { h } = this;
    await h.blocks(3);
    while ((h.height + 1n) % this.epochBlocks !== 0n) await h.block([]);
    const out: BlockReads[] = [];
    for (let i = 0n; i < this.epochBlocks; i++) {
      const { phase, finalize, extend, scan } = await this.measuredBlock();
      out.push({ phase, finalize, extend, scan });
    }
    return out;
  }

  /** Runs to the first tasks' deadline: the reads of the block before it and of it, and how many expired. */
  async runToFirstDeadline(): Promise<{ count: number; finalizeReads: number; quietReads: number }> {
    const { h } = this;
    const due = this.firstSubmitHeight + BigInt(FIRST_DEADLINE_BLOCKS);
    while (h.height + 2n < due) await h.block([]);
    const quiet = await this.measuredBlock();
    const before = await this.openCount();
    const deadline = await this.measuredBlock();
    if (h.height !== due) throw new Error(`expected height ${due}, at ${h.height}`);
    return { count: Number(before - (await this.openCount())), finalizeReads: deadline.finalize, quietReads: quiet.finalize };
  }

  close(): Promise<void> {
    return this.h.close();
  }
}
