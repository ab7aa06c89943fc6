/**
 * Input dependence and known zeros (README.md, "Work that depends on the input").
 *
 * Each value carries a `Flow`: whether it depends on a graph input, and whether it is known to be
 * all zeros. Dependence is structural (a node output depends on the input when one of its inputs
 * does), except where a known-zero operand forces the result whatever the other operands hold
 * (Mul or MatMul by zeros, Gemm with zero A, B or alpha, Conv with zero weights, Sub(x, x)).
 * Only such certainly forced results are cut; numeric identities are not looked for.
 * "Forced" assumes finite values (NaN or ±Inf times zero is NaN in IEEE arithmetic).
 */
import type { Inferred, NodeContext } from "./shape-inference";
import type { Value } from "./tensors";

export interface Flow {
  /** Depends on a graph input. */
  varies: boolean;
  /** Known to hold only zeros (+0 or -0) for every item; implies !varies. */
  zero: boolean;
  /** Name of the value this one is known to equal (through Identity), to recognise Sub(x, x). */
  sameAs?: string;
  /** For a value that does not vary but is computed from one that does: the node that cut the dependence. */
  cut?: string;
}

export const INPUT_FLOW: Flow = Object.freeze({ varies: true, zero: false });

/** The flow of an initializer: constant, and known-zero when every float32 is +0.0 or -0.0. */
export function initializerFlow(dtype: "float32" | "int64", raw: Uint8Array): Flow {
  if (dtype !== "float32") return { varies: false, zero: false };
  // Little-endian float32: ±0 is 00 00 00 00 or 00 00 00 80.
  for (let p = 0; p < raw.length; p += 4) {
    if (raw[p] !== 0 || raw[p + 1] !== 0 || raw[p + 2] !== 0 || (raw[p + 3] !== 0 && raw[p + 3] !== 0x80)) {
      return { varies: false, zero: false };
    }
  }
  return { varies: false, zero: true };
}

/** A node's output flow, and what it is credited with if its output is needed (creditedWork). */
export interface NodeFlow {
  flow: Flow;
  /** Work units per item; 0 unless the output varies. */
  work: bigint;
  /** Which inputs (by position) that work reads: a product forced to zero does not read its operands. */
  uses: boolean[];
}

/**
 * The flow of a node's output and its credited work: `res.work` (shape-inference.ts) when the
 * output varies, 0 when it does not; `res.biasWork` (adding C or B) when only the bias varies.
 */
export function nodeFlow(ctx: NodeContext, where: string, res: Inferred): NodeFlow {
  const ins = ctx.ins;
  const first = ins[0] as Value;
  const zeroOperand = (): number | undefined => [0, 1].find((k) => ins[k]!.flow.zero);
  const allZero = (): boolean => ins.every((v) => v === undefined || v.flow.zero);
  switch (ctx.node.opType) {
    case "Mul": case "MatMul": {
      const z = zeroOperand();
      return z !== undefined ? forced(ctx, where, true, zeroReason(ctx, z)) : structural(ctx, res, false);
    }
    case "Sub":
      return sameValue(ctx, 0, 1)
        ? forced(ctx, where, true, `subtracts "${ctx.node.inputs[1]}" from "${ctx.node.inputs[0]}", the same value`)
        : structural(ctx, res, allZero());
    case "Add": case "Concat":
      return structural(ctx, res, allZero());
    case "Relu": case "Tanh": case "Sign": case "Flatten": case "Transpose": case "Reshape": case "AveragePool": case "ReduceSum":
      // Reshape's and ReduceSum's input 1 is a constant (shape, axes). Pads are smaller than the kernel, so every pooling
      // window holds at least one element.
      return structural(ctx, res, first.flow.zero);
    case "MaxPool": // a dilated window may hold only padding, whose max is not 0
      return structural(ctx, res, first.flow.zero && (ctx.attrs.ints("dilations") ?? []).every((d) => d === 1n));
    case "Identity": {
      const r = structural(ctx, res, first.flow.zero);
      r.flow.sameAs = first.flow.sameAs ?? ctx.node.inputs[0];
      return r;
    }
    case "Sigmoid": case "Softmax": case "LogSoftmax": case "Div":
      // Sigmoid(0) = 0.5, Softmax(0) = 1/n, LogSoftmax(0) = -log n; 0/x is NaN where x is 0, so Div forces nothing.
      return structural(ctx, res, false);
    case "Gemm": {
      const z = zeroOperand();
      const why = ctx.attrs.floatIsZero("alpha") ? "has alpha = 0" : z !== undefined ? zeroReason(ctx, z) : undefined;
      return productPlusBias(ctx, where, res, why, ctx.attrs.floatIsZero("beta") ? "has beta = 0" : undefined);
    }
    case "Conv": {
      const z = zeroOperand();
      return productPlusBias(ctx, where, res, z !== undefined ? zeroReason(ctx, z) : undefined, undefined);
    }
    default:
      throw new Error(`validator bug: no input-dependence rule for whitelisted op ${ctx.node.opType}`);
  }
}

