/**
 * The op whitelist and each op's inputs and attributes. Dispatch is by `switch`, never by object
 * key (see validate.ts), so a name like "__proto__" cannot reach a prototype property.
 */

/** Attribute kinds the whitelisted ops take. */
export type AttrKind = "int" | "float" | "string" | "ints";

export interface OpSpec {
  minInputs: number;
  maxInputs: number;
  /** Allowed attributes; anything else is refused. */
  attrs: readonly (readonly [string, AttrKind])[];
}

const SPATIAL_ATTRS = [["auto_pad", "string"], ["kernel_shape", "ints"], ["pads", "ints"], ["strides", "ints"]] as const;
const UNARY: OpSpec = { minInputs: 1, maxInputs: 1, attrs: [] };
const BINARY: OpSpec = { minInputs: 2, maxInputs: 2, attrs: [] };

/**
 * The op whitelist (default domain only). A `switch`, not an object lookup: see the file comment.
 * Keep it in sync with README.md and with inferNode (shape-inference.ts).
 */
export function opSpec(opType: string): OpSpec | undefined {
  switch (opType) {
    case "Add": case "Sub": case "Mul": case "Div": case "MatMul":
      return BINARY;
    case "Relu": case "Sigmoid": case "Tanh": case "Identity": case "Sign":
      return UNARY;
    case "Softmax": case "LogSoftmax": case "Flatten":
      return { minInputs: 1, maxInputs: 1, attrs: [["axis", "int"]] };
    case "Transpose":
      return { minInputs: 1, maxInputs: 1, attrs: [["perm", "ints"]] };
    case "Concat":
      return { minInputs: 1, maxInputs: Number.MAX_SAFE_INTEGER, attrs: [["axis", "int"]] };
    case "Reshape":
      return { minInputs: 2, maxInputs: 2, attrs: [["allowzero", "int"]] };
    case "ReduceSum":
      // opset 13+: the axes are input 1 (an int64 initializer), not an attribute
      return { minInputs: 1, maxInputs: 2, attrs: [["keepdims", "int"], ["noop_with_empty_axes", "int"]] };
    case "Gemm":
      return { minInputs: 2, maxInputs: 3, attrs: [["alpha", "float"], ["beta", "float"], ["transA", "int"], ["transB", "int"]] };
    case "Conv":
      return { minInputs: 2, maxInputs: 3, attrs: [...SPATIAL_ATTRS, ["dilations", "ints"], ["group", "int"]] };
    case "MaxPool":
      return { minInputs: 1, maxInputs: 1, attrs: [...SPATIAL_ATTRS, ["dilations", "ints"], ["ceil_mode", "int"], ["storage_order", "int"]] };
    case "AveragePool":
      return { minInputs: 1, maxInputs: 1, attrs: [...SPATIAL_ATTRS, ["ceil_mode", "int"], ["count_include_pad", "int"]] };
    default:
      return undefined;
  }
}

/** The whitelist, for documentation and tests. */
export const ALLOWED_OPS: readonly string[] = Object.freeze([
  "Add", "AveragePool", "Concat", "Conv", "Div", "Flatten", "Gemm", "Identity", "LogSoftmax", "MatMul", "MaxPool", "Mul",
  "ReduceSum", "Relu", "Reshape", "Sigmoid", "Sign", "Softmax", "Sub", "Tanh", "Transpose",
]);
