/**
 * Simulation (issue 12's acceptance point): for each of SIM_SEEDS seeds (default 3), two runs on fresh
 * homes, side by side (the second on a worker thread), of SIM_BLOCKS random blocks (default 200; test/helpers/simulation.ts) with sends, tasks, cheats,
 * training tasks (honest, trained wrong, never revealed), delegations, undelegations, new validators,
 * commission edits and worker links. Every invariant
 * holds after every block; the two runs of a seed have the same app hash at every block; different
 * seeds make different chains; and the runs did what they claim to (every kind of tx succeeded, each
 * kind of invalid tx was refused, cheats were slashed, honest training passed and registered its model, validators were created and reached power,
 * undelegations matured, powers changed).
 *   SIM_SEEDS=6 SIM_BLOCKS=1000 SIM_FIRST_SEED=7 npx mocha dist/test/simulation.test.js   # a longer soak, other seeds
 */
import { strict as assert } from "assert";
import { Simulation, type SimResult } from "./helpers/simulation";
import { runInWorker } from "./helpers/worker";

function envInt(name: string, fallback: number, min: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${text}"`);
  return n;
}

const BLOCKS = envInt("SIM_BLOCKS", 200, 1);
const FIRST_SEED = envInt("SIM_FIRST_SEED", 0x51a0, 0);
const SEEDS = Array.from({ length: envInt("SIM_SEEDS", 3, 1) }, (_, i) => (FIRST_SEED + 7919 * i) >>> 0);

/** The same run on a worker thread (test/helpers/simulation-worker.ts): the two runs of a seed go side by side on two cores. */
function simulateInWorker(seed: number, run: number): Promise<SimResult> {
  return runInWorker<SimResult>("simulation-worker", { seed, run, blocks: BLOCKS }, `simulation worker (seed ${seed} run ${run})`);
}

const simulate = (seed: number, run: number): Promise<SimResult> => Simulation.runOnce(seed, run, BLOCKS);

describe(`simulation: ${SEEDS.length} seeds × 2 runs of ${BLOCKS} random blocks (sends, tasks, training, cheats, delegations, undelegations, new validators)`, function () {
  this.timeout(0);
  const firstRuns = new Map<number, SimResult>();

  for (const seed of SEEDS) {
    it(`seed ${seed}: both runs make the same chain, block by block, and every invariant holds at every block`, async () => {
      const [a, b] = await Promise.all([simulate(seed, 1), simulateInWorker(seed, 2)]);
      assert.ok(a.hashes.length >= BLOCKS, `${a.hashes.length} blocks made`);
      const diverged = a.hashes.findIndex((x, i) => x !== b.hashes[i]);
      assert.equal(diverged, -1, `the runs' app hashes differ first at height ${a.firstHeight + diverged}: ${a.hashes[diverged]} vs ${b.hashes[diverged]}`);
      assert.equal(b.hashes.length, a.hashes.length, "both runs made as many blocks");
      assert.deepEqual(b, a, "both runs counted the same outcomes");

      const kinds = ["send", "submit-task", "claim", "result", "result-fabricated", "submit-training", "claim-training", "commit-training", "reveal-checkpoint", "delegate", "undelegate", "undelegate-all", "create-validator", "edit-validator", "link-offer", "link-accept", "unlink"];
      for (const k of kinds) assert.ok((a.ok[k] ?? 0) > 0, `some ${k} txs succeeded: ${JSON.stringify(a.ok)}`);
      for (const k of ["send-overspend", "undelegate-too-much", "edit-validator-too-fast", "claim-taken", "result-not-claimant"]) assert.ok((a.refused[k] ?? 0) > 0, `some ${k} txs were refused: ${JSON.stringify(a.refused)}`);
      assert.ok(a.cheats > 0 && a.cheatsSlashed === a.cheats, `every fabricated result was caught and slashed: ${a.cheatsSlashed} of ${a.cheats}`);
      assert.ok(a.honestResults > 0 && a.honestVerified === a.honestResults, `every honest result passed: ${a.honestVerified} of ${a.honestResults}`);
      assert.ok(a.trainingHonest > 0 && a.trainingHonestVerified === a.trainingHonest, `every honest training attempt passed: ${a.trainingHonestVerified} of ${a.trainingHonest}`);
      assert.equal(a.modelsTrained, a.trainingHonestVerified, "each passed training registered its model");
      assert.ok(a.trainingCheats.length > 0 && a.trainingCheatsSlashed === a.trainingCheats.length, `every wrong or unrevealed training attempt was slashed: ${a.trainingCheatsSlashed} of ${a.trainingCheats.length} (${a.trainingCheats.join(", ")})`);
      assert.ok(a.auditsFailed > 0, "the lazy validator failed known-answer audits");
      assert.ok(a.validatorsCreated > 0 && a.createdWithPower > 0, `validators created: ${a.validatorsCreated}, given power: ${a.createdWithPower}`);
      assert.ok(a.unbondingsMatured > 0, "undelegations matured");
      assert.ok(a.powerChanges > 0, "validator powers changed");
      const { hashes, ok, refused, firstHeight: _, ...rest } = a;
      console.log(`      seed ${seed}: ${hashes.length} blocks; ok ${JSON.stringify(ok)}; refused ${JSON.stringify(refused)}; ${JSON.stringify(rest)}`);
      firstRuns.set(seed, a);
    });
  }

  it("different seeds make different chains", function () {
    if (SEEDS.length < 2 || firstRuns.size < SEEDS.length) this.skip(); // one seed only, or a seed's own test failed already
    const last = SEEDS.map((s) => firstRuns.get(s)!.hashes.at(-1));
    assert.equal(new Set(last).size, SEEDS.length, `final app hashes: ${last.join(", ")}`);
    const atFive = SEEDS.map((s) => firstRuns.get(s)!.hashes[4]);
    assert.equal(new Set(atFive).size, SEEDS.length, "they differ from the first blocks on");
  });
});
