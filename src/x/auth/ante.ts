import { TxRaw, TxBody, AuthInfo, SignDoc } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { SignMode } from "cosmjs-types/cosmos/tx/signing/v1beta1/signing";
import { sha256 } from "@noble/hashes/sha2.js";
import type { Context } from "../../app/context";
import type { MsgHandler } from "../../app/module";
import { GAS } from "../../app/gas";
import { formatAddress } from "../../app/address";
import { BOND_DENOM } from "../../app/params";
import {
  AppError, ErrInsufficientFee, ErrInsufficientFunds, ErrInvalidGasLimit, ErrInvalidPubKey, ErrInvalidRequest,
  ErrMemoTooLarge, ErrNoSignatures, ErrTooManySignatures, ErrTxDecode, ErrTxTimeoutHeight, ErrUnauthorized,
  ErrUnknownAddress, ErrUnknownExtensionOptions, ErrUnknownRequest, ErrWrongSequence,
} from "../../app/errors";
import { type Coin, formatCoins, parseCoins } from "../bank/types";
import type { BankKeeper } from "./expected_keepers";
import { type AccountKeeper, decodeSecp256k1PubKey } from "./keeper";
import { addressFromPubkey } from "./crypto";
import { SigVerifyCache } from "./sigcache";

/** Limits of the auth module (the Cosmos SDK's default x/auth params). */
export const AUTH_PARAMS = {
  maxMemoCharacters: 256,
  txSigLimit: 7,
  /** a tx may ask for at most this much gas */
  maxGasWanted: 10_000_000_000n,
} as const;

/** Fees are collected here; the address is sha256("fee_collector")[:20], as the SDK derives module accounts. */
export const FEE_COLLECTOR = sha256(new TextEncoder().encode("fee_collector")).subarray(0, 20);

export interface DecodedMsg {
  typeUrl: string;
  handler: MsgHandler;
  msg: unknown;
}

/** A tx after every stateless check: what the ante handler and the message router work from. */
export interface DecodedTx {
  raw: TxRaw;
  body: TxBody;
  authInfo: AuthInfo;
  msgs: DecodedMsg[];
  /** unique signers in order of first appearance; the first pays the fee */
  signers: Uint8Array[];
  fee: Coin[];
  gasLimit: bigint;
  /**
   * Memo of the ante handler, per signer: the (chain id, account number, public key) under which
   * that signer's signature verified. The rest of what verification reads (body, auth info,
   * signature) is these tx bytes, so a match means verification would return true again.
   */
  verified: Array<string | undefined>;
}

function decodeOrFail<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    throw ErrTxDecode(`cannot decode ${what}: ${(err as Error).message}`);
  }
}

/**
 * Decodes TxRaw / TxBody / AuthInfo and every message, and checks all that needs no state.
 * `simulate` accepts the empty signatures and UNSPECIFIED sign mode that CosmJS sends to Simulate.
 */
