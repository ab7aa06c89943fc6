/** Shape inference and work count of each whitelisted op (see README.md for the formulas). */
import type { Attrs } from "./attributes";
import type { ModelLimits } from "./limits";
import type { ParsedNode } from "./model-parse";
import { fmtShape, product, type Shape, type Value } from "./tensors";

export interface NodeContext {
  node: ParsedNode;
  opset: number;
  /** Input values by position; undefined for an omitted optional input. */
  ins: (Value | undefined)[];
  attrs: Attrs;
  lim: ModelLimits;
  fail: (m: string) => never;
}

export interface Inferred {
  shape: Shape;
  work: bigint;
  /** Gemm and Conv: the part of `work` that adds C or B (all they do when the product is known zero). */
  biasWork?: bigint;
  /** Elements of a temporary buffer the runtime allocates (Conv's im2col), to bound it too. */
  scratchElements?: bigint;
}

/** Input k as a float32 tensor (required). */
function floatInput(ctx: NodeContext, k: number): Shape {
  const v = ctx.ins[k];
  if (v === undefined) return ctx.fail(`input ${k} is required`);
  if (v.dtype !== "float32") ctx.fail(`input ${k} ("${ctx.node.inputs[k]}") is ${v.dtype}; float32 is required`);
  return v.shape;
}

function optionalFloatInput(ctx: NodeContext, k: number): Shape | undefined {
  return ctx.ins[k] === undefined ? undefined : floatInput(ctx, k);
}

