import * as path from "node:path";
import { Worker } from "node:worker_threads";

/**
 * Runs `test/helpers/<file>.js` on a worker thread with `workerData` and resolves with the one
 * message it posts; rejects if it throws or exits without one. `what` names it in the error.
 */
export function runInWorker<T>(file: string, workerData: unknown, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, `${file}.js`), { workerData });
    let result: T | undefined;
    worker.once("message", (m: T) => (result = m));
    worker.once("error", reject);
    worker.once("exit", (code) => (result !== undefined && code === 0 ? resolve(result) : reject(new Error(`${what} exited with code ${code} and no result`))));
  });
}
