// `npm run bench`: the quick benchmarks, one after the other. Benchmarks print figures; they never fail on speed.
// Select some with arguments: `npm run bench -- store sigverify bank`. `throughput` (our app against
// CometBFT's kvstore, several minutes) runs only when named, and takes options: `npm run bench -- throughput --txs 500`.
import { runStoreBench } from "./bench-store";
import { runSigverifyBench } from "./bench-sigverify";
import { runBankBench } from "./bench-bank";
import { runVerifyBench } from "./bench-verify";
import { runTrainBench } from "./bench-train";
import { runTrainToleranceBench } from "./bench-train-tolerance";
import { parseThroughputArgs, runThroughputBench, THROUGHPUT_USAGE } from "./bench-throughput";
import { runAbciBench } from "./bench-abci";
import { runFloodBench } from "./bench-flood";

const BENCHES: Record<string, (options: string[]) => Promise<unknown>> = {
  store: () => runStoreBench(),
  sigverify: () => runSigverifyBench(),
  abci: () => runAbciBench({ profilePath: process.env.BENCH_ABCI_PROFILE, txsPerAccount: process.env.BENCH_ABCI_TXS ? Number(process.env.BENCH_ABCI_TXS) : undefined, socket: process.env.BENCH_ABCI_SOCKET === "1" }),
  bank: () => runBankBench(),
  verify: () => runVerifyBench(),
  train: () => runTrainBench(),
  "train-tolerance": () => runTrainToleranceBench(),
  flood: () => runFloodBench(),
  throughput: (options) => runThroughputBench(parseThroughputArgs(options)),
};
const DEFAULT = ["store", "sigverify", "abci", "bank", "verify", "train", "train-tolerance", "flood"];

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const firstOption = argv.findIndex((a) => a.startsWith("-"));
  const wanted = firstOption < 0 ? argv : argv.slice(0, firstOption);
  const options = firstOption < 0 ? [] : argv.slice(firstOption);
  for (const name of wanted) {
    if (!BENCHES[name]) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(", ")}`);
  }
  if (options.length && (wanted.length !== 1 || wanted[0] !== "throughput")) {
    throw new Error(`options are for the throughput benchmark alone:\n${THROUGHPUT_USAGE}`);
  }
  for (const name of wanted.length ? wanted : DEFAULT) {
    console.log(`\n=== ${name} ===`);
    await BENCHES[name](options);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