/** An axis attribute (or its default) in [-rank, rank-1], or [-rank, rank] if allowRank; returns it made non-negative. */
function axisAttr(ctx: NodeContext, name: string, def: number | undefined, rank: number, allowRank: boolean): number {
  if (def === undefined && !ctx.attrs.has(name)) ctx.fail(`attribute ${name} is required`);
  const hi = allowRank ? rank : rank - 1;
  const a = ctx.attrs.int(name, def ?? 0, -rank, hi);
  if (a < -rank || a > hi) ctx.fail(`${name} ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
}

/** Multidirectional (numpy) broadcasting of two shapes. */
function broadcastShapes(ctx: NodeContext, a: Shape, b: Shape): Shape {
  const r = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < r; i++) {
    const da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
    const db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else ctx.fail(`shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast`);
  }
  return out;
}

/** Shape inference and work count of one node; see README.md for the work formulas. */
export function inferNode(ctx: NodeContext): Inferred {
  const op = ctx.node.opType;
  switch (op) {
    case "Add": case "Sub": case "Mul": case "Div": {
      const shape = broadcastShapes(ctx, floatInput(ctx, 0), floatInput(ctx, 1));
      return { shape, work: product(shape) };
    }
    case "Relu": case "Sigmoid": case "Tanh": case "Identity": case "Sign": {
      const shape = [...floatInput(ctx, 0)];
      return { shape, work: product(shape) };
    }
    case "Softmax": case "LogSoftmax": {
      const shape = [...floatInput(ctx, 0)];
      if (shape.length === 0) ctx.fail("input must have rank 1 or more");
      axisAttr(ctx, "axis", -1, shape.length, false);
      return { shape, work: product(shape) };
    }
    case "Flatten": {
      const x = floatInput(ctx, 0);
      const axis = axisAttr(ctx, "axis", 1, x.length, true);
      const shape = [Number(product(x.slice(0, axis))), Number(product(x.slice(axis)))];
      return { shape, work: 0n }; // a view: no data moves
    }
    case "Transpose": {
      const x = floatInput(ctx, 0);
      const permAttr = ctx.attrs.ints("perm");
      const perm: number[] = permAttr === undefined ? x.map((_, i) => x.length - 1 - i) : [];
      if (permAttr !== undefined) {
        if (permAttr.length !== x.length) ctx.fail(`perm has ${permAttr.length} entries for rank ${x.length}`);
        const used = new Array<boolean>(x.length).fill(false);
        for (const p of permAttr) {
          if (p < 0n || p >= BigInt(x.length) || used[Number(p)]) ctx.fail(`perm [${permAttr.join(",")}] is not a permutation of 0..${x.length - 1}`);
          used[Number(p)] = true;
          perm.push(Number(p));
        }
      }
      const shape = perm.map((p) => x[p]);
      return { shape, work: product(shape) };
    }
    case "Concat": {
      const first = floatInput(ctx, 0);
      if (first.length === 0) ctx.fail("inputs must have rank 1 or more");
      const axis = axisAttr(ctx, "axis", undefined, first.length, false);
      const shape = [...first];
      for (let k = 1; k < ctx.ins.length; k++) {
        const s = floatInput(ctx, k);
        if (s.length !== first.length) ctx.fail(`input ${k} has rank ${s.length}, input 0 has rank ${first.length}`);
        for (let d = 0; d < s.length; d++) {
          if (d !== axis && s[d] !== first[d]) ctx.fail(`input ${k} shape ${fmtShape(s)} does not match ${fmtShape(first)} outside axis ${axis}`);
        }
        shape[axis] += s[axis];
        if (shape[axis] > ctx.lim.maxIntermediateElements) ctx.fail("output too large");
      }
      return { shape, work: product(shape) };
    }
    case "Reshape":
      return inferReshape(ctx);
    case "ReduceSum":
      return inferReduceSum(ctx);
    case "MatMul":
      return inferMatMul(ctx);
    case "Gemm":
      return inferGemm(ctx);
    case "Conv":
      return inferConv(ctx);
    case "MaxPool": case "AveragePool":
      return inferPool(ctx, op);
    default:
      // opSpec() and this switch must list the same ops.
      throw new Error(`validator bug: no shape inference for whitelisted op ${op}`);
  }
}

function inferReshape(ctx: NodeContext): Inferred {
  const x = floatInput(ctx, 0);
  const target = ctx.ins[1]!;
  if (target.origin !== "initializer" || target.dtype !== "int64" || target.int64Values === undefined) {
    ctx.fail(`input 1 ("${ctx.node.inputs[1]}") must be an int64 initializer (a constant shape)`);
  }
  const allowZero = ctx.attrs.int("allowzero", 0, 0, 1) === 1;
  const spec = target.int64Values!;
  const shape: Shape = [];
  let inferAt = -1;
  for (let i = 0; i < spec.length; i++) {
    const v = spec[i];
    if (v === -1n) {
      if (inferAt >= 0) ctx.fail("shape has more than one -1");
      inferAt = i;
      shape.push(1);
    } else if (v === 0n) {
      if (allowZero) ctx.fail("shape has a 0 with allowzero=1 (empty tensors are not allowed)");
      if (i >= x.length) ctx.fail(`shape entry ${i} is 0 (copy) but the input has rank ${x.length}`);
      shape.push(x[i]);
    } else if (v >= 1n && v <= BigInt(ctx.lim.maxIntermediateElements)) {
      shape.push(Number(v));
    } else {
      ctx.fail(`shape entry ${i} is ${v}; entries must be -1, 0 or 1..${ctx.lim.maxIntermediateElements}`);
    }
  }
  const inCount = product(x);
  const known = product(shape);
  if (inferAt >= 0) {
    if (inCount % known !== 0n) ctx.fail(`cannot reshape ${fmtShape(x)} to [${spec.join(",")}]`);
    shape[inferAt] = Number(inCount / known);
  } else if (known !== inCount) {
    ctx.fail(`cannot reshape ${fmtShape(x)} (${inCount} elements) to ${fmtShape(shape)} (${known} elements)`);
  }
  return { shape, work: 0n }; // a view: no data moves
}

/**
 * ReduceSum (opset 13+): axes come as input 1, an int64 initializer of distinct axes in
 * [-rank, rank-1]; without it every axis is reduced (or none, with noop_with_empty_axes = 1).
 * keepdims (default 1) keeps reduced axes as 1. Work: the input's elements (one add each).
 */
function inferReduceSum(ctx: NodeContext): Inferred {
  const x = floatInput(ctx, 0);
  if (x.length === 0) ctx.fail("input must have rank 1 or more");
  const keep = ctx.attrs.int("keepdims", 1, 0, 1) === 1;
  const noop = ctx.attrs.int("noop_with_empty_axes", 0, 0, 1) === 1;
  const reduced = new Array<boolean>(x.length).fill(false);
  const axesIn = ctx.ins[1];
  if (axesIn === undefined) {
    reduced.fill(!noop);
  } else {
    if (axesIn.origin !== "initializer" || axesIn.dtype !== "int64" || axesIn.int64Values === undefined) {
      ctx.fail(`input 1 ("${ctx.node.inputs[1]}") must be an int64 initializer (constant axes)`);
    }
    for (const a of axesIn.int64Values!) {
      if (a < BigInt(-x.length) || a >= BigInt(x.length)) ctx.fail(`axis ${a} is out of range for rank ${x.length}`);
      const k = Number(a < 0n ? a + BigInt(x.length) : a);
      if (reduced[k]) ctx.fail(`axis ${a} is given twice`);
      reduced[k] = true;
    }
  }
  const shape: Shape = [];
  x.forEach((d, k) => {
    if (!reduced[k]) shape.push(d);
    else if (keep) shape.push(1);
  });
  return { shape, work: product(x) };
}

function inferMatMul(ctx: NodeContext): Inferred {
  const a = floatInput(ctx, 0);
  const b = floatInput(ctx, 1);
  if (a.length === 0 || b.length === 0) ctx.fail("inputs must have rank 1 or more");
  // numpy matmul: a 1-D operand is a row (A) or a column (B) vector whose extra dim is dropped.
  const A = a.length === 1 ? [1, a[0]] : a;
  const B = b.length === 1 ? [b[0], 1] : b;
  const m = A[A.length - 2];
  const k = A[A.length - 1];
  const k2 = B[B.length - 2];
  const n = B[B.length - 1];
  if (k !== k2) ctx.fail(`shapes ${fmtShape(a)} and ${fmtShape(b)} do not multiply (inner dims ${k} and ${k2})`);
  const batch = broadcastShapes(ctx, A.slice(0, -2), B.slice(0, -2));
  const shape = [...batch, ...(a.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [n])];
  return { shape, work: product(batch) * BigInt(m) * BigInt(k) * BigInt(n) };
}

function inferGemm(ctx: NodeContext): Inferred {
  const a = floatInput(ctx, 0);
  const b = floatInput(ctx, 1);
  const c = optionalFloatInput(ctx, 2);
  if (a.length !== 2 || b.length !== 2) ctx.fail(`A and B must be 2-D, got ${fmtShape(a)} and ${fmtShape(b)}`);
  const transA = ctx.attrs.int("transA", 0, 0, 1) === 1;
  const transB = ctx.attrs.int("transB", 0, 0, 1) === 1;
  const [m, k] = transA ? [a[1], a[0]] : [a[0], a[1]];
  const [k2, n] = transB ? [b[1], b[0]] : [b[0], b[1]];
  if (k !== k2) ctx.fail(`A ${fmtShape(a)} and B ${fmtShape(b)} do not multiply (transA=${+transA}, transB=${+transB})`);
  const shape = [m, n];
  if (c !== undefined) {
    // C is broadcast one way, to [M, N].
    if (c.length > 2) ctx.fail(`C ${fmtShape(c)} has rank over 2`);
    for (let i = 0; i < c.length; i++) {
      const d = c[c.length - 1 - i];
      const want = shape[1 - i];
      if (d !== want && d !== 1) ctx.fail(`C ${fmtShape(c)} does not broadcast to ${fmtShape(shape)}`);
    }
  }
  const mac = BigInt(m) * BigInt(k) * BigInt(n);
  const biasWork = c === undefined ? 0n : BigInt(m) * BigInt(n);
  return { shape, work: mac + biasWork, biasWork };
}

/** An INTS attribute with exactly `len` entries each in [min, max], or the default. */
function intsAttr(ctx: NodeContext, name: string, len: number, min: bigint, max: bigint, def: bigint): bigint[] {
  const v = ctx.attrs.ints(name);
  if (v === undefined) return new Array<bigint>(len).fill(def);
  if (v.length !== len) ctx.fail(`attribute ${name} has ${v.length} entries, expected ${len}`);
  for (const x of v) if (x < min || x > max) ctx.fail(`attribute ${name} entry ${x} is outside ${min}..${max}`);
  return v;
}

const MAX_ATTR_VALUE = 1n << 31n;

/**
 * Output spatial sizes of Conv/pooling (ONNX formulas, floor mode), in bigint, checked ≥ 1.
 * `padLimit(i)` is the exclusive upper bound of each pad along axis i.
 */
function spatialOutput(
  ctx: NodeContext, inSpatial: Shape, kernel: bigint[], dilations: bigint[], padLimit: (i: number) => bigint,
): { out: Shape } {
  const s = inSpatial.length;
  const strides = intsAttr(ctx, "strides", s, 1n, MAX_ATTR_VALUE, 1n);
  const autoPad = ctx.attrs.string("auto_pad", "NOTSET");
  if (autoPad !== "NOTSET" && autoPad !== "VALID" && autoPad !== "SAME_UPPER" && autoPad !== "SAME_LOWER") {
    ctx.fail(`attribute auto_pad "${autoPad}" is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
  }
  if (autoPad !== "NOTSET" && ctx.attrs.has("pads")) ctx.fail(`attribute pads cannot be combined with auto_pad ${autoPad}`);
  const same = autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER";
  // onnxruntime refuses dilated SAME convolutions and sizes dilated SAME pools differently from ONNX.
  if (same && dilations.some((d) => d !== 1n)) ctx.fail(`auto_pad ${autoPad} cannot be combined with dilations other than 1`);
  const pads = intsAttr(ctx, "pads", 2 * s, 0n, MAX_ATTR_VALUE, 0n);
  for (let i = 0; i < s; i++) {
    if (pads[i] >= padLimit(i) || pads[i + s] >= padLimit(i)) {
      ctx.fail(`pads along spatial axis ${i} must be smaller than ${padLimit(i)}`);
    }
  }
  const out: Shape = [];
  for (let i = 0; i < s; i++) {
    const size = BigInt(inSpatial[i]);
    const effKernel = (kernel[i] - 1n) * dilations[i] + 1n;
    let o: bigint;
    if (same) {
      o = (size + strides[i] - 1n) / strides[i];
      // The padding SAME implies, (o-1)·stride + kernel - size, must not be negative (onnxruntime's
      // AveragePool fails on it): a stride larger than the kernel would skip input.
      if ((o - 1n) * strides[i] + effKernel < size) {
        ctx.fail(`auto_pad ${autoPad} with stride ${strides[i]} over kernel ${effKernel} implies negative padding along spatial axis ${i}`);
      }
    } else {
      const span = autoPad === "VALID" ? size : size + pads[i] + pads[i + s];
      if (span < effKernel) ctx.fail(`kernel (${effKernel} with dilation) is larger than the padded input (${span}) along spatial axis ${i}`);
      o = (span - effKernel) / strides[i] + 1n;
    }
    if (o < 1n || o > BigInt(ctx.lim.maxIntermediateElements)) ctx.fail(`output size ${o} along spatial axis ${i} is out of range`);
    out.push(Number(o));
  }
  return { out };
}

