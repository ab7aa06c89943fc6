/**
 * What the chain answers, as the clients hand it on: tx results (a refusal is a result, with its
 * code, codespace and log), the errors that carry a refusal, and the text of a transport error.
 */

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

/** The TxResult fields of a SentTx, in their order (what `poi tx` prints). */
export function txResultOf(r: SentTx): TxResult {
  const { stage: _stage, msgResponses: _responses, ...result } = r;
  return result;
}

/** "was refused by the node's simulation with code 11 (codespace poi): ..." */
export function describeRefusal(r: SentTx): string {
  const where = r.stage === "simulate" ? "was refused by the node's simulation (nothing was broadcast)"
    : r.stage === "check" ? `${r.txhash} was refused by the node (CheckTx)`
    : `${r.txhash} failed in block ${r.height}`;
  return `${where} with code ${r.code} (codespace ${r.codespace || "-"}): ${r.raw_log}`;
}

/** A refused or failed tx, carrying its result. */
export class TxRefusedError extends Error {
  constructor(readonly result: SentTx, what = "tx") {
    super(`${what} ${describeRefusal(result)}`);
    this.name = "TxRefusedError";
  }
}

/** A query the node answered with an error code (e.g. code 9, codespace poi: task not found). */
export class QueryRefusedError extends Error {
  constructor(readonly method: string, readonly code: number, readonly codespace: string, readonly log: string) {
    super(`query ${method} failed with code ${code} (codespace ${codespace || "-"}): ${log}`);
    this.name = "QueryRefusedError";
  }
}

/** An error's message, with the reason fetch() hides in `cause` (ECONNREFUSED, ...). */
export function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const why = cause instanceof Error ? cause.message : undefined;
  return why && !err.message.includes(why) ? `${err.message} (${why})` : err.message;
}
