import { strict as assert } from "assert";
import { onnx } from "onnx-proto";
import { encodeModel, tensorValueInfo } from "../../src/x/poi/onnx/builder";
import { ModelValidationError, validateModel } from "../../src/x/poi/onnx/validate";

/**
 * The model `proto` with its one output "y" declared with the shape validateModel computes for it,
 * learnt from a model that declares a placeholder shape; undefined when the validator refuses the
 * model for another reason (any other error fails the test).
 */
export function withInferredOutput(proto: onnx.IModelProto): { bytes: Uint8Array; shape: number[] } | undefined {
  const withOutput = (shape: number[]): Uint8Array => {
    proto.graph!.output = [tensorValueInfo("y", shape)];
    return encodeModel(proto);
  };
  let shape: number[] | undefined;
  try {
    validateModel(withOutput([]));
    shape = [];
  } catch (e) {
    assert.ok(e instanceof ModelValidationError, String(e));
    const m = /declares shape \[\] but the graph computes \[([0-9,]*)\]/.exec(e.message);
    if (m) shape = m[1] === "" ? [] : m[1].split(",").map(Number);
  }
  if (shape === undefined) return undefined;
  const bytes = withOutput(shape);
  assert.deepEqual(validateModel(bytes).outputs[0].shape, shape);
  return { bytes, shape };
}
