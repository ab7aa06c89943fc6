/**
 * What CosmJS needs to talk to poi-chain: the type registry (Cosmos defaults plus our own messages),
 * wallets with our prefix and HD path, and our gas price. The clients built on it: PoiQueryClient
 * (./query) and PoiTxClient (./tx).
 */
import "../util/cosmjs-types-int64"; // before any encoding: fixes cosmjs-types int64 in [2^31, 2^32)
import { DirectSecp256k1HdWallet, Registry, type GeneratedType } from "@cosmjs/proto-signing";
import { defaultRegistryTypes } from "@cosmjs/stargate";
import { MsgUnjail } from "cosmjs-types/cosmos/slashing/v1beta1/tx";
import { ADDRESS_PREFIX, BOND_DENOM } from "../app/params";
import {
  MsgRegisterModelCodec, MsgCreateDatasetCodec, MsgUploadDatasetChunkCodec, MsgSubmitInferenceTaskCodec, MsgClaimTaskCodec, MsgSubmitResultCodec,
  MsgLinkWorkerCodec, MsgAcceptWorkerLinkCodec, MsgUnlinkWorkerCodec, MsgSubmitTrainingTaskCodec, MsgCommitTrainingCodec, MsgRevealCheckpointCodec,
} from "../x/poi/types";

/** Our own message types (proto/poi/v1), registered under their type URLs. */
export const poiMessageTypes: ReadonlyArray<[string, GeneratedType]> = [
  MsgRegisterModelCodec, MsgCreateDatasetCodec, MsgUploadDatasetChunkCodec, MsgSubmitInferenceTaskCodec, MsgClaimTaskCodec, MsgSubmitResultCodec,
  MsgLinkWorkerCodec, MsgAcceptWorkerLinkCodec, MsgUnlinkWorkerCodec, MsgSubmitTrainingTaskCodec, MsgCommitTrainingCodec, MsgRevealCheckpointCodec,
].map((c) => [c.typeUrl, c as unknown as GeneratedType]);

export function poiRegistry(): Registry {
  // CosmJS's defaults have the staking Msgs but not slashing's MsgUnjail.
  return new Registry([...defaultRegistryTypes, [MsgUnjail.typeUrl, MsgUnjail as GeneratedType], ...poiMessageTypes]);
}

/** The price the localnet's nodes ask for (cometbft/app.template.json min_gas_prices). */
export const DEFAULT_GAS_PRICE = `0.025${BOND_DENOM}`;

export function walletFromMnemonic(mnemonic: string): Promise<DirectSecp256k1HdWallet> {
  return DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: ADDRESS_PREFIX });
}
