/**
 * `poi keys ...`: a file keyring like gaiad's `--keyring-backend test`. One key per file,
 * <keyring-dir>/<name>.json = {name, address, pubkey, mnemonic}, mode 0600 in a 0700 directory.
 * The mnemonic is stored in clear text: this keyring is meant for localnets and tests.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { ADDRESS_PREFIX } from "../app/params";
import { OUTPUT_OPTION, UsageError, errorMessage, outputFormat, positionals, printJson, printLines, readLine } from "./common";

export interface KeyRecord {
  name: string;
  /** bech32 account address, poi1... */
  address: string;
  /** base64 of the 33-byte compressed secp256k1 public key */
  pubkey: string;
  mnemonic: string;
}

/** What `keys show/list` print: never the mnemonic. */
export interface KeyInfo {
  name: string;
  type: "local";
  address: string;
  pubkey: string;
}

const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const KEY_FILE_SUFFIX = ".json";

export const KEYRING_OPTIONS = {
  "keyring-dir": { type: "string" },
  home: { type: "string" },
} as const;

/** `--keyring-dir`, else `<--home>/keyring`, else `$POI_HOME/keyring`, else `~/.poi/keyring`. */
export function keyringDir(opts: { "keyring-dir"?: string; home?: string }): string {
  if (opts["keyring-dir"]) return path.resolve(opts["keyring-dir"]);
  if (opts.home) return path.resolve(opts.home, "keyring");
  if (process.env.POI_HOME) return path.resolve(process.env.POI_HOME, "keyring");
  return path.join(os.homedir(), ".poi", "keyring");
}

export function validateKeyName(name: string): void {
  if (!NAME_RE.test(name) || name === "." || name === "..") {
    throw new Error(`invalid key name "${name}": use 1-64 characters of A-Z a-z 0-9 _ . -`);
  }
}

function keyFile(dir: string, name: string): string {
  return path.join(dir, name + KEY_FILE_SUFFIX);
}

/** Trims and joins the words with single spaces, then checks the words and checksum (bip39, English). */
export async function walletFor(mnemonic: string): Promise<{ mnemonic: string; address: string; pubkey: Uint8Array }> {
  const normalized = mnemonic.trim().split(/\s+/).join(" ");
  if (normalized === "") throw new Error("invalid mnemonic: it is empty");
  const words = normalized.split(" ").length;
  if (![12, 15, 18, 21, 24].includes(words)) throw new Error(`invalid mnemonic: it has ${words} words, want 12, 15, 18, 21 or 24`);
  let wallet: DirectSecp256k1HdWallet;
  try {
    wallet = await DirectSecp256k1HdWallet.fromMnemonic(normalized, { prefix: ADDRESS_PREFIX });
  } catch (err) {
    throw new Error(`invalid mnemonic: ${errorMessage(err)} (want English bip39 words with a valid checksum)`);
  }
  const [account] = await wallet.getAccounts();
  return { mnemonic: normalized, address: account.address, pubkey: account.pubkey };
}

function parseKeyFile(file: string): KeyRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`cannot read key file ${file}: ${errorMessage(err)}`);
  }
  const r = parsed as Partial<Record<keyof KeyRecord, unknown>>;
  if (typeof parsed !== "object" || parsed === null || typeof r.name !== "string" || typeof r.address !== "string" || typeof r.pubkey !== "string" || typeof r.mnemonic !== "string") {
    throw new Error(`key file ${file} is not a poi key (want {name, address, pubkey, mnemonic})`);
  }
  return { name: r.name, address: r.address, pubkey: r.pubkey, mnemonic: r.mnemonic };
}

export function listKeys(dir: string): KeyRecord[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir)
    .filter((f) => f.endsWith(KEY_FILE_SUFFIX) && NAME_RE.test(f.slice(0, -KEY_FILE_SUFFIX.length)))
    .sort()
    .map((f) => parseKeyFile(path.join(dir, f)));
}

/** A key by name, or by address (as gaiad accepts either); throws naming the key and the keyring. */
export function readKey(dir: string, nameOrAddress: string): KeyRecord {
  if (nameOrAddress.startsWith(ADDRESS_PREFIX + "1")) {
    const found = listKeys(dir).find((k) => k.address === nameOrAddress);
    if (found) return found;
    if (!NAME_RE.test(nameOrAddress)) throw new Error(`no key with address ${nameOrAddress} in keyring ${dir}`);
  }
  validateKeyName(nameOrAddress);
  const file = keyFile(dir, nameOrAddress);
  if (!fs.existsSync(file)) throw new Error(`key "${nameOrAddress}" not found in keyring ${dir}`);
  return parseKeyFile(file);
}

