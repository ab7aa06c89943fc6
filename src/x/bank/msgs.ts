import { MsgSend, MsgSendResponse, MsgMultiSend, MsgMultiSendResponse } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import { type MsgHandler, msgHandler } from "../../app/module";
import { parseAddress } from "../../app/address";
import { ErrInvalidCoins, ErrInvalidRequest } from "../../app/errors";
import { type Coin, parseCoins } from "./types";
import { BANK_MODULE, type BankKeeper } from "./keeper";

interface Send { from: Uint8Array; to: Uint8Array; coins: Coin[] }
interface MultiSend { input: Send["from"]; inputCoins: Coin[]; outputs: Array<{ to: Uint8Array; coins: Coin[] }> }

/** Sum per denom, in denom order. */
function sumCoins(lists: Coin[][]): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const list of lists) for (const c of list) sums.set(c.denom, (sums.get(c.denom) ?? 0n) + c.amount);
  return sums;
}

export function bankMsgHandlers(keeper: BankKeeper): MsgHandler[] {
  const send: MsgHandler<Send> = {
    typeUrl: "/cosmos.bank.v1beta1.MsgSend",
    module: BANK_MODULE,
    decode(value) {
      const m = MsgSend.decode(value);
      return { from: parseAddress(m.fromAddress, "from_address"), to: parseAddress(m.toAddress, "to_address"), coins: parseCoins(m.amount) };
    },
    signers: (m) => [m.from],
    async handle(ctx, m) {
      await keeper.sendCoins(ctx, m.from, m.to, m.coins);
      return { typeUrl: "/cosmos.bank.v1beta1.MsgSendResponse", value: MsgSendResponse.encode({}).finish() };
    },
  };

  const multiSend: MsgHandler<MultiSend> = {
    typeUrl: "/cosmos.bank.v1beta1.MsgMultiSend",
    module: BANK_MODULE,
    decode(value) {
      const m = MsgMultiSend.decode(value);
      // As in SDK v0.47+: exactly one input, one or more outputs, and the coins must balance.
      if (m.inputs.length !== 1) throw ErrInvalidRequest(`multi-send needs exactly one input, got ${m.inputs.length}`);
      if (m.outputs.length === 0) throw ErrInvalidRequest("multi-send has no outputs");
      const input = parseAddress(m.inputs[0].address, "input address");
      const inputCoins = parseCoins(m.inputs[0].coins);
      const outputs = m.outputs.map((o, i) => ({ to: parseAddress(o.address, `output ${i} address`), coins: parseCoins(o.coins) }));
      const ins = sumCoins([inputCoins]);
      const outs = sumCoins(outputs.map((o) => o.coins));
      const denoms = [...new Set([...ins.keys(), ...outs.keys()])].sort();
      for (const d of denoms) {
        if ((ins.get(d) ?? 0n) !== (outs.get(d) ?? 0n)) throw ErrInvalidCoins(`sum of inputs and outputs differ for ${d}: ${ins.get(d) ?? 0n} in, ${outs.get(d) ?? 0n} out`);
      }
      return { input, inputCoins, outputs };
    },
    signers: (m) => [m.input],
    async handle(ctx, m) {
      for (const o of m.outputs) await keeper.sendCoins(ctx, m.input, o.to, o.coins);
      return { typeUrl: "/cosmos.bank.v1beta1.MsgMultiSendResponse", value: MsgMultiSendResponse.encode({}).finish() };
    },
  };

  return [msgHandler(send), msgHandler(multiSend)];
}
