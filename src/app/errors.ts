/**
 * Registered application errors. Each (codespace, code) pair is registered once; the pair and the
 * message are what clients see in ExecTxResult / ResponseCheckTx / ResponseQuery.
 * Codes in the "sdk" codespace follow the Cosmos SDK's numbering so Cosmos tools read them as expected.
 */
export class AppError extends Error {
  constructor(readonly codespace: string, readonly code: number, readonly description: string, detail?: string) {
    super(detail ? `${detail}: ${description}` : description);
  }
}

export type ErrorFactory = ((detail?: string) => AppError) & { codespace: string; code: number; is(e: unknown): boolean };

const registered = new Map<string, string>();

export function registerError(codespace: string, code: number, description: string): ErrorFactory {
  if (code < 2 && codespace !== ROOT_CODESPACE) throw new Error(`error code ${code} is reserved (codespace ${codespace})`);
  const id = `${codespace}/${code}`;
  if (registered.has(id)) throw new Error(`error ${id} registered twice ("${registered.get(id)}" and "${description}")`);
  registered.set(id, description);
  const make = ((detail?: string) => new AppError(codespace, code, description, detail)) as ErrorFactory;
  make.codespace = codespace;
  make.code = code;
  make.is = (e: unknown) => e instanceof AppError && e.codespace === codespace && e.code === code;
  return make;
}

export const ROOT_CODESPACE = "sdk";
export const ErrInternal = registerError(ROOT_CODESPACE, 1, "internal error");
export const ErrTxDecode = registerError(ROOT_CODESPACE, 2, "tx parse error");
export const ErrInvalidSequence = registerError(ROOT_CODESPACE, 3, "invalid sequence");
export const ErrUnauthorized = registerError(ROOT_CODESPACE, 4, "unauthorized");
export const ErrInsufficientFunds = registerError(ROOT_CODESPACE, 5, "insufficient funds");
export const ErrUnknownRequest = registerError(ROOT_CODESPACE, 6, "unknown request");
export const ErrInvalidAddress = registerError(ROOT_CODESPACE, 7, "invalid address");
export const ErrInvalidPubKey = registerError(ROOT_CODESPACE, 8, "invalid pubkey");
export const ErrUnknownAddress = registerError(ROOT_CODESPACE, 9, "unknown address");
export const ErrInvalidCoins = registerError(ROOT_CODESPACE, 10, "invalid coins");
export const ErrOutOfGas = registerError(ROOT_CODESPACE, 11, "out of gas");
export const ErrMemoTooLarge = registerError(ROOT_CODESPACE, 12, "memo too large");
export const ErrInsufficientFee = registerError(ROOT_CODESPACE, 13, "insufficient fee");
export const ErrTooManySignatures = registerError(ROOT_CODESPACE, 14, "maximum number of signatures exceeded");
export const ErrNoSignatures = registerError(ROOT_CODESPACE, 15, "no signatures supplied");
export const ErrInvalidRequest = registerError(ROOT_CODESPACE, 18, "invalid request");
export const ErrTxTooLarge = registerError(ROOT_CODESPACE, 21, "tx too large");
export const ErrInvalidSigner = registerError(ROOT_CODESPACE, 24, "tx intended signer does not match the given signer");
export const ErrInvalidChainID = registerError(ROOT_CODESPACE, 28, "invalid chain-id");
export const ErrTxTimeoutHeight = registerError(ROOT_CODESPACE, 30, "tx timeout height");
export const ErrUnknownExtensionOptions = registerError(ROOT_CODESPACE, 31, "unknown extension options");
export const ErrWrongSequence = registerError(ROOT_CODESPACE, 32, "incorrect account sequence");
export const ErrNotFound = registerError(ROOT_CODESPACE, 38, "not found");
export const ErrInvalidGasLimit = registerError(ROOT_CODESPACE, 41, "invalid gas limit");

/** The most characters of one input that an error message echoes. */
export const MAX_ECHO_CHARS = 128;
/** Logs longer than this lose their middle (toAbciError). */
export const MAX_LOG_CHARS = 1024;

/** `text` as an error message may echo it: at most `max` characters, then "…" and its full length. */
export function clip(text: string, max = MAX_ECHO_CHARS): string {
  if (text.length <= max) return text;
  let out = "";
  let n = 0;
  for (const ch of text) {
    if (n++ === max) return `${out}…(${text.length} chars)`;
    out += ch;
  }
  return text;
}

/**
 * Bounds a log whatever its message echoes: every run of over 2 × MAX_ECHO_CHARS non-space
 * characters is clipped, and a log still over MAX_LOG_CHARS keeps its start and its end (where
 * AppError puts the error's description).
 */
export function boundLog(log: string): string {
  const clipped = log.length <= 2 * MAX_ECHO_CHARS ? log : log.replace(new RegExp(`\\S{${2 * MAX_ECHO_CHARS + 1},}`, "g"), (run) => clip(run));
  if (clipped.length <= MAX_LOG_CHARS) return clipped;
  const tail = 256;
  return `${clipped.slice(0, MAX_LOG_CHARS - tail - 3)} … ${clipped.slice(-tail)}`;
}

/**
 * Bytes from outside (a tx, a query, a block's pseudo-tx) that do not decode. Not an AppError, so a
 * caller may wrap it with context; unwrapped, toAbciError answers ErrTxDecode, never an internal error.
 */
export class DecodeError extends Error {
  override name = "DecodeError";
}

/** Maps any thrown value to the (codespace, code, log) that goes into a response; the log is bounded (boundLog). */
export function toAbciError(err: unknown): { codespace: string; code: number; log: string } {
  if (err instanceof AppError) return { codespace: err.codespace, code: err.code, log: boundLog(err.message) };
  if (err instanceof DecodeError) return toAbciError(ErrTxDecode(err.message));
  const message = err instanceof Error ? err.message : String(err);
  return { codespace: ROOT_CODESPACE, code: ErrInternal.code, log: boundLog(`internal error: ${message}`) };
}
