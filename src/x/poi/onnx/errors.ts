/** A model the chain refuses; the message names the problem (safe to put in a tx log). */
export class ModelValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelValidationError";
  }
}
