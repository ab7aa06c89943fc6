import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { resolveCometbft, PROJECT_ROOT } from "./cometbft-bin";
import type { VerifierFault } from "../x/poi/verify/service";
import { ADDRESS_PREFIX, BOND_DENOM, LOCALNET_CHAIN_ID } from "../app/params";
import { genesisValidators } from "../x/staking/genesis";
import { DEFAULT_STAKING_PARAMS } from "../x/staking/params";

const TEMPLATES = path.join(PROJECT_ROOT, "cometbft");

/** Ports of one node; every node of a localnet gets its own set on loopback (README "Ports"). */
export interface NodePorts {
  p2p: number;
  rpc: number;
  abci: number;
  /** The app's REST API (gRPC-gateway JSON) and explorer page. */
  rest: number;
  /** The app's Prometheus metrics. */
  metrics: number;
  /** CometBFT's own Prometheus metrics. */
  cometbftMetrics: number;
}

export function portsFor(basePort: number, index: number): NodePorts {
  const base = basePort + index * 100;
  return { p2p: base, rpc: base + 1, abci: base + 2, rest: base + 3, metrics: base + 4, cometbftMetrics: base + 5 };
}

/** The app's own settings, in <home>/config/app.json. */
export interface AppConfig {
  abci_listen: string;
  rpc_url: string;
  /** Where the REST API and explorer listen (absent in homes made before they existed: not served). */
  rest_listen?: string;
  /** Where the app's Prometheus metrics listen (absent: not served). */
  metrics_listen?: string;
  max_tx_bytes: number;
  min_gas_prices: string;
  /** Test knob only: perturb or invert this validator's verdicts (src/x/poi/verify/service.ts). */
  verifier_fault?: VerifierFault;
}

export interface TestAccount {
  name: string;
  mnemonic: string;
  address: string;
}

export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`template placeholder {{${name}}} has no value`);
    return String(values[name]);
  });
}

/** Sets `key = value` lines of a TOML file, section by section, keeping everything else as cometbft wrote it. */
export function applyTomlOverrides(base: string, overrides: string): string {
  const wanted = new Map<string, string>(); // "section\0key" -> full line
  let section = "";
  for (const line of overrides.split("\n")) {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    const sec = /^\[(.+)\]$/.exec(t);
    if (sec) { section = sec[1]; continue; }
    const kv = /^([A-Za-z0-9_]+)\s*=/.exec(t);
    if (!kv) throw new Error(`cannot parse override line: ${line}`);
    wanted.set(`${section}\0${kv[1]}`, t);
  }
  const applied = new Set<string>();
  section = "";
  const out = base.split("\n").map((line) => {
    const t = line.trim();
    const sec = /^\[(.+)\]$/.exec(t);
    if (sec) { section = sec[1]; return line; }
    const kv = /^([A-Za-z0-9_]+)\s*=/.exec(t);
    const id = kv ? `${section}\0${kv[1]}` : "";
    const replacement = wanted.get(id);
    if (replacement === undefined) return line;
    applied.add(id);
    return replacement;
  });
  const missing = [...wanted.keys()].filter((k) => !applied.has(k)).map((k) => k.replace("\0", "."));
  if (missing.length) throw new Error(`config.toml has no keys ${missing.join(", ")} to override`);
  return out.join("\n");
}

export interface NodeInit {
  home: string;
  moniker: string;
  ports: NodePorts;
  nodeId: string;
  validator: { address: string; pub_key: { type: string; value: string }; power: string; name: string };
}

/** `cometbft init` a node home, then lay our config and app config over it. Peers are set later. */
export function initNodeHome(home: string, moniker: string, ports: NodePorts): NodeInit {
  const cometbft = resolveCometbft();
  execFileSync(cometbft, ["init", "--home", home], { stdio: "ignore" });
  const nodeId = execFileSync(cometbft, ["show-node-id", "--home", home], { encoding: "utf8" }).trim();
  const key = JSON.parse(fs.readFileSync(path.join(home, "config", "priv_validator_key.json"), "utf8"));
  const appConfig = fill(fs.readFileSync(path.join(TEMPLATES, "app.template.json"), "utf8"), {
    abci_port: ports.abci, rpc_port: ports.rpc, rest_port: ports.rest, metrics_port: ports.metrics,
  });
  fs.writeFileSync(path.join(home, "config", "app.json"), appConfig);
  const power = (GENESIS_SELF_BOND / DEFAULT_STAKING_PARAMS.power_reduction).toString(); // what x/staking computes for equal self-bonds
  return { home, moniker, ports, nodeId, validator: { address: key.address, pub_key: key.pub_key, power, name: moniker } };
}

export function writeNodeConfig(node: NodeInit, peers: string, timeoutCommit: string): void {
  const file = path.join(node.home, "config", "config.toml");
  const overrides = fill(fs.readFileSync(path.join(TEMPLATES, "config-overrides.toml"), "utf8"), {
    moniker: node.moniker, abci_port: node.ports.abci, rpc_port: node.ports.rpc, p2p_port: node.ports.p2p, prometheus_port: node.ports.cometbftMetrics,
    persistent_peers: peers, timeout_commit: timeoutCommit,
  });
  fs.writeFileSync(file, applyTomlOverrides(fs.readFileSync(file, "utf8"), overrides));
}

/** Test accounts: one operator per validator plus a faucet, a requester and four users. */
export async function makeAccounts(validators: number): Promise<TestAccount[]> {
  const names = ["faucet", "requester", ...Array.from({ length: validators }, (_, i) => `operator${i}`), "user0", "user1", "user2", "user3"];
  const out: TestAccount[] = [];
  for (const name of names) {
    const wallet = await DirectSecp256k1HdWallet.generate(24, { prefix: ADDRESS_PREFIX });
    const [acc] = await wallet.getAccounts();
    out.push({ name, mnemonic: wallet.mnemonic, address: acc.address });
  }
  return out;
}