function ensureKeyringDir(dir: string): void {
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700); // mkdir's mode passes through the umask
  }
}

/** Writes a new key file (0600); refuses a bad name, an existing name, or an invalid mnemonic. */
export async function addKey(dir: string, name: string, mnemonic: string): Promise<KeyRecord> {
  validateKeyName(name);
  const file = keyFile(dir, name);
  if (fs.existsSync(file)) throw new Error(`key "${name}" already exists in keyring ${dir}; delete it first or pick another name`);
  const w = await walletFor(mnemonic);
  const same = listKeys(dir).find((k) => k.address === w.address);
  if (same) throw new Error(`key "${same.name}" in keyring ${dir} already holds address ${w.address}; one key per address`);
  const record: KeyRecord = { name, address: w.address, pubkey: Buffer.from(w.pubkey).toString("base64"), mnemonic: w.mnemonic };
  ensureKeyringDir(dir);
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", 0o600); // "x": never overwrite, even if the name appeared meanwhile
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`key "${name}" already exists in keyring ${dir}`);
    throw new Error(`cannot write key file ${file}: ${errorMessage(err)}`);
  }
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, JSON.stringify(record, null, 2) + "\n");
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return record;
}

export function keyInfo(k: KeyRecord): KeyInfo {
  return { name: k.name, type: "local", address: k.address, pubkey: k.pubkey };
}

function infoLines(k: KeyRecord): string[] {
  return [`- name: ${k.name}`, "  type: local", `  address: ${k.address}`, `  pubkey: ${k.pubkey}`];
}

const KEYS_USAGE = "keys add NAME [--recover] | list | show NAME [--address] | delete NAME [--yes] | import-localnet --localnet-home DIR";

/** `poi keys <sub> ...` */
export async function runKeys(argv: string[]): Promise<void> {
  const [sub, ...args] = argv;
  switch (sub) {
    case "add": {
      const { values, positionals: pos } = parseArgs({
        args, allowPositionals: true,
        options: { ...KEYRING_OPTIONS, ...OUTPUT_OPTION, recover: { type: "boolean", default: false } },
      });
      const output = outputFormat(values.output);
      const [name] = positionals("keys add", pos, ["NAME"]);
      const dir = keyringDir(values);
      validateKeyName(name);
      if (fs.existsSync(keyFile(dir, name))) throw new Error(`key "${name}" already exists in keyring ${dir}; delete it first or pick another name`);
      let mnemonic: string;
      if (values.recover) {
        const line = await readLine("> Enter your bip39 mnemonic\n");
        if (line === undefined || line.trim() === "") throw new Error("--recover reads a mnemonic from the first line of stdin, but stdin gave none");
        mnemonic = line;
      } else {
        mnemonic = (await DirectSecp256k1HdWallet.generate(24, { prefix: ADDRESS_PREFIX })).mnemonic;
      }
      const key = await addKey(dir, name, mnemonic);
      const showMnemonic = !values.recover;
      if (output === "json") {
        printJson(showMnemonic ? { ...keyInfo(key), mnemonic: key.mnemonic } : keyInfo(key));
      } else {
        const lines = infoLines(key);
        if (showMnemonic) {
          lines.push("", "**Important** write this mnemonic phrase in a safe place.",
            "It is the only way to recover this key if the keyring is lost.", "", key.mnemonic);
        }
        printLines(lines);
      }
      return;
    }
    case "list": {
      const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { ...KEYRING_OPTIONS, ...OUTPUT_OPTION } });
      const output = outputFormat(values.output);
      positionals("keys list", pos, []);
      const dir = keyringDir(values);
      const keys = listKeys(dir);
      if (output === "json") printJson(keys.map(keyInfo));
      else if (keys.length === 0) process.stderr.write(`no keys in keyring ${dir}\n`);
      else printLines(keys.flatMap(infoLines));
      return;
    }
    case "show": {
      const { values, positionals: pos } = parseArgs({
        args, allowPositionals: true,
        options: { ...KEYRING_OPTIONS, ...OUTPUT_OPTION, address: { type: "boolean", short: "a", default: false } },
      });
      const output = outputFormat(values.output);
      const [name] = positionals("keys show", pos, ["NAME"]);
      const key = readKey(keyringDir(values), name);
      if (values.address) printLines([key.address]);
      else if (output === "json") printJson(keyInfo(key));
      else printLines(infoLines(key));
      return;
    }
    case "delete": {
      const { values, positionals: pos } = parseArgs({
        args, allowPositionals: true,
        options: { ...KEYRING_OPTIONS, ...OUTPUT_OPTION, yes: { type: "boolean", short: "y", default: false } },
      });
      const output = outputFormat(values.output);
      const [name] = positionals("keys delete", pos, ["NAME"]);
      const dir = keyringDir(values);
      const key = readKey(dir, name);
      if (!values.yes) {
        if (!process.stdin.isTTY) throw new Error(`refusing to delete key "${key.name}" without --yes (stdin is not a terminal to confirm on)`);
        const answer = await readLine(`Delete key "${key.name}" (${key.address})? Its mnemonic is lost unless you wrote it down. [y/N] `);
        if (!/^y(es)?$/i.test(answer?.trim() ?? "")) throw new Error(`key "${key.name}" not deleted`);
      }
      fs.rmSync(keyFile(dir, key.name));
      if (output === "json") printJson({ deleted: key.name, address: key.address });
      else printLines([`deleted key "${key.name}" (${key.address})`]);
      return;
    }
    case "import-localnet": {
      const { values, positionals: pos } = parseArgs({
        args, allowPositionals: true,
        options: { ...KEYRING_OPTIONS, ...OUTPUT_OPTION, "localnet-home": { type: "string" } },
      });
      const output = outputFormat(values.output);
      positionals("keys import-localnet", pos, []);
      if (!values["localnet-home"]) throw new UsageError("keys import-localnet needs --localnet-home DIR");
      const results = await importLocalnet(keyringDir(values), path.resolve(values["localnet-home"]));
      if (output === "json") printJson(results);
      else printLines(results.map((r) => `${r.status === "imported" ? "imported" : "already present"}\t${r.name}\t${r.address}`));
      return;
    }
    case undefined:
      throw new UsageError(`keys needs a subcommand: ${KEYS_USAGE}`);
    default:
      throw new UsageError(`unknown keys command "${sub}" (want add, list, show, delete or import-localnet)`);
  }
}

