/**
 * `npm run bench -- train`: how long our own MNIST MLP training takes (784 -> 64 -> 10, 8,000 digits,
 * seeded), and the held-out accuracy it reaches. A figure, never a pass/fail.
 */
import { trainMnistMlp } from "../src/ml/train";

export async function runTrainBench(): Promise<void> {
  const runs: number[] = [];
  let accuracy = 0;
  for (let i = 0; i < 3; i++) {
    const r = trainMnistMlp();
    runs.push(r.trainMs);
    accuracy = r.testAccuracy;
  }
  const sorted = [...runs].sort((a, b) => a - b);
  console.log(`MNIST MLP training, 3 runs: ${runs.join(", ")} ms (median ${sorted[1]} ms); held-out accuracy ${(accuracy * 100).toFixed(2)}%`);
}
