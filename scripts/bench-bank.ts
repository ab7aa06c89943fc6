/**
 * Benchmark of bank-send throughput on a real 1-validator localnet (our app + CometBFT).
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench.js bank
 *
 * `poi init --base-port 25000` a node in a temp home (p2p 25000, RPC 25001, ABCI 25002), start it
 * with `poi start --with-cometbft`, wait for height 2. The faucet from accounts.json funds
 * ACCOUNTS fresh sender accounts with one MsgMultiSend. Then every sender's TXS_PER_ACCOUNT MsgSend
 * txs (1upoi to one sink address, fee 5000upoi, gas 200000) are signed OFFLINE with explicit account
 * number and sequence, before the clock starts. They are broadcast with broadcast_tx_sync (plain
 * JSON-RPC over fetch; each
 * sender in sequence order, the senders concurrently) while a poller follows the new blocks and
 * their results. Figures: CheckTx acceptance, blocks used, txs per block, and txs/s from the first
 * broadcast to the block holding the last tx being seen committed. Every tx must end with code 0;
 * balances and sequences are checked at the end. The node and its home are removed afterwards,
 * also on error or Ctrl-C.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { Comet38Client } from "@cosmjs/tendermint-rpc";
import { DirectSecp256k1Wallet } from "@cosmjs/proto-signing";
import { type IndexedTx, SigningStargateClient, StargateClient } from "@cosmjs/stargate";
import { sha256 } from "@cosmjs/crypto";
import { toBech32, toHex } from "@cosmjs/encoding";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgMultiSend, MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { poiRegistry, walletFromMnemonic } from "../src/client";
import { ADDRESS_PREFIX, BOND_DENOM } from "../src/app/params";
import { isAlive, ownerPid, readPids } from "../src/cli/node";
import { height as rpcHeight, poi, sleep, startSingle, stopSingle } from "../test/helpers/chain";

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

interface Sent {
  sender: number;
  sequence: number;
  hash: string;
  tx: Uint8Array;
  checkCode?: number;
  checkLog?: string;
}

interface Included {
  height: number;
  code: number;
  log: string;
}

interface BlockSeen {
  height: number;
  ours: number;
  total: number;
  seenAt: number;
  /** header time, ms since the epoch */
  time: number;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
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

const hashOf = (tx: Uint8Array) => toHex(sha256(tx)).toUpperCase();

/**
 * broadcast_tx_sync with plain fetch (JSON-RPC over HTTP): only code, log and hash are read, so the
 * figures do not depend on how a client library decodes the rest of the answer (CometBFT sends
 * `data` hex-encoded here and CosmJS decodes it as base64, which threw while CheckTx returned data).
 */
async function broadcastTxSync(rpcUrl: string, tx: Uint8Array): Promise<{ code: number; log: string; hash: string }> {
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "broadcast_tx_sync", params: { tx: Buffer.from(tx).toString("base64") } }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { result?: { code: number; log: string; hash: string }; error?: { message: string; data?: string } };
  if (!body.result) throw new Error(`broadcast_tx_sync: ${body.error?.message ?? "no result"} ${body.error?.data ?? ""}`);
  return body.result;
}