function inferConv(ctx: NodeContext): Inferred {
  const x = floatInput(ctx, 0);
  const w = floatInput(ctx, 1);
  const bias = optionalFloatInput(ctx, 2);
  if (x.length < 3 || x.length > 5) ctx.fail(`X ${fmtShape(x)} must have rank 3 to 5 (N, C, 1 to 3 spatial dims)`);
  if (w.length !== x.length) ctx.fail(`W ${fmtShape(w)} must have the rank of X ${fmtShape(x)}`);
  const s = x.length - 2;
  const [n, c] = x;
  const [m, cPerGroup] = w;
  const group = ctx.attrs.int("group", 1, 1, c);
  if (c % group !== 0 || m % group !== 0) ctx.fail(`group ${group} does not divide channels ${c} and feature maps ${m}`);
  if (cPerGroup !== c / group) ctx.fail(`W ${fmtShape(w)} needs ${c / group} input channels per group, has ${cPerGroup}`);
  if (bias !== undefined && (bias.length !== 1 || bias[0] !== m)) ctx.fail(`B ${fmtShape(bias)} must be [${m}]`);
  const kernel = w.slice(2).map(BigInt);
  const ks = ctx.attrs.ints("kernel_shape");
  if (ks !== undefined && (ks.length !== s || ks.some((v, i) => v !== kernel[i]))) {
    ctx.fail(`kernel_shape [${ks.join(",")}] does not match W ${fmtShape(w)}`);
  }
  const dilations = intsAttr(ctx, "dilations", s, 1n, MAX_ATTR_VALUE, 1n);
  const { out } = spatialOutput(ctx, x.slice(2), kernel, dilations, (i) => (kernel[i] - 1n) * dilations[i] + 1n);
  const outSpatial = product(out);
  const kernelSize = product(w.slice(2));
  const shape = [n, m, ...out];
  const outElements = BigInt(n) * BigInt(m) * outSpatial;
  const mac = outElements * BigInt(cPerGroup) * kernelSize;
  return {
    shape,
    work: bias === undefined ? mac : mac + outElements,
    biasWork: bias === undefined ? 0n : outElements,
    // im2col buffer of one image and group: (C/group · kernel) × output positions.
    scratchElements: BigInt(cPerGroup) * kernelSize * outSpatial,
  };
}

