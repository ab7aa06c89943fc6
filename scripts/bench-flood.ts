/**
 * Open-task flood (`npm run bench -- flood`): FinalizeBlock time and state reads of an empty block on
 * the in-process 4-validator chain (test/helpers/flood.ts) at 10, 1,000 and 10,000 open tasks. The
 * median of one sampling epoch's blocks; the reads are also asserted equal in test/poi-flood.test.ts.
 * Figures only; nothing here fails on speed.
 */
import { FloodChain } from "../test/helpers/flood";

const LEVELS = [10, 1_000, 10_000];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function runFloodBench(): Promise<void> {
  const chain = await FloodChain.create();
  try {
    let open = 0;
    console.log("open tasks | FinalizeBlock median (max) | state reads FinalizeBlock / ExtendVote (4 validators) / verifier scans");
    for (const level of LEVELS) {
      await chain.openTasks(level - open);
      open = level;
      await chain.measureEpoch(); // settle after the submission blocks
      const blocks: Array<Awaited<ReturnType<FloodChain["measuredBlock"]>>> = [];
      for (let i = 0; i < 10; i++) blocks.push(await chain.measuredBlock());
      const us = blocks.map((b) => b.finalizeMicros);
      const reads = (f: (b: (typeof blocks)[number]) => number) => median(blocks.map(f));
      console.log(`${String(level).padStart(10)} | ${(median(us) / 1000).toFixed(2).padStart(8)} ms (${(Math.max(...us) / 1000).toFixed(2)} ms) | `
        + `${reads((b) => b.finalize)} / ${reads((b) => b.extend)} / ${reads((b) => b.scan)}`);
    }
  } finally {
    await chain.close();
  }
}
