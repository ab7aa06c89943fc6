import { registerError } from "../../app/errors";

export const POI_CODESPACE = "poi";
export const ErrInvalidModel = registerError(POI_CODESPACE, 2, "invalid model");
export const ErrModelExists = registerError(POI_CODESPACE, 3, "model already registered");
export const ErrModelNotFound = registerError(POI_CODESPACE, 4, "model not found");
export const ErrInvalidDataset = registerError(POI_CODESPACE, 5, "invalid dataset");
export const ErrDatasetExists = registerError(POI_CODESPACE, 6, "dataset already exists");
export const ErrDatasetNotFound = registerError(POI_CODESPACE, 7, "dataset not found");
export const ErrInvalidChunk = registerError(POI_CODESPACE, 8, "invalid dataset chunk");
export const ErrTaskNotFound = registerError(POI_CODESPACE, 9, "task not found");
export const ErrInvalidTask = registerError(POI_CODESPACE, 10, "invalid inference task");
export const ErrTaskState = registerError(POI_CODESPACE, 11, "task is not in a state that allows this");
export const ErrNotClaimant = registerError(POI_CODESPACE, 12, "task is not claimed by this worker");
export const ErrDeadlinePassed = registerError(POI_CODESPACE, 13, "deadline passed");
export const ErrInvalidResult = registerError(POI_CODESPACE, 14, "invalid result");
export const ErrInsufficientBond = registerError(POI_CODESPACE, 15, "insufficient funds for the bond");
export const ErrInvalidAggregate = registerError(POI_CODESPACE, 16, "invalid verdict aggregate");
