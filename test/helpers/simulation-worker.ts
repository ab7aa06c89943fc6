/** Worker-thread entry: one simulation run (workerData: seed, run, blocks), posting its SimResult. */
import { parentPort, workerData } from "node:worker_threads";
import { Rng } from "./fuzz-gen";
import { Simulation } from "./simulation";

const { seed, run, blocks } = workerData as { seed: number; run: number; blocks: number };
void (async () => {
  const sim = await Simulation.create(seed, new Rng(seed), `seed ${seed} run ${run}`);
  try {
    parentPort!.postMessage(await sim.run(blocks));
  } finally {
    await sim.close();
  }
})();
