/** Worker-thread entry: runs one chunk of the secp256k1 differential (workerData) and posts its result. */
import { parentPort, workerData } from "node:worker_threads";
import { runDifferentialChunk, type DifferentialChunk } from "./secp-differential";

parentPort!.postMessage(runDifferentialChunk(workerData as DifferentialChunk));