function inferPool(ctx: NodeContext, op: "MaxPool" | "AveragePool"): Inferred {
  const x = floatInput(ctx, 0);
  if (x.length < 3 || x.length > 5) ctx.fail(`X ${fmtShape(x)} must have rank 3 to 5 (N, C, 1 to 3 spatial dims)`);
  const s = x.length - 2;
  if (!ctx.attrs.has("kernel_shape")) ctx.fail("attribute kernel_shape is required");
  const kernel = intsAttr(ctx, "kernel_shape", s, 1n, MAX_ATTR_VALUE, 1n);
  // ceil_mode changes the output size by a rule with runtime-specific edge cases: floor mode only.
  ctx.attrs.int("ceil_mode", 0, 0, 0);
  let dilations = new Array<bigint>(s).fill(1n);
  if (op === "MaxPool") {
    ctx.attrs.int("storage_order", 0, 0, 0); // only affects the Indices output, which is refused
    dilations = intsAttr(ctx, "dilations", s, 1n, MAX_ATTR_VALUE, 1n);
  } else {
    ctx.attrs.int("count_include_pad", 0, 0, 1);
  }
  // onnxruntime requires each pad to be smaller than the kernel.
  const { out } = spatialOutput(ctx, x.slice(2), kernel, dilations, (i) => kernel[i]);
  const shape = [x[0], x[1], ...out];
  return { shape, work: product(shape) * product(kernel.map(Number)) };
}