function varies(v: Value | undefined): boolean {
  return v !== undefined && v.flow.varies;
}

/** The output depends on the input iff an input does (no operand is forced away). */
function structural(ctx: NodeContext, res: Inferred, zero: boolean): NodeFlow {
  if (ctx.ins.some(varies)) return { flow: { varies: true, zero: false }, work: res.work, uses: ctx.ins.map(() => true) };
  return { flow: { varies: false, zero, cut: inheritedCut(ctx) }, work: 0n, uses: [] };
}

/** A result that is the same for every item: cut here if an input varied, else where an input was cut. */
function forced(ctx: NodeContext, where: string, zero: boolean, reason: string): NodeFlow {
  const cut = ctx.ins.some(varies) ? `${where} ${reason}` : inheritedCut(ctx);
  return { flow: { varies: false, zero, cut }, work: 0n, uses: [] };
}

function inheritedCut(ctx: NodeContext): string | undefined {
  return ctx.ins.find((v) => v?.flow.cut !== undefined)?.flow.cut;
}

function zeroReason(ctx: NodeContext, k: number): string {
  return `multiplies by "${ctx.node.inputs[k]}", which is all zeros`;
}

/** Sub's operands are the same value (the same name, or names Identity made equal). */
function sameValue(ctx: NodeContext, a: number, b: number): boolean {
  const canonical = (k: number): string => ctx.ins[k]!.flow.sameAs ?? ctx.node.inputs[k];
  return canonical(a) === canonical(b);
}

/**
 * Gemm (alpha·A·B + beta·C) and Conv (X∗W + B). When the product is forced to zero
 * (`productForced` says why), the result is the bias alone: it varies only if the bias does, and
 * the node is credited the bias work only. `biasIgnored` (Gemm's beta = 0) drops the bias.
 */
function productPlusBias(
  ctx: NodeContext, where: string, res: Inferred, productForced: string | undefined, biasIgnored: string | undefined,
): NodeFlow {
  const [a, b, c] = ctx.ins;
  const biasUsed = c !== undefined && biasIgnored === undefined;
  if (productForced === undefined && (varies(a) || varies(b))) {
    return { flow: { varies: true, zero: false }, work: res.work, uses: [true, true, biasUsed] };
  }
  if (biasUsed && varies(c)) return { flow: { varies: true, zero: false }, work: res.biasWork ?? 0n, uses: [false, false, true] };
  const zero = productForced !== undefined && (!biasUsed || c!.flow.zero);
  // An input varied: it was A or B when the product is forced, else C (whose beta is 0).
  return forced(ctx, where, zero, productForced ?? biasIgnored ?? "");
}

/**
 * The work credited per item: the work of the varying nodes whose output is needed, i.e. is a graph
 * output or is read by the work of a needed node. A branch whose result is multiplied by zeros, or
 * that no output reads, is work a worker could skip, so it earns nothing.
 */
export function creditedWork(
  nodes: readonly { inputs: readonly string[]; output: string; dep: NodeFlow }[], outputNames: readonly string[],
): bigint {
  const needed = new Set<string>(outputNames); // lookups only, never iterated
  let work = 0n;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (!n.dep.flow.varies || !needed.has(n.output)) continue;
    work += n.dep.work;
    n.inputs.forEach((name, k) => {
      if (n.dep.uses[k] === true && name !== "") needed.add(name);
    });
  }
  return work;
}

/**
 * Refuses a model with a graph output that does not depend on any graph input: a worker could
 * return it without running the model.
 */
export function checkOutputsVary(
  outputs: readonly { name: string; flow: Flow }[], inputNames: readonly string[], fail: (m: string) => never,
): void {
  const inputs = inputNames.length === 1
    ? `the input "${inputNames[0]}"`
    : `any graph input (${inputNames.map((n) => `"${n}"`).join(", ")})`;
  outputs.forEach((o, i) => {
    if (o.flow.varies) return;
    const why = o.flow.cut ?? "it is computed from initializers only";
    fail(`graph output ${i} "${o.name}" does not depend on ${inputs}: its value is the same for every item (${why})`);
  });
}