export function decodeTx(bytes: Uint8Array, route: (typeUrl: string) => MsgHandler | undefined, simulate = false): DecodedTx {
  const raw = decodeOrFail("tx", () => TxRaw.decode(bytes));
  const body = decodeOrFail("tx body", () => TxBody.decode(raw.bodyBytes));
  const authInfo = decodeOrFail("auth info", () => AuthInfo.decode(raw.authInfoBytes));

  if (body.messages.length === 0) throw ErrInvalidRequest("tx has no messages");
  if ([...body.memo].length > AUTH_PARAMS.maxMemoCharacters) {
    throw ErrMemoTooLarge(`maximum number of characters is ${AUTH_PARAMS.maxMemoCharacters} but received ${[...body.memo].length} characters`);
  }
  if (body.extensionOptions.length > 0 || body.nonCriticalExtensionOptions.length > 0) {
    throw ErrUnknownExtensionOptions("tx extension options are not supported");
  }

  const msgs: DecodedMsg[] = body.messages.map((any, i) => {
    const handler = route(any.typeUrl);
    if (!handler) throw ErrUnknownRequest(`unrecognized message type "${any.typeUrl}" at index ${i}`);
    let msg: unknown;
    try {
      msg = handler.decode(any.value);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw ErrTxDecode(`cannot decode message ${i} (${any.typeUrl}): ${(err as Error).message}`);
    }
    return { typeUrl: any.typeUrl, handler, msg };
  });

  const signers: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const m of msgs) {
    for (const s of m.handler.signers(m.msg)) {
      const id = Buffer.from(s).toString("hex");
      if (!seen.has(id)) {
        seen.add(id);
        signers.push(s);
      }
    }
  }

  if (authInfo.signerInfos.length === 0 || raw.signatures.length === 0) throw ErrNoSignatures("tx has no signatures");
  if (signers.length > AUTH_PARAMS.txSigLimit) throw ErrTooManySignatures(`signatures: ${signers.length}, limit: ${AUTH_PARAMS.txSigLimit}`);
  if (authInfo.signerInfos.length !== signers.length) {
    throw ErrUnauthorized(`wrong number of signers; expected ${signers.length}, got ${authInfo.signerInfos.length}`);
  }
  if (raw.signatures.length !== signers.length) {
    throw ErrUnauthorized(`invalid number of signatures; expected ${signers.length}, got ${raw.signatures.length}`);
  }
  for (const [i, si] of authInfo.signerInfos.entries()) {
    const mode = si.modeInfo?.single?.mode;
    if (mode !== SignMode.SIGN_MODE_DIRECT && !(simulate && mode === SignMode.SIGN_MODE_UNSPECIFIED)) {
      throw ErrUnauthorized(`signer ${i}: only SIGN_MODE_DIRECT single signatures are supported`);
    }
  }

  const feeProto = authInfo.fee ?? { amount: [], gasLimit: 0n, payer: "", granter: "" };
  const fee = parseCoins(feeProto.amount, true);
  for (const c of fee) {
    if (c.denom !== BOND_DENOM) throw ErrInsufficientFee(`fees are paid in ${BOND_DENOM}, got ${c.denom}`);
  }
  if (feeProto.granter !== "") throw ErrInvalidRequest("fee grants are not supported");
  if (feeProto.payer !== "" && feeProto.payer !== formatAddress(signers[0])) throw ErrInvalidRequest("the fee payer must be the first signer");
  if (!simulate && feeProto.gasLimit === 0n) throw ErrInvalidGasLimit("gas limit must be positive");
  if (feeProto.gasLimit > AUTH_PARAMS.maxGasWanted) throw ErrInvalidGasLimit(`gas limit ${feeProto.gasLimit} exceeds ${AUTH_PARAMS.maxGasWanted}`);

  return { raw, body, authInfo, msgs, signers, fee, gasLimit: feeProto.gasLimit, verified: [] };
}

/**
 * Minimum gas prices a node asks of txs entering its mempool, e.g. "0.025upoi". Held as an exact
 * fraction (numerator / 10^decimals) so the check needs no floating point.
 */
export class MinGasPrice {
  private constructor(readonly denom: string, readonly numerator: bigint, readonly scale: bigint, readonly text: string) {}

  static parse(text: string): MinGasPrice {
    const m = /^([0-9]+)(?:\.([0-9]{1,18}))?([a-zA-Z][a-zA-Z0-9/:._-]{2,127})$/.exec(text.trim());
    if (!m) throw new Error(`min_gas_prices "${text}" is not a decimal amount followed by a denom, e.g. "0.025upoi"`);
    const decimals = m[2] ?? "";
    return new MinGasPrice(m[3], BigInt(m[1] + decimals), 10n ** BigInt(decimals.length), text.trim());
  }

  /** Smallest fee for `gas`, rounded up. */
  requiredFee(gas: bigint): bigint {
    return (gas * this.numerator + this.scale - 1n) / this.scale;
  }
}

/**
 * The ante handler: everything that happens before a tx's messages run. Its writes (fee and
 * sequence) are kept even when the messages fail, as in the Cosmos SDK.
 */
export class AnteHandler {
  constructor(
    private readonly accounts: AccountKeeper,
    private readonly bank: BankKeeper,
    /** Each signature is verified once per node (see SigVerifyCache for why that is consensus-safe). */
    readonly sigCache = new SigVerifyCache(),
  ) {}

