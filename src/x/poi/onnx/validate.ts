/**
 * Static validation of ONNX models, run inside consensus code (deterministic; see README.md).
 *
 * validateModel(bytes, limits) either returns the model's interface (inputs, outputs, opset) and
 * its integer work cost per item, or throws ModelValidationError naming the first problem found.
 *
 * Determinism rules, kept by every file of the validator: no onnxruntime, no floating point in any
 * decision (shapes, sizes and costs are integers; attribute floats are never read as numbers), no
 * clock or randomness, Maps/Sets only for lookups (never iterated), opType dispatch by `switch`
 * (never by object key, so a name like "__proto__" or "constructor" cannot reach a prototype
 * property). Checks run in a fixed order, so the same bytes always give the same result and the
 * same message.
 *
 * The parts: limits.ts (the limits), model-parse.ts (protobuf structure), ops.ts (the whitelist),
 * attributes.ts, tensors.ts (initializers, declared inputs and outputs), shape-inference.ts,
 * dependence.ts (which values depend on the input; only needed, input-dependent work is credited).
 *
 * Check order: size → protobuf structure (model-parse.ts) → ir_version → opset imports → every
 * node's domain and op against the whitelist → initializers → graph inputs → nodes in order
 * (inputs defined, attributes, shape inference, size and cost bounds) → value_info → outputs →
 * every output depends on the input (dependence.ts).
 */
import { checkAttributes } from "./attributes";
import { checkOutputsVary, creditedWork, INPUT_FLOW, nodeFlow, type NodeFlow } from "./dependence";
import { ModelValidationError } from "./errors";
import { resolveLimits, type ModelLimits } from "./limits";
import { parseModel, type ParsedNode } from "./model-parse";
import { ALLOWED_OPS, opSpec } from "./ops";
import { inferNode, type NodeContext } from "./shape-inference";
import {
  checkInitializer, checkShape, fmtShape, product, sameShape, staticFloatTensorType, type Value,
} from "./tensors";

export { ModelValidationError } from "./errors";
export { DEFAULT_MODEL_LIMITS, resolveLimits, type ModelLimits } from "./limits";
export { ALLOWED_OPS } from "./ops";

/** Graph inputs and outputs are float32 only for now: every PoI task feeds and reads float tensors. */
export type TensorDType = "float32";

export interface TensorInfo {
  name: string;
  shape: number[];
  dtype: TensorDType;
}

export interface ModelSummary {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /**
   * Work credited for one run of the graph (one item: shapes are static, batch included): only the
   * nodes whose output depends on the input and is needed by an output (dependence.ts).
   */
  workUnitsPerItem: bigint;
  /** Work of every node, constant ones included (what onnxruntime does at load and per run); ≤ maxWorkUnitsPerItem. */
  totalWorkUnits: bigint;
  /** Default-domain opset version the model imports. */
  opset: number;
  irVersion: number;
  nodeCount: number;
  /** Sum of initializer data sizes (bytes). */
  initializerBytes: number;
  /** Sum of the elements of all node outputs. */
  intermediateElements: number;
}

/**
 * Validates ONNX ModelProto bytes against the chain's rules and limits.
 * Returns the model's interface and work cost, or throws ModelValidationError.
 */
