/**
 * cosmos.base.tendermint.v1beta1.Service as the SDK v0.50 serves it (client/grpc/cmtservice): node
 * info, syncing, blocks (the CometBFT block and the SDK's `sdk_block` with a bech32 proposer) and
 * validator sets from CometBFT's RPC; ABCIQuery passes through to the app.
 */
import { invalidArgument } from "./errors";
import { CometRpcError, type CometRpc, type RawBlockResponse } from "./comet-rpc";
import { b64Bytes, block, blockId, nodeInfo, validator } from "./comet-convert";
import { checkHeight } from "./tx-service";
import type { MethodHandler } from "./router";

type Obj = Record<string, unknown>;
const DEFAULT_LIMIT = 100;

function blockResponse(res: RawBlockResponse): Obj {
  return { block_id: blockId(res.block_id), block: block(res.block), sdk_block: block(res.block, true) };
}

/** The SDK's ParsePagination: page = offset / limit + 1. */
function pageOf(request: Obj): { page: number; limit: number } {
  const p = (request.pagination ?? {}) as Obj;
  const limit = Number(p.limit ?? 0) || DEFAULT_LIMIT;
  return { page: Math.floor(Number(p.offset ?? 0) / limit) + 1, limit };
}

async function validatorSet(rpc: CometRpc, height: bigint | undefined, request: Obj): Promise<Obj> {
  const { page, limit } = pageOf(request);
  try {
    const vs = await rpc.validators(height, page, limit);
    return { block_height: vs.block_height, validators: vs.validators.map(validator), pagination: { next_key: new Uint8Array(), total: vs.total } };
  } catch (err) {
    if (err instanceof CometRpcError) throw invalidArgument(err.data || err.rpcMessage);
    throw err;
  }
}

async function requireHeight(rpc: CometRpc, request: Obj): Promise<bigint> {
  try {
    return await checkHeight(rpc, request.height);
  } catch (err) {
    if (BigInt(String(request.height ?? 0)) > 0n) throw invalidArgument("requested block height is bigger then the chain length");
    throw err;
  }
}

export const tendermintService: Record<string, MethodHandler> = {
  GetNodeInfo: async ({ rpc, node }) => ({
    default_node_info: nodeInfo((await rpc.status()).node_info),
    application_version: {
      name: node.appName, app_name: node.appName, version: node.version, git_commit: "", build_tags: "", go_version: "",
      build_deps: [], cosmos_sdk_version: node.cosmosSdkVersion,
    },
  }),
  GetSyncing: async ({ rpc }) => ({ syncing: (await rpc.status()).sync_info.catching_up }),
  GetLatestBlock: async ({ rpc }) => blockResponse(await rpc.block()),
  GetBlockByHeight: async ({ rpc, request }) => blockResponse(await rpc.block(await requireHeight(rpc, request))),
  GetLatestValidatorSet: async ({ rpc, request }) => validatorSet(rpc, undefined, request),
  GetValidatorSetByHeight: async ({ rpc, request }) => validatorSet(rpc, await requireHeight(rpc, request), request),
  ABCIQuery: async ({ rpc, request }) => {
    const path = String(request.path ?? "");
    if (path === "") throw invalidArgument("empty query path");
    const data = request.data instanceof Uint8Array ? request.data : new Uint8Array();
    const { response: r } = await rpc.abciQuery(path, data, BigInt(String(request.height ?? 0)), request.prove === true);
    const ops = (r.proofOps?.ops ?? []).map((o) => ({ type: o.type, key: b64Bytes(o.key), data: b64Bytes(o.data) }));
    return {
      code: r.code ?? 0, log: r.log ?? "", info: r.info ?? "", index: r.index ?? "0", key: b64Bytes(r.key), value: b64Bytes(r.value),
      proof_ops: { ops }, height: r.height ?? "0", codespace: r.codespace ?? "",
    };
  },
};
