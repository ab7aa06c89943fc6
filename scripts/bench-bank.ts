/**
 * Benchmark of bank-send throughput on a real 1-validator localnet (our app + CometBFT).
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench.js bank
 *
 * `poi init --base-port 25000` a node in a temp home (p2p 25000, RPC 25001, ABCI 25002), start it
 * with `poi start --with-cometbft`, wait for height 2. The faucet from accounts.json funds
 * ACCOUNTS fresh sender accounts with one MsgMultiSend. Then every sender's TXS_PER_ACCOUNT MsgSend
 * txs (1upoi to one sink address, fee 5000upoi, gas 200000) are signed OFFLINE with explicit account
 * number and sequence, before the clock starts. They are broadcast with broadcast_tx_sync (each
 * sender in sequence order, the senders concurrently) while a poller follows the new blocks and
 * their results (scripts/bench-load.ts). Figures: CheckTx acceptance, blocks used, txs per block,
 * and txs/s from the first broadcast to the block holding the last tx being seen committed. Every
 * tx must end with code 0; balances and sequences are checked at the end. The node and its home are
 * removed afterwards, also on error or Ctrl-C.
 *
 * prepareBankSends and checkBankState are also the load of the throughput benchmark.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { DirectSecp256k1Wallet } from "@cosmjs/proto-signing";
import { SigningStargateClient, StargateClient } from "@cosmjs/stargate";
import { toBech32 } from "@cosmjs/encoding";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgMultiSend, MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { poiRegistry, walletFromMnemonic } from "../src/client";
import { ADDRESS_PREFIX, BOND_DENOM } from "../src/app/params";
import { isAlive, ownerPid, readPids } from "../src/cli/node";
import { height as rpcHeight, poi, sleep, startSingle, stopSingle } from "../test/helpers/chain";
import { assertAllCommitted, broadcastTxSync, hashOf, loadFigures, portFree, readCodes, runLoad, tail, waitForAppHeight, type LoadResult, type LoadTx } from "./bench-load";

export interface BankBenchOptions {
  accounts?: number;
  txsPerAccount?: number;
  /** p2p = base, RPC = base + 1, ABCI = base + 2 */
  basePort?: number;
}

export interface BankBenchResult {
  submitted: number;
  checkTxAccepted: number;
  included: number;
  succeeded: number;
  blocksUsed: number;
  meanTxsPerBlock: number;
  txsPerSec: number;
}

const AMOUNT = 1n;
const FEE = 5000n; // 0.025upoi x 200000 gas: the node's min_gas_prices
const GAS = 200_000n;

/** Pre-signed MsgSends: one lane a sender, each lane in sequence order. */
export interface BankSends {
  lanes: LoadTx[][];
  senders: string[];
  sink: string;
  /** what each sender was funded with */
  funding: bigint;
  perAccount: number;
  signSec: number;
  /** mean encoded TxRaw size */
  txBytes: number;
}

/** Waits for `h`, failing fast (with the node's logs) if the node process dies. */
async function waitForNode(home: string, url: string, h: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await rpcHeight(url)) >= h) return;
    const pids = readPids(home);
    const dead = pids && !isAlive(ownerPid(pids));
    if (dead || Date.now() > deadline) {
      throw new Error(`node at ${url} ${dead ? "exited" : `did not reach height ${h} in ${timeoutMs} ms`}\n--- app.log\n${tail(path.join(home, "app.log"))}\n--- cometbft.log\n${tail(path.join(home, "cometbft.log"))}`);
    }
    await sleep(200);
  }
}

