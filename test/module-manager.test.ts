import { strict as assert } from "assert";
import { ModuleManager, type AppModule, type PseudoTxHandler } from "../src/app/module";

const base = (name: string, extra: Partial<AppModule> = {}): AppModule => ({
  name, initGenesis: async () => undefined, exportGenesis: async () => ({}), ...extra,
});

const pseudo = (prefix: number): PseudoTxHandler => ({
  matches: (tx) => tx[0] === prefix,
  mempoolError: () => new Error(`pseudo-tx ${prefix}`),
  deliver: async () => ({ code: 0 }),
});

describe("ModuleManager: ABCI++ hooks", () => {
  it("one module owns the vote extension: a second extendVote or verifyVoteExtension is refused", () => {
    const owner = base("a", { extendVote: async () => new Uint8Array([1]) });
    assert.equal(new ModuleManager([owner, base("b")]).voteExtensionOwner, owner);
    assert.equal(new ModuleManager([base("b")]).voteExtensionOwner, undefined);
    assert.throws(() => new ModuleManager([owner, base("c", { verifyVoteExtension: async () => true })]), /a and c both handle vote extensions/);
  });

  it("routes a pseudo-tx to the module that claims it, and ordinary txs to none", () => {
    const p1 = pseudo(1), p2 = pseudo(2);
    const mm = new ModuleManager([base("a", { pseudoTx: p1 }), base("b"), base("c", { pseudoTx: p2 })]);
    assert.equal(mm.pseudoTxHandler(Uint8Array.of(1, 9)), p1);
    assert.equal(mm.pseudoTxHandler(Uint8Array.of(2)), p2);
    assert.equal(mm.pseudoTxHandler(Uint8Array.of(0x0a, 1)), undefined);
  });
});
