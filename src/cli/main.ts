#!/usr/bin/env node
import { parseArgs } from "node:util";
import * as path from "node:path";
import { initNetwork } from "./home";
import { startApp } from "./node";
import { NodeSupervisor } from "./supervisor";
import { runExport } from "./export-cmd";
import { networkStatus, resetLocalnet, startLocalnet, stopLocalnet } from "./localnet";
import { runDemo } from "./demo";
import { LOCALNET_CHAIN_ID } from "../app/params";
import { UsageError } from "./common";
import { runKeys } from "./keys";
import { runQuery, runTx } from "./bankcmds";
import { runPoiQuery } from "./poi-query";
import { runPoiTx } from "./poi-tx";
import { runStakingQuery, runStakingTx } from "./staking-cmds";
import { runWorker } from "./worker-cmd";
import { runDebug, runDistributionTx, runEconQuery } from "./econ-cmds";
import { CHAIN_QUERIES, runChainQuery, runStatus } from "./chain-cmds";
import { runChainInfo } from "./chain-info";

const USAGE = `usage: poi <command> [options]

  init   --home DIR [--chain-id ID] [--base-port P]   make a 1-validator node home (CometBFT config, genesis, app config)
  start  --home DIR [--with-cometbft] [--unsafe-test-knobs]
         run the app; --with-cometbft: a supervisor runs the app and cometbft and restarts both when either dies
         --unsafe-test-knobs: allow the fault-injection knobs of config/app.json (tests only; refused without it)
  localnet start|status|stop|reset [--validators N] [--home DIR] [--base-port P] [--detach] [--json] [--unsafe-test-knobs]
         start --demo: also run a worker per validator operator and a demo requester submitting MNIST tasks (npm start)
  export --home DIR [--height H] [--out FILE]          genesis.json of the (stopped) node's full state at height H (default: latest)

  keys add NAME [--recover]          new 24-word key (or --recover: mnemonic from the first line of stdin)
  keys list | show NAME [--address] | delete NAME [--yes]
  keys import-localnet --localnet-home DIR    import every account of DIR/accounts.json
       keyring: --keyring-dir DIR, else --home H (H/keyring), else $POI_HOME/keyring, else ~/.poi/keyring
  tx bank send FROM_KEY TO_ADDRESS AMOUNT [--node URL] [--fees COINS] [--gas N|auto] [--gas-adjustment 1.4]
       [--gas-prices 0.025upoi] [--memo TEXT] [--keyring-dir DIR | --home H]
  query bank balances ADDRESS [--denom D] [--node URL]
  query auth account ADDRESS [--node URL]
  query tx HASH | query txs --query "EVENT_QUERY" [--page N] [--limit N] [--order-by asc|desc] | query block [HEIGHT]
  status [--node URL]                  the node's CometBFT status
  chain-info --node URL [--rest URL] [--chain-id ID]
                                      Keplr ChainInfo JSON (REST defaults to the node's, RPC port + 2; --chain-id: no node contacted)

  tx poi register-model FROM_KEY --file MODEL.onnx [--name N] [--train-step-of MODEL_ID]
                                               with --train-step-of: a train-step graph of that inference model
  tx poi register-dataset FROM_KEY (--file ITEMS.f32 --shape 784 | --mnist N) [--items-per-chunk N] [--name N]
  tx poi submit-inference FROM_KEY --model ID (--dataset ID [--start S] --count C | --inputs-file F)
       --reward-per-item AMOUNT --k K --deadline BLOCKS --bond AMOUNT
  tx poi submit-training FROM_KEY --model TRAIN_STEP_ID --initial-params DATASET --x DATASET --y DATASET
       --train-start S --train-count N --held-out-start S --held-out-count N --steps T --batch-size B --lr 0.1
       --checkpoint-interval C --k K --reward AMOUNT --bond AMOUNT --min-accuracy-bps BPS --deadline BLOCKS
  tx poi claim FROM_KEY TASK_ID
  tx poi submit-result FROM_KEY TASK_ID --outputs-file F
  tx poi reveal FROM_KEY TASK_ID --checkpoints-file F   the requested checkpoints of a training attempt (the worker
                                               reveals by itself; F is what worker start --checkpoint-dir wrote)
  tx poi link-worker OPERATOR_KEY WORKER       a validator's operator offers to link a worker ...
  tx poi accept-link WORKER_KEY OPERATOR       ... and the worker accepts: its verified work counts for that validator
  tx poi unlink-worker KEY WORKER              the worker or its operator ends the link (an operator also withdraws an offer)
       every tx poi takes --node, --gas, --gas-adjustment, --gas-prices | --fees and the keyring options;
       .f32 files are raw float32 little-endian, items back to back; amounts are upoi ("1000" or "1000upoi")
  tx distribution withdraw-rewards FROM_KEY VALIDATOR_ADDRESS (poivaloper1...) | withdraw-commission FROM_KEY
  query mint params | inflation | annual-provisions
  query distribution rewards DELEGATOR [VALIDATOR] | commission VALIDATOR | outstanding-rewards VALIDATOR | community-pool | params
  debug invariants [--node URL]                every invariant on the node's latest state; exits 1 if one is broken
  query poi model ID | dataset ID | task ID | worker ADDRESS | params
  query poi models | datasets | tasks [--status open|claimed|awaiting_sample|verifying|completed|expired] [--requester A] [--worker A]
  query poi open-tasks [--since-height H]      open tasks in the order they became open
       lists print one page and its next_key: --limit N (default 100, at most 1000) --page-key HEX (a next_key)
       [--offset N] [--count-total] [--reverse]
  query poi task-outputs ID [--out-file F]
  query poi training-task ID | checkpoints TASK_ID | checkpoint TASK_ID INDEX CHUNK [--out-file F]
       a training task's terms, attempt and loss trace; its requested and revealed checkpoints; one revealed chunk
  query poi lineage MODEL_ID                   a model and its ancestors (training task, held-out accuracy, parent)
  tx staking create-validator FROM_KEY --pubkey B64 --amount 1000000upoi --moniker M [--commission-rate 0.1]
       [--commission-max-rate 0.2] [--commission-max-change-rate 0.01] [--min-self-delegation N]
  tx staking edit-validator FROM_KEY [--moniker M] [--commission-rate R]
  tx staking delegate|unbond FROM_KEY VALIDATOR_ADDRESS AMOUNT      validator addresses are poivaloper1...
  tx slashing unjail FROM_KEY
  query staking validators [--status bonded|unbonded] | validator VALIDATOR_ADDRESS | delegations DELEGATOR | pool | params
  query slashing params | signing-infos
  query poi links --operator A | --worker A     an operator's workers and open offers, or a worker's link
  query poi work-score VALOPER|CONSENSUS_ADDRESS   a validator's work score (EMA of its workers' credited units per epoch)
  worker start --key NAME [--node URL] [--cheat-fraction F] [--cheat-seed N] [--poll-ms MS] [--checkpoint-dir DIR]
       [--keyring-dir DIR | --home H]
       claims open tasks, runs them with onnxruntime, submits the results (training: trains, commits, reveals
       the checkpoints validators ask for); Ctrl-C stops it
       --node defaults to http://127.0.0.1:26657; keys, tx and query take --output json|text
`;

