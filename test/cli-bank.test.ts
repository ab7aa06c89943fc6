import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { toBech32 } from "@cosmjs/encoding";
import { walletFromMnemonic } from "../src/client";
import { poi, removeHome, startSingle, stopSingle, tmpHome, waitForHeight } from "./helpers/chain";

interface KeyJson { name: string; type: string; address: string; pubkey: string; mnemonic?: string }
interface TxJson { txhash: string; height: string; code: number; codespace: string; raw_log: string; gas_wanted: string; gas_used: string }
interface AccountJson { "@type": string; address: string; pub_key: { "@type": string; key: string } | null; account_number: string; sequence: string }

const GENESIS_BALANCE = 1_000_000_000_000n;
const BECH32 = /^poi1[02-9ac-hj-np-z]{38}$/;

// The `poi keys/tx/query` CLI, run as a user would, against a real 1-validator chain (CometBFT + our app).
describe("cli: keys, tx bank send and queries against a 1-validator chain", function () {
  const home = tmpHome("cli-bank");
  const url = "http://127.0.0.1:23001"; // base port 23000: p2p 23000, rpc 23001, abci 23002
  const node = ["--node", url];
  const kr = ["--home", home]; // keyring in <home>/keyring
  let faucet: { name: string; mnemonic: string; address: string };
  let alice: KeyJson;
  /** fee of the first (--gas auto) send, worked out from its gas_wanted */
  let autoFee = 0n;
  /** gas used by the second send (faucet -> alice, both accounts known, memo "hello") */
  let sendGasUsed = 0n;

  const json = <T>(args: string[], opts: { input?: string } = {}): T => JSON.parse(poi([...args, "--output", "json"], opts).stdout) as T;
  const fails = (args: string[], opts: { input?: string } = {}) => {
    const r = poi(args, { ...opts, allowFail: true });
    assert.equal(r.code, 1, `poi ${args.join(" ")} should exit 1, got ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace for a user error");
    return r;
  };
  const balance = (address: string) => BigInt(json<{ amount: string }>(["query", "bank", "balances", address, "--denom", "upoi", ...node]).amount);

  before(async () => {
    poi(["init", "--home", home, "--base-port", "23000"]);
    const accounts = JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8")) as Array<{ name: string; mnemonic: string; address: string }>;
    faucet = accounts.find((a) => a.name === "faucet")!;
    startSingle(home);
    await waitForHeight(url, 2);
  });
  after(async () => {
    await stopSingle(home);
    removeHome(home);
  });

  it("keys add makes a new 24-word key in a 0600 file and prints it (JSON with the mnemonic)", async () => {
    alice = json<KeyJson>(["keys", "add", "alice", ...kr]);
    assert.equal(alice.name, "alice");
    assert.match(alice.address, BECH32);
    assert.equal(alice.mnemonic!.split(" ").length, 24);
    assert.equal(Buffer.from(alice.pubkey, "base64").length, 33);
    // The printed address is the one the mnemonic derives.
    const [acc] = await (await walletFromMnemonic(alice.mnemonic!)).getAccounts();
    assert.equal(acc.address, alice.address);
    assert.equal(Buffer.from(acc.pubkey).toString("base64"), alice.pubkey);

    const dir = path.join(home, "keyring");
    const file = path.join(dir, "alice.json");
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), { name: "alice", address: alice.address, pubkey: alice.pubkey, mnemonic: alice.mnemonic });

    // Text output, in another keyring given by --keyring-dir: the address and, once, the mnemonic.
    const other = path.join(home, "other-keyring");
    const text = poi(["keys", "add", "bob", "--keyring-dir", other]).stdout;
    const bob = JSON.parse(fs.readFileSync(path.join(other, "bob.json"), "utf8")) as { address: string; mnemonic: string };
    assert.ok(text.includes(`address: ${bob.address}`), text);
    assert.ok(text.includes(bob.mnemonic), "a new key's mnemonic is shown once");
  });

  it("keys add refuses an existing name, a bad name and an invalid mnemonic, writing nothing", () => {
    assert.match(fails(["keys", "add", "alice", ...kr]).stderr, /key "alice" already exists/);
    assert.match(fails(["keys", "add", "bad/name", ...kr]).stderr, /invalid key name "bad\/name"/);
    assert.match(fails(["keys", "add", "x".repeat(65), ...kr]).stderr, /invalid key name/);
    assert.match(fails(["keys", "add", "carol", "--recover", ...kr], { input: "not a mnemonic\n" }).stderr, /invalid mnemonic/);
    // 24 valid words with a wrong checksum
    assert.match(fails(["keys", "add", "carol", "--recover", ...kr], { input: Array(24).fill("abandon").join(" ") + "\n" }).stderr, /invalid mnemonic/);
    assert.match(fails(["keys", "add", "carol", "--recover", ...kr], { input: "" }).stderr, /stdin gave none/);
    // The same mnemonic under a second name
    assert.match(fails(["keys", "add", "alice2", "--recover", ...kr], { input: alice.mnemonic + "\n" }).stderr, /already holds address/);
    assert.deepEqual(fs.readdirSync(path.join(home, "keyring")).sort(), ["alice.json"]);
  });

  it("keys add --recover reads the faucet's mnemonic from stdin and gets the faucet's address", () => {
    const k = json<KeyJson>(["keys", "add", "faucet", "--recover", ...kr], { input: faucet.mnemonic + "\n" });
    assert.equal(k.address, faucet.address);
    assert.equal(k.mnemonic, undefined, "a recovered key's mnemonic is not printed again");
    assert.equal(fs.statSync(path.join(home, "keyring", "faucet.json")).mode & 0o777, 0o600);
  });

  it("keys list and keys show print the keys without their mnemonics", () => {
    const list = json<KeyJson[]>(["keys", "list", ...kr]);
    assert.deepEqual(list.map((k) => [k.name, k.address]), [["alice", alice.address], ["faucet", faucet.address]]);
    assert.ok(list.every((k) => k.mnemonic === undefined && k.type === "local"));
    assert.equal(poi(["keys", "show", "faucet", "--address", ...kr]).stdout.trim(), faucet.address);
    const shown = json<KeyJson>(["keys", "show", "alice", ...kr]);
    assert.deepEqual(shown, { name: "alice", type: "local", address: alice.address, pubkey: alice.pubkey });
    assert.equal(json<KeyJson>(["keys", "show", faucet.address, ...kr]).name, "faucet", "show also takes an address");
    // $POI_HOME picks the keyring when neither --home nor --keyring-dir is given.
    const viaEnv = JSON.parse(poi(["keys", "list", "--output", "json"], { env: { POI_HOME: home } }).stdout) as KeyJson[];
    assert.deepEqual(viaEnv.map((k) => k.name), ["alice", "faucet"]);
    assert.match(fails(["keys", "show", "nobody", ...kr]).stderr, /key "nobody" not found/);
  });

  it("tx bank send with --gas auto is included in a block", () => {
    const r = json<TxJson>(["tx", "bank", "send", "faucet", alice.address, "1234567upoi", ...node, ...kr]);
    assert.equal(r.code, 0, r.raw_log);
    assert.match(r.txhash, /^[0-9A-F]{64}$/);
    assert.ok(Number(r.height) > 0);
    assert.ok(BigInt(r.gas_used) > 0n && BigInt(r.gas_used) <= BigInt(r.gas_wanted), `gas used ${r.gas_used} of ${r.gas_wanted}`);
    // gas_wanted = ceil(simulated * 1.4) > gas used, with a margin
    assert.ok(BigInt(r.gas_wanted) * 10n > BigInt(r.gas_used) * 12n, `auto gas should leave the 1.4 margin: ${r.gas_wanted} vs ${r.gas_used}`);
    autoFee = (BigInt(r.gas_wanted) * 25n + 999n) / 1000n; // ceil(0.025 * gas)
  });

  it("tx bank send with explicit --fees, --gas and --memo pays exactly those fees", async () => {
    const out = poi(["tx", "bank", "send", "faucet", alice.address, "7654321upoi", "--fees", "5000upoi", "--gas", "200000", "--memo", "hello", ...node, ...kr]).stdout;
    assert.match(out, /^txhash: [0-9A-F]{64}$/m);
    assert.match(out, /^code: 0$/m);
    assert.match(out, /^gas_wanted: 200000$/m);
    sendGasUsed = BigInt(/^gas_used: (\d+)$/m.exec(out)![1]);
    const hash = /^txhash: ([0-9A-F]{64})$/m.exec(out)![1];
    const tx = (await (await fetch(`${url}/tx?hash=0x${hash}`)).json()) as { result: { tx_result: { code: number } } };
    assert.equal(tx.result.tx_result.code, 0);
    assert.equal(balance(faucet.address), GENESIS_BALANCE - 1234567n - 7654321n - autoFee - 5000n);
  });

  it("query bank balances shows the recipient got exactly the sent amounts", () => {
    const all = json<{ balances: Array<{ denom: string; amount: string }> }>(["query", "bank", "balances", alice.address, ...node]);
    assert.deepEqual(all.balances, [{ denom: "upoi", amount: String(1234567 + 7654321) }]);
    assert.equal(balance(alice.address), 8888888n);
    const text = poi(["query", "bank", "balances", alice.address, ...node]).stdout;
    assert.match(text, /amount: "8888888"\n\s+denom: upoi/);
    // An address that never received anything has no balances.
    const bob = JSON.parse(fs.readFileSync(path.join(home, "other-keyring", "bob.json"), "utf8")) as { address: string };
    assert.deepEqual(json<{ balances: unknown[] }>(["query", "bank", "balances", bob.address, ...node]).balances, []);
    assert.equal(balance(bob.address), 0n);
  });

  it("query auth account shows sequence 2 and the public key for the sender, and refuses unknown accounts", () => {
    const acc = json<AccountJson>(["query", "auth", "account", faucet.address, ...node]);
    assert.equal(acc.address, faucet.address);
    assert.equal(acc.sequence, "2");
    assert.deepEqual(acc.pub_key, { "@type": "/cosmos.crypto.secp256k1.PubKey", key: json<KeyJson>(["keys", "show", "faucet", ...kr]).pubkey });
    const rcpt = json<AccountJson>(["query", "auth", "account", alice.address, ...node]);
    assert.equal(rcpt.sequence, "0");
    assert.equal(rcpt.pub_key, null, "the recipient has never signed");
    assert.notEqual(rcpt.account_number, acc.account_number);
    assert.match(poi(["query", "auth", "account", faucet.address, ...node]).stdout, /^sequence: "2"$/m);

    const bob = JSON.parse(fs.readFileSync(path.join(home, "other-keyring", "bob.json"), "utf8")) as { address: string };
    assert.match(fails(["query", "auth", "account", bob.address, ...node]).stderr, new RegExp(`account ${bob.address} not found`));
  });

  it("refuses bad addresses, bad amounts, unknown keys and a failing tx with exit code 1 and a message naming the problem", () => {
    const send = (from: string, to: string, amount: string, ...extra: string[]) => fails(["tx", "bank", "send", from, to, amount, ...node, ...kr, ...extra]).stderr;
    assert.match(send("faucet", "poi1notanaddress", "1upoi"), /recipient address "poi1notanaddress" is not valid bech32/);
    const cosmosAddr = toBech32("cosmos", new Uint8Array(20).fill(7));
    assert.match(send("faucet", cosmosAddr, "1upoi"), /has prefix "cosmos", want "poi"/);
    assert.match(send("faucet", alice.address, "abc"), /invalid amount "abc"/);
    assert.match(send("faucet", alice.address, "0upoi"), /invalid amount "0upoi": amounts must be positive/);
    assert.match(send("faucet", alice.address, "100"), /invalid amount "100"/);
    assert.match(send("faucet", alice.address, "1upoi", "--fees", "lots"), /invalid --fees "lots"/);
    assert.match(send("faucet", alice.address, "1upoi", "--gas", "12.5"), /invalid --gas "12.5"/);
    assert.match(send("faucet", alice.address, "1upoi", "--fees", "5000upoi", "--gas-prices", "0.1upoi"), /either --fees or --gas-prices/);
    assert.match(send("nobody", alice.address, "1upoi"), /key "nobody" not found/);
    assert.match(fails(["query", "bank", "balances", "poi1bad", ...node]).stderr, /address "poi1bad" is not valid bech32/);
    assert.match(fails(["query", "bank", "balances", alice.address, "--node", "ftp://127.0.0.1:23001"]).stderr, /--node "ftp:\/\/127.0.0.1:23001" must be an http/);

    // More than alice has: the simulation behind --gas auto fails ...
    assert.match(send("alice", faucet.address, "999999999upoi"), /estimating gas failed.*code 5.*insufficient funds/);
    // ... and with explicit gas the node's CheckTx refuses it; --output json still prints the result.
    const r = poi(["tx", "bank", "send", "alice", faucet.address, "999999999upoi", "--gas", "100000", "--fees", "2500upoi", ...node, ...kr, "--output", "json"], { allowFail: true });
    assert.equal(r.code, 1);
    const res = JSON.parse(r.stdout) as TxJson;
    assert.equal(res.code, 5);
    assert.equal(res.codespace, "sdk");
    assert.match(res.raw_log, /insufficient funds/);
    assert.match(r.stderr, /refused by the node \(CheckTx\) with code 5 \(codespace sdk\):.*insufficient funds/);
    // A fee below the node's minimum gas price is refused too.
    assert.match(send("alice", faucet.address, "1upoi", "--gas", "100000", "--fees", "1upoi"), /code 13 .*insufficient fee/);

    // None of it touched the chain.
    assert.equal(balance(alice.address), 8888888n);
    assert.equal(json<AccountJson>(["query", "auth", "account", alice.address, ...node]).sequence, "0");
    assert.equal(json<AccountJson>(["query", "auth", "account", faucet.address, ...node]).sequence, "2");
  });

  it("a tx that fails in its block (out of gas in the message) exits 1 with the block's code and log, and pays its fee", () => {
    // The same send with 1500 gas less than it used last time passes the ante handler (signature, fee,
    // sequence) but runs out in the message, whose last balance write alone costs more than that.
    const gas = sendGasUsed - 1500n;
    const fee = (gas * 25n + 999n) / 1000n;
    const before = balance(faucet.address);
    const r = poi(["tx", "bank", "send", "faucet", alice.address, "7654321upoi", "--gas", String(gas), "--fees", `${fee}upoi`, "--memo", "hello", ...node, ...kr, "--output", "json"], { allowFail: true });
    assert.equal(r.code, 1, r.stderr);
    const res = JSON.parse(r.stdout) as TxJson;
    assert.equal(res.code, 11, res.raw_log);
    assert.ok(Number(res.height) > 0, "it was included in a block");
    assert.equal(res.gas_wanted, String(gas));
    assert.match(r.stderr, new RegExp(`tx ${res.txhash} failed in block ${res.height} with code 11 \\(codespace sdk\\): out of gas`));
    assert.equal(balance(alice.address), 8888888n, "the transfer was rolled back");
    assert.equal(balance(faucet.address), before - fee, "the fee is kept");
    assert.equal(json<AccountJson>(["query", "auth", "account", faucet.address, ...node]).sequence, "3");
  });

  it("keys delete needs --yes when stdin is not a terminal, then removes the key", () => {
    const file = path.join(home, "keyring", "alice.json");
    assert.match(fails(["keys", "delete", "alice", ...kr]).stderr, /without --yes/);
    assert.ok(fs.existsSync(file));
    assert.deepEqual(json<{ deleted: string }>(["keys", "delete", "alice", "--yes", ...kr]).deleted, "alice");
    assert.ok(!fs.existsSync(file));
    assert.match(fails(["keys", "show", "alice", ...kr]).stderr, /key "alice" not found/);
    assert.match(fails(["keys", "delete", "alice", "--yes", ...kr]).stderr, /key "alice" not found/);
  });

  it("keys import-localnet imports accounts.json once and leaves existing keys alone", () => {
    const accounts = JSON.parse(fs.readFileSync(path.join(home, "accounts.json"), "utf8")) as Array<{ name: string; address: string }>;
    const first = json<Array<{ name: string; address: string; status: string }>>(["keys", "import-localnet", "--localnet-home", home, ...kr]);
    // faucet was recovered above; every other account is new
    assert.deepEqual(first, accounts.map((a) => ({ name: a.name, address: a.address, status: a.name === "faucet" ? "exists" : "imported" })));
    const again = json<Array<{ status: string }>>(["keys", "import-localnet", "--localnet-home", home, ...kr]);
    assert.ok(again.every((r) => r.status === "exists"));
    const listed = json<KeyJson[]>(["keys", "list", ...kr]);
    assert.deepEqual(listed.map((k) => k.name).sort(), accounts.map((a) => a.name).sort());
    assert.match(fails(["keys", "import-localnet", "--localnet-home", path.join(home, "nope"), ...kr]).stderr, /accounts\.json not found/);
  });
});