  async run(ctx: Context, tx: DecodedTx, txBytes: Uint8Array, minGasPrice?: MinGasPrice): Promise<void> {
    ctx.gasMeter.consume(GAS.txSizePerByte * BigInt(txBytes.length), "txSize");

    const timeout = tx.body.timeoutHeight;
    if (timeout !== 0n && ctx.header.height > timeout) {
      throw ErrTxTimeoutHeight(`block height: ${ctx.header.height}, timeout height: ${timeout}`);
    }
    if (ctx.mode === "check" && minGasPrice && minGasPrice.numerator > 0n) {
      const required = minGasPrice.requiredFee(tx.gasLimit);
      const paid = tx.fee.find((c) => c.denom === minGasPrice.denom)?.amount ?? 0n;
      if (paid < required) {
        throw ErrInsufficientFee(`got: ${formatCoins(tx.fee) || "0" + minGasPrice.denom} required: ${required}${minGasPrice.denom} (minimum gas price ${minGasPrice.text} x gas ${tx.gasLimit})`);
      }
    }

    const simulate = ctx.mode === "simulate";
    const accounts = [];
    for (const [i, signer] of tx.signers.entries()) {
      const who = formatAddress(signer);
      const acc = await this.accounts.getAccount(ctx, signer);
      if (!acc) throw ErrUnknownAddress(`account ${who} does not exist`);
      const info = tx.authInfo.signerInfos[i];
      const givenKey = info.publicKey ? decodeSecp256k1PubKey(info.publicKey) : undefined;
      const pubKey = acc.pubKey ?? givenKey;
      if (!pubKey) throw ErrInvalidPubKey(`account ${who} has no public key yet and signer ${i} gives none`);
      if (acc.pubKey && givenKey && !Buffer.from(acc.pubKey).equals(givenKey)) throw ErrInvalidPubKey(`public key of signer ${i} differs from the one on account ${who}`);
      if (!Buffer.from(addressFromPubkey(pubKey)).equals(signer)) throw ErrInvalidPubKey(`public key of signer ${i} does not belong to ${who}`);
      if (info.sequence !== acc.sequence) throw ErrWrongSequence(`account sequence mismatch, expected ${acc.sequence}, got ${info.sequence}`);

      ctx.gasMeter.consume(GAS.sigVerifySecp256k1, "sigVerify");
      if (!simulate) {
        // Unambiguous: the key is always 33 bytes and the account number has no "\n", so the string splits one way only.
        const inputs = `${ctx.header.chainId}\n${acc.accountNumber}\n${Buffer.from(pubKey.buffer, pubKey.byteOffset, pubKey.length).toString("latin1")}`;
        if (tx.verified[i] === inputs) {
          this.sigCache.stats.hits++;
        } else {
          const signDoc = SignDoc.encode({ bodyBytes: tx.raw.bodyBytes, authInfoBytes: tx.raw.authInfoBytes, chainId: ctx.header.chainId, accountNumber: acc.accountNumber }).finish();
          if (!this.sigCache.verify(pubKey, signDoc, tx.raw.signatures[i])) {
            throw ErrUnauthorized(`signature verification failed; please verify account number (${acc.accountNumber}) and chain-id (${ctx.header.chainId})`);
          }
          tx.verified[i] = inputs;
        }
      }
      accounts.push({ ...acc, pubKey });
    }

    if (tx.fee.length > 0) {
      try {
        await this.bank.sendCoins(ctx, tx.signers[0], FEE_COLLECTOR, tx.fee);
      } catch (err) {
        if (ErrInsufficientFunds.is(err)) {
          const have = await this.bank.getBalance(ctx, tx.signers[0], BOND_DENOM);
          throw ErrInsufficientFunds(`fee ${formatCoins(tx.fee)} is more than the payer's balance ${have}${BOND_DENOM}`);
        }
        throw err;
      }
    } else if (simulate) {
      // CosmJS simulates with an empty fee; meter a (zero) fee transfer anyway so "auto" gas covers the real one.
      await this.bank.sendCoins(ctx, tx.signers[0], FEE_COLLECTOR, [{ denom: BOND_DENOM, amount: 0n }]);
    }
    const keepEvents = ctx.events.keep; // CheckTx builds none
    if (keepEvents) ctx.events.emit("tx", [["fee", formatCoins(tx.fee)], ["fee_payer", formatAddress(tx.signers[0])]]);

    for (const [i, acc] of accounts.entries()) {
      this.accounts.setAccount(ctx, { ...acc, sequence: acc.sequence + 1n });
      if (!keepEvents) continue;
      ctx.events.emit("tx", [["acc_seq", `${formatAddress(acc.address)}/${acc.sequence}`]]);
      ctx.events.emit("tx", [["signature", Buffer.from(tx.raw.signatures[i]).toString("base64")]]);
    }
  }
}
