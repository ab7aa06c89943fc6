import { registerError } from "../../app/errors";

/** Codes follow the Cosmos SDK's x/staking numbering where the concept matches. */
export const STAKING_CODESPACE = "staking";
export const ErrEmptyValidatorAddr = registerError(STAKING_CODESPACE, 2, "empty validator address");
export const ErrNoValidatorFound = registerError(STAKING_CODESPACE, 3, "validator does not exist");
export const ErrValidatorOwnerExists = registerError(STAKING_CODESPACE, 4, "validator already exist for this operator address; must use new validator operator address");
export const ErrValidatorPubKeyExists = registerError(STAKING_CODESPACE, 5, "validator already exist for this pubkey; must use new validator pubkey");
export const ErrCommissionGTMaxRate = registerError(STAKING_CODESPACE, 12, "commission cannot be more than the max rate");
export const ErrCommissionGTMaxChangeRate = registerError(STAKING_CODESPACE, 15, "commission cannot be changed more than max change rate");
export const ErrCommissionInvalid = registerError(STAKING_CODESPACE, 9, "invalid commission");
export const ErrSelfDelegationBelowMinimum = registerError(STAKING_CODESPACE, 18, "validator's self delegation must be greater than their minimum self delegation");
export const ErrNoDelegation = registerError(STAKING_CODESPACE, 19, "no delegation for (address, validator) tuple");
export const ErrBadSharesAmount = registerError(STAKING_CODESPACE, 25, "invalid shares amount");
export const ErrNoUnbondingDelegation = registerError(STAKING_CODESPACE, 28, "no unbonding delegation found");
export const ErrMaxUnbondingDelegationEntries = registerError(STAKING_CODESPACE, 29, "too many unbonding delegation entries for (delegator, validator) tuple");
export const ErrBadValidatorTombstoned = registerError(STAKING_CODESPACE, 33, "validator is tombstoned and cannot take new delegations");
export const ErrBondDenom = registerError(STAKING_CODESPACE, 40, "invalid coin denomination");
export const ErrValidatorJailed = registerError(STAKING_CODESPACE, 41, "validator for this address is currently jailed");
