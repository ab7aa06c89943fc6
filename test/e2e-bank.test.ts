import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { DirectSecp256k1HdWallet, encodePubkey, makeAuthInfoBytes, makeSignDoc } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import {
  assertIsDeliverTxSuccess, BroadcastTxError, GasPrice, SigningStargateClient, StargateClient, calculateFee,
  QueryClient, setupBankExtension, type BankExtension,
} from "@cosmjs/stargate";
import { Comet38Client } from "@cosmjs/tendermint-rpc";
import { fromBase64 } from "@cosmjs/encoding";
import { TxRaw, TxBody, AuthInfo } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import type { Any } from "cosmjs-types/google/protobuf/any";
import { poi, removeHome, rpcUrls, sleep, tmpHome, waitForHeight } from "./helpers/chain";

// Unmodified CosmJS (public APIs only) against a 4-validator localnet of real CometBFT processes.
const PREFIX = "poi";
const DENOM = "upoi";
const GAS_PRICE = GasPrice.fromString("0.025upoi");
const FEE = { amount: [{ denom: DENOM, amount: "5000" }], gas: "200000" };

interface Account { name: string; mnemonic: string; address: string }
interface Signer { wallet: DirectSecp256k1HdWallet; address: string; pubkey: Uint8Array; client: SigningStargateClient }

