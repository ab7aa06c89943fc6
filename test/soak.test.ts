/**
 * The short soak (scripts/soak/soak.ts; `npm run soak` runs the long one): 5 perturbations of a
 * 4-validator localnet under bank and PoI load, alongside 10 app SIGKILLs of a loaded 1-validator node,
 * with every check of the soak. The seed is random and printed; POI_SOAK_SEED=N repeats a run.
 */
import { strict as assert } from "assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { runSoak } from "../scripts/soak/soak";
import { scanLogs } from "../scripts/soak/checks";
import { removeHome, tmpHome } from "./helpers/chain";

describe("soak (short): perturbed 4-validator localnet alongside a 1-validator node killed 10 times, under load", function () {
  it("the log check flags app-hash errors and halts, except a cometbft halting because its app died mid-call", () => {
    const home = tmpHome("soak-logs");
    fs.writeFileSync(path.join(home, "cometbft.log"), [
      `E[2026-01-01|00:00:00.000] CONSENSUS FAILURE!!!  module=consensus err="failed to apply block; error read message: EOF" stack="..."`,
      `E[2026-01-01|00:00:01.000] CONSENSUS FAILURE!!!  module=consensus err="state machine returned an error (read message: read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer) when calling ProcessProposal"`,
      `E[2026-01-01|00:00:02.000] Error in validation  module=blocksync err="wrong Block.Header.AppHash.  Expected 1234, got 5678"`,
      `E[2026-01-01|00:00:03.000] CONSENSUS FAILURE!!!  module=consensus err="+2/3 committed an invalid block: wrong Block.Header.AppHash"`,
      `E[2026-01-01|00:00:04.000] CONSENSUS FAILURE!!!  module=consensus err="some other fault"`,
      `I[2026-01-01|00:00:05.000] executed block  module=state height=5`,
    ].join("\n"));
    const r = scanLogs([home]);
    removeHome(home);
    assert.equal(r.haltsOnAppDeath, 2);
    assert.equal(r.failures.length, 3);
  });

  it("app hashes agree everywhere, every tx is committed once, supply is conserved, no app-hash failure is logged", async () => {
    const lines: string[] = [];
    const seed = process.env.POI_SOAK_SEED ? Number(process.env.POI_SOAK_SEED) : undefined;
    const r = await runSoak({ perturbations: 5, kills: 10, minBlocks: 0, basePort: 30000, seed, log: (l) => lines.push(l) })
      .finally(() => console.log(lines.map((l) => `      ${l}`).join("\n"))); // the seed and each perturbation, also when it throws
    assert.deepEqual(r.problems, [], `seed ${r.seed}`);
    assert.equal(r.perturbations.length, 5);
    assert.equal(r.kills.length, 10);
    assert.ok(r.multi.txs > 0 && r.single.txs > 0, "both chains were under load");
    assert.ok(r.multi.height > r.perturbations[r.perturbations.length - 1].atHeight, "the chain went on after the last perturbation");
  });
});