/** Waits until the node at `rpcUrl` has committed tx `hash`; returns its result code and log. */
async function waitForTx(rpcUrl: string, hash: string, timeoutMs: number): Promise<{ code: number; log: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${rpcUrl}/tx?hash=0x${hash}`, { signal: AbortSignal.timeout(5000) }).then((r) => r.json()).catch(() => undefined) as
      { result?: { tx_result: { code?: number; log?: string } } } | undefined;
    if (res?.result) return { code: res.result.tx_result.code ?? 0, log: res.result.tx_result.log ?? "" };
    if (Date.now() > deadline) throw new Error(`tx ${hash} not included within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/**
 * Funds `accounts` fresh senders from the faucet with one MsgMultiSend (waits for it), then signs
 * `perAccount` MsgSends (1upoi to one fresh sink) for each, offline, with explicit account numbers
 * and sequences.
 */
export async function prepareBankSends(opts: {
  rpcUrl: string; faucet: { address: string; mnemonic: string }; chainId: string; accounts: number; perAccount: number;
}): Promise<BankSends> {
  const { rpcUrl, faucet, chainId, accounts: nAccounts, perAccount } = opts;
  // One single-key wallet per sender: an HD wallet re-derives every key on each signature.
  const wallets = await Promise.all(Array.from({ length: nAccounts }, () => DirectSecp256k1Wallet.fromKey(randomBytes(32), ADDRESS_PREFIX)));
  const senders = await Promise.all(wallets.map(async (w) => (await w.getAccounts())[0].address));
  const sink = toBech32(ADDRESS_PREFIX, randomBytes(20));
  const funding = BigInt(perAccount) * (AMOUNT + FEE) + 1_000_000n;
  const reader = await StargateClient.connect(rpcUrl);
  try {
    const faucetSigner = await SigningStargateClient.offline(await walletFromMnemonic(faucet.mnemonic), { registry: poiRegistry() });
    const faucetAcc = await reader.getAccount(faucet.address);
    if (!faucetAcc) throw new Error(`faucet ${faucet.address} has no account`);
    const fundGas = 100_000n + 50_000n * BigInt(nAccounts);
    const fundTx = TxRaw.encode(await faucetSigner.sign(faucet.address, [{
      typeUrl: MsgMultiSend.typeUrl,
      value: MsgMultiSend.fromPartial({
        inputs: [{ address: faucet.address, coins: [{ denom: BOND_DENOM, amount: (funding * BigInt(nAccounts)).toString() }] }],
        outputs: senders.map((address) => ({ address, coins: [{ denom: BOND_DENOM, amount: funding.toString() }] })),
      }),
    }], { amount: [{ denom: BOND_DENOM, amount: ((fundGas * 25n + 999n) / 1000n).toString() }], gas: fundGas.toString() }, "", {
      accountNumber: BigInt(faucetAcc.accountNumber), sequence: faucetAcc.sequence, chainId,
    })).finish();
    const fundCheck = await broadcastTxSync(rpcUrl, fundTx);
    if (fundCheck.code !== 0) throw new Error(`funding the senders: CheckTx refused the MsgMultiSend: code ${fundCheck.code} ${fundCheck.log}`);
    const fundResult = await waitForTx(rpcUrl, hashOf(fundTx), 60_000);
    if (fundResult.code !== 0) throw new Error(`funding the senders failed: code ${fundResult.code} ${fundResult.log}`);
    const accountNumbers: bigint[] = [];
    for (const a of senders) {
      const acc = await reader.getAccount(a);
      if (!acc || acc.sequence !== 0) throw new Error(`sender ${a} not funded as expected (account ${acc ? `sequence ${acc.sequence}` : "missing"})`);
      accountNumbers.push(BigInt(acc.accountNumber));
    }

    const offline = await Promise.all(wallets.map((w) => SigningStargateClient.offline(w, { registry: poiRegistry() })));
    const fee = { amount: [{ denom: BOND_DENOM, amount: FEE.toString() }], gas: GAS.toString() };
    const lanes: LoadTx[][] = [];
    const signStart = Date.now();
    for (const [i, from] of senders.entries()) {
      const lane: LoadTx[] = [];
      for (let seq = 0; seq < perAccount; seq++) {
        const msg = { typeUrl: MsgSend.typeUrl, value: MsgSend.fromPartial({ fromAddress: from, toAddress: sink, amount: [{ denom: BOND_DENOM, amount: AMOUNT.toString() }] }) };
        const raw = await offline[i].sign(from, [msg], fee, "", { accountNumber: accountNumbers[i], sequence: seq, chainId });
        const tx = TxRaw.encode(raw).finish();
        lane.push({ lane: i, label: `sender ${i} seq ${seq}`, tx, hash: hashOf(tx) });
      }
      lanes.push(lane);
    }
    const signSec = (Date.now() - signStart) / 1000;
    const all = lanes.flat();
    // Signing resolves through microtasks only, so the event loop has not seen the RPC server close
    // our idle keep-alive sockets meanwhile; let it, or the next request reuses a dead socket.
    await sleep(500);
    return { lanes, senders, sink, funding, perAccount, signSec, txBytes: all.reduce((n, t) => n + t.tx.length, 0) / Math.max(1, all.length) };
  } finally {
    reader.disconnect();
  }
}

/** The final state after a load of `sends`: the sink got every amount; each sender paid fee + amount per tx and used its sequences. */
export async function checkBankState(rpcUrl: string, sends: BankSends, r: LoadResult): Promise<{ problems: string[]; summary: string }> {
  const reader = await StargateClient.connect(rpcUrl);
  try {
    const problems: string[] = [];
    const succeeded = [...r.included.values()].filter((x) => x.code === 0).length;
    const sinkBalance = BigInt((await reader.getBalance(sends.sink, BOND_DENOM)).amount);
    if (sinkBalance !== BigInt(succeeded) * AMOUNT) problems.push(`sink balance ${sinkBalance}${BOND_DENOM}, want ${BigInt(succeeded) * AMOUNT}`);
    for (const [i, a] of sends.senders.entries()) {
      const mine = sends.lanes[i].map((t) => r.included.get(t.hash)).filter((x) => x !== undefined);
      const ok = mine.filter((x) => x.code === 0).length;
      const want = sends.funding - BigInt(mine.length) * FEE - BigInt(ok) * AMOUNT;
      const got = BigInt((await reader.getBalance(a, BOND_DENOM)).amount);
      if (got !== want) problems.push(`sender ${i} (${a}) balance ${got}, want ${want}`);
      const acc = await reader.getAccount(a);
      if (acc?.sequence !== sends.perAccount) problems.push(`sender ${i} (${a}) sequence ${acc?.sequence}, want ${sends.perAccount}`);
    }
    return { problems, summary: problems.length ? "MISMATCH" : `sink holds ${sinkBalance}${BOND_DENOM}; every sender's balance and sequence (${sends.perAccount}) as expected` };
  } finally {
    reader.disconnect();
  }
}

const pct = (a: number, b: number) => (b === 0 ? "-" : `${((100 * a) / b).toFixed(1)} %`);

export async function runBankBench(opts: BankBenchOptions = {}): Promise<BankBenchResult> {
  const nAccounts = opts.accounts ?? 8;
  const perAccount = opts.txsPerAccount ?? 250;
  const basePort = opts.basePort ?? 25000;
  const rpcUrl = `http://127.0.0.1:${basePort + 1}`;
  for (const p of [basePort, basePort + 1, basePort + 2]) {
    if (!(await portFree(p))) throw new Error(`port ${p} is in use: the bank benchmark needs ${basePort}-${basePort + 2}`);
  }

  const home = fs.mkdtempSync(path.join(os.tmpdir(), "poi-bench-bank-"));
  let started = false;
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      if (started) await stopSingle(home);
      if (process.env.POI_KEEP_TEST_HOMES) console.log(`  (home kept: ${home})`);
      else fs.rmSync(home, { recursive: true, force: true });
    })());
  const onSignal = (sig: NodeJS.Signals) => {
    console.error(`\n${sig}: stopping the bench node`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    poi(["init", "--home", home, "--base-port", String(basePort)]);
    const chainId = (JSON.parse(fs.readFileSync(path.join(home, "config", "genesis.json"), "utf8")) as { chain_id: string }).chain_id;
    const timeoutCommit = /^timeout_commit = "(.*)"$/m.exec(fs.readFileSync(path.join(home, "config", "config.toml"), "utf8"))?.[1] ?? "?";
    const accounts = JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8")) as Array<{ name: string; mnemonic: string; address: string }>;
    const faucet = accounts.find((a) => a.name === "faucet");
    if (!faucet) throw new Error("accounts.json has no faucet");
    startSingle(home);
    started = true;
    await waitForNode(home, rpcUrl, 2, 120_000);

    const sends = await prepareBankSends({ rpcUrl, faucet, chainId, accounts: nAccounts, perAccount });
    const r = await runLoad({ lanes: sends.lanes, rpcUrls: [rpcUrl], followUrl: rpcUrl });
    await readCodes(rpcUrl, r);
    const f = loadFigures(r);
    await waitForAppHeight(rpcUrl, f.lastHeight ?? 0);
    const state = await checkBankState(rpcUrl, sends, r);

    console.log(`bank send benchmark: 1 validator (timeout_commit ${timeoutCommit}), ${nAccounts} accounts x ${perAccount} MsgSend (${AMOUNT}${BOND_DENOM}, fee ${FEE}${BOND_DENOM}, gas ${GAS}, ${sends.txBytes.toFixed(0)} bytes), signed offline, broadcast_tx_sync`);
    console.log(`  signed offline:          ${f.submitted} txs in ${sends.signSec.toFixed(1)} s (not timed below)`);
    console.log(`  broadcast:               ${f.submitted} txs in ${r.broadcastSec.toFixed(2)} s = ${(f.submitted / r.broadcastSec).toFixed(0)} CheckTx round trips/s (${nAccounts} senders in parallel, each in sequence order)`);
    console.log(`  CheckTx accepted:        ${r.accepted} / ${f.submitted} (${pct(r.accepted, f.submitted)})`);
    console.log(`  included in blocks:      ${r.included.size} / ${r.accepted} accepted, in ${f.blocksUsed} blocks (heights ${f.firstHeight ?? "-"}..${f.lastHeight ?? "-"})`);
    console.log(`  txs per block:           mean ${f.meanTxsPerBlock.toFixed(1)}, max ${f.maxTxsPerBlock}; mean block interval ${f.blockIntervalMs.toFixed(0)} ms`);
    console.log(`  succeeded (code 0):      ${f.succeeded} / ${f.submitted} (${pct(f.succeeded, f.submitted)})`);
    console.log(`  throughput:              ${f.txsPerSec.toFixed(1)} tx/s (${f.succeeded} txs, ${f.elapsedSec.toFixed(2)} s from first broadcast to last inclusion seen committed)`);
    console.log(`  latency:                 p50 ${f.p50LatencyMs.toFixed(0)} ms, p95 ${f.p95LatencyMs.toFixed(0)} ms (broadcast to its block seen committed)`);
    console.log(`  final state:             ${state.summary}`);
    assertAllCommitted(r, "bank benchmark", console.log, state.problems);
    return { submitted: f.submitted, checkTxAccepted: r.accepted, included: r.included.size, succeeded: f.succeeded, blocksUsed: f.blocksUsed, meanTxsPerBlock: f.meanTxsPerBlock, txsPerSec: f.txsPerSec };
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await cleanup();
  }
}

if (require.main === module) {
  runBankBench().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
