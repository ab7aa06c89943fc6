/**
 * A flood of open tasks does not make blocks more work (issue 10): the state reads of an empty
 * block's FinalizeBlock, of each validator's ExtendVote and of the verifier's scan after Commit are
 * counted by the store (StoreStats.stateReads) at 10 and at 10,000 open tasks, block by block over a
 * whole sampling epoch, and must be equal. The same harness serves `npm run bench -- flood`.
 */
import { strict as assert } from "assert";
import { FloodChain, type BlockReads } from "./helpers/flood";

describe("x/poi: the work of a block does not grow with the open tasks", function () {
  this.timeout(600_000);
  let chain: FloodChain;

  before(async () => {
    chain = await FloodChain.create();
  });
  after(async () => {
    await chain?.close();
  });

  it("an empty block's FinalizeBlock, ExtendVote and verifier scan read the same state at 10 and at 10,000 open tasks", async () => {
    await chain.openTasks(10);
    const at10 = await chain.measureEpoch();
    assert.equal(await chain.openCount(), 10n);
    await chain.openTasks(9_990);
    const at10k = await chain.measureEpoch();
    assert.equal(await chain.openCount(), 10_000n);

    const show = (r: BlockReads[]) => r.map((b) => `${b.finalize}/${b.extend}/${b.scan}`).join(" ");
    console.log(`      state reads per block (FinalizeBlock/ExtendVote/verifier scan), 10 open:     ${show(at10)}`);
    console.log(`      state reads per block (FinalizeBlock/ExtendVote/verifier scan), 10,000 open: ${show(at10k)}`);
    // The counter works: blocks read state at all, and the epoch's first block reads more (seeds).
    assert.ok(at10.every((b) => b.finalize > 0 && b.extend > 0), "every block reads some state");
    assert.deepEqual(at10k.map((b) => b.phase), at10.map((b) => b.phase));
    assert.deepEqual(at10k, at10);
  });

  it("the tasks stay open and fall due at their deadline: the block of the deadline expires exactly them", async () => {
    const expired = await chain.runToFirstDeadline();
    assert.equal(expired.count, 10, "the first 10 tasks expire together at their deadline");
    assert.ok(expired.finalizeReads > expired.quietReads, "the deadline block reads the 10 due tasks");
    assert.equal(await chain.openCount(), 9_990n);
  });
});
