/** Chain-wide constants a Cosmos user expects to see named in one place. */
export const ADDRESS_PREFIX = "poi";
/** Validator operator addresses: the operator account's bytes under this prefix (the SDK's ValAddress). */
export const VALOPER_PREFIX = "poivaloper";
export const BOND_DENOM = "upoi";
export const LOCALNET_CHAIN_ID = "poi-localnet";
export const APP_NAME = "poi-chain";
export const APP_VERSION = 1n;
/** Bech32 prefixes in the Cosmos SDK's scheme: accounts, validator operators and consensus keys, each with its "pub" form. */
export const BECH32 = {
  acc: ADDRESS_PREFIX, accPub: `${ADDRESS_PREFIX}pub`, valoper: VALOPER_PREFIX, valoperPub: `${ADDRESS_PREFIX}valoperpub`,
  valcons: `${ADDRESS_PREFIX}valcons`, valconsPub: `${ADDRESS_PREFIX}valconspub`,
} as const;
/** bech32 prefix of consensus addresses (sha256(ed25519 pubkey)[:20]) in slashing queries. */
export const VALCONS_PREFIX = BECH32.valcons;
