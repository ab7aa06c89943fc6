/**
 * What a requester or worker needs to talk to poi-chain with unmodified CosmJS: the type registry
 * (Cosmos defaults plus our own messages as later modules add them), wallets with our prefix and
 * HD path, and a signing client with our gas price.
 */
import { DirectSecp256k1HdWallet, Registry, type GeneratedType } from "@cosmjs/proto-signing";
import { defaultRegistryTypes, GasPrice, SigningStargateClient, StargateClient } from "@cosmjs/stargate";
import { ADDRESS_PREFIX, BOND_DENOM } from "../app/params";
import {
  MsgRegisterModelCodec, MsgCreateDatasetCodec, MsgUploadDatasetChunkCodec, MsgSubmitInferenceTaskCodec, MsgClaimTaskCodec, MsgSubmitResultCodec,
} from "../x/poi/types";

/** Our own message types (proto/poi/v1), registered under their type URLs. */
export const poiMessageTypes: ReadonlyArray<[string, GeneratedType]> = [
  MsgRegisterModelCodec, MsgCreateDatasetCodec, MsgUploadDatasetChunkCodec, MsgSubmitInferenceTaskCodec, MsgClaimTaskCodec, MsgSubmitResultCodec,
].map((c) => [c.typeUrl, c as unknown as GeneratedType]);

export function poiRegistry(): Registry {
  return new Registry([...defaultRegistryTypes, ...poiMessageTypes]);
}

/** The price the localnet's nodes ask for (cometbft/app.template.json min_gas_prices). */
export const DEFAULT_GAS_PRICE = `0.025${BOND_DENOM}`;

export function walletFromMnemonic(mnemonic: string): Promise<DirectSecp256k1HdWallet> {
  return DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: ADDRESS_PREFIX });
}

export interface ConnectedSigner {
  client: SigningStargateClient;
  address: string;
  wallet: DirectSecp256k1HdWallet;
}

/** A SigningStargateClient for the first account of `mnemonic`, with our registry and gas price. */
export async function connectSigner(rpcUrl: string, mnemonic: string, gasPrice = DEFAULT_GAS_PRICE): Promise<ConnectedSigner> {
  const wallet = await walletFromMnemonic(mnemonic);
  const [account] = await wallet.getAccounts();
  const client = await SigningStargateClient.connectWithSigner(rpcUrl, wallet, {
    registry: poiRegistry(),
    gasPrice: GasPrice.fromString(gasPrice),
  });
  return { client, address: account.address, wallet };
}

export function connectReader(rpcUrl: string): Promise<StargateClient> {
  return StargateClient.connect(rpcUrl);
}
