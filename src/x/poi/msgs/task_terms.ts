/**
 * What a task costs and whether an honest worker can complete it, decided at submission (README,
 * "Priced verification and honest slashing"). A task no honest worker could finish would let its
 * requester burn workers' bonds for nothing, so such tasks are refused up front.
 */
import { ErrInvalidTask } from "../errors";
import type { Model, Params } from "../types";
import { modelIo } from "../keeper";

export interface TaskTerms {
  /** k × work units per item × verify_price_per_mega_unit / 10^6, rounded up. */
  verifyFee: bigint;
  /** max(min_bond, escrow × bond_factor_bps / 10^4), rounded up. */
  minBond: bigint;
  /** items × work units per item × protocol_fee_per_mega_unit / 10^6, rounded up: what work credit costs. */
  protocolFee: bigint;
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

/** Throws ErrInvalidTask naming the first infeasible term. */
export function taskTerms(params: Params, model: Model, numItems: bigint, k: bigint, deadlineBlocks: bigint, escrow: bigint, bond: bigint): TaskTerms {
  if (k > numItems) throw ErrInvalidTask(`k = ${k} is more than the task's ${numItems} items`);
  const units = BigInt(model.workUnitsPerItem);
  const verifyUnits = k * units;
  if (verifyUnits > BigInt(params.maxVerifyUnitsPerTask)) {
    throw ErrInvalidTask(`re-executing k = ${k} items of ${units} work units is ${verifyUnits} units per validator, over the limit ${params.maxVerifyUnitsPerTask}`);
  }
  const resultBytes = numItems * modelIo(model).outputElems * 4n;
  if (resultBytes > BigInt(params.maxResultBytes)) {
    throw ErrInvalidTask(`the outputs of ${numItems} items are ${resultBytes} bytes, over the ${params.maxResultBytes} bytes one result tx may carry; split the task`);
  }
  const minDeadline = BigInt(params.claimBlocks) + BigInt(params.verifyTimeoutBlocks) + BigInt(params.deadlineMarginBlocks);
  if (deadlineBlocks < minDeadline) {
    throw ErrInvalidTask(`deadline_blocks ${deadlineBlocks} leaves no time to claim, run and verify: at least ${minDeadline} (claim ${params.claimBlocks} + verification ${params.verifyTimeoutBlocks} + margin ${params.deadlineMarginBlocks})`);
  }
  const minBond = [BigInt(params.minBond), ceilDiv(escrow * BigInt(params.bondFactorBps), 10000n)].reduce((a, b) => (a > b ? a : b));
  if (bond < minBond) throw ErrInvalidTask(`bond ${bond}upoi is below the minimum ${minBond}upoi (max of min_bond ${params.minBond} and ${params.bondFactorBps} bps of the ${escrow}upoi escrow)`);
  return {
    verifyFee: ceilDiv(verifyUnits * BigInt(params.verifyPricePerMegaUnit), 1_000_000n),
    minBond,
    protocolFee: ceilDiv(numItems * units * BigInt(params.protocolFeePerMegaUnit), 1_000_000n),
  };
}
