/**
 * `poi tx staking|slashing ...` and `poi query staking|slashing ...`: the Cosmos staking and slashing
 * messages through PoiTxClient, the queries through PoiQueryClient (CosmJS's own extensions). Query
 * rows run through poi-query.ts's table runner; tx rows through the same refusal handling as `tx poi`.
 */
import { parseArgs } from "node:util";
import { fromBech32 } from "@cosmjs/encoding";
import { Decimal } from "@cosmjs/math";
import { Validator, DelegationResponse, UnbondingDelegation, Pool, Params as StakingParams } from "cosmjs-types/cosmos/staking/v1beta1/staking";
import { Params as SlashingParams, ValidatorSigningInfo } from "cosmjs-types/cosmos/slashing/v1beta1/slashing";
import type { PoiTxClient } from "../client/tx";
import { TxRefusedError } from "../client/results";
import { VALOPER_PREFIX } from "../app/params";
import { checkAddress, upoiArg } from "./args";
import { type OutputFormat, UsageError, outputFormat, positionals } from "./common";
import { printTx } from "./render";
import { row, runQueryRows, type QueryRow } from "./poi-query";
import { TX_OPTIONS, type TxValues, withSender } from "./poi-tx";

function valoperArg(a: string): string {
  let prefix = "";
  try { prefix = fromBech32(a, 90).prefix; } catch { prefix = ""; }
  if (prefix !== VALOPER_PREFIX) throw new Error(`invalid validator address "${a.slice(0, 100)}": want ${VALOPER_PREFIX}1...`);
  return a;
}

function decimalArg(d: string, what: string): string {
  try {
    const v = Decimal.fromUserInput(d, 18);
    if (v.isGreaterThan(Decimal.one(18))) throw new Error("above 1");
  } catch (err) {
    throw new Error(`invalid ${what} "${d.slice(0, 40)}": want a decimal between 0 and 1 such as 0.1 (${(err as Error).message})`);
  }
  return d;
}

function ed25519Arg(b64: string): Uint8Array {
  const key = Buffer.from(b64, "base64");
  if (key.length !== 32 || key.toString("base64") !== b64) throw new Error(`invalid --pubkey "${b64.slice(0, 64)}": want the base64 32-byte ed25519 key (priv_validator_key.json's pub_key.value)`);
  return key;
}

const statusArg = (s: string | undefined) => {
  if (s === undefined) return "" as const;
  const map = { bonded: "BOND_STATUS_BONDED", unbonded: "BOND_STATUS_UNBONDED" } as const;
  if (!(s in map)) throw new Error(`invalid --status "${s.slice(0, 32)}": want bonded or unbonded`);
  return map[s as keyof typeof map];
};
const none = () => undefined;
const str = (v: string | boolean | undefined) => (typeof v === "string" ? v : undefined);

export const STAKING_QUERIES: ReadonlyArray<QueryRow<unknown, unknown>> = [
  row({ name: "validators", args: [], flags: ["status"], request: (_, f) => statusArg(str(f.status)), query: (q, s) => q.validators(s), render: (vs) => ({ validators: vs.map((v) => Validator.toJSON(v)) }) }),
  row({ name: "validator", args: ["VALIDATOR_ADDRESS"], request: ([a]) => valoperArg(a), query: (q, a) => q.stakingValidator(a), render: (v) => Validator.toJSON(v) }),
  row({
    name: "delegations", args: ["DELEGATOR_ADDRESS"], request: ([a]) => checkAddress(a, "delegator address"),
    query: async (q, a) => ({ d: await q.delegations(a), u: await q.unbondingDelegations(a) }),
    render: ({ d, u }) => ({ delegation_responses: d.map((x) => DelegationResponse.toJSON(x)), unbonding_responses: u.map((x) => UnbondingDelegation.toJSON(x)) }),
  }),
  row({ name: "pool", args: [], request: none, query: (q) => q.stakingPool(), render: (p) => Pool.toJSON(p) }),
  row({ name: "params", args: [], request: none, query: (q) => q.stakingParams(), render: (p) => StakingParams.toJSON(p) }),
];

/** The LegacyDec byte fields as decimals ("0.5"), as the SDK CLI prints them. */
function decimals(p: SlashingParams): Record<string, string> {
  const d = (b: Uint8Array) => Decimal.fromAtomics(Buffer.from(b).toString("utf8") || "0", 18).toString();
  return { minSignedPerWindow: d(p.minSignedPerWindow), slashFractionDoubleSign: d(p.slashFractionDoubleSign), slashFractionDowntime: d(p.slashFractionDowntime) };
}

