import { registerError } from "../../app/errors";

export const POI_CODESPACE = "poi";
export const ErrInvalidModel = registerError(POI_CODESPACE, 2, "invalid model");
export const ErrModelExists = registerError(POI_CODESPACE, 3, "model already registered");
export const ErrModelNotFound = registerError(POI_CODESPACE, 4, "model not found");
export const ErrInvalidDataset = registerError(POI_CODESPACE, 5, "invalid dataset");
export const ErrDatasetExists = registerError(POI_CODESPACE, 6, "dataset already exists");
export const ErrDatasetNotFound = registerError(POI_CODESPACE, 7, "dataset not found");
export const ErrInvalidChunk = registerError(POI_CODESPACE, 8, "invalid dataset chunk");
