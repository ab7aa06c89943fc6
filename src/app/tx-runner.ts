import type { ExecTxResult } from "cosmjs-types/tendermint/abci/types";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import { Branch } from "../store/store";
import type { Context } from "./context";
import type { ModuleManager } from "./module";
import { ErrOutOfGas, ErrTxTooLarge, toAbciError } from "./errors";
import { GasMeter } from "./gas";
import { formatAddress } from "./address";
import type { AccountKeeper } from "../x/auth/keeper";
import { type AnteHandler, type DecodedTx, decodeTx, type MinGasPrice } from "../x/auth/ante";
import type { DecodedTxCache } from "../x/auth/txcache";

/** What a TxRunner needs from the app: its modules' routes, the ante handler and this node's mempool limits. */
export interface TxRunnerDeps {
  accounts: AccountKeeper;
  modules: ModuleManager;
  ante: AnteHandler;
  txCache: DecodedTxCache;
  /** This node's CheckTx cap on tx size (AppOptions.maxTxBytes). */
  maxTxBytes: number;
  minGasPrice?: MinGasPrice;
}

/** Runs single txs for CheckTx, FinalizeBlock and Simulate. */
export class TxRunner {
  constructor(private readonly deps: TxRunnerDeps) {}

  private readonly route = (typeUrl: string) => this.deps.modules.msgHandler(typeUrl);

  /** The tx decoded once per node (DecodedTxCache); throws the decode error. */
  private decode(txBytes: Uint8Array): DecodedTx {
    return this.deps.txCache.get(txBytes, (bytes) => decodeTx(bytes, this.route));
  }

  /** The tx decoded, or undefined if it does not decode (a proposal may hold such txs; they fail in the block). */
  tryDecode = (txBytes: Uint8Array): DecodedTx | undefined => {
    try {
      return this.decode(txBytes);
    } catch {
      return undefined;
    }
  };

  /**
   * Runs one tx over `ctx.kv`, as the Cosmos SDK does: the ante handler (signatures, sequence, fee)
   * runs in one branch and the messages in a second. A failing ante leaves nothing; failing
   * messages (out of gas included) roll back their own writes but keep the fee and the sequence bump.
   * Every failure becomes a result code; nothing here throws.
   */
  async run(ctx: Context, txBytes: Uint8Array): Promise<Partial<ExecTxResult>> {
    let gasWanted = 0n;
    const meter = (limit?: bigint) => (ctx.mode === "simulate" ? new GasMeter() : new GasMeter(limit));
    let gas = meter(0n);
    const anteBranch = new Branch(ctx.kv);
    const anteCtx = ctx.withKV(anteBranch);
    let tx: DecodedTx;
    try {
      const chainMax = await this.deps.accounts.maxTxBytes(ctx);
      if (BigInt(txBytes.length) > chainMax) throw ErrTxTooLarge(`tx is ${txBytes.length} bytes, limit ${chainMax} (chain param max_tx_bytes)`);
      if (ctx.mode === "check" && txBytes.length > this.deps.maxTxBytes) {
        throw ErrTxTooLarge(`tx is ${txBytes.length} bytes, limit ${this.deps.maxTxBytes} (this node's max_tx_bytes)`);
      }
      tx = ctx.mode === "simulate" ? decodeTx(txBytes, this.route, true) : this.decode(txBytes);
      gasWanted = tx.gasLimit;
      gas = meter(tx.gasLimit);
      await this.deps.ante.run(anteCtx.withGasMeter(gas), tx, txBytes, this.deps.minGasPrice);
    } catch (err) {
      const e = toAbciError(err);
      return { code: e.code, codespace: e.codespace, log: e.log, gasWanted, gasUsed: gas.reported() };
    }
    // In a block the ante's writes stand before the messages run. In CheckTx they reach the check
    // state only together with the messages (or on out of gas): a refused tx leaves it unchanged.
    const checking = ctx.mode === "check";
    if (!checking) anteBranch.write();

    const msgBranch = new Branch(checking ? anteBranch : ctx.kv);
    // CheckTx's context keeps no events (see PoiApp.checkTx); the messages still run there, to
    // refuse a tx bound to fail.
    const msgCtx = ctx.withKV(msgBranch).withGasMeter(gas);
    try {
      const msgResponses = [];
      for (const m of tx.msgs) {
        if (msgCtx.events.keep) msgCtx.events.emit("message", [["action", m.typeUrl], ["sender", formatAddress(m.handler.signers(m.msg)[0])], ["module", m.handler.module]]);
        msgResponses.push(await m.handler.handle(msgCtx, m.msg));
      }
      msgBranch.write();
      if (checking) anteBranch.write();
      return {
        // No `data` in CheckTx, as in the Cosmos SDK: CometBFT hex-encodes it in broadcast_tx_sync
        // and CosmJS decodes that field as base64, which throws on most lengths.
        code: 0, data: checking ? undefined : TxMsgData.encode({ data: [], msgResponses }).finish(), gasWanted, gasUsed: gas.reported(),
        events: [...anteCtx.events.events, ...msgCtx.events.events],
      };
    } catch (err) {
      // CheckTx refuses a tx whose messages would fail, so the sender loses no fee on a tx that is
      // bound to fail (insufficient funds, ...). Running out of gas is the exception: the tx is still
      // a valid, fee-paying tx that fails in its block, as every failing tx does in the Cosmos SDK.
      if (checking && ErrOutOfGas.is(err)) {
        anteBranch.write();
        return { code: 0, gasWanted, gasUsed: gas.reported() };
      }
      const e = toAbciError(err);
      return { code: e.code, codespace: e.codespace, log: e.log, gasWanted, gasUsed: gas.reported(), events: anteCtx.events.events };
    }
  }
}
