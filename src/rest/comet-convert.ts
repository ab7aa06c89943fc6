/**
 * CometBFT RPC JSON (hex hashes, base64 txs, RFC 3339 times) turned into plain objects of the protobuf
 * types the SDK's gateway answers with (tendermint.types.Block, TxResponse, DefaultNodeInfo, ...), so
 * that src/rest/proto.ts renders them. Field names are the .proto names.
 */
import { toBech32 } from "@cosmjs/encoding";
import { BECH32 } from "../app/params";
import { AGGREGATE_MAGIC, isAggregateTx } from "../x/poi/verdicts";
import { encodeMessage, messageType, parseTimestamp } from "./proto";
import type { RawBlock, RawBlockId, RawEvent, RawHeader, RawStatus, RawTx, RawValidator } from "./comet-rpc";

type Obj = Record<string, unknown>;

export const hexBytes = (s: string | null | undefined) => new Uint8Array(Buffer.from(s ?? "", "hex"));
export const b64Bytes = (s: string | null | undefined) => new Uint8Array(Buffer.from(s ?? "", "base64"));
export const upperHex = (b: Uint8Array) => Buffer.from(b).toString("hex").toUpperCase();

export function timestamp(rfc3339: string): Obj {
  const t = parseTimestamp(rfc3339);
  return { seconds: t.seconds.toString(), nanos: t.nanos };
}

export function blockId(raw: RawBlockId | null | undefined): Obj {
  return { hash: hexBytes(raw?.hash), part_set_header: { total: raw?.parts.total ?? 0, hash: hexBytes(raw?.parts.hash) } };
}

/** tendermint.types.Header; with `sdk`, the SDK's Header whose proposer_address is a valcons bech32 string. */
export function header(h: RawHeader, sdk = false): Obj {
  const proposer = hexBytes(h.proposer_address);
  return {
    version: { block: h.version.block, app: h.version.app ?? "0" }, chain_id: h.chain_id, height: h.height, time: timestamp(h.time),
    last_block_id: blockId(h.last_block_id), last_commit_hash: hexBytes(h.last_commit_hash), data_hash: hexBytes(h.data_hash),
    validators_hash: hexBytes(h.validators_hash), next_validators_hash: hexBytes(h.next_validators_hash),
    consensus_hash: hexBytes(h.consensus_hash), app_hash: hexBytes(h.app_hash), last_results_hash: hexBytes(h.last_results_hash),
    evidence_hash: hexBytes(h.evidence_hash), proposer_address: sdk ? toBech32(BECH32.valcons, proposer) : proposer,
  };
}

/**
 * tendermint.types.Block (or, with `sdk`, cosmos.base.tendermint.v1beta1.Block). Evidence is left
 * empty: CometBFT's amino JSON of evidence is not mapped (no localnet produces any).
 */
export function block(b: RawBlock, sdk = false): Obj {
  const lc = b.last_commit;
  return {
    header: header(b.header, sdk),
    data: { txs: (b.data.txs ?? []).map(b64Bytes) },
    evidence: { evidence: [] },
    last_commit: lc
      ? {
        height: lc.height, round: lc.round, block_id: blockId(lc.block_id),
        signatures: lc.signatures.map((s) => ({
          block_id_flag: s.block_id_flag, validator_address: hexBytes(s.validator_address), timestamp: timestamp(s.timestamp), signature: b64Bytes(s.signature),
        })),
      }
      : null,
  };
}

export function events(raw: RawEvent[] | null | undefined): Obj[] {
  return (raw ?? []).map((e) => ({ type: e.type, attributes: (e.attributes ?? []).map((a) => ({ key: a.key, value: a.value, index: a.index ?? false })) }));
}

/** What a block tx is to the gateway: a Cosmos Tx, or poi's verdict aggregate shown as a Tx with one VerdictAggregate message. */
export interface BlockTx {
  /** A cosmos.tx.v1beta1.Tx object, or null when the bytes are no Tx at all. */
  tx: Obj | null;
  /** TxResponse.tx: the Any the SDK puts there. */
  any: Obj | null;
}

const TX_TYPE = "cosmos.tx.v1beta1.Tx";

export function decodeBlockTx(bytes: Uint8Array): BlockTx {
  if (isAggregateTx(bytes)) {
    const message = { type_url: "/poi.v1.VerdictAggregate", value: bytes.subarray(AGGREGATE_MAGIC.length) };
    const tx = {
      body: { messages: [message], memo: "", timeout_height: "0", extension_options: [], non_critical_extension_options: [] },
      auth_info: { signer_infos: [], fee: { amount: [], gas_limit: "0", payer: "", granter: "" } },
      signatures: [],
    };
    return { tx, any: { type_url: `/${TX_TYPE}`, value: encodeMessage(TX_TYPE, tx) } };
  }
  const type = messageType(TX_TYPE);
  try {
    const tx = type.toObject(type.decode(bytes), { longs: String, defaults: true, arrays: true });
    // TxRaw and Tx share one wire format: the Any holds the raw bytes, as in the SDK.
    return { tx, any: { type_url: `/${TX_TYPE}`, value: bytes } };
  } catch {
    return { tx: null, any: null };
  }
}

/** cosmos.base.abci.v1beta1.TxResponse of an indexed tx; `blockTime` is its block's time (RFC 3339, whole seconds as the SDK writes it). */
export function txResponse(raw: RawTx, blockTime: string): Obj {
  const r = raw.tx_result;
  return {
    height: raw.height, txhash: raw.hash.toUpperCase(), codespace: r.codespace ?? "", code: r.code ?? 0,
    data: upperHex(b64Bytes(r.data)), raw_log: r.log ?? "", logs: [], info: r.info ?? "", gas_wanted: r.gas_wanted ?? "0", gas_used: r.gas_used ?? "0",
    tx: decodeBlockTx(b64Bytes(raw.tx)).any, timestamp: blockTime.replace(/\.\d+Z$/, "Z"), events: events(r.events),
  };
}

const PUBKEY_TYPES: Record<string, string> = {
  "tendermint/PubKeyEd25519": "cosmos.crypto.ed25519.PubKey",
  "tendermint/PubKeySecp256k1": "cosmos.crypto.secp256k1.PubKey",
};

/** cosmos.base.tendermint.v1beta1.Validator: a valcons bech32 address and the key as an Any. */
export function validator(v: RawValidator): Obj {
  const type = PUBKEY_TYPES[v.pub_key.type];
  const pub_key = type ? { type_url: `/${type}`, value: encodeMessage(type, { key: b64Bytes(v.pub_key.value) }) } : null;
  return { address: toBech32(BECH32.valcons, hexBytes(v.address)), pub_key, voting_power: v.voting_power, proposer_priority: v.proposer_priority };
}

/** tendermint.p2p.DefaultNodeInfo from /status. */
export function nodeInfo(n: RawStatus["node_info"]): Obj {
  return {
    protocol_version: { p2p: n.protocol_version.p2p, block: n.protocol_version.block, app: n.protocol_version.app },
    default_node_id: n.id, listen_addr: n.listen_addr, network: n.network, version: n.version, channels: hexBytes(n.channels),
    moniker: n.moniker, other: { tx_index: n.other.tx_index, rpc_address: n.other.rpc_address },
  };
}
