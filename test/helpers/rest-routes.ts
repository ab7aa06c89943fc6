/**
 * The route table of the e2e REST test: every route issue 14 lists (and the staking, distribution,
 * mint and slashing routes Keplr's staking screens and Ping.pub read), each with the gateway JSON shape
 * it must answer, then the errors: bad input 400, missing things 404, rpcs our modules lack and unknown
 * routes 501. The SDK's shapes: x/*'s query.proto with the gateway's JSON (int64 as strings, ...).
 */
import { strict as assert } from "assert";
import { COIN, DEC_COIN, PAGE, assertShape, type Shape } from "./rest";

export interface RouteFacts {
  chainId: string;
  faucet: string;
  /** A delegator with a delegation (the validator's operator account) and its validator. */
  delegator: string;
  valoper: string;
  valcons: string;
  modelId: string;
  datasetId: string;
  /** The task a worker completed, then the ids of its known-answer audits (decided), if any were planted. */
  completedTasks: string[];
  openTask: string;
  worker: string;
  txHash: string;
  txHeight: string;
  txSender: string;
}

export interface RouteCase {
  path: string;
  post?: unknown;
  /** The shape of a 200 answer, or the error: [HTTP status, gRPC code]. */
  want: Shape | [number, number];
  /** More checks on a 200 answer's body. */
  check?: (body: any) => void;
}

const BASE_ACCOUNT: Shape = { "@type": { eq: "/cosmos.auth.v1beta1.BaseAccount" }, address: /^poi1/, account_number: "uint", sequence: "uint" };
const HEADER: Shape = { chain_id: "string", height: "uint", time: "time", app_hash: "b64", proposer_address: "b64", last_block_id: { hash: "b64", part_set_header: { total: "int", hash: "b64" } } };
const BLOCK_ID: Shape = { hash: "b64", part_set_header: { total: "int", hash: "b64" } };
const BLOCK: Shape = { header: HEADER, data: { txs: "array" }, evidence: { evidence: "array" }, last_commit: { height: "uint", round: "int", signatures: "array" } };
const VALSET: Shape = {
  block_height: "uint", pagination: PAGE,
  validators: [{ address: /^poivalcons1/, pub_key: { "@type": { eq: "/cosmos.crypto.ed25519.PubKey" }, key: "b64" }, voting_power: "uint", proposer_priority: /^-?\d+$/ }],
};
const TX_RESPONSE: Shape = {
  height: "uint", txhash: /^[0-9A-F]{64}$/, codespace: "string", code: "int", data: "hex", raw_log: "string", logs: "array", info: "string",
  gas_wanted: "uint", gas_used: "uint", tx: { "@type": { eq: "/cosmos.tx.v1beta1.Tx" } }, timestamp: "time", events: [{ type: "string", attributes: "array" }],
};
const TX: Shape = {
  body: { messages: [{ "@type": /^\/[a-z]/ }], memo: "string", timeout_height: "uint" },
  auth_info: { signer_infos: [{ public_key: { "@type": "string" }, mode_info: { single: { mode: "string" } }, sequence: "uint" }], fee: { amount: "array", gas_limit: "uint" } },
  signatures: ["b64"],
};
const VALIDATOR: Shape = {
  operator_address: /^poivaloper1/, consensus_pubkey: { "@type": { eq: "/cosmos.crypto.ed25519.PubKey" }, key: "b64" }, jailed: "boolean",
  status: { eq: "BOND_STATUS_BONDED" }, tokens: "uint", delegator_shares: "dec", description: { moniker: "string" }, unbonding_height: "uint",
  unbonding_time: "time", commission: { commission_rates: { rate: "dec", max_rate: "dec", max_change_rate: "dec" }, update_time: "time" }, min_self_delegation: "uint",
};
const DELEGATION: Shape = { delegation: { delegator_address: /^poi1/, validator_address: /^poivaloper1/, shares: "dec" }, balance: COIN };
const TASK: Shape = {
  id: "uint", requester: /^poi1/, model_id: /^[0-9a-f]{64}$/, dataset_id: "string", num_items: "uint", reward_per_item: "string", k: "int",
  bond: "string", escrow: "string", created_height: "uint", deadline_height: "uint", status: /^TASK_STATUS_/,
};

export const isError = (want: RouteCase["want"]): want is [number, number] => Array.isArray(want) && typeof want[0] === "number";