async function waitForTx(reader: StargateClient, hash: string, timeoutMs: number): Promise<IndexedTx> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tx = await reader.getTx(hash);
    if (tx) return tx;
    if (Date.now() > deadline) throw new Error(`tx ${hash} not included within ${timeoutMs} ms`);
    await sleep(200);
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

  let comet: Comet38Client | undefined;
  let reader: StargateClient | undefined;
  let stopPolling = false;
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

    // Fresh senders, funded by the faucet in one MsgMultiSend (not timed).
    // One single-key wallet per sender: an HD wallet re-derives every key on each signature.
    const wallets = await Promise.all(Array.from({ length: nAccounts }, () => DirectSecp256k1Wallet.fromKey(randomBytes(32), ADDRESS_PREFIX)));
    const senders = await Promise.all(wallets.map(async (w) => (await w.getAccounts())[0].address));
    const sink = toBech32(ADDRESS_PREFIX, randomBytes(20));
    const funding = BigInt(perAccount) * (AMOUNT + FEE) + 1_000_000n;
    reader = await StargateClient.connect(rpcUrl);
    const faucetWallet = await walletFromMnemonic(faucet.mnemonic);
    const faucetSigner = await SigningStargateClient.offline(faucetWallet, { registry: poiRegistry() });
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
    const fundResult = await waitForTx(reader, hashOf(fundTx), 60_000);
    if (fundResult.code !== 0) throw new Error(`funding the senders failed: code ${fundResult.code} ${fundResult.rawLog}`);
    const accountNumbers: bigint[] = [];
    for (const a of senders) {
      const acc = await reader.getAccount(a);
      if (!acc || acc.sequence !== 0) throw new Error(`sender ${a} not funded as expected (account ${acc ? `sequence ${acc.sequence}` : "missing"})`);
      accountNumbers.push(BigInt(acc.accountNumber));
    }

    // Sign everything offline, before the clock starts.
    const offline = await Promise.all(wallets.map((w) => SigningStargateClient.offline(w, { registry: poiRegistry() })));
    const fee = { amount: [{ denom: BOND_DENOM, amount: FEE.toString() }], gas: GAS.toString() };
    const sent: Sent[][] = [];
    const signStart = Date.now();
    for (const [i, from] of senders.entries()) {
      const list: Sent[] = [];
      for (let seq = 0; seq < perAccount; seq++) {
        const msg = { typeUrl: MsgSend.typeUrl, value: MsgSend.fromPartial({ fromAddress: from, toAddress: sink, amount: [{ denom: BOND_DENOM, amount: AMOUNT.toString() }] }) };
        const raw = await offline[i].sign(from, [msg], fee, "", { accountNumber: accountNumbers[i], sequence: seq, chainId });
        const tx = TxRaw.encode(raw).finish();
        list.push({ sender: i, sequence: seq, tx, hash: hashOf(tx) });
      }
      sent.push(list);
    }
    const signSec = (Date.now() - signStart) / 1000;
    // Signing resolves through microtasks only, so the event loop has not seen the RPC server close
    // our idle keep-alive sockets meanwhile; let it, or the next request reuses a dead socket.
    await sleep(500);
    const all = sent.flat();
    const byHash = new Map(all.map((s) => [s.hash, s]));
    const submitted = all.length;

    // Follow the chain from the current height while broadcasting.
    comet = await Comet38Client.connect(rpcUrl);
    const client = comet;
    const startHeight = (await client.status()).syncInfo.latestBlockHeight;
    const included = new Map<string, Included>();
    const blocks: BlockSeen[] = [];
    let broadcastDone = false;
    let accepted = 0;
    let lastProgress = Date.now();
    let pollError: unknown;
    const poller = (async () => {
      let next = startHeight + 1;
      let errors = 0;
      for (;;) {
        if (stopPolling) return;
        try {
          const latest = (await client.status()).syncInfo.latestBlockHeight;
          while (next <= latest) {
            // block_results may lag the reported height by a moment: then this throws and is retried.
            const [b, r] = await Promise.all([client.block(next), client.blockResults(next)]);
            const seenAt = Date.now();
            let ours = 0;
            b.block.txs.forEach((tx, i) => {
              const h = hashOf(tx);
              if (!byHash.has(h)) return;
              ours++;
              included.set(h, { height: b.block.header.height, code: r.results[i]?.code ?? -1, log: r.results[i]?.log ?? "" });
            });
            if (ours > 0) lastProgress = seenAt;
            blocks.push({ height: next, ours, total: b.block.txs.length, seenAt, time: b.block.header.time.getTime() });
            next++;
          }
          errors = 0;
        } catch (err) {
          if (++errors > 50) throw err; // transient RPC failures are retried; a dead node is not
        }
        if (broadcastDone && included.size >= accepted) return;
        if (broadcastDone && Date.now() - lastProgress > 60_000) return; // some accepted txs never made it into a block
        await sleep(50);
      }
    })().catch((err: unknown) => {
      pollError = err;
    });

    const t0 = Date.now();
    await Promise.all(sent.map(async (list) => {
      for (const s of list) {
        try {
          const res = await broadcastTxSync(rpcUrl, s.tx);
          s.checkCode = res.code;
          s.checkLog = res.log;
          if (res.hash !== s.hash) throw new Error(`node reports hash ${res.hash}, want ${s.hash}`);
        } catch (err) {
          s.checkCode = -1;
          s.checkLog = `broadcast failed: ${(err as Error).message}`;
        }
        if (s.checkCode === 0) accepted++;
      }
    }));
    const broadcastSec = (Date.now() - t0) / 1000;
    broadcastDone = true;
    lastProgress = Date.now();
    await poller;
    if (pollError) throw new Error(`following the chain failed: ${(pollError as Error).message}`);

    // Figures.
    const ourBlocks = blocks.filter((b) => b.ours > 0);
    const lastSeen = ourBlocks.length ? ourBlocks[ourBlocks.length - 1].seenAt : Date.now();
    const elapsedSec = (lastSeen - t0) / 1000;
    const succeeded = [...included.values()].filter((r) => r.code === 0).length;
    const span = ourBlocks.length ? ourBlocks[ourBlocks.length - 1].height - ourBlocks[0].height + 1 : 0;
    const meanPerBlock = ourBlocks.length ? included.size / ourBlocks.length : 0;
    const maxPerBlock = Math.max(0, ...ourBlocks.map((b) => b.ours));
    const spanBlocks = blocks.filter((b) => ourBlocks.length && b.height >= ourBlocks[0].height && b.height <= ourBlocks[ourBlocks.length - 1].height);
    const blockInterval = spanBlocks.length > 1 ? (spanBlocks[spanBlocks.length - 1].time - spanBlocks[0].time) / (spanBlocks.length - 1) : 0;
    const txsPerSec = succeeded / elapsedSec;

    // Final state: the sink got every amount; each sender paid fee + amount per tx and used its sequences.
    const problems: string[] = [];
    const sinkBalance = BigInt((await reader.getBalance(sink, BOND_DENOM)).amount);
    if (sinkBalance !== BigInt(succeeded) * AMOUNT) problems.push(`sink balance ${sinkBalance}${BOND_DENOM}, want ${BigInt(succeeded) * AMOUNT}`);
    for (const [i, a] of senders.entries()) {
      const mine = sent[i].map((s) => included.get(s.hash)).filter((r): r is Included => r !== undefined);
      const ok = mine.filter((r) => r.code === 0).length;
      const want = funding - BigInt(mine.length) * FEE - BigInt(ok) * AMOUNT;
      const got = BigInt((await reader.getBalance(a, BOND_DENOM)).amount);
      if (got !== want) problems.push(`sender ${i} (${a}) balance ${got}, want ${want}`);
      const acc = await reader.getAccount(a);
      if (acc?.sequence !== perAccount) problems.push(`sender ${i} (${a}) sequence ${acc?.sequence}, want ${perAccount}`);
    }

    console.log(`bank send benchmark: 1 validator (timeout_commit ${timeoutCommit}), ${nAccounts} accounts x ${perAccount} MsgSend (${AMOUNT}${BOND_DENOM}, fee ${FEE}${BOND_DENOM}, gas ${GAS}), signed offline, broadcast_tx_sync`);
    console.log(`  signed offline:          ${submitted} txs in ${signSec.toFixed(1)} s (not timed below)`);
    console.log(`  broadcast:               ${submitted} txs in ${broadcastSec.toFixed(2)} s = ${(submitted / broadcastSec).toFixed(0)} CheckTx round trips/s (${nAccounts} senders in parallel, each in sequence order)`);
    console.log(`  CheckTx accepted:        ${accepted} / ${submitted} (${pct(accepted, submitted)})`);
    console.log(`  included in blocks:      ${included.size} / ${accepted} accepted, in ${ourBlocks.length} blocks (heights ${ourBlocks[0]?.height ?? "-"}..${ourBlocks[ourBlocks.length - 1]?.height ?? "-"}, span ${span})`);
    console.log(`  txs per block:           mean ${meanPerBlock.toFixed(1)}, max ${maxPerBlock}; mean block interval ${blockInterval.toFixed(0)} ms`);
    console.log(`  succeeded (code 0):      ${succeeded} / ${submitted} (${pct(succeeded, submitted)})`);
    console.log(`  throughput:              ${txsPerSec.toFixed(1)} tx/s (${succeeded} txs, ${elapsedSec.toFixed(2)} s from first broadcast to last inclusion seen committed)`);
    console.log(`  final state:             ${problems.length ? "MISMATCH" : `sink holds ${sinkBalance}${BOND_DENOM}; every sender's balance and sequence (${perAccount}) as expected`}`);

    const refused = all.filter((s) => s.checkCode !== 0);
    const failed = all.filter((s) => s.checkCode === 0 && included.get(s.hash)?.code !== 0);
    if (refused.length || failed.length || problems.length) {
      console.log(`  FAILURES:`);
      for (const s of refused.slice(0, 10)) console.log(`    CheckTx refused sender ${s.sender} seq ${s.sequence} ${s.hash}: code ${s.checkCode} ${s.checkLog}`);
      if (refused.length > 10) console.log(`    ... and ${refused.length - 10} more CheckTx refusals`);
      for (const s of failed.slice(0, 10)) {
        const r = included.get(s.hash);
        console.log(`    sender ${s.sender} seq ${s.sequence} ${s.hash}: ${r ? `code ${r.code} at height ${r.height}: ${r.log}` : "never included"}`);
      }
      if (failed.length > 10) console.log(`    ... and ${failed.length - 10} more failed txs`);
      for (const p of problems) console.log(`    ${p}`);
      throw new Error(`bank benchmark: ${refused.length} refused by CheckTx, ${failed.length} not committed with code 0, ${problems.length} state mismatches`);
    }
    return { submitted, checkTxAccepted: accepted, included: included.size, succeeded, blocksUsed: ourBlocks.length, meanTxsPerBlock: meanPerBlock, txsPerSec };
  } finally {
    stopPolling = true;
    comet?.disconnect();
    reader?.disconnect();
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
