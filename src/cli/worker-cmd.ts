/** `poi worker start --key NAME ...`: the worker daemon (src/worker) from the command line. */
import { parseArgs } from "node:util";
import { PoiWorker } from "../worker/worker";
import { NODE_OPTION, checkNodeUrl, gasPricesOption, need, nonNegativeInt, positiveInt } from "./args";
import { UsageError, positionals } from "./common";
import { KEYRING_OPTIONS, keyringDir, readKey } from "./keys";

/** `poi worker start --key NAME ...`: runs a PoiWorker until SIGINT or SIGTERM. */
export async function runWorker(argv: string[]): Promise<void> {
  const [sub, ...args] = argv;
  if (sub !== "start") throw new UsageError(`unknown worker command "${sub ?? ""}" (want: worker start --key NAME)`);
  const { values, positionals: pos } = parseArgs({
    args, allowPositionals: true,
    options: {
      ...KEYRING_OPTIONS, ...NODE_OPTION, key: { type: "string" }, "cheat-fraction": { type: "string" }, "cheat-seed": { type: "string" },
      "poll-ms": { type: "string" }, "gas-prices": { type: "string" }, "checkpoint-dir": { type: "string" },
    },
  });
  positionals("worker start", pos, []);
  const keyName = need(values.key, "key NAME", "worker start");
  const node = checkNodeUrl(values.node);
  let cheatFraction = 0;
  if (values["cheat-fraction"] !== undefined) {
    cheatFraction = Number(values["cheat-fraction"]);
    if (values["cheat-fraction"].trim() === "" || !(cheatFraction >= 0 && cheatFraction <= 1)) {
      throw new Error(`invalid --cheat-fraction "${values["cheat-fraction"]}": want a number from 0 to 1`);
    }
  }
  const cheatSeed = values["cheat-seed"] !== undefined ? nonNegativeInt(values["cheat-seed"], "--cheat-seed") : 1;
  const pollMs = values["poll-ms"] !== undefined ? positiveInt(values["poll-ms"], "--poll-ms") : 500;
  const key = readKey(keyringDir(values), keyName);
  const worker = new PoiWorker({
    rpc: node, mnemonic: key.mnemonic, cheatFraction, cheatSeed, pollMs, gasPrice: gasPricesOption(values["gas-prices"]), checkpointDir: values["checkpoint-dir"],
    log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
  });
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130); // a second Ctrl-C does not wait
    process.stdout.write(`${new Date().toISOString()} stopping (finishing the current step; Ctrl-C again to quit at once)\n`);
    void worker.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  await worker.start();
  const s = worker.stats;
  process.stdout.write(`stats: claimed ${s.claimed}, lost claims ${s.lostClaims}, submitted ${s.submitted}, completed ${s.completed}, failed ${s.failed}, ` +
    `verification timeouts ${s.verifyTimeouts}, lapsed ${s.lapsed}, expired ${s.expired}, errors ${s.errors}, items run ${s.itemsRun}, ` +
    `fabricated ${s.itemsFabricated}, earned ${s.earned}upoi, slashed ${s.slashed}upoi\n`);
}
