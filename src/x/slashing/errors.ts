import { registerError } from "../../app/errors";

/** Codes follow the Cosmos SDK's x/slashing numbering. */
export const SLASHING_CODESPACE = "slashing";
export const ErrNoValidatorForAddress = registerError(SLASHING_CODESPACE, 2, "address is not associated with any known validator");
export const ErrValidatorJailed = registerError(SLASHING_CODESPACE, 4, "validator still jailed; cannot be unjailed");
export const ErrValidatorNotJailed = registerError(SLASHING_CODESPACE, 5, "validator not jailed; cannot be unjailed");
export const ErrSelfDelegationTooLowToUnjail = registerError(SLASHING_CODESPACE, 7, "validator's self delegation less than minimum; cannot be unjailed");
export const ErrValidatorTombstoned = registerError(SLASHING_CODESPACE, 9, "validator is tombstoned; cannot be unjailed");
