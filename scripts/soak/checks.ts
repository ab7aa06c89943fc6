/**
 * What the soak checks after its load and perturbations, all from the nodes' RPC and logs:
 * identical header app hashes on every node at every height, every tx committed once, supply
 * conserved (genesis supply − burned + minted = supply in state), no app-hash failure in any log.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { rpc } from "../../test/helpers/chain";
import { BOND_DENOM } from "../../src/app/params";
import { txHash } from "./bank-load";

export interface ChainCheck {
  height: number;
  nodes: number;
  /** Heights at which some node's header app hash differs from node 0's. */
  appHashMismatches: string[];
  txs: number;
  /** Tx hashes found in more than one place of the chain. */
  duplicateTxs: string[];
  /** Result code of every tx by hash. */
  txCodes: Map<string, number>;
  genesisSupply: bigint;
  burned: bigint;
  minted: bigint;
  supply: bigint;
  conserved: boolean;
  /** "node: line" for each log line that reports an app-hash or consensus failure. */
  logFailures: string[];
  /** Consensus halts of a cometbft whose app was killed in the middle of a call (expected under kills). */
  haltsOnAppDeath: number;
}

const APP_HASH_FAILURE = /wrong Block\.Header\.AppHash|app ?hash mismatch|AppHash does not match/i;
const HALT = /CONSENSUS FAILURE|panic:/;
/**
 * CometBFT halts its consensus ("CONSENSUS FAILURE!!!") when its app dies in the middle of a call
 * (the ABCI connection breaks): the expected effect of a kill, not a failure of the state machine;
 * the supervisor then replaces that cometbft.
 */
const ABCI_CONNECTION_BROKE = /err="[^"]*(read message|write message|EOF|connection reset by peer|broken pipe|connection refused)/;

type RpcEvent = { type: string; attributes: Array<{ key: string; value: string }> };

/** Upoi amounts in events of `type` (attribute "amount", e.g. "123upoi"). */
function sumEvents(events: RpcEvent[], type: string): bigint {
  let sum = 0n;
  for (const e of events ?? []) {
    if (e.type !== type) continue;
    for (const a of e.attributes) {
      const m = a.key === "amount" ? new RegExp(`^(\\d+)${BOND_DENOM}$`).exec(a.value) : null;
      if (m) sum += BigInt(m[1]);
    }
  }
  return sum;
}

/** Header app hash of heights 1..h on one node (/blockchain pages of 20). */
async function headerHashes(url: string, h: number): Promise<string[]> {
  const out: string[] = [];
  for (let lo = 1; lo <= h; lo += 20) {
    const hi = Math.min(h, lo + 19);
    const r = await rpc<{ block_metas: Array<{ header: { height: string; app_hash: string }; num_txs: string }> }>(url, `blockchain?minHeight=${lo}&maxHeight=${hi}`);
    for (const m of r.block_metas) out[Number(m.header.height)] = m.header.app_hash;
  }
  return out;
}

function genesisSupply(home: string): bigint {
  const g = JSON.parse(fs.readFileSync(path.join(home, "config", "genesis.json"), "utf8")) as { app_state: { bank: { balances: Array<{ coins: Array<{ denom: string; amount: string }> }> } } };
  return g.app_state.bank.balances.reduce((s, b) => s + b.coins.filter((c) => c.denom === BOND_DENOM).reduce((x, c) => x + BigInt(c.amount), 0n), 0n);
}

/** The bank supply in state at `height`, read through the raw store query (historical heights are served there). */
async function supplyAt(url: string, height: number): Promise<bigint> {
  const key = Buffer.concat([Buffer.from([0x00]), Buffer.from(BOND_DENOM)]).toString("hex");
  const r = await rpc<{ response: { code: number; value: string | null; log: string } }>(url, `abci_query?path=${encodeURIComponent('"/store/bank/key"')}&data=0x${key}&height=${height}`);
  if (r.response.code !== 0 || !r.response.value) throw new Error(`supply query at ${height}: ${r.response.log}`);
  return BigInt(Buffer.from(r.response.value, "base64").toString("utf8"));
}

/** Lines of the nodes' logs that report an app-hash or consensus failure, and the halts caused by a killed app. */
export function scanLogs(homes: string[]): { failures: string[]; haltsOnAppDeath: number } {
  const failures: string[] = [];
  let haltsOnAppDeath = 0;
  for (const home of homes) {
    for (const file of ["cometbft.log", "app.log"]) {
      const p = path.join(home, file);
      if (!fs.existsSync(p)) continue;
      for (const line of fs.readFileSync(p, "utf8").split("\n")) {
        const where = `${path.basename(home)}/${file}: ${line.slice(0, 300)}`;
        if (APP_HASH_FAILURE.test(line)) failures.push(where);
        else if (HALT.test(line) && ABCI_CONNECTION_BROKE.test(line)) haltsOnAppDeath++;
        else if (HALT.test(line)) failures.push(where);
      }
    }
  }
  return { failures, haltsOnAppDeath };
}

/** Every check over heights 1..h, h the lowest latest height of the nodes. */
export async function checkChain(rpcs: string[], homes: string[]): Promise<ChainCheck> {
  const heights = await Promise.all(rpcs.map(async (u) => Number((await rpc<{ sync_info: { latest_block_height: string } }>(u, "status")).sync_info.latest_block_height)));
  const height = Math.min(...heights);
  const hashes = await Promise.all(rpcs.map((u) => headerHashes(u, height)));
  const appHashMismatches: string[] = [];
  for (let h = 1; h <= height; h++) {
    if (hashes.some((x) => x[h] !== hashes[0][h])) appHashMismatches.push(`${h}: ${hashes.map((x) => x[h]?.slice(0, 12)).join(" ")}`);
  }
  const txCodes = new Map<string, number>();
  const duplicateTxs: string[] = [];
  let burned = 0n;
  let minted = 0n;
  let txs = 0;
  for (let h = 1; h <= height; h++) {
    const [b, r] = await Promise.all([
      rpc<{ block: { data: { txs: string[] | null } } }>(rpcs[0], `block?height=${h}`),
      rpc<{ txs_results: Array<{ code: number; events: RpcEvent[] | null }> | null; finalize_block_events: RpcEvent[] | null }>(rpcs[0], `block_results?height=${h}`),
    ]);
    (b.block.data.txs ?? []).forEach((t, i) => {
      const hash = txHash(Buffer.from(t, "base64"));
      txs++;
      if (txCodes.has(hash)) duplicateTxs.push(`${hash} (again at height ${h})`);
      txCodes.set(hash, r.txs_results?.[i]?.code ?? -1);
    });
    const events = [...(r.finalize_block_events ?? []), ...(r.txs_results ?? []).flatMap((x) => x.events ?? [])];
    burned += sumEvents(events, "burn");
    minted += sumEvents(events, "coinbase");
  }
  const supply = await supplyAt(rpcs[0], height);
  const genesis = genesisSupply(homes[0]);
  const logs = scanLogs(homes);
  return {
    height, nodes: rpcs.length, appHashMismatches, txs, duplicateTxs, txCodes, genesisSupply: genesis, burned, minted, supply,
    conserved: supply === genesis - burned + minted, logFailures: logs.failures, haltsOnAppDeath: logs.haltsOnAppDeath,
  };
}
