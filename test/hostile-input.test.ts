/**
 * Hostile input against the whole app, in process: integers out of range are refused (never
 * wrapped) by our codecs both ways, and every refusal's log stays short, echoing at most a bounded
 * prefix of an attacker-sized input while still naming the problem. Real signed txs, CheckTx and
 * FinalizeBlock.
 */
import { strict as assert } from "assert";
import * as protobuf from "protobufjs";
import { Harness } from "./helpers/poi-harness";
import { boundLog, clip, MAX_LOG_CHARS } from "../src/app/errors";
import {
  MsgClaimTaskCodec, MsgRegisterModelCodec, MsgSubmitInferenceTaskCodec, Q, type MsgSubmitInferenceTask, type PoiCodec,
} from "../src/x/poi/types";

/** A codec that sends `raw` as the message bytes under `typeUrl` (for bytes our encoder refuses to make). */
const rawMsg = (typeUrl: string, raw: Uint8Array): PoiCodec<Record<string, never>> => ({
  typeUrl, encode: () => ({ finish: () => raw }) as unknown as protobuf.Writer, decode: () => ({}), fromPartial: () => ({}),
});

const varint = (v: bigint) => { const o: number[] = []; while (v >= 128n) { o.push(Number(v & 127n) | 128); v >>= 7n; } o.push(Number(v)); return Buffer.from(o); };
const tagged = (field: number, wire: number, rest: Buffer) => Buffer.concat([varint(BigInt(field * 8 + wire)), rest]);

