/**
 * `poi tx distribution ...`, `poi query mint|distribution ...` and `poi debug invariants`: the
 * economics from the command line, through the one tx client and the one query client.
 */
import { parseArgs } from "node:util";
import { TxRefusedError } from "../client/results";
import { parseValoperAddress } from "../app/address";
import { NODE_OPTION, checkAddress, checkNodeUrl } from "./args";
import { withQueryClient } from "./clients";
import { OUTPUT_OPTION, type OutputFormat, UsageError, errorMessage, outputFormat, positionals, printJson, printLines } from "./common";
import { TX_OPTIONS, withSender } from "./poi-tx";
import { row, runQueryRows, type QueryRow } from "./poi-query";
import { printTx } from "./render";

function valoperArg(a: string): string {
  try {
    parseValoperAddress(a, "validator address");
  } catch (err) {
    throw new Error(errorMessage(err));
  }
  return a;
}
const noRequest = () => undefined;

const MINT_QUERIES: ReadonlyArray<QueryRow<unknown, unknown>> = [
  row({ name: "params", args: [], request: noRequest, query: (q) => q.mintParams(), render: (p) => p }),
  row({ name: "inflation", args: [], request: noRequest, query: (q) => q.inflation(), render: (v) => ({ inflation: v }) }),
  row({ name: "annual-provisions", args: [], request: noRequest, query: (q) => q.annualProvisions(), render: (v) => ({ annual_provisions: v }) }),
];

const DISTRIBUTION_QUERIES: ReadonlyArray<QueryRow<unknown, unknown>> = [
  row({
    name: "rewards", args: ["DELEGATOR_ADDRESS", "[VALIDATOR_ADDRESS]"],
    request: ([d, v]) => ({ delegator: checkAddress(d, "delegator address"), validator: v === undefined ? undefined : valoperArg(v) }),
    query: (q, { delegator, validator }) => q.delegationRewards(delegator, validator), render: (r) => r,
  }),
  row({ name: "commission", args: ["VALIDATOR_ADDRESS"], request: ([v]) => valoperArg(v), query: (q, v) => q.validatorCommission(v), render: (r) => r }),
  row({ name: "outstanding-rewards", args: ["VALIDATOR_ADDRESS"], request: ([v]) => valoperArg(v), query: (q, v) => q.validatorOutstandingRewards(v), render: (r) => r }),
  row({ name: "community-pool", args: [], request: noRequest, query: (q) => q.communityPool(), render: (r) => r }),
  row({ name: "params", args: [], request: noRequest, query: (q) => q.distributionParams(), render: (r) => r }),
];

/** `poi query mint ...` | `poi query distribution ...` */
export function runEconQuery(module: "mint" | "distribution", argv: string[]): Promise<void> {
  // `rewards` takes an optional second address: accept one or two positionals.
  if (module === "distribution" && argv[0] === "rewards") {
    const { positionals: addrs } = parseArgs({ args: argv.slice(1), allowPositionals: true, strict: false, options: { ...OUTPUT_OPTION, ...NODE_OPTION } });
    if (addrs.length === 1) {
      const rows = DISTRIBUTION_QUERIES.map((r) => (r.name === "rewards" ? { ...r, args: ["DELEGATOR_ADDRESS"] } : r));
      return runQueryRows(module, rows, {}, argv);
    }
  }
  return runQueryRows(module, module === "mint" ? MINT_QUERIES : DISTRIBUTION_QUERIES, {}, argv);
}

/** `poi tx distribution withdraw-rewards FROM_KEY VALIDATOR_ADDRESS` | `withdraw-commission FROM_KEY` */
export async function runDistributionTx(argv: string[]): Promise<void> {
  const [sub, ...args] = argv;
  const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: TX_OPTIONS });
  const output: OutputFormat = outputFormat(values.output);
  try {
    if (sub === "withdraw-rewards") {
      const [from, validator] = positionals("tx distribution withdraw-rewards", pos, ["FROM_KEY", "VALIDATOR_ADDRESS"]);
      valoperArg(validator);
      return printTx(await withSender(values, from, (s) => s.withdrawRewards(validator)), output);
    }
    if (sub === "withdraw-commission") {
      const [from] = positionals("tx distribution withdraw-commission", pos, ["FROM_KEY"]);
      return printTx(await withSender(values, from, (s) => s.withdrawCommission()), output);
    }
  } catch (err) {
    if (err instanceof TxRefusedError) {
      printTx(err.result, output);
      throw new Error(err.message);
    }
    throw err;
  }
  throw new UsageError(`unknown tx "distribution ${sub ?? ""}" (want: tx distribution withdraw-rewards FROM_KEY VALIDATOR_ADDRESS | withdraw-commission FROM_KEY)`);
}

/** `poi debug invariants [--node URL]`: every invariant on the node's latest state; exits 1 when one is broken. */
export async function runDebug(argv: string[]): Promise<void> {
  const [sub, ...args] = argv;
  if (sub !== "invariants") throw new UsageError(`unknown debug command "${sub ?? ""}" (want: debug invariants [--node URL])`);
  const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { ...OUTPUT_OPTION, ...NODE_OPTION } });
  positionals("debug invariants", pos, []);
  const output = outputFormat(values.output);
  const results = await withQueryClient(checkNodeUrl(values.node), (q) => q.invariants());
  if (output === "json") printJson(results);
  else printLines(results.map((r) => `${r.broken ? "BROKEN" : "ok"}\t${r.name}${r.broken ? `\t${r.message}` : ""}`));
  const broken = results.filter((r) => r.broken);
  if (broken.length > 0) throw new Error(`${broken.length} invariant(s) broken: ${broken.map((r) => r.name).join(", ")}`);
}
