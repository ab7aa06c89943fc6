/** Worker-thread entry: one simulation run (workerData: seed, run, blocks), posting its SimResult. */
import { parentPort, workerData } from "node:worker_threads";
import { Simulation } from "./simulation";

const { seed, run, blocks } = workerData as { seed: number; run: number; blocks: number };
void Simulation.runOnce(seed, run, blocks).then((r) => parentPort!.postMessage(r));