const log = (m: string) => process.stderr.write(m + "\n");

function intOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "init": {
      const { values } = parseArgs({ args: rest, options: { home: { type: "string" }, "chain-id": { type: "string" }, "base-port": { type: "string" } } });
      if (!values.home) throw new UsageError("init needs --home DIR");
      const { nodes } = await initNetwork({
        home: values.home, validators: 1, flat: true, basePort: intOption(values["base-port"], "base-port", 26656),
        chainId: values["chain-id"] ?? LOCALNET_CHAIN_ID,
      });
      const p = nodes[0].ports;
      log(`initialised ${values.home}: rpc http://127.0.0.1:${p.rpc}, rest http://127.0.0.1:${p.rest}, metrics http://127.0.0.1:${p.metrics}/metrics, accounts in ${path.join(values.home, "accounts.json")}`);
      return;
    }
    case "start": {
      const { values } = parseArgs({
        args: rest, options: { home: { type: "string" }, "with-cometbft": { type: "boolean", default: false }, "unsafe-test-knobs": { type: "boolean", default: false } },
      });
      if (!values.home) throw new UsageError("start needs --home DIR");
      const unsafeTestKnobs = values["unsafe-test-knobs"]!;
      if (values["with-cometbft"]) new NodeSupervisor(values.home, unsafeTestKnobs).start();
      else await startApp(values.home, { unsafeTestKnobs });
      return;
    }
    case "export": {
      await runExport(rest);
      return;
    }
    case "localnet": {
      const [sub, ...opts] = rest;
      const { values } = parseArgs({
        args: opts,
        options: {
          home: { type: "string", default: ".localnet" }, validators: { type: "string" }, "base-port": { type: "string" },
          detach: { type: "boolean", default: false }, json: { type: "boolean", default: false }, demo: { type: "boolean", default: false },
          "unsafe-test-knobs": { type: "boolean", default: false },
        },
      });
      const home = path.resolve(values.home!);
      if (sub === "start") {
        const layout = await startLocalnet({
          home, validators: intOption(values.validators, "validators", 4), basePort: intOption(values["base-port"], "base-port", 26656),
          unsafeTestKnobs: values["unsafe-test-knobs"], economics: values.demo,
        }, log);
        if (layout.nodes[0].ports.rest) log(`explorer: http://127.0.0.1:${layout.nodes[0].ports.rest}/explorer/`);
        if (values.detach) return;
        log(`following the localnet${values.demo ? " with PoI workers and a demo requester" : ""}; Ctrl-C stops it`);
        let stopDemo: (() => Promise<void>) | undefined;
        let stopping = false;
        let stopNow: (() => void) | undefined;
        const stop = async () => {
          if (stopping) return stopNow?.();
          stopping = true;
          if (stopDemo) {
            // A demo worker first finishes and submits the task it holds (a training run can take a minute), so that no bond lapses.
            log("stopping: each demo worker first finishes and submits the task it holds (Ctrl-C again to stop at once)");
            await Promise.race([stopDemo(), new Promise<void>((resolve) => (stopNow = resolve))]);
          }
          await stopLocalnet(home, log);
          process.exit(0);
        };
        process.on("SIGINT", () => void stop());
        process.on("SIGTERM", () => void stop());
        if (values.demo) stopDemo = await runDemo({ home, log });
        for (;;) {
          const st = await networkStatus(home);
          log(st.map((s) => `${s.moniker} h=${s.height ?? "-"}`).join("  ") + `  app_hash=${st[0].appHash?.slice(0, 16) ?? "-"}`);
          await new Promise((r) => setTimeout(r, values.demo ? 10_000 : 3000));
        }
      }
      if (sub === "status") {
        const st = await networkStatus(home);
        if (values.json) process.stdout.write(JSON.stringify(st, null, 2) + "\n");
        else for (const s of st) process.stdout.write(`${s.moniker}\t${s.rpc}\t${s.rest ?? "-"}\t${s.running ? "running" : "stopped"}\theight=${s.height ?? "-"}\tapp_hash=${s.appHash ?? "-"}\n`);
        return;
      }
      if (sub === "stop") return stopLocalnet(home, log);
      if (sub === "reset") return resetLocalnet(home, log);
      throw new UsageError(`unknown localnet command "${sub ?? ""}" (want start, status, stop or reset)`);
    }
    case "keys":
      return runKeys(rest);
    case "tx":
      if (rest[0] === "staking" || rest[0] === "slashing") return runStakingTx(rest[0], rest.slice(1));
      if (rest[0] === "distribution") return runDistributionTx(rest.slice(1));
      return rest[0] === "poi" ? runPoiTx(rest.slice(1)) : runTx(rest);
    case "query":
    case "q":
      if (rest[0] === "staking" || rest[0] === "slashing") return runStakingQuery(rest[0], rest.slice(1));
      if (rest[0] === "mint" || rest[0] === "distribution") return runEconQuery(rest[0], rest.slice(1));
      if (CHAIN_QUERIES.includes(rest[0])) return runChainQuery(rest);
      return rest[0] === "poi" ? runPoiQuery(rest.slice(1)) : runQuery(rest);
    case "debug":
      return runDebug(rest);
    case "status":
      return runStatus(rest);
    case "chain-info":
      return runChainInfo(rest);
    case "worker":
      return runWorker(rest);
    case undefined:
    case "help":
    case "--help":
      process.stdout.write(USAGE);
      return;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((err: Error) => {
  const code = (err as { code?: unknown }).code; // numeric on some library errors
  const usage = err instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
  process.stderr.write(`error: ${err.message}\n${usage ? "\n" + USAGE : ""}`);
  process.exit(usage ? 2 : 1);
});
