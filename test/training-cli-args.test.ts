/**
 * `poi tx poi submit-training`, `reveal` and the training queries refuse bad arguments with a message
 * naming the flag, before connecting to any node (no chain needed).
 */
import { strict as assert } from "assert";
import { poi } from "./helpers/chain";

const ID = "a".repeat(64);
const GOOD = [
  "--model", ID, "--initial-params", ID, "--x", ID, "--y", ID, "--train-start", "0", "--train-count", "1000", "--held-out-start", "1000",
  "--held-out-count", "1000", "--steps", "300", "--batch-size", "32", "--lr", "0.1", "--checkpoint-interval", "10", "--k", "2",
  "--reward", "5000000upoi", "--bond", "5000000", "--min-accuracy-bps", "8500", "--deadline", "300",
];
const NODE = ["--node", "http://127.0.0.1:1"];

describe("poi CLI: training arguments", () => {
  const fails = (args: string[], pattern: RegExp) => {
    const r = poi(args, { allowFail: true });
    assert.notEqual(r.code, 0, `poi ${args.join(" ")} should fail`);
    assert.match(r.stderr, pattern);
  };
  const withFlag = (flag: string, value: string) => GOOD.map((x, i) => (GOOD[i - 1] === flag ? value : x));

  it("submit-training names a missing or bad flag", () => {
    fails(["tx", "poi", "submit-training", "k", ...GOOD.slice(2), ...NODE], /needs --model/);
    fails(["tx", "poi", "submit-training", "k", ...withFlag("--lr", "fast"), ...NODE], /invalid --lr "fast"/);
    fails(["tx", "poi", "submit-training", "k", ...withFlag("--x", "xyz"), ...NODE], /--x dataset id/);
    fails(["tx", "poi", "submit-training", "k", ...withFlag("--steps", "-3"), ...NODE], /--steps/);
  });

  it("reveal needs its checkpoints file; the queries check their ids", () => {
    fails(["tx", "poi", "reveal", "k", "7", ...NODE], /needs --checkpoints-file/);
    fails(["query", "poi", "lineage", "xyz", ...NODE], /invalid model id "xyz"/);
    fails(["query", "poi", "training-task", "x1", ...NODE], /task/i);
    fails(["query", "poi", "checkpoint", "1", "2", ...NODE], /CHUNK/);
  });
});
