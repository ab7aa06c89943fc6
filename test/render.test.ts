import { strict as assert } from "assert";
import { toJson, txJson, yamlLines } from "../src/cli/render";
import { describeRefusal, QueryRefusedError, TxRefusedError, txResultOf, type SentTx } from "../src/client/results";
import { MsgClaimTaskResponseCodec, TaskCodec, TaskStatus } from "../src/x/poi/types";

// How `poi tx poi` and `poi query poi` print (no chain needed): proto3 JSON of our messages, the
// YAML-like text, and tx results with their decoded msg response.
describe("cli rendering of poi objects and tx results", () => {
  const result = (over: Partial<SentTx> = {}): SentTx => ({
    txhash: "AB12", height: "5", code: 0, codespace: "", raw_log: "", gas_wanted: "100", gas_used: "80", stage: "block", msgResponses: [], ...over,
  });

  it("toJson gives a message's fields in .proto order, 64-bit integers as strings, bytes as hex and the task status by name", () => {
    const task = TaskCodec.fromPartial({
      id: "7", status: TaskStatus.VERIFYING, resultRoot: new Uint8Array([1, 2, 255]), k: 5,
      challenges: [{ item: "3", reporters: ["AB"], votes: [{ validator: "AB", pass: false, height: "9" }] }],
    });
    const j = toJson(task, "poi.v1.Task") as Record<string, unknown>;
    assert.deepEqual(Object.keys(j).slice(0, 4), ["id", "requester", "modelId", "datasetId"]);
    assert.equal(j.status, "verifying");
    assert.equal(j.resultRoot, "0102ff");
    assert.equal(j.createdHeight, "0");
    assert.equal(j.k, 5);
    assert.deepEqual(j.challenges, [{ item: "3", reporters: ["AB"], votes: [{ validator: "AB", pass: false, height: "9" }] }]);
    assert.deepEqual(j.votes, []);
    // Without a type: any value, bigints and bytes made JSON-safe.
    assert.deepEqual(toJson({ a: 12n, b: new Uint8Array([10]), c: [1n] }), { a: "12", b: "0a", c: ["1"] });
  });

  it("yamlLines quotes strings that would read as numbers or hold ':' or '#', nests objects and lists, and shows empty ones", () => {
    assert.deepEqual(yamlLines({ id: "7", name: "mnist", log: "a: b", empty: "", n: 3, list: [], obj: {} }),
      ['id: "7"', "name: mnist", 'log: "a: b"', 'empty: ""', "n: 3", "list: []", "obj:", "  {}"]);
    assert.deepEqual(yamlLines({ tasks: [{ id: "1", status: "open" }], "@type": "/x" }),
      ["tasks:", '  - id: "1"', "    status: open", "'@type': /x"]);
  });

  it("txJson prints the TxResponse fields, then the first msg response decoded with its @type, then the extras", () => {
    const value = MsgClaimTaskResponseCodec.encode({ claimExpiresHeight: "42" }).finish();
    const j = txJson(result({ msgResponses: [{ typeUrl: MsgClaimTaskResponseCodec.typeUrl, value }] }), { resultRoot: "ff" });
    assert.deepEqual(j, {
      txhash: "AB12", height: "5", code: 0, codespace: "", raw_log: "", gas_wanted: "100", gas_used: "80",
      response: { "@type": "/poi.v1.MsgClaimTaskResponse", claimExpiresHeight: "42" }, resultRoot: "ff",
    });
    assert.deepEqual(Object.keys(txResultOf(result())), ["txhash", "height", "code", "codespace", "raw_log", "gas_wanted", "gas_used"]);
  });

  it("refusals name where the tx stopped, with code, codespace and log", () => {
    assert.equal(describeRefusal(result({ stage: "simulate", code: 2, codespace: "poi", raw_log: "bad model" })),
      "was refused by the node's simulation (nothing was broadcast) with code 2 (codespace poi): bad model");
    assert.equal(new TxRefusedError(result({ stage: "check", code: 5, codespace: "sdk", raw_log: "insufficient funds" })).message,
      "tx AB12 was refused by the node (CheckTx) with code 5 (codespace sdk): insufficient funds");
    const inBlock = new TxRefusedError(result({ code: 11, codespace: "", raw_log: "out of gas" }), "claim tx");
    assert.equal(inBlock.message, "claim tx AB12 failed in block 5 with code 11 (codespace -): out of gas");
    assert.equal(inBlock.result.code, 11);
    assert.equal(new QueryRefusedError("Task", 9, "poi", "task 999: task not found").message,
      "query Task failed with code 9 (codespace poi): task 999: task not found");
  });
});
