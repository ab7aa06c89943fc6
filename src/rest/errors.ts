/**
 * Errors as the SDK's gateway writes them: a google.rpc.Status `{code, message, details}` with the
 * HTTP status grpc-gateway v1 gives each gRPC code. Bad input is a 4xx, never a 500: a 500 means a bug
 * (or CometBFT not answering: 503).
 */
import {
  ErrInsufficientFee, ErrInsufficientFunds, ErrInternal, ErrInvalidAddress, ErrInvalidCoins, ErrInvalidRequest, ErrNotFound,
  ErrTxDecode, ErrUnknownAddress, ErrUnknownRequest, ROOT_CODESPACE,
} from "../app/errors";
import { ErrDatasetNotFound, ErrModelNotFound, ErrTaskNotFound, POI_CODESPACE } from "../x/poi/errors";
import { DISTRIBUTION_CODESPACE, ErrDistributionInactive, ErrNoDelegationDistInfo, ErrNoValidatorExists } from "../x/distribution/errors";

/** gRPC status codes (google.rpc.Code). */
export const Code = {
  OK: 0, Canceled: 1, Unknown: 2, InvalidArgument: 3, DeadlineExceeded: 4, NotFound: 5, AlreadyExists: 6, PermissionDenied: 7,
  ResourceExhausted: 8, FailedPrecondition: 9, Aborted: 10, OutOfRange: 11, Unimplemented: 12, Internal: 13, Unavailable: 14,
  DataLoss: 15, Unauthenticated: 16,
} as const;
export type GrpcCode = (typeof Code)[keyof typeof Code];

const CODE_NAMES = Object.fromEntries(Object.entries(Code).map(([k, v]) => [v, k])) as Record<number, string>;

/** grpc-gateway v1 runtime.HTTPStatusFromCode. */
const HTTP_STATUS: Record<number, number> = {
  0: 200, 1: 408, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
};

export class GatewayError extends Error {
  constructor(readonly code: GrpcCode, message: string) {
    super(message);
  }
  get httpStatus(): number {
    return HTTP_STATUS[this.code] ?? 500;
  }
  /** The google.rpc.Status body. */
  body(): { code: number; message: string; details: unknown[] } {
    return { code: this.code, message: this.message, details: [] };
  }
}

export const invalidArgument = (message: string) => new GatewayError(Code.InvalidArgument, message);
export const notFound = (message: string) => new GatewayError(Code.NotFound, message);
export const unimplemented = (message = "Not Implemented") => new GatewayError(Code.Unimplemented, message);

/** "rpc error: code = NotFound desc = ..." as Go's gRPC client prints a status (the SDK's messages carry it). */
export function grpcText(code: GrpcCode, desc: string): string {
  return `rpc error: code = ${CODE_NAMES[code] ?? code} desc = ${desc}`;
}

const key = (codespace: string, code: number) => `${codespace}/${code}`;

/** The gRPC code of an app error (codespace, code) that a query answered with; the rest are InvalidArgument. */
const APP_ERROR_CODES = new Map<string, GrpcCode>([
  [key(ROOT_CODESPACE, ErrNotFound.code), Code.NotFound],
  [key(ROOT_CODESPACE, ErrUnknownAddress.code), Code.NotFound],
  [key(POI_CODESPACE, ErrModelNotFound.code), Code.NotFound],
  [key(POI_CODESPACE, ErrDatasetNotFound.code), Code.NotFound],
  [key(POI_CODESPACE, ErrTaskNotFound.code), Code.NotFound],
  [key(DISTRIBUTION_CODESPACE, ErrNoValidatorExists.code), Code.NotFound],
  [key(DISTRIBUTION_CODESPACE, ErrNoDelegationDistInfo.code), Code.NotFound],
  // A chain whose genesis left distribution off serves none of its queries.
  [key(DISTRIBUTION_CODESPACE, ErrDistributionInactive.code), Code.Unimplemented],
  [key(ROOT_CODESPACE, ErrUnknownRequest.code), Code.Unimplemented],
  [key(ROOT_CODESPACE, ErrInternal.code), Code.Internal],
  [key(ROOT_CODESPACE, ErrInvalidAddress.code), Code.InvalidArgument],
  [key(ROOT_CODESPACE, ErrInvalidRequest.code), Code.InvalidArgument],
  [key(ROOT_CODESPACE, ErrInvalidCoins.code), Code.InvalidArgument],
  [key(ROOT_CODESPACE, ErrTxDecode.code), Code.InvalidArgument],
  [key(ROOT_CODESPACE, ErrInsufficientFunds.code), Code.FailedPrecondition],
  [key(ROOT_CODESPACE, ErrInsufficientFee.code), Code.InvalidArgument],
]);

/**
 * The gateway error for a query the app refused. Errors not in the table are the caller's tx or
 * request (a simulation failing its ante handler, ...): InvalidArgument, with the app's codespace and
 * code in the message so that clients can still tell them apart.
 */
export function fromAppError(codespace: string, code: number, log: string): GatewayError {
  const grpc = APP_ERROR_CODES.get(key(codespace, code)) ?? Code.InvalidArgument;
  const desc = log.startsWith("rpc error: ") ? log.replace(/^rpc error: code = \w+ desc = /, "") : log;
  const where = APP_ERROR_CODES.has(key(codespace, code)) ? "" : ` [codespace ${codespace} code ${code}]`;
  return new GatewayError(grpc, grpcText(grpc, desc) + where);
}
