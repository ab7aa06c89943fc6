import { MsgUnjail, MsgUnjailResponse } from "cosmjs-types/cosmos/slashing/v1beta1/tx";
import {
  QueryParamsRequest, QueryParamsResponse, QuerySigningInfosRequest, QuerySigningInfosResponse, QuerySigningInfoRequest, QuerySigningInfoResponse,
} from "cosmjs-types/cosmos/slashing/v1beta1/query";
import { ValidatorSigningInfo } from "cosmjs-types/cosmos/slashing/v1beta1/slashing";
import { fromBech32 } from "@cosmjs/encoding";
import type { AppModule, BlockVotes, MsgHandler } from "../../app/module";
import { grpcQuery, msgHandler } from "../../app/module";
import type { Context } from "../../app/context";
import { formatValoperAddress, parseValoperAddress } from "../../app/address";
import { clip, ErrInvalidAddress, ErrInvalidRequest, ErrNotFound } from "../../app/errors";
import { VALCONS_PREFIX } from "../../app/params";
import type { StakingKeeper } from "./expected_keepers";
import { SLASHING_MODULE, SlashingKeeper } from "./keeper";
import { parseSlashingParams, slashingParamsJson } from "./params";
import { ErrNoValidatorForAddress, ErrSelfDelegationTooLowToUnjail, ErrValidatorJailed, ErrValidatorNotJailed, ErrValidatorTombstoned } from "./errors";

/** A fraction in bps as the SDK's LegacyDec in protobuf bytes: the 10^18-scaled integer's digits. */
const decBytes = (bps: bigint) => Buffer.from((bps * 10n ** 14n).toString(), "utf8");

export interface SlashingGenesis {
  params?: Record<string, string>;
  signing_infos?: Array<{ address: string; info: unknown; missed?: string[] }>;
}

export class SlashingModule implements AppModule {
  readonly name = SLASHING_MODULE;
  readonly msgHandlers: MsgHandler[];
  readonly queryHandlers;

  constructor(readonly keeper: SlashingKeeper, staking: StakingKeeper) {
    const unjail: MsgHandler<{ operator: Uint8Array }> = {
      typeUrl: MsgUnjail.typeUrl,
      module: SLASHING_MODULE,
      decode: (value) => ({ operator: parseValoperAddress(MsgUnjail.decode(value).validatorAddr, "validator_addr") }),
      signers: (m) => [m.operator],
      async handle(ctx, m) {
        const v = await staking.validator(ctx, m.operator);
        const valoper = formatValoperAddress(m.operator);
        if (!v) throw ErrNoValidatorForAddress(valoper);
        if (v.tombstoned) throw ErrValidatorTombstoned(valoper);
        if (!v.jailed) throw ErrValidatorNotJailed(valoper);
        const info = await keeper.signingInfo(ctx, v.consAddress);
        const until = info?.jailedUntil?.seconds ?? 0n;
        if (ctx.header.timeSeconds < until) throw ErrValidatorJailed(`${valoper} is jailed until block time ${until} (unix seconds; now ${ctx.header.timeSeconds})`);
        const bond = await staking.selfBondMeetsMinimum(ctx, m.operator);
        if (!bond.ok) throw ErrSelfDelegationTooLowToUnjail(`self-bond ${bond.selfBond} is below the minimum ${bond.minimum}`);
        await staking.unjail(ctx, m.operator);
        ctx.events.emit("unjail", [["validator", valoper]]);
        return { typeUrl: MsgUnjailResponse.typeUrl, value: MsgUnjailResponse.encode({}).finish() };
      },
    };
    this.msgHandlers = [msgHandler(unjail)];
    const S = "/cosmos.slashing.v1beta1.Query/";
    this.queryHandlers = [
      grpcQuery(S + "Params", QueryParamsRequest, QueryParamsResponse, async (ctx) => {
        const p = await keeper.params(ctx);
        return {
          params: {
            signedBlocksWindow: p.signed_blocks_window, minSignedPerWindow: decBytes(p.min_signed_per_window_bps), downtimeJailDuration: { seconds: p.downtime_jail_seconds, nanos: 0 },
            slashFractionDoubleSign: decBytes(p.slash_fraction_double_sign_bps), slashFractionDowntime: decBytes(p.slash_fraction_downtime_bps),
          },
        };
      }),
      grpcQuery(S + "SigningInfos", QuerySigningInfosRequest, QuerySigningInfosResponse, async (ctx) => {
        const info = (await keeper.signingInfos(ctx)).map((s) => s.info);
        return { info, pagination: { nextKey: new Uint8Array(), total: BigInt(info.length) } };
      }),
      grpcQuery(S + "SigningInfo", QuerySigningInfoRequest, QuerySigningInfoResponse, async (ctx, req) => {
        let cons: Uint8Array;
        try {
          const d = fromBech32(req.consAddress, 90);
          if (d.prefix !== VALCONS_PREFIX || d.data.length !== 20) throw new Error(`want a 20-byte ${VALCONS_PREFIX} address`);
          cons = d.data;
        } catch (err) {
          throw ErrInvalidAddress(`cons_address "${clip(req.consAddress)}": ${(err as Error).message}`);
        }
        const valSigningInfo = await keeper.signingInfo(ctx, cons);
        if (!valSigningInfo) throw ErrNotFound(`no signing info for ${clip(req.consAddress)}`);
        return { valSigningInfo };
      }),
    ];
  }

  beginBlock(ctx: Context, block: BlockVotes): Promise<void> {
    return this.keeper.beginBlock(ctx, block);
  }

  async initGenesis(ctx: Context, state: unknown): Promise<void> {
    const g = (state ?? {}) as SlashingGenesis;
    this.keeper.setParams(ctx, parseSlashingParams(g.params));
    for (const [i, s] of (g.signing_infos ?? []).entries()) {
      if (typeof s?.address !== "string" || !/^[0-9A-F]{40}$/.test(s.address)) throw ErrInvalidRequest(`slashing genesis: signing_infos[${i}].address must be 40 uppercase hex characters`);
      const cons = Buffer.from(s.address, "hex");
      this.keeper.setSigningInfo(ctx, cons, ValidatorSigningInfo.fromJSON(s.info));
      for (const m of s.missed ?? []) this.keeper.setMissed(ctx, cons, BigInt(m), true);
    }
  }

  async exportGenesis(ctx: Context): Promise<SlashingGenesis> {
    const signing_infos = [];
    for (const { cons, info } of await this.keeper.signingInfos(ctx)) {
      signing_infos.push({
        address: Buffer.from(cons).toString("hex").toUpperCase(), info: ValidatorSigningInfo.toJSON(info),
        missed: (await this.keeper.missedIndexes(ctx, cons)).map(String),
      });
    }
    return { params: slashingParamsJson(await this.keeper.params(ctx)), signing_infos };
  }
}