describe("hostile input: out-of-range integers refused, never wrapped; bounded logs that name the problem", function () {
  let h: Harness;
  const requester = () => h.account("alice").address;

  /** A valid task message's bytes, with more fields appended (later fields of the same number win in protobuf). */
  const task = (fields: Partial<MsgSubmitInferenceTask> = {}) => MsgSubmitInferenceTaskCodec.encode(MsgSubmitInferenceTaskCodec.fromPartial({
    requester: requester(), modelId: "ab".repeat(32), inputs: new Uint8Array(8), rewardPerItem: "10", k: 1, deadlineBlocks: "10", bond: "10", ...fields,
  })).finish();

  /** CheckTx and FinalizeBlock both refuse the tx with `code` and a short log matching every pattern. */
  async function refused(msg: PoiCodec<unknown>, value: unknown, code: number, patterns: RegExp[], maxLog = 400): Promise<void> {
    const tx = await h.signTx("alice", msg, value as Partial<unknown>);
    const check = await h.app.checkTx({ tx, type: 0 });
    const block = await h.block([tx]);
    assert.equal(block.rejected, false);
    const deliver = block.txResults!.at(-1)!;
    for (const [where, r] of [["CheckTx", check], ["FinalizeBlock", deliver]] as const) {
      assert.equal(r.code, code, `${where}: ${r.log}`);
      assert.ok(r.log!.length <= maxLog, `${where} log is ${r.log!.length} characters: ${r.log!.slice(0, 300)}`);
      for (const p of patterns) assert.match(r.log!, p, where);
    }
  }

  before(async () => {
    h = await Harness.create({ validators: 1, accounts: ["alice"], verify: false });
  });
  after(async () => h && (await h.close()));

  it("a 200 KB model id and a 100 KB amount, sent as txs: refused with a short log that still names the problem", async () => {
    await refused(MsgSubmitInferenceTaskCodec, { requester: requester(), modelId: "0".repeat(200_000), inputs: new Uint8Array(8), rewardPerItem: "10", k: 1, deadlineBlocks: "10", bond: "10" },
      10, [/^model id "0{100,128}…\(200002 chars\) is not 64 lowercase hex characters: invalid inference task$/]);
    await refused(MsgSubmitInferenceTaskCodec, { requester: requester(), modelId: "ab".repeat(32), inputs: new Uint8Array(8), rewardPerItem: "9".repeat(100_000), k: 1, deadlineBlocks: "10", bond: "10" },
      10, [/reward_per_item and bond must be positive integers of upoi/, /invalid amount "9{128}…\(100000 chars\)": want a non-negative integer of at most 78 digits/]);
    // Spaces cannot smuggle it past: the log keeps its start and its end (the error's description).
    await refused(MsgSubmitInferenceTaskCodec, { requester: requester(), modelId: "a ".repeat(100_000), inputs: new Uint8Array(8), rewardPerItem: "10", k: 1, deadlineBlocks: "10", bond: "10" },
      10, [/^model id "a a a/, / … /, /is not 64 lowercase hex characters: invalid inference task$/], MAX_LOG_CHARS);
    await refused(MsgClaimTaskCodec, { worker: "poi1" + "q".repeat(150_000), taskId: "1" }, 7, [/^worker "poi1q{124}…\(150004 chars\)" is not valid bech32/]);
  });

  it("a varint over 64 bits in a uint64 field, or over 32 bits in a uint32 field, is refused naming the field (protobufjs would wrap it)", async () => {
    // count = 99999999999999999999 (field 5): protobufjs alone reads 7766279631452241919.
    await refused(rawMsg(MsgSubmitInferenceTaskCodec.typeUrl, Buffer.concat([task(), tagged(5, 0, varint(99999999999999999999n))])), {},
      2, [/cannot decode message 0 \(\/poi\.v1\.MsgSubmitInferenceTask\): MsgSubmitInferenceTask: count: varint overflows 64 bits/]);
    // k = 2^32 + 5 (field 8, uint32): protobufjs alone reads 5.
    await refused(rawMsg(MsgSubmitInferenceTaskCodec.typeUrl, Buffer.concat([task(), tagged(8, 0, varint((1n << 32n) + 5n))])), {},
      2, [/k: 4294967301 is out of range for uint32/]);
    // task_id as a length-delimited field, and a requester that is not UTF-8.
    await refused(rawMsg(MsgClaimTaskCodec.typeUrl, Buffer.concat([tagged(1, 2, Buffer.concat([varint(3n), Buffer.from("abc")])), tagged(2, 2, Buffer.concat([varint(1n), Buffer.of(1)]))])), {},
      2, [/taskId has wire type length-delimited, want varint/]);
    await refused(rawMsg(MsgSubmitInferenceTaskCodec.typeUrl, Buffer.concat([tagged(1, 2, Buffer.concat([varint(2n), Buffer.of(0xc3, 0x28)])), task().subarray(0)])), {},
      2, [/requester is not valid UTF-8/]);
    // Shapes are packed int64: an over-long varint inside the packed run is refused too.
    const dims = Buffer.concat([varint(1n), varint(1n << 64n)]);
    const spec = Buffer.concat([tagged(1, 2, Buffer.concat([varint(1n), Buffer.from("x")])), tagged(2, 2, Buffer.concat([varint(BigInt(dims.length)), dims])), tagged(3, 2, Buffer.concat([varint(7n), Buffer.from("float32")]))]);
    const model = Buffer.concat([tagged(1, 2, Buffer.concat([varint(BigInt(requester().length)), Buffer.from(requester())])), tagged(3, 2, Buffer.concat([varint(1n), Buffer.of(1)])), tagged(4, 2, Buffer.concat([varint(BigInt(spec.length)), spec]))]);
    await refused(rawMsg(MsgRegisterModelCodec.typeUrl, model), {}, 2, [/MsgRegisterModel\.inputs\.shape: shape: varint overflows 64 bits/]);
  });

  it("our codecs refuse to encode an integer out of its field's range instead of wrapping it", () => {
    const enc = (m: Partial<MsgSubmitInferenceTask>) => () => MsgSubmitInferenceTaskCodec.encode({ ...MsgSubmitInferenceTaskCodec.fromPartial({}), ...m });
    assert.throws(enc({ count: "99999999999999999999" }), /MsgSubmitInferenceTask\.count: 99999999999999999999 is out of range for uint64/);
    assert.throws(enc({ count: "-1" }), /count: -1 is out of range for uint64/);
    assert.throws(enc({ count: "12abc" }), /count: 12abc is not an integer/);
    assert.throws(enc({ k: 2 ** 32 }), /k: 4294967296 is out of range for uint32/);
    assert.throws(enc({ k: 1.5 }), /k: 1.5 is not an integer/);
    assert.doesNotThrow(enc({ count: "18446744073709551615", k: 2 ** 32 - 1 }));
    assert.throws(() => MsgRegisterModelCodec.fromPartial({ inputs: [{ name: "x", shape: ["1", "99999999999999999999"], dtype: "float32" }] }),
      /MsgRegisterModel\.inputs\[0\]\.shape\[1\]: 99999999999999999999 is out of range for int64/);
    assert.throws(() => Q.OpenTasksRequest.encode({ sinceHeight: "9223372036854775808" }), /sinceHeight: 9223372036854775808 is out of range for int64/);
    // What the chain then sees is exactly what was meant.
    const bytes = MsgSubmitInferenceTaskCodec.encode(MsgSubmitInferenceTaskCodec.fromPartial({ count: "18446744073709551615", k: 4294967295 })).finish();
    const back = MsgSubmitInferenceTaskCodec.decode(bytes);
    assert.deepEqual([back.count, back.k], ["18446744073709551615", 4294967295]);
  });

  it("queries with an attacker-sized id answer with a bounded log", async () => {
    const res = await h.app.query({ path: "/poi.v1.Query/Model", data: Q.ModelRequest.encode({ id: "f".repeat(300_000) }).finish(), height: 0n, prove: false });
    assert.equal(res.code, 4);
    assert.match(res.log!, /^model f{128}…\(300000 chars\): model not found$/);
    const path = await h.app.query({ path: "/x".repeat(50_000), data: new Uint8Array(), height: 0n, prove: false });
    assert.ok(path.code !== 0 && path.log!.length <= 400, path.log);
    assert.match(path.log!, /no query handler for path/);
  });

  it("clip and boundLog: inputs echoed up to 128 characters; any log bounded, keeping its start and its end", () => {
    assert.equal(clip("abc"), "abc");
    assert.equal(clip("x".repeat(128)), "x".repeat(128));
    assert.equal(clip("x".repeat(129)), `${"x".repeat(128)}…(129 chars)`);
    assert.equal(clip("😀".repeat(200), 3), "😀😀😀…(400 chars)", "never splits a character");
    assert.equal(boundLog("short: invalid request"), "short: invalid request");
    const long = boundLog(`value ${"7".repeat(10_000)} is bad: invalid request`);
    assert.equal(long, `value ${"7".repeat(128)}…(10000 chars) is bad: invalid request`);
    const spaced = boundLog(`value ${"7 ".repeat(10_000)}is bad: invalid request`);
    assert.ok(spaced.length <= MAX_LOG_CHARS, `${spaced.length}`);
    assert.match(spaced, /^value 7 7 7 .* … .*7 7 is bad: invalid request$/);
  });
});