export const ACCOUNT_BALANCE = 1_000_000_000_000n; // 1,000,000 POI in upoi
/**
 * A localnet's power params (the rest are x/staking's defaults). With 4 validators the default 25% cap
 * allows only equal powers (src/x/staking/README.md, "Power"), so a localnet caps at 33%: work can lift
 * one validator above the others, and still no single validator reaches the 1/3 that could halt the
 * chain. Power moves by at most 5% of the total per epoch, so a rise shows over several epochs.
 */
export const LOCALNET_STAKING_PARAMS = { max_power_share_bps: "3300", max_power_change_bps: "500" };
/** What each genesis validator's operator bonds to it (100,000 POI). */
export const GENESIS_SELF_BOND = 100_000_000_000n;

export function writeGenesis(nodes: NodeInit[], accounts: TestAccount[], chainId: string, economics = false): void {
  const genesis = JSON.parse(fs.readFileSync(path.join(TEMPLATES, "genesis.template.json"), "utf8"));
  genesis.chain_id = chainId;
  // Genesis time is an input to consensus, written once here; the state machine only reads block times.
  genesis.genesis_time = new Date().toISOString();
  genesis.validators = nodes.map((n) => n.validator);
  // Each validator i is an x/staking validator: operator<i> bonds GENESIS_SELF_BOND to it.
  const operatorOf = (i: number) => accounts.find((a) => a.name === `operator${i}`)!.address;
  const staking = genesisValidators(nodes.map((n, i) => ({
    operator: operatorOf(i), pubkey: Buffer.from(n.validator.pub_key.value, "base64"), selfBond: GENESIS_SELF_BOND, moniker: n.moniker,
  })));
  const operators = new Set(nodes.map((_, i) => operatorOf(i)));
  genesis.app_state.bank.balances = [
    ...accounts.map((a) => ({ address: a.address, coins: [{ denom: BOND_DENOM, amount: (ACCOUNT_BALANCE - (operators.has(a.address) ? GENESIS_SELF_BOND : 0n)).toString() }] })),
    { address: staking.bondedPool.address, coins: [{ denom: BOND_DENOM, amount: staking.bondedPool.amount.toString() }] },
  ];
  genesis.app_state.staking = staking.staking;
  Object.assign(genesis.app_state.staking.params, LOCALNET_STAKING_PARAMS);
  // Validator i's verification income goes to the account operator<i>.
  genesis.app_state.valset = {
    operators: nodes.flatMap((n, i) => accounts.filter((a) => a.name === `operator${i}`).map((a) => ({ address: n.validator.address, operator: a.address }))),
  };
  // Mint and distribution with their default params (src/x/mint, src/x/distribution); without these sections they stay off.
  // The demo also plants known-answer audits on 5% of passed results (off by default: src/x/poi/README.md).
  if (economics) Object.assign(genesis.app_state, { mint: {}, distribution: {}, poi: { params: { auditRateBps: "500" } } });
  const text = JSON.stringify(genesis, null, 2);
  for (const n of nodes) fs.writeFileSync(path.join(n.home, "config", "genesis.json"), text);
}

export interface NetworkOptions {
  home: string;
  validators: number;
  basePort: number;
  chainId?: string;
  timeoutCommit?: string;
  /** Lay node i at <home>/node<i>; with a single validator and flat=true, the node home is <home> itself. */
  flat?: boolean;
  /** Turn on x/mint and x/distribution in genesis (the demo does). */
  economics?: boolean;
}

/** Creates every node home, shared genesis, peers and accounts.json. Refuses to overwrite an existing home. */
export async function initNetwork(opts: NetworkOptions): Promise<{ nodes: NodeInit[]; accounts: TestAccount[] }> {
  if (fs.existsSync(path.join(opts.home, opts.flat ? "config" : "node0"))) {
    throw new Error(`${opts.home} already holds a chain; use 'reset' first or pick another --home`);
  }
  if (opts.flat && opts.validators !== 1) throw new Error("a flat home holds exactly one validator");
  fs.mkdirSync(opts.home, { recursive: true });
  const nodes: NodeInit[] = [];
  for (let i = 0; i < opts.validators; i++) {
    const nodeHome = opts.flat ? opts.home : path.join(opts.home, `node${i}`);
    nodes.push(initNodeHome(nodeHome, `node${i}`, portsFor(opts.basePort, i)));
  }
  for (const n of nodes) {
    const peers = nodes.filter((p) => p !== n).map((p) => `${p.nodeId}@127.0.0.1:${p.ports.p2p}`).join(",");
    writeNodeConfig(n, peers, opts.timeoutCommit ?? "300ms");
  }
  const accounts = await makeAccounts(opts.validators);
  writeGenesis(nodes, accounts, opts.chainId ?? LOCALNET_CHAIN_ID, opts.economics);
  fs.writeFileSync(path.join(opts.home, "accounts.json"), JSON.stringify(accounts, null, 2), { mode: 0o600 });
  const layout = { validators: opts.validators, basePort: opts.basePort, nodes: nodes.map((n) => ({ home: n.home, moniker: n.moniker, ports: n.ports, nodeId: n.nodeId })) };
  fs.writeFileSync(path.join(opts.home, "network.json"), JSON.stringify(layout, null, 2));
  return { nodes, accounts };
}

export function readAppConfig(home: string): AppConfig {
  const file = path.join(home, "config", "app.json");
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run 'poi init --home ${home}' first`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as AppConfig;
}
