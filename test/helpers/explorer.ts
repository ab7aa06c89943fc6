/**
 * A localnet doing PoI work with the explorer page open in headless Chromium: what the explorer's
 * e2e test and scripts/explorer-screenshot.ts share. The network is `npm start`'s (4 validators,
 * economics on, the demo requester and one worker per validator, operator3's cheating 10% of items),
 * with smaller tasks so that they are verified within a few blocks.
 */
import { chromium, type Browser, type Page } from "playwright-core";
import { startLocalnet, stopLocalnet } from "../../src/cli/localnet";
import { runDemo } from "../../src/cli/demo";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface DemoNet {
  rpc: string;
  rest: string;
  explorer: string;
  stop(): Promise<void>;
}

export async function startDemoNet(o: { home: string; basePort: number; log: (line: string) => void }): Promise<DemoNet> {
  const layout = await startLocalnet({ home: o.home, validators: 4, basePort: o.basePort, economics: true }, o.log);
  const stopNet = () => stopLocalnet(o.home, o.log);
  let stopDemo: (() => Promise<void>) | undefined;
  try {
    stopDemo = await runDemo({ home: o.home, digits: 400, taskItems: { min: 20, max: 60 }, everySeconds: 2, log: o.log });
  } catch (err) {
    await stopNet();
    throw err;
  }
  const n0 = layout.nodes[0].ports;
  const rest = `http://127.0.0.1:${n0.rest}`;
  return {
    rpc: `http://127.0.0.1:${n0.rpc}`, rest, explorer: `${rest}/explorer/`,
    async stop() {
      await stopDemo?.();
      await stopNet();
    },
  };
}

/** Chromium with the explorer page loaded; uncaught page errors are collected in `errors`. */
export async function openExplorer(url: string, viewport = { width: 1440, height: 1100 }): Promise<{ browser: Browser; page: Page; errors: string[] }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(url);
  return { browser, page, errors };
}

/** The height the page shows (0 until it has read one). */
export async function shownHeight(page: Page): Promise<number> {
  return Number((await page.getAttribute("#latest-height", "data-height")) ?? 0);
}