export function validateModel(bytes: Uint8Array, limits: Partial<ModelLimits> = {}): ModelSummary {
  const lim = resolveLimits(limits);
  if (!(bytes instanceof Uint8Array)) throw new ModelValidationError("model must be given as bytes");
  if (bytes.length === 0) throw new ModelValidationError("model is empty");
  if (bytes.length > lim.maxModelBytes) {
    throw new ModelValidationError(`model is ${bytes.length} bytes, over the limit of ${lim.maxModelBytes} bytes`);
  }

  const model = parseModel(bytes, { maxNodes: lim.maxNodes, maxRank: lim.maxRank });
  const fail = (msg: string): never => {
    throw new ModelValidationError(msg);
  };

  // IR version
  if (model.irVersion === undefined) fail("model has no ir_version");
  const irVersion = model.irVersion as bigint;
  if (irVersion < BigInt(lim.irVersionMin) || irVersion > BigInt(lim.irVersionMax)) {
    fail(`ir_version ${irVersion} is outside the accepted range ${lim.irVersionMin}..${lim.irVersionMax}`);
  }

  // Opset imports: exactly one, the default ONNX domain.
  if (model.opsetImports.length === 0) fail("model has no opset_import");
  let opsetBig: bigint | undefined;
  for (const imp of model.opsetImports) {
    if (imp.domain !== "" && imp.domain !== "ai.onnx") {
      fail(`model imports operator set domain "${imp.domain}"; only the default ONNX domain is allowed`);
    }
    if (opsetBig !== undefined) fail("model imports the default ONNX domain more than once");
    if (imp.version === undefined) fail("opset_import has no version");
    opsetBig = imp.version as bigint;
  }
  const opsetV = opsetBig as bigint;
  if (opsetV < BigInt(lim.opsetMin) || opsetV > BigInt(lim.opsetMax)) {
    fail(`opset version ${opsetV} is outside the accepted range ${lim.opsetMin}..${lim.opsetMax}`);
  }
  const opset = Number(opsetV);

  if (model.graph === undefined) fail("model has no graph");
  const graph = model.graph!;
  if (graph.nodes.length === 0) fail("graph has no nodes");

  // Every node's domain and op first, so an unsupported model is named for its op.
  const nodeNames = new Set<string>();
  graph.nodes.forEach((node, i) => {
    const where = nodeLabel(node, i);
    // onnxruntime refuses two nodes with the same (non-empty) name.
    if (node.name !== "" && nodeNames.has(node.name)) fail(`${where}: another node has the same name`);
    nodeNames.add(node.name);
    if (node.domain !== "" && node.domain !== "ai.onnx") fail(`${where}: domain "${node.domain}" is not allowed; only the default ONNX domain`);
    if (node.overload !== "") fail(`${where}: function overloads are not allowed`);
    if (opSpec(node.opType) === undefined) {
      fail(`${where}: operator "${node.opType}" is not allowed (allowed: ${ALLOWED_OPS.join(", ")})`);
    }
  });

  const values = new Map<string, Value>();
  const defineName = (name: string, what: string, v: Value): void => {
    if (name === "") fail(`${what} has an empty name`);
    if (values.has(name)) fail(`${what}: the name "${name}" is already defined (names must be unique)`);
    values.set(name, v);
  };

  // Initializers
  let initializerBytes = 0;
  graph.initializers.forEach((t, i) => {
    const v = checkInitializer(t, `initializer ${i} "${t.name}"`, lim, fail);
    initializerBytes += v.bytes;
    if (initializerBytes > lim.maxInitializerBytes) {
      fail(`initializers total over ${lim.maxInitializerBytes} bytes (at initializer ${i} "${t.name}")`);
    }
    defineName(t.name, `initializer ${i}`, v.value);
  });

  // Graph inputs: float32, static positive dims, not initializers (an initializer listed as an
  // input is an overridable default since IR 4: the runner could replace the weights).
  if (graph.inputs.length === 0) fail("graph has no inputs");
  const inputs: TensorInfo[] = [];
  graph.inputs.forEach((vi, i) => {
    const where = `graph input ${i} "${vi.name}"`;
    if (vi.name !== "" && values.has(vi.name)) {
      fail(`${where} has the name of an initializer; overridable initializers are not allowed`);
    }
    const shape = staticFloatTensorType(vi, where, lim, fail);
    defineName(vi.name, `graph input ${i}`, { dtype: "float32", shape, origin: "input", flow: INPUT_FLOW });
    inputs.push({ name: vi.name, shape, dtype: "float32" });
  });

  // Index of the node that produces each name, only to explain an input used before its definition.
  const producer = new Map<string, number>();
  graph.nodes.forEach((node, i) => node.outputs.forEach((o) => { if (!producer.has(o)) producer.set(o, i); }));

  // Nodes, in file order: that order must be topological.
  let work = 0n;
  let totalElements = 0n;
  const deps: { inputs: string[]; output: string; dep: NodeFlow }[] = [];
  graph.nodes.forEach((node, index) => {
    const where = nodeLabel(node, index);
    const spec = opSpec(node.opType)!;
    const nfail = (msg: string): never => fail(`${where}: ${msg}`);

    // Inputs: arity, then each non-empty name must already be defined.
    if (node.inputs.length < spec.minInputs || node.inputs.length > spec.maxInputs) {
      nfail(spec.minInputs === spec.maxInputs
        ? `takes ${spec.minInputs} input(s), has ${node.inputs.length}`
        : `takes ${spec.minInputs} to ${spec.maxInputs} inputs, has ${node.inputs.length}`);
    }
    const ins: (Value | undefined)[] = node.inputs.map((name, k) => {
      if (name === "") {
        // An empty name means "optional input omitted"; only optional (trailing) inputs may be.
        if (k < spec.minInputs) nfail(`input ${k} is required but empty`);
        return undefined;
      }
      const v = values.get(name);
      if (v === undefined) {
        const p = producer.get(name);
        if (p !== undefined) {
          nfail(p >= index
            ? `input "${name}" is produced by node ${p}, which does not come earlier (nodes must be in topological order; cycles are not allowed)`
            : `input "${name}" is not defined`);
        }
        nfail(`input "${name}" is not defined (not a graph input, an initializer, or an output of an earlier node)`);
      }
      return v;
    });

    // Outputs: one, named, new.
    if (node.outputs.length !== 1) nfail(`must have exactly 1 output, has ${node.outputs.length}`);
    const outName = node.outputs[0];

    const attrs = checkAttributes(node, spec, opset, nfail);
    const ctx: NodeContext = { node, opset, ins, attrs, lim, fail: nfail };
    const res = inferNode(ctx);
    checkShape(res.shape, lim, nfail, "output");
    if (res.scratchElements !== undefined && res.scratchElements > BigInt(lim.maxIntermediateElements)) {
      nfail(`needs a scratch buffer of ${res.scratchElements} elements, over the limit of ${lim.maxIntermediateElements}`);
    }
    totalElements += product(res.shape);
    if (totalElements > BigInt(lim.maxTotalIntermediateElements)) {
      nfail(`intermediate tensors total over ${lim.maxTotalIntermediateElements} elements`);
    }
    // The limit bounds all work, constant nodes included; only input-dependent work is credited.
    work += res.work;
    if (work > lim.maxWorkUnitsPerItem) nfail(`work per item exceeds the limit of ${lim.maxWorkUnitsPerItem} units`);
    if (outName === "") nfail("output name is empty");
    const dep = nodeFlow(ctx, where, res);
    deps.push({ inputs: node.inputs, output: outName, dep });
    defineName(outName, where, { dtype: "float32", shape: res.shape, origin: "node", flow: dep.flow });
  });

  // value_info: optional shape annotations of intermediate values; they must agree with ours.
  const annotated = new Set<string>();
  graph.valueInfo.forEach((vi, i) => {
    const where = `value_info ${i} "${vi.name}"`;
    const v = values.get(vi.name);
    if (v === undefined || v.origin !== "node") fail(`${where} does not name a node output`);
    if (annotated.has(vi.name)) fail(`${where} annotates "${vi.name}" twice`);
    annotated.add(vi.name);
    const shape = staticFloatTensorType(vi, where, lim, fail);
    if (!sameShape(shape, v!.shape)) fail(`${where} declares shape ${fmtShape(shape)} but the graph computes ${fmtShape(v!.shape)}`);
  });

  // Graph outputs: produced by nodes, float32, declared shapes equal to the computed ones.
  if (graph.outputs.length === 0) fail("graph has no outputs");
  const outputs: TensorInfo[] = [];
  const outputNames = new Set<string>();
  graph.outputs.forEach((vi, i) => {
    const where = `graph output ${i} "${vi.name}"`;
    if (vi.name === "") fail(`graph output ${i} has an empty name`);
    if (outputNames.has(vi.name)) fail(`${where} is listed twice (duplicate output name)`);
    outputNames.add(vi.name);
    const v = values.get(vi.name);
    if (v === undefined) fail(`${where} is not produced by any node`);
    if (v!.origin !== "node") fail(`${where} must be produced by a node (it is a graph ${v!.origin})`);
    const shape = staticFloatTensorType(vi, where, lim, fail);
    if (!sameShape(shape, v!.shape)) fail(`${where} declares shape ${fmtShape(shape)} but the graph computes ${fmtShape(v!.shape)}`);
    outputs.push({ name: vi.name, shape, dtype: "float32" });
  });
  // Every output must depend on the input: otherwise it could be returned without running the model.
  checkOutputsVary(outputs.map((o) => ({ name: o.name, flow: values.get(o.name)!.flow })), inputs.map((t) => t.name), fail);

  return {
    inputs,
    outputs,
    workUnitsPerItem: creditedWork(deps, outputs.map((o) => o.name)),
    totalWorkUnits: work,
    opset,
    irVersion: Number(irVersion),
    nodeCount: graph.nodes.length,
    initializerBytes,
    intermediateElements: Number(totalElements),
  };
}

function nodeLabel(node: ParsedNode, index: number): string {
  return node.name !== "" ? `node ${index} "${node.name}" (${node.opType})` : `node ${index} (${node.opType})`;
}
