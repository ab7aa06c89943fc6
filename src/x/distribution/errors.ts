import { registerError } from "../../app/errors";

/** Codespace "distribution", with the Cosmos SDK's codes where the meaning is the same. */
export const DISTRIBUTION_CODESPACE = "distribution";
export const ErrNoDelegationDistInfo = registerError(DISTRIBUTION_CODESPACE, 5, "no delegation distribution info");
export const ErrNoValidatorDistInfo = registerError(DISTRIBUTION_CODESPACE, 6, "no validator distribution info");
export const ErrNoValidatorCommission = registerError(DISTRIBUTION_CODESPACE, 7, "no validator commission to withdraw");
export const ErrNoValidatorExists = registerError(DISTRIBUTION_CODESPACE, 12, "validator does not exist");
export const ErrDistributionInactive = registerError(DISTRIBUTION_CODESPACE, 100, "distribution is not active on this chain");