interface LocalnetAccount {
  name: string;
  mnemonic: string;
  address: string;
}

/**
 * Imports every account of <localnetHome>/accounts.json. A key of the same name and address is left
 * alone; a key of the same name with another address stops the import before anything is written.
 */
export async function importLocalnet(dir: string, localnetHome: string): Promise<Array<{ name: string; address: string; status: "imported" | "exists" }>> {
  const file = path.join(localnetHome, "accounts.json");
  if (!fs.existsSync(file)) throw new Error(`${file} not found: is ${localnetHome} a localnet or node home made by 'poi init' / 'poi localnet start'?`);
  let accounts: LocalnetAccount[];
  try {
    accounts = JSON.parse(fs.readFileSync(file, "utf8")) as LocalnetAccount[];
  } catch (err) {
    throw new Error(`cannot read ${file}: ${errorMessage(err)}`);
  }
  if (!Array.isArray(accounts) || accounts.some((a) => typeof a?.name !== "string" || typeof a.mnemonic !== "string" || typeof a.address !== "string")) {
    throw new Error(`${file} is not a list of {name, mnemonic, address}`);
  }
  // Check everything first so a conflict leaves the keyring untouched.
  const plan: Array<{ account: LocalnetAccount; exists: boolean }> = [];
  for (const a of accounts) {
    validateKeyName(a.name);
    const derived = (await walletFor(a.mnemonic)).address;
    if (derived !== a.address) throw new Error(`${file}: the mnemonic of "${a.name}" gives ${derived}, not the listed ${a.address}`);
    const existing = fs.existsSync(keyFile(dir, a.name)) ? parseKeyFile(keyFile(dir, a.name)) : undefined;
    if (existing && existing.address !== a.address) {
      throw new Error(`key "${a.name}" already exists in keyring ${dir} with another address (${existing.address}); nothing imported`);
    }
    plan.push({ account: a, exists: existing !== undefined });
  }
  const out: Array<{ name: string; address: string; status: "imported" | "exists" }> = [];
  for (const { account, exists } of plan) {
    if (!exists) await addKey(dir, account.name, account.mnemonic);
    out.push({ name: account.name, address: account.address, status: exists ? "exists" : "imported" });
  }
  return out;
}
