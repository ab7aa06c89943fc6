/**
 * Bank load for the soak: one lane per funded account. A lane reads its account's sequence from
 * the chain, signs a batch of MsgSends offline (sequence s, s+1, ...), broadcasts them with
 * broadcast_tx_sync to its node (the next node when that one is down), waits for the sequence to
 * move, and starts over from the chain's sequence: txs lost with a killed node's mempool are simply
 * signed again (with other amounts, so every tx is distinct).
 */
import { randomBytes } from "node:crypto";
import { sha256 } from "@cosmjs/crypto";
import { toHex } from "@cosmjs/encoding";
import { formatAddress, parseAddress } from "../../src/app/address";
import { SigningStargateClient } from "@cosmjs/stargate";
import { BaseAccount } from "cosmjs-types/cosmos/auth/v1beta1/auth";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { poiRegistry, walletFromMnemonic } from "../../src/client";
import { BOND_DENOM } from "../../src/app/params";
import { rpc, sleep } from "../../test/helpers/chain";

const BATCH = 8;
const FEE = { amount: [{ denom: BOND_DENOM, amount: "5000" }], gas: "200000" };

export interface Lane {
  address: string;
  /** Hashes (upper-case hex) of every tx the lane signed. */
  signed: Set<string>;
  accepted: number;
  refused: number;
  broadcastErrors: number;
}

export const txHash = (tx: Uint8Array) => toHex(sha256(tx)).toUpperCase();

/** The account's number and sequence (at `height`, default the latest), from the raw auth store; undefined when it has none. */
export async function accountAt(url: string, address: string, height?: number): Promise<{ accountNumber: bigint; sequence: bigint } | undefined> {
  const key = toHex(Buffer.concat([Buffer.from([0x01]), parseAddress(address)])); // auth/ 0x01 | address: BaseAccount
  const q = `abci_query?path=${encodeURIComponent('"/store/auth/key"')}&data=0x${key}${height ? `&height=${height}` : ""}`;
  const r = await rpc<{ response: { code: number; value: string | null; log: string } }>(url, q);
  if (r.response.code !== 0) throw new Error(`account query: ${r.response.log}`);
  if (!r.response.value) return undefined;
  const acc = BaseAccount.decode(Buffer.from(r.response.value, "base64"));
  return { accountNumber: acc.accountNumber, sequence: acc.sequence };
}

export class BankLoad {
  readonly lanes: Lane[];
  private stopped = false;
  private loops: Promise<void>[] = [];
  /** Fresh addresses that receive the sends. */
  private readonly sinks = Array.from({ length: 3 }, () => formatAddress(randomBytes(20)));

  constructor(
    private readonly rpcs: string[],
    private readonly accounts: Array<{ mnemonic: string; address: string }>,
    private readonly chainId: string,
    private readonly rand: () => number,
  ) {
    this.lanes = accounts.map((a) => ({ address: a.address, signed: new Set(), accepted: 0, refused: 0, broadcastErrors: 0 }));
  }

  start(): void {
    this.loops = this.accounts.map((a, i) => this.run(i, a.mnemonic));
  }

  async stop(): Promise<Lane[]> {
    this.stopped = true;
    await Promise.all(this.loops);
    return this.lanes;
  }

  private async run(i: number, mnemonic: string): Promise<void> {
    const lane = this.lanes[i];
    const signer = await SigningStargateClient.offline(await walletFromMnemonic(mnemonic), { registry: poiRegistry() });
    let node = i % this.rpcs.length;
    while (!this.stopped) {
      const url = this.rpcs[node];
      try {
        const acc = await accountAt(url, lane.address);
        if (!acc) throw new Error(`lane ${lane.address} has no account`);
        const txs: Uint8Array[] = [];
        for (let k = 0; k < BATCH; k++) {
          const amount = String(1 + Math.floor(this.rand() * 1000));
          const msg = { typeUrl: MsgSend.typeUrl, value: MsgSend.fromPartial({ fromAddress: lane.address, toAddress: this.sinks[k % this.sinks.length], amount: [{ denom: BOND_DENOM, amount }] }) };
          const raw = await signer.sign(lane.address, [msg], FEE, "", { accountNumber: acc.accountNumber, sequence: Number(acc.sequence) + k, chainId: this.chainId });
          txs.push(TxRaw.encode(raw).finish());
        }
        let accepted = 0;
        for (const tx of txs) {
          lane.signed.add(txHash(tx));
          const r = await rpc<{ code: number }>(url, `broadcast_tx_sync?tx=0x${toHex(tx)}`);
          if (r.code === 0) accepted++;
          else lane.refused++;
        }
        lane.accepted += accepted;
        // Wait for the batch to be committed (or lost), then go on from the chain's sequence.
        const deadline = Date.now() + 15_000;
        while (!this.stopped && Date.now() < deadline) {
          const now = await accountAt(url, lane.address);
          if (now && now.sequence >= acc.sequence + BigInt(accepted)) break;
          await sleep(300);
        }
      } catch {
        lane.broadcastErrors++;
        node = (node + 1) % this.rpcs.length; // that node is down: use the next one
        await sleep(500);
      }
    }
  }
}
