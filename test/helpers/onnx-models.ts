/** Models the onnx tests build and run: onnxruntime sessions with the verifier's options, the MNIST MLP's bytes and its documented work units. */
import * as ort from "onnxruntime-node";
import { buildMlp, type MlpWeights } from "../../src/x/poi/onnx/builder";
import { SESSION_OPTIONS } from "../../src/x/poi/verify/session-options";

export function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, SESSION_OPTIONS);
}

export function mlpBytes(weights: MlpWeights, inputSize = 784, hidden = 64, outputs = 10): Uint8Array {
  return buildMlp({ inputSize, hidden, outputs, weights });
}

/** Work units of the MLP as documented in src/x/poi/onnx/README.md. */
export function mlpWorkUnits(inputSize: number, hidden: number, outputs: number): bigint {
  const matmuls = inputSize * hidden + hidden * outputs; // multiply-accumulates
  const elementwise = hidden /* Add b1 */ + hidden /* Relu */ + outputs; /* Add b2 */
  return BigInt(matmuls + elementwise);
}