export const SLASHING_QUERIES: ReadonlyArray<QueryRow<unknown, unknown>> = [
  row({ name: "params", args: [], request: none, query: (q) => q.slashingParams(), render: (p) => ({ ...(SlashingParams.toJSON(p) as object), ...decimals(p) }) }),
  row({ name: "signing-infos", args: [], request: none, query: (q) => q.signingInfos(), render: (i) => ({ info: i.map((x) => ValidatorSigningInfo.toJSON(x)) }) }),
];

/** `poi query staking|slashing ...` */
export function runStakingQuery(module: "staking" | "slashing", argv: string[]): Promise<void> {
  return runQueryRows(module, module === "staking" ? STAKING_QUERIES : SLASHING_QUERIES, {}, argv);
}

interface TxRow {
  name: string;
  args: string[];
  flags: Record<string, { type: "string" }>;
  help: string;
  run(s: PoiTxClient, args: string[], f: Record<string, string | undefined>): ReturnType<PoiTxClient["sendOk"]>;
}

const STRING = { type: "string" } as const;
const TX_ROWS: Record<"staking" | "slashing", TxRow[]> = {
  staking: [
    {
      name: "create-validator", args: ["FROM_KEY"], help: "--pubkey B64 --amount 1000000upoi --moniker M [--commission-rate 0.1] [--commission-max-rate 0.2] [--commission-max-change-rate 0.01] [--min-self-delegation N]",
      flags: { pubkey: STRING, amount: STRING, moniker: STRING, "commission-rate": STRING, "commission-max-rate": STRING, "commission-max-change-rate": STRING, "min-self-delegation": STRING },
      run: (s, _a, f) => {
        const need = (k: string) => { if (f[k] === undefined) throw new UsageError(`tx staking create-validator needs --${k}`); return f[k]!; };
        return s.createValidator(ed25519Arg(need("pubkey")), { denom: "upoi", amount: upoiArg(need("amount"), "--amount").toString() }, {
          moniker: need("moniker"), rate: decimalArg(f["commission-rate"] ?? "0.1", "--commission-rate"), maxRate: decimalArg(f["commission-max-rate"] ?? "0.2", "--commission-max-rate"),
          maxChangeRate: decimalArg(f["commission-max-change-rate"] ?? "0.01", "--commission-max-change-rate"), minSelfDelegation: f["min-self-delegation"] !== undefined ? upoiArg(f["min-self-delegation"], "--min-self-delegation").toString() : undefined,
        });
      },
    },
    {
      name: "edit-validator", args: ["FROM_KEY"], help: "[--moniker M] [--commission-rate 0.12]", flags: { moniker: STRING, "commission-rate": STRING },
      run: (s, _a, f) => {
        if (f.moniker === undefined && f["commission-rate"] === undefined) throw new UsageError("tx staking edit-validator needs --moniker or --commission-rate");
        return s.editValidator({ moniker: f.moniker, rate: f["commission-rate"] === undefined ? undefined : decimalArg(f["commission-rate"], "--commission-rate") });
      },
    },
    { name: "delegate", args: ["FROM_KEY", "VALIDATOR_ADDRESS", "AMOUNT"], help: "", flags: {}, run: (s, [v, amt]) => s.delegate(valoperArg(v), { denom: "upoi", amount: upoiArg(amt, "amount").toString() }) },
    { name: "unbond", args: ["FROM_KEY", "VALIDATOR_ADDRESS", "AMOUNT"], help: "", flags: {}, run: (s, [v, amt]) => s.undelegate(valoperArg(v), { denom: "upoi", amount: upoiArg(amt, "amount").toString() }) },
  ],
  slashing: [{ name: "unjail", args: ["FROM_KEY"], help: "", flags: {}, run: (s) => s.unjail() }],
};

/** `poi tx staking|slashing ...` */
export async function runStakingTx(module: "staking" | "slashing", argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  const r = TX_ROWS[module].find((x) => x.name === sub);
  if (!r) throw new UsageError(`unknown tx "${module} ${sub ?? ""}" (want: ${TX_ROWS[module].map((x) => `tx ${module} ${x.name} ${x.args.join(" ")} ${x.help}`.trim()).join(" | ")})`);
  const { values, positionals: pos } = parseArgs({ args: rest, allowPositionals: true, options: { ...TX_OPTIONS, ...r.flags } });
  const output: OutputFormat = outputFormat(values.output);
  const [from, ...args] = positionals(`tx ${module} ${r.name}`, pos, r.args);
  const flags = values as Record<string, string | undefined>;
  try {
    const tx = await withSender(values as TxValues, from, (s) => r.run(s, args, flags));
    printTx(tx, output);
  } catch (err) {
    if (err instanceof TxRefusedError) {
      printTx(err.result, output);
      throw new Error(err.message);
    }
    throw err;
  }
}
