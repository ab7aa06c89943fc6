import { strict as assert } from "assert";
import { MsgCreateValidator } from "cosmjs-types/cosmos/staking/v1beta1/tx";
import { legacyDecText, toGatewayJson } from "../src/rest/proto";
import { fromAppError } from "../src/rest/errors";
import { ErrInvalidAddress, ErrNotFound, ErrUnknownRequest } from "../src/app/errors";
import { DISTRIBUTION_CODESPACE, ErrDistributionInactive, ErrNoDelegationDistInfo, ErrNoValidatorExists } from "../src/x/distribution/errors";

// LegacyDec (`cosmos.Dec` scalars) as the SDK's gateway prints it: protobufjs alone would print the
// wire text ("130000000000000000") or, for bytes fields, its base64.
describe("rest: gateway JSON of LegacyDec fields", () => {
  it("writes the wire integer with 18 decimals, signs and zero included", () => {
    assert.equal(legacyDecText("130000000000000000"), "0.130000000000000000");
    assert.equal(legacyDecText("1000000000000000000"), "1.000000000000000000");
    assert.equal(legacyDecText("123456000000000000000000"), "123456.000000000000000000");
    assert.equal(legacyDecText("-5"), "-0.000000000000000005");
    assert.equal(legacyDecText(""), "0.000000000000000000");
    assert.equal(legacyDecText("0.5"), "0.5", "text that is not a wire integer is left alone");
  });

  it("converts bytes fields (mint inflation, slashing params), string fields (DecCoin, commission) and fields inside an Any", () => {
    assert.deepEqual(toGatewayJson("cosmos.mint.v1beta1.QueryInflationResponse", { inflation: Buffer.from("130000000000000000") }), { inflation: "0.130000000000000000" });
    const slashing = toGatewayJson("cosmos.slashing.v1beta1.QueryParamsResponse", {
      params: { signed_blocks_window: "100", min_signed_per_window: Buffer.from("500000000000000000"), downtime_jail_duration: { seconds: "600", nanos: 0 },
        slash_fraction_double_sign: Buffer.from("50000000000000000"), slash_fraction_downtime: Buffer.from("") },
    });
    assert.deepEqual(slashing.params, {
      signed_blocks_window: "100", min_signed_per_window: "0.500000000000000000", downtime_jail_duration: "600s",
      slash_fraction_double_sign: "0.050000000000000000", slash_fraction_downtime: "0.000000000000000000",
    });
    const pool = toGatewayJson("cosmos.distribution.v1beta1.QueryCommunityPoolResponse", { pool: [{ denom: "upoi", amount: "2500000000000000000" }] });
    assert.deepEqual(pool, { pool: [{ denom: "upoi", amount: "2.500000000000000000" }] });

    const msg = MsgCreateValidator.encode(MsgCreateValidator.fromPartial({
      description: { moniker: "v" }, commission: { rate: "100000000000000000", maxRate: "200000000000000000", maxChangeRate: "10000000000000000" },
      minSelfDelegation: "1", validatorAddress: "poivaloper1x", value: { denom: "upoi", amount: "5" },
    })).finish();
    const body = toGatewayJson("cosmos.tx.v1beta1.TxBody", { messages: [{ type_url: "/cosmos.staking.v1beta1.MsgCreateValidator", value: msg }] });
    const m = (body.messages as Array<Record<string, any>>)[0];
    assert.equal(m["@type"], "/cosmos.staking.v1beta1.MsgCreateValidator");
    assert.deepEqual(m.commission, { rate: "0.100000000000000000", max_rate: "0.200000000000000000", max_change_rate: "0.010000000000000000" });
    assert.equal(m.min_self_delegation, "1", "cosmos.Int strings stay as they are");
  });
});

describe("rest: app query errors as the SDK gateway's statuses", () => {
  const status = (codespace: string, code: number) => {
    const e = fromAppError(codespace, code, "rpc error: code = NotFound desc = something");
    return [e.httpStatus, e.code];
  };
  it("maps not-found errors to 404/5, unknown query paths and a chain without distribution to 501/12, bad input to 400/3, never 500", () => {
    assert.deepEqual(status("sdk", ErrNotFound.code), [404, 5]);
    assert.deepEqual(status(DISTRIBUTION_CODESPACE, ErrNoValidatorExists.code), [404, 5]);
    assert.deepEqual(status(DISTRIBUTION_CODESPACE, ErrNoDelegationDistInfo.code), [404, 5]);
    assert.deepEqual(status("sdk", ErrUnknownRequest.code), [501, 12]);
    assert.deepEqual(status(DISTRIBUTION_CODESPACE, ErrDistributionInactive.code), [501, 12]);
    assert.deepEqual(status("sdk", ErrInvalidAddress.code), [400, 3]);
    assert.deepEqual(status("staking", 99), [400, 3], "an error the table does not know is the caller's input");
    const e = fromAppError("sdk", ErrNotFound.code, "rpc error: code = NotFound desc = account poi1x not found");
    assert.deepEqual(e.body(), { code: 5, message: "rpc error: code = NotFound desc = account poi1x not found", details: [] });
  });
});
