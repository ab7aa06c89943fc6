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
  const resultBytes = numItems * modelIo(model).outputElems * 4n;
  return priced(params, {
    verifyUnits: k * units, verifyWhat: `re-executing k = ${k} items of ${units} work units`, workUnits: numItems * units,
    deadlineBlocks, verifyBlocks: BigInt(params.verifyTimeoutBlocks), escrow, bond,
    check: () => {
      if (resultBytes > BigInt(params.maxResultBytes)) {
        throw ErrInvalidTask(`the outputs of ${numItems} items are ${resultBytes} bytes, over the ${params.maxResultBytes} bytes one result tx may carry; split the task`);
      }
    },
  });
}

/**
 * A training task's terms: each validator re-executes k segments of c steps (step = the train_step
 * model's work units) and evaluates the held-out range with the parent (its work units per item);
 * the whole task is T steps. Its deadline also covers the reveal window.
 */
export function trainingTerms(
  params: Params, step: Model, parent: Model,
  t: { steps: bigint; interval: bigint; k: bigint; heldOut: bigint; deadlineBlocks: bigint; escrow: bigint; bond: bigint },
): TaskTerms {
  const stepUnits = BigInt(step.workUnitsPerItem);
  const evalUnits = t.heldOut * BigInt(parent.workUnitsPerItem);
  return priced(params, {
    verifyUnits: t.k * t.interval * stepUnits + evalUnits,
    verifyWhat: `re-executing k = ${t.k} segments of ${t.interval} steps of ${stepUnits} work units and ${t.heldOut} held-out items of ${parent.workUnitsPerItem}`,
    workUnits: t.steps * stepUnits, deadlineBlocks: t.deadlineBlocks, verifyBlocks: BigInt(params.revealBlocks) + BigInt(params.verifyTimeoutBlocks),
    escrow: t.escrow, bond: t.bond, check: () => undefined,
  });
}

function priced(params: Params, t: {
  verifyUnits: bigint; verifyWhat: string; workUnits: bigint; deadlineBlocks: bigint; verifyBlocks: bigint; escrow: bigint; bond: bigint; check: () => void;
}): TaskTerms {
  if (t.verifyUnits > BigInt(params.maxVerifyUnitsPerTask)) {
    throw ErrInvalidTask(`${t.verifyWhat} is ${t.verifyUnits} units per validator, over the limit ${params.maxVerifyUnitsPerTask}`);
  }
  t.check();
  const minDeadline = BigInt(params.claimBlocks) + t.verifyBlocks + BigInt(params.deadlineMarginBlocks);
  if (t.deadlineBlocks < minDeadline) {
    throw ErrInvalidTask(`deadline_blocks ${t.deadlineBlocks} leaves no time to claim, run and verify: at least ${minDeadline} (claim ${params.claimBlocks} + verification ${t.verifyBlocks} + margin ${params.deadlineMarginBlocks})`);
  }
  const minBond = [BigInt(params.minBond), ceilDiv(t.escrow * BigInt(params.bondFactorBps), 10000n)].reduce((a, b) => (a > b ? a : b));
  if (t.bond < minBond) throw ErrInvalidTask(`bond ${t.bond}upoi is below the minimum ${minBond}upoi (max of min_bond ${params.minBond} and ${params.bondFactorBps} bps of the ${t.escrow}upoi escrow)`);
  return {
    verifyFee: ceilDiv(t.verifyUnits * BigInt(params.verifyPricePerMegaUnit), 1_000_000n),
    minBond,
    protocolFee: ceilDiv(t.workUnits * BigInt(params.protocolFeePerMegaUnit), 1_000_000n),
  };
}
