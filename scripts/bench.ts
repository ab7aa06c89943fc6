// `npm run bench`: every benchmark, one after the other. Benchmarks print figures; they never fail on speed.
// Select some with arguments: `npm run bench -- store sigverify bank`.
import { runStoreBench } from "./bench-store";
import { runSigverifyBench } from "./bench-sigverify";
import { runBankBench } from "./bench-bank";
import { runVerifyBench } from "./bench-verify";
import { runAbciBench } from "./bench-abci";

const BENCHES: Record<string, () => Promise<unknown>> = {
  store: () => runStoreBench(),
  sigverify: () => runSigverifyBench(),
  abci: () => runAbciBench(),
  bank: () => runBankBench(),
  verify: () => runVerifyBench(),
};
const ORDER = ["store", "sigverify", "abci", "bank", "verify"];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  for (const name of wanted) {
    if (!BENCHES[name]) throw new Error(`unknown benchmark "${name}"; known: ${ORDER.join(", ")}`);
  }
  for (const name of wanted.length ? wanted : ORDER) {
    console.log(`\n=== ${name} ===`);
    await BENCHES[name]();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
