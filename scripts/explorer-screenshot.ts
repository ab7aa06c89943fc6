/**
 * Regenerates docs/explorer.png (`npm run docs:explorer`): starts `npm start`'s localnet with PoI work
 * on base port 19500 in a temporary home, opens the explorer in headless Chromium, waits until tasks
 * have been verified (and, within a time limit, a cheating worker slashed and a work score credited), and
 * screenshots the page.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { tmpHome, removeHome, sleep } from "../test/helpers/chain";
import { openExplorer, startDemoNet } from "../test/helpers/explorer";

const BASE_PORT = 19500;
const OUT = path.resolve(__dirname, "..", "..", "docs", "explorer.png");

async function main(): Promise<void> {
  const home = tmpHome("explorer-docs");
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const net = await startDemoNet({ home, basePort: BASE_PORT, log });
  try {
    const { browser, page } = await openExplorer(net.explorer, { width: 1440, height: 1000 });
    try {
      const deadline = Date.now() + 240_000;
      for (;;) {
        const verified = (await page.$$('#tasks tr.task[data-status="COMPLETED"]')).length;
        const slashes = (await page.$$("#events .event.slash")).length;
        const scored = (await page.$$('#validators .work-score[data-score]:not([data-score="0"])')).length;
        log(`explorer-screenshot: page shows ${verified} verified tasks, ${slashes} slashes, ${scored} nonzero work scores`);
        if ((verified >= 4 && slashes >= 1 && scored >= 1) || (verified >= 1 && Date.now() > deadline)) break;
        if (Date.now() > deadline + 120_000) throw new Error("no task was verified in 6 minutes");
        await sleep(3000);
      }
      fs.mkdirSync(path.dirname(OUT), { recursive: true });
      await page.screenshot({ path: OUT, fullPage: true });
      log(`explorer-screenshot: wrote ${OUT} (${fs.statSync(OUT).size} bytes)`);
    } finally {
      await browser.close();
    }
  } finally {
    await net.stop();
    removeHome(home);
  }
}

main().catch((err) => {
  process.stderr.write(`explorer-screenshot: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