export function routeCases(f: RouteFacts): RouteCase[] {
  const bad = "poi1notanaddress";
  return [
    // auth
    { path: `/cosmos/auth/v1beta1/accounts/${f.faucet}`, want: { account: BASE_ACCOUNT } },
    { path: "/cosmos/auth/v1beta1/params", want: { params: { max_memo_characters: "uint", tx_sig_limit: "uint", tx_size_cost_per_byte: "uint", sig_verify_cost_ed25519: "uint", sig_verify_cost_secp256k1: "uint" } } },
    { path: `/cosmos/auth/v1beta1/accounts/${bad}`, want: [400, 3] },
    // bank
    { path: `/cosmos/bank/v1beta1/balances/${f.faucet}?pagination.limit=1&pagination.count_total=true`, want: { balances: [{ denom: { eq: "upoi" }, amount: "uint" }], pagination: PAGE } },
    { path: `/cosmos/bank/v1beta1/balances/${f.faucet}/by_denom?denom=upoi`, want: { balance: COIN } },
    { path: `/cosmos/bank/v1beta1/spendable_balances/${f.faucet}`, want: { balances: [COIN], pagination: PAGE } },
    { path: "/cosmos/bank/v1beta1/supply", want: { supply: [COIN], pagination: PAGE } },
    { path: "/cosmos/bank/v1beta1/supply/by_denom?denom=upoi", want: { amount: { denom: { eq: "upoi" }, amount: "uint" } } },
    { path: "/cosmos/bank/v1beta1/denoms_metadata", want: { metadatas: [{ base: "string", display: "string", denom_units: [{ denom: "string", exponent: "int", aliases: "array" }] }], pagination: PAGE } },
    { path: `/cosmos/bank/v1beta1/balances/${bad}`, want: [400, 3] },
    { path: `/cosmos/bank/v1beta1/spendable_balances/${bad}`, want: [400, 3] },
    // tx
    { path: `/cosmos/tx/v1beta1/txs/${f.txHash}`, want: { tx: TX, tx_response: TX_RESPONSE } },
    {
      path: `/cosmos/tx/v1beta1/txs?query=${encodeURIComponent(`message.sender='${f.txSender}'`)}&order_by=ORDER_BY_DESC&page=1&limit=10`,
      want: { txs: [TX], tx_responses: [TX_RESPONSE], total: { eq: "1" } },
    },
    {
      // A block opens with the verdict aggregate (not a Cosmos tx: an empty Tx here); the Keplr tx follows.
      path: `/cosmos/tx/v1beta1/txs/block/${f.txHeight}`, want: { txs: "array", block_id: BLOCK_ID, block: BLOCK, pagination: PAGE },
      check: (body) => {
        const sends = body.txs.filter((t: any) => t.body.messages[0]?.["@type"] === "/cosmos.bank.v1beta1.MsgSend" && t.body.messages[0].from_address === f.txSender);
        assert.equal(sends.length, 1);
        assertShape(sends[0], TX);
        assert.equal(body.pagination.total, String(body.txs.length));
      },
    },
    { path: `/cosmos/tx/v1beta1/txs/${"AB".repeat(32)}`, want: [404, 5] },
    { path: "/cosmos/tx/v1beta1/txs/nothex", want: [400, 3] },
    { path: "/cosmos/tx/v1beta1/txs?query=", want: [400, 3] },
    { path: "/cosmos/tx/v1beta1/txs/block/999999999", want: [400, 3] },
    { path: "/cosmos/tx/v1beta1/simulate", post: { tx_bytes: "AAAA" }, want: [400, 3] },
    { path: "/cosmos/tx/v1beta1/txs", post: { tx_bytes: "", mode: "BROADCAST_MODE_SYNC" }, want: [400, 3] },
    // tendermint
    { path: "/cosmos/base/tendermint/v1beta1/node_info", want: { default_node_info: { network: { eq: f.chainId }, default_node_id: /^[0-9a-f]{40}$/, version: "string", moniker: "string", protocol_version: { p2p: "uint", block: "uint", app: "uint" } }, application_version: { name: "string", app_name: "string", version: "string", cosmos_sdk_version: /^v0\.50\./ } } },
    { path: "/cosmos/base/tendermint/v1beta1/blocks/latest", want: { block_id: BLOCK_ID, block: BLOCK, sdk_block: { header: { ...(HEADER as object), proposer_address: /^poivalcons1/ } } } },
    { path: "/cosmos/base/tendermint/v1beta1/blocks/1", want: { block_id: BLOCK_ID, block: { header: { height: { eq: "1" }, chain_id: { eq: f.chainId } } }, sdk_block: "object" } },
    { path: "/cosmos/base/tendermint/v1beta1/validatorsets/latest", want: VALSET },
    { path: "/cosmos/base/tendermint/v1beta1/validatorsets/1", want: { ...(VALSET as object), block_height: { eq: "1" } } },
    { path: "/cosmos/base/tendermint/v1beta1/syncing", want: { syncing: { eq: false } } },
    { path: "/cosmos/base/tendermint/v1beta1/blocks/999999999", want: [400, 3] },
    { path: "/cosmos/base/tendermint/v1beta1/blocks/abc", want: [400, 3] },
    // poi
    { path: "/poi/v1/models", want: { models: [{ id: { eq: f.modelId }, owner: /^poi1/, name: "string", inputs: [{ name: "string", shape: ["uint"], dtype: "string" }], work_units_per_item: "uint", size_bytes: "uint", registered_height: "uint", flagged: "boolean", kind: /^MODEL_KIND_/ }], pagination: PAGE } },
    { path: `/poi/v1/models/${f.modelId}`, want: { model: { id: { eq: f.modelId } } } },
    { path: "/poi/v1/datasets", want: { datasets: [{ id: { eq: f.datasetId }, num_items: "uint", num_chunks: "int", complete: { eq: true } }], pagination: PAGE } },
    { path: `/poi/v1/datasets/${f.datasetId}`, want: { dataset: { id: { eq: f.datasetId }, item: { shape: ["uint"], dtype: "string" } } } },
    { path: "/poi/v1/tasks?pagination.limit=1", want: { tasks: [TASK], pagination: { next_key: "b64", total: "uint" } } },
    {
      path: `/poi/v1/tasks?status=TASK_STATUS_COMPLETED`, want: { tasks: [{ ...(TASK as object), status: { eq: "TASK_STATUS_COMPLETED" } }], pagination: PAGE },
      check: (b) => assert.deepEqual(b.tasks.map((t: { id: string }) => t.id), f.completedTasks),
    },
    { path: `/poi/v1/tasks/${f.openTask}`, want: { task: { ...(TASK as object), status: { eq: "TASK_STATUS_OPEN" } } } },
    { path: `/poi/v1/tasks/${f.completedTasks[0]}/outputs`, want: { data: /^[A-Za-z0-9+/]{40,}={0,2}$/ } },
    { path: `/poi/v1/workers/${f.worker}`, want: { stats: { address: { eq: f.worker }, verified_work_units: "uint", tasks_passed: { eq: "1" }, tasks_failed: "uint", earned: "string", slashed: "string" } } },
    { path: "/poi/v1/params", want: { params: { max_model_bytes: "uint", max_k: "uint", claim_blocks: "uint", seed_epoch_blocks: "uint" } } },
    { path: `/poi/v1/models/${"0".repeat(64)}`, want: [404, 5] },
    { path: "/poi/v1/tasks/999999", want: [404, 5] },
    { path: "/poi/v1/tasks/notanumber", want: [400, 3] },
    { path: `/poi/v1/workers/${bad}`, want: [400, 3] },
    { path: "/poi/v1/open_tasks?pagination.limit=5", want: { tasks: "array", height: "uint" } },
    { path: `/poi/v1/links?operator=${f.delegator}`, want: { links: "array", offers: "array" } },
    { path: `/poi/v1/links?operator=${f.valoper}`, want: [400, 3] },
    { path: `/poi/v1/validators/${f.valoper}/work_score`, want: { score: { operator: { eq: f.delegator }, score: "uint" } } },
    { path: `/poi/v1/tasks/${f.completedTasks[0]}/training`, want: [400, 3] },
    { path: "/poi/v1/tasks/999999/training", want: [404, 5] },
    { path: `/poi/v1/tasks/${f.completedTasks[0]}/checkpoints/0/chunks/0`, want: [404, 5] },
    // staking (Keplr's staking screens, Ping.pub's dashboard and validator pages)
    { path: "/cosmos/staking/v1beta1/validators?status=BOND_STATUS_BONDED&pagination.limit=200", want: { validators: [VALIDATOR], pagination: PAGE } },
    { path: `/cosmos/staking/v1beta1/validators/${f.valoper}`, want: { validator: { ...(VALIDATOR as object), operator_address: { eq: f.valoper } } } },
    { path: `/cosmos/staking/v1beta1/validators/${f.valoper}/delegations`, want: { delegation_responses: [DELEGATION], pagination: PAGE } },
    { path: `/cosmos/staking/v1beta1/validators/${f.valoper}/delegations/${f.delegator}`, want: { delegation_response: DELEGATION } },
    { path: `/cosmos/staking/v1beta1/delegations/${f.delegator}`, want: { delegation_responses: [DELEGATION], pagination: PAGE } },
    { path: `/cosmos/staking/v1beta1/delegators/${f.delegator}/unbonding_delegations`, want: { unbonding_responses: { eq: [] }, pagination: PAGE } },
    { path: `/cosmos/staking/v1beta1/validators/${f.valoper}/delegations/${f.delegator}/unbonding_delegation`, want: [404, 5] },
    { path: "/cosmos/staking/v1beta1/pool", want: { pool: { not_bonded_tokens: "uint", bonded_tokens: "uint" } } },
    { path: "/cosmos/staking/v1beta1/params", want: { params: { unbonding_time: /^\d+s$/, max_validators: "int", max_entries: "int", historical_entries: "int", bond_denom: { eq: "upoi" }, min_commission_rate: "dec" } } },
    { path: "/cosmos/staking/v1beta1/validators?status=BOND_STATUS_NOPE", want: [400, 3] },
    { path: "/cosmos/staking/v1beta1/validators/poivaloper1nope", want: [400, 3] },
    { path: `/cosmos/staking/v1beta1/delegations/${bad}`, want: [400, 3] },
    // distribution
    { path: `/cosmos/distribution/v1beta1/delegators/${f.delegator}/rewards`, want: { rewards: [{ validator_address: { eq: f.valoper }, reward: "array" }], total: "array" } },
    { path: `/cosmos/distribution/v1beta1/delegators/${f.delegator}/rewards/${f.valoper}`, want: { rewards: "array" } },
    { path: "/cosmos/distribution/v1beta1/community_pool", want: { pool: [DEC_COIN] } },
    { path: "/cosmos/distribution/v1beta1/params", want: { params: { community_tax: "dec", base_proposer_reward: "dec", bonus_proposer_reward: "dec", withdraw_addr_enabled: "boolean" } } },
    { path: `/cosmos/distribution/v1beta1/validators/${f.valoper}/commission`, want: { commission: { commission: "array" } } },
    { path: `/cosmos/distribution/v1beta1/validators/${f.valoper}/outstanding_rewards`, want: { rewards: { rewards: "array" } } },
    { path: `/cosmos/distribution/v1beta1/validators/${f.valoper.slice(0, -6)}qqqqqq/commission`, want: [400, 3] },
    { path: `/cosmos/distribution/v1beta1/delegators/${f.faucet}/rewards/${f.valoper}`, want: [404, 5] },
    // mint
    { path: "/cosmos/mint/v1beta1/params", want: { params: { mint_denom: { eq: "upoi" }, inflation_rate_change: "dec", inflation_max: "dec", inflation_min: "dec", goal_bonded: "dec", blocks_per_year: "uint" } } },
    { path: "/cosmos/mint/v1beta1/inflation", want: { inflation: "dec" } },
    { path: "/cosmos/mint/v1beta1/annual_provisions", want: { annual_provisions: "dec" } },
    // slashing
    { path: "/cosmos/slashing/v1beta1/params", want: { params: { signed_blocks_window: "uint", min_signed_per_window: "dec", downtime_jail_duration: /^\d+s$/, slash_fraction_double_sign: "dec", slash_fraction_downtime: "dec" } } },
    { path: "/cosmos/slashing/v1beta1/signing_infos", want: { info: [{ address: { eq: f.valcons }, start_height: "uint", index_offset: "uint", jailed_until: "time", tombstoned: "boolean", missed_blocks_counter: "uint" }], pagination: PAGE } },
    { path: `/cosmos/slashing/v1beta1/signing_infos/${f.valcons}`, want: { val_signing_info: { address: { eq: f.valcons } } } },
    // rpcs our modules do not implement, and routes nobody serves: the SDK's 501 (gRPC code 12)
    { path: "/cosmos/staking/v1beta1/historical_info/1", want: [501, 12] },
    { path: `/cosmos/staking/v1beta1/delegators/${f.delegator}/redelegations`, want: [501, 12] },
    { path: `/cosmos/distribution/v1beta1/validators/${f.valoper}`, want: [501, 12] },
    { path: `/cosmos/distribution/v1beta1/validators/${f.valoper}/slashes`, want: [501, 12] },
    { path: "/cosmos/nope/v1beta1/things", want: [501, 12] },
    { path: "/poi/v1/models", post: {}, want: [501, 12] },
  ];
}
