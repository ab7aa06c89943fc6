/** Chain-wide constants a Cosmos user expects to see named in one place. */
export const ADDRESS_PREFIX = "poi";
export const BOND_DENOM = "upoi";
export const LOCALNET_CHAIN_ID = "poi-localnet";
export const APP_NAME = "poi-chain";
export const APP_VERSION = 1n;
/** Bech32 prefixes in the Cosmos SDK's scheme: accounts, validator operators and consensus keys, each with its "pub" form. */
export const BECH32 = {
  acc: ADDRESS_PREFIX, accPub: `${ADDRESS_PREFIX}pub`, valoper: `${ADDRESS_PREFIX}valoper`, valoperPub: `${ADDRESS_PREFIX}valoperpub`,
  valcons: `${ADDRESS_PREFIX}valcons`, valconsPub: `${ADDRESS_PREFIX}valconspub`,
} as const;