describe("e2e: accounts and transactions with unmodified CosmJS (4-validator localnet)", function () {
  const home = tmpHome("bank");
  let url = "";
  let reader: StargateClient;
  let chainId = "";
  let comet: Comet38Client;
  let bankQuery: QueryClient & BankExtension;
  const signers = new Map<string, Signer>();
  let accounts: Account[] = [];

  async function signer(name: string): Promise<Signer> {
    const known = signers.get(name);
    if (known) return known;
    const acc = accounts.find((a) => a.name === name)!;
    const wallet = await DirectSecp256k1HdWallet.fromMnemonic(acc.mnemonic, { prefix: PREFIX });
    const [first] = await wallet.getAccounts();
    const client = await SigningStargateClient.connectWithSigner(url, wallet, { gasPrice: GAS_PRICE });
    const s = { wallet, address: first.address, pubkey: first.pubkey, client };
    signers.set(name, s);
    return s;
  }

  async function freshAddress(): Promise<string> {
    const w = await DirectSecp256k1HdWallet.generate(12, { prefix: PREFIX });
    return (await w.getAccounts())[0].address;
  }

  /** Signs arbitrary messages with SIGN_MODE_DIRECT using only public proto-signing helpers; every field can be bent. */
  async function buildTx(s: Signer, messages: Any[], o: {
    sequence?: bigint; accountNumber?: bigint; chainId?: string; fee?: typeof FEE; memo?: string; timeoutHeight?: bigint;
  } = {}): Promise<Uint8Array> {
    const acc = await reader.getAccount(s.address);
    const sequence = o.sequence ?? BigInt(acc?.sequence ?? 0);
    const accountNumber = o.accountNumber ?? BigInt(acc?.accountNumber ?? 0);
    const fee = o.fee ?? FEE;
    const bodyBytes = TxBody.encode(TxBody.fromPartial({ messages, memo: o.memo ?? "", timeoutHeight: o.timeoutHeight ?? 0n })).finish();
    const authInfoBytes = makeAuthInfoBytes([{ pubkey: encodePubkey(encodeSecp256k1Pubkey(s.pubkey)), sequence: Number(sequence) }], fee.amount, Number(fee.gas), undefined, undefined);
    const doc = makeSignDoc(bodyBytes, authInfoBytes, o.chainId ?? chainId, Number(accountNumber));
    const { signature } = await s.wallet.signDirect(s.address, doc);
    return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [fromBase64(signature.signature)] }).finish();
  }

  const sendMsg = (from: string, to: string, amount: string, denom = DENOM): Any => ({
    typeUrl: "/cosmos.bank.v1beta1.MsgSend",
    value: MsgSend.encode({ fromAddress: from, toAddress: to, amount: [{ denom, amount }] }).finish(),
  });

  async function snapshot(addresses: string[]) {
    const out: unknown[] = [];
    for (const a of addresses) {
      const acc = await reader.getAccount(a);
      out.push([a, await reader.getAllBalances(a), acc?.sequence ?? null, acc?.accountNumber ?? null]);
    }
    out.push(await totalSupply());
    return JSON.stringify(out, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  }

  async function expectRefused(bytes: Uint8Array, code: number, log: RegExp, watch: string[]): Promise<void> {
    const before = await snapshot(watch);
    await assert.rejects(reader.broadcastTxSync(bytes), (err: unknown) => {
      assert.ok(err instanceof BroadcastTxError, `expected a BroadcastTxError, got ${String(err)}`);
      assert.equal(err.code, code, `code (log: ${err.log})`);
      assert.match(err.log ?? "", log);
      return true;
    });
    // Give any (wrongly) accepted tx time to land in a block before comparing state.
    const h = (await reader.getHeight()) + 2;
    await waitForHeight(url, h);
    assert.equal(await snapshot(watch), before, "a refused tx must change nothing");
  }

  before(async () => {
    poi(["localnet", "start", "--home", home, "--validators", "4", "--base-port", "24000", "--detach"]);
    url = rpcUrls(home)[0];
    accounts = JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8"));
    await waitForHeight(url, 2);
    reader = await StargateClient.connect(url);
    chainId = await reader.getChainId();
    comet = await Comet38Client.connect(url);
    bankQuery = QueryClient.withExtensions(comet, setupBankExtension);
  });
  after(() => {
    reader?.disconnect();
    comet?.disconnect();
    for (const s of signers.values()) s.client.disconnect();
    poi(["localnet", "stop", "--home", home], { allowFail: true });
    removeHome(home);
  });

  it("sends with an explicit fee: exact balances, sequence up, getTx and searchTx find it", async () => {
    const s = await signer("requester");
    const to = await freshAddress();
    const before = BigInt((await reader.getBalance(s.address, DENOM)).amount);
    const acc0 = await reader.getAccount(s.address);
    assert.ok(acc0);
    assert.equal(await reader.getAccount(to), null, "a never-used address has no account");

    const res = await s.client.sendTokens(s.address, to, [{ denom: DENOM, amount: "1234567" }], FEE, "first send");
    assertIsDeliverTxSuccess(res);
    assert.ok(res.gasUsed > 0n && res.gasUsed <= 200000n && res.gasWanted === 200000n);
    assert.equal((await reader.getBalance(to, DENOM)).amount, "1234567");
    assert.deepEqual(await reader.getAllBalances(to), [{ denom: DENOM, amount: "1234567" }]);
    assert.equal(BigInt((await reader.getBalance(s.address, DENOM)).amount), before - 1234567n - 5000n);
    const acc1 = await reader.getAccount(s.address);
    assert.equal(acc1!.sequence, acc0.sequence + 1);
    assert.ok(acc1!.pubkey, "the first signed tx stores the public key");
    assert.ok(await reader.getAccount(to), "receiving coins creates the account");

    const found = await reader.getTx(res.transactionHash);
    assert.ok(found);
    assert.equal(found.height, res.height);
    assert.equal(found.code, 0);
    const bySender = await reader.searchTx(`message.sender='${s.address}'`);
    assert.ok(bySender.some((t) => t.hash === res.transactionHash));
    const byRecipient = await reader.searchTx(`transfer.recipient='${to}'`);
    assert.deepEqual(byRecipient.map((t) => t.hash), [res.transactionHash]);
    const types = new Set(res.events.map((e) => e.type));
    for (const t of ["message", "transfer", "coin_spent", "coin_received", "tx"]) assert.ok(types.has(t), `event ${t}`);
    assert.equal(res.msgResponses[0].typeUrl, "/cosmos.bank.v1beta1.MsgSendResponse");
  });

  it("sends with an \"auto\" fee from Simulate: balance drops by exactly amount + fee", async () => {
    const s = await signer("requester");
    const to = await freshAddress();
    const before = BigInt((await reader.getBalance(s.address, DENOM)).amount);
    const res = await s.client.sendTokens(s.address, to, [{ denom: DENOM, amount: "777" }], "auto");
    assertIsDeliverTxSuccess(res);
    const tx = await reader.getTx(res.transactionHash);
    const fee = AuthInfo.decode(TxRaw.decode(tx!.tx).authInfoBytes).fee!;
    const paid = BigInt(fee.amount[0].amount);
    assert.ok(fee.gasLimit > 0n && res.gasUsed <= fee.gasLimit, `auto gas ${fee.gasLimit} covers used ${res.gasUsed}`);
    assert.equal(paid, BigInt(calculateFee(Number(fee.gasLimit), GAS_PRICE).amount[0].amount));
    assert.equal(BigInt((await reader.getBalance(s.address, DENOM)).amount), before - 777n - paid);
    assert.equal((await reader.getBalance(to, DENOM)).amount, "777");
  });

  it("MsgMultiSend pays several outputs from one input; denom metadata and supply are queryable", async () => {
    const s = await signer("requester");
    const [a, b] = [await freshAddress(), await freshAddress()];
    const before = BigInt((await reader.getBalance(s.address, DENOM)).amount);
    const msg = {
      typeUrl: "/cosmos.bank.v1beta1.MsgMultiSend",
      value: { inputs: [{ address: s.address, coins: [{ denom: DENOM, amount: "300" }] }], outputs: [{ address: a, coins: [{ denom: DENOM, amount: "100" }] }, { address: b, coins: [{ denom: DENOM, amount: "200" }] }] },
    };
    const res = await s.client.signAndBroadcast(s.address, [msg], FEE);
    assertIsDeliverTxSuccess(res);
    assert.equal((await reader.getBalance(a, DENOM)).amount, "100");
    assert.equal((await reader.getBalance(b, DENOM)).amount, "200");
    assert.equal(BigInt((await reader.getBalance(s.address, DENOM)).amount), before - 300n - 5000n);
    // Outputs that do not add up to the input are refused before any fee is taken.
    const unbalanced = { ...msg, value: { ...msg.value, outputs: [{ address: a, coins: [{ denom: DENOM, amount: "299" }] }] } };
    await assert.rejects(s.client.signAndBroadcast(s.address, [unbalanced], FEE), (err: unknown) => err instanceof BroadcastTxError && err.code === 10 && /sum of inputs and outputs differ/.test(err.log ?? ""));
    const md = await bankQuery.bank.denomMetadata(DENOM);
    assert.equal(md.display, "poi");
    assert.deepEqual(md.denomUnits.map((u) => [u.denom, u.exponent]), [["upoi", 0], ["poi", 6]]);
    assert.ok(BigInt((await bankQuery.bank.supplyOf(DENOM)).amount) > 0n);
  });

  it("includes 200 sends interleaved from 4 accounts; total supply is unchanged", async () => {
    const totalBefore = await totalSupply();
    const users = await Promise.all(["user0", "user1", "user2", "user3"].map(signer));
    const to = await Promise.all(users.map(() => freshAddress()));
    const starts = await Promise.all(users.map((u) => reader.getAccount(u.address)));
    const balances = await Promise.all(users.map(async (u) => BigInt((await reader.getBalance(u.address, DENOM)).amount)));
    const PER = 50;
    const hashes: string[] = [];
    for (let i = 0; i < PER; i++) {
      for (const [j, u] of users.entries()) {
        const raw = await u.client.sign(u.address, [{ typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: u.address, toAddress: to[j], amount: [{ denom: DENOM, amount: String(100 + i) }] } }],
          FEE, "", { accountNumber: starts[j]!.accountNumber, sequence: starts[j]!.sequence + i, chainId });
        hashes.push(await reader.broadcastTxSync(TxRaw.encode(raw).finish()));
      }
    }
    assert.equal(hashes.length, 200);
    for (const h of hashes) {
      let tx = await reader.getTx(h);
      for (let tries = 0; !tx && tries < 120; tries++) { await sleep(500); tx = await reader.getTx(h); }
      assert.ok(tx, `tx ${h} included`);
      assert.equal(tx.code, 0, `tx ${h}: ${tx.rawLog}`);
    }
    const sent = BigInt((100 + 100 + PER - 1) * PER / 2); // 100 + 101 + ... + 149
    for (const [j, u] of users.entries()) {
      assert.equal(BigInt((await reader.getBalance(u.address, DENOM)).amount), balances[j] - sent - 5000n * BigInt(PER));
      assert.equal(BigInt((await reader.getBalance(to[j], DENOM)).amount), sent);
      assert.equal((await reader.getAccount(u.address))!.sequence, starts[j]!.sequence + PER);
    }
    assert.equal(await totalSupply(), totalBefore);
  });

  describe("refusals: a clear code and log, and no state change", () => {
    let s: Signer;
    let to = "";
    let watch: string[] = [];
    before(async () => {
      s = await signer("faucet");
      to = await freshAddress();
      watch = [s.address, to];
    });

    it("wrong chain id, wrong account number, bad signature", async () => {
      await expectRefused(await buildTx(s, [sendMsg(s.address, to, "10")], { chainId: "other-chain" }), 4, /signature verification failed.*chain-id/, watch);
      await expectRefused(await buildTx(s, [sendMsg(s.address, to, "10")], { accountNumber: 999n }), 4, /signature verification failed; please verify account number/, watch);
      const good = TxRaw.decode(await buildTx(s, [sendMsg(s.address, to, "10")]));
      good.signatures[0][5] ^= 0x40;
      await expectRefused(TxRaw.encode(good).finish(), 4, /signature verification failed/, watch);
    });

    it("a replayed tx and a sequence gap", async () => {
      const bytes = await buildTx(s, [sendMsg(s.address, to, "10")]);
      await reader.broadcastTx(bytes); // lands (sequence n)
      // The same bytes again: CometBFT's mempool cache or our sequence check must refuse them.
      const before = await snapshot(watch);
      await assert.rejects(reader.broadcastTxSync(bytes), (err: unknown) => {
        const text = err instanceof BroadcastTxError ? `${err.code} ${err.log}` : String(err);
        assert.match(text, /^32 account sequence mismatch|tx already exists in cache/);
        return true;
      });
      // A tx signed again with the used sequence (new bytes, so no cache hit) reaches the app and is refused.
      const acc = await reader.getAccount(s.address);
      await expectRefused(await buildTx(s, [sendMsg(s.address, to, "10")], { sequence: BigInt(acc!.sequence - 1), memo: "replay" }), 32,
        new RegExp(`account sequence mismatch, expected ${acc!.sequence}, got ${acc!.sequence - 1}`), watch);
      await expectRefused(await buildTx(s, [sendMsg(s.address, to, "10")], { sequence: BigInt(acc!.sequence + 1) }), 32,
        new RegExp(`account sequence mismatch, expected ${acc!.sequence}, got ${acc!.sequence + 1}`), watch);
      assert.equal(await snapshot(watch), before);
    });

    it("insufficient funds (for the amount and for the fee), fee below the minimum", async () => {
      const poor = await signer("user3");
      const have = BigInt((await reader.getBalance(poor.address, DENOM)).amount);
      await expectRefused(await buildTx(poor, [sendMsg(poor.address, to, (have + 1n).toString())]), 5, /insufficient funds/, [poor.address, to]);
      await expectRefused(await buildTx(poor, [sendMsg(poor.address, to, "1")], { fee: { amount: [{ denom: DENOM, amount: (have + 1n).toString() }], gas: "200000" } }), 5,
        /fee .* is more than the payer's balance/, [poor.address, to]);
      await expectRefused(await buildTx(s, [sendMsg(s.address, to, "10")], { fee: { amount: [{ denom: DENOM, amount: "1" }], gas: "200000" } }), 13,
        /insufficient fee.*required: 5000upoi|required: 5000upoi/, watch);
    });

    it("random, truncated and oversized bytes", async () => {
      const random = Uint8Array.from({ length: 300 }, (_, i) => (i * 7919 + 13) % 251);
      await expectRefused(random, 2, /tx parse error|cannot decode/, watch);
      const bytes = await buildTx(s, [sendMsg(s.address, to, "10")]);
      await expectRefused(bytes.subarray(0, bytes.length - 20), 2, /cannot decode/, watch);
      // Oversized: CometBFT's mempool (max_tx_bytes = 4 MiB) refuses it before the app sees it.
      const huge = await buildTx(s, [sendMsg(s.address, to, "10")], { memo: "" }).then((b) => Buffer.concat([b, Buffer.alloc(4 * 1024 * 1024 + 1, 0)]));
      const before = await snapshot(watch);
      await assert.rejects(reader.broadcastTxSync(huge), /too large/i);
      assert.equal(await snapshot(watch), before);
      await expectRefused(await buildTx(s, [sendMsg(s.address, to, "10")], { memo: "m".repeat(257) }), 12, /maximum number of characters is 256/, watch);
      const h = await reader.getHeight();
      await expectRefused(await buildTx(s, [sendMsg(s.address, to, "10")], { timeoutHeight: BigInt(h - 1) }), 30, /timeout height/, watch);
    });

    it("unknown message type, zero or negative amount, bad bech32 address, bad denom", async () => {
      await expectRefused(await buildTx(s, [{ typeUrl: "/cosmos.gov.v1.MsgVote", value: new Uint8Array([8, 1]) }]), 6, /unrecognized message type "\/cosmos\.gov\.v1\.MsgVote"/, watch);
      await expectRefused(await buildTx(s, [sendMsg(s.address, to, "0")]), 10, /amount must be positive/, watch);
      await expectRefused(await buildTx(s, [sendMsg(s.address, to, "-5")]), 10, /invalid amount "-5"/, watch);
      await expectRefused(await buildTx(s, [sendMsg(s.address, "poi1notanaddress", "10")]), 7, /to_address "poi1notanaddress" is not valid bech32/, watch);
      await expectRefused(await buildTx(s, [sendMsg(s.address, to.replace(/^poi/, "cosmos"), "10")]), 7, /to_address .* is not valid bech32|has prefix "cosmos"/, watch);
      await expectRefused(await buildTx(s, [sendMsg(s.address, to, "10", "x")]), 10, /invalid denom "x"/, watch);
    });
  });

  it("out of gas at execution keeps the fee and the sequence bump and rolls back the send", async () => {
    const s = await signer("operator0");
    const to = await freshAddress();
    const sim = await s.client.simulate(s.address, [{ typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: s.address, toAddress: to, amount: [{ denom: DENOM, amount: "999" }] } }], "");
    // Enough for the ante handler (size, signature, fee, sequence), not for the send itself.
    const gas = Math.floor(sim * 0.8);
    const fee = calculateFee(gas, GAS_PRICE);
    const before = BigInt((await reader.getBalance(s.address, DENOM)).amount);
    const seq = (await reader.getAccount(s.address))!.sequence;
    const res = await s.client.sendTokens(s.address, to, [{ denom: DENOM, amount: "999" }], fee);
    assert.equal(res.code, 11, `out of gas expected, got ${res.code}: ${res.rawLog}`);
    assert.match(res.rawLog ?? "", /out of gas/);
    assert.equal(res.gasUsed, BigInt(gas));
    assert.equal(BigInt((await reader.getBalance(s.address, DENOM)).amount), before - BigInt(fee.amount[0].amount), "the fee is kept");
    assert.equal((await reader.getAccount(s.address))!.sequence, seq + 1, "the sequence bump is kept");
    assert.equal((await reader.getBalance(to, DENOM)).amount, "0", "the send is rolled back");
  });

  async function totalSupply(): Promise<string> {
    const page = await bankQuery.bank.totalSupply();
    return JSON.stringify(page.supply);
  }
});
