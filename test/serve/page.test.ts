/// <reference lib="dom" />
// The dashboard in a real headless Chromium (Debian's `chromium` + playwright-core): the run list
// renders; a shard's cell turns from pending to done while a real host commits it; an error message
// holding markup shows as text and runs nothing; screenshots are kept in test/.artifacts/ (docs/serve.png, the README's,
// comes from scripts/serve-screenshot.mjs: a 4-process run watched live).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, TICKS, cli } from '../cli/helpers.js';
import { KERNEL, start, waitFor, type Proc } from '../cli/manifest-suite.js';
import { XSS, makeRuns, type Fixture } from './serve-suite.js';
import { get, serve, type Served } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log(`page tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

const ARTIFACTS = join(ROOT, 'test', '.artifacts');
const DONE = [22, 163, 74];
const PENDING = [139, 149, 163];

/** The colour of a shard's cell on the canvas, read back from its pixels. */
async function cellColour(page: Page, shard: number): Promise<number[]> {
  return page.evaluate((s) => {
    const c = document.querySelector('#shardmap') as HTMLCanvasElement;
    const cell = Number(c.dataset.cell);
    const cols = Number(c.dataset.cols);
    const x = Math.floor(((s % cols) + 0.4) * cell);
    const y = Math.floor((Math.floor(s / cols) + 0.4) * cell);
    return Array.from(c.getContext('2d')!.getImageData(x, y, 1, 1).data.slice(0, 3));
  }, shard);
}

describe.skipIf(!haveChromium)('the serve page in Chromium', () => {
  let root: string;
  let fx: Fixture & { cleanup: () => void };
  let server: Served;
  let browser: Browser;
  let host: Proc | null = null;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'bigproc-page-'));
    fx = await makeRuns(`file:${join(root, 'm')}`);
    server = await serve(['--manifest', fx.url]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 90_000);
  afterAll(async () => {
    if (host) {
      host.kill('SIGKILL');
      await host.done;
    }
    await browser?.close();
    await server?.stop();
    fx?.cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  it('lists the runs, recolours a shard as it commits, and shows markup in an error as text', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const args = [
      'run',
      '--file',
      fx.ticks,
      '--schema',
      TICKS,
      '--quiet',
      '--kernel',
      KERNEL,
      '--chunk-size',
      '64KiB',
      '--shard-size',
      '64KiB',
      '--manifest',
      fx.url,
      '--run-id',
      'watch',
      '--workers',
      '1',
    ];
    host = start(args, { SLOW_MS: '250' });
    await waitFor(
      'the run to exist',
      () => cli(['status', '--manifest', fx.url, '--run-id', 'watch']).status === 0,
      20_000,
    );

    await page.goto(`${server.url}#run=watch`);
    await page.waitForFunction(() => document.querySelectorAll('#runs tbody tr').length === 4, null, {
      timeout: 15_000,
    });
    const ids = await page.$$eval('#runs tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.run));
    expect(ids.sort()).toEqual(['done', 'failed', 'live', 'watch']);
    await page.waitForFunction(
      () => Number((document.querySelector('#shardmap') as HTMLCanvasElement).dataset.cols) > 0,
      null,
      { timeout: 15_000 },
    );

    // a shard still pending now, a few ahead of the host: it commits within seconds
    const pending = (await get(new URL('/api/runs/watch/shards?state=pending', server.url).href))
      .json()
      .shards.map((s: any) => s.shard);
    const target = pending[Math.min(3, pending.length - 1)];
    await page.waitForFunction(() => true);
    expect(await cellColour(page, target)).toEqual(PENDING);
    const until = Date.now() + 30_000;
    let colour = PENDING;
    while (Date.now() < until && colour.join() !== DONE.join()) {
      await new Promise((r) => setTimeout(r, 200));
      colour = await cellColour(page, target);
    }
    expect(colour).toEqual(DONE);
    expect(await page.locator('#trail tbody tr').count()).toBeGreaterThan(0);
    mkdirSync(ARTIFACTS, { recursive: true });

    await page.click('#runs tbody tr[data-run="failed"]');
    await page.waitForFunction(() => document.querySelector('#failures td.err') !== null, null, { timeout: 15_000 });
    const errorText = await page.textContent('#failures td.err');
    expect(errorText).toContain(`${XSS} while reading`);
    expect(await page.locator('#failures img, #trail img, #tip img').count()).toBe(0);
    // no token configured: no retry button
    expect(await page.locator('#retry').isVisible()).toBe(false);
    // the shard's history: every token and how it ended
    const failedShard = Number(await page.getAttribute('#failures tbody tr', 'data-shard'));
    const box = await page.locator('#shardmap').boundingBox();
    const geo = await page.evaluate(() => {
      const c = document.querySelector('#shardmap') as HTMLCanvasElement;
      return { cell: Number(c.dataset.cell), cols: Number(c.dataset.cols) };
    });
    await page.mouse.click(
      box!.x + ((failedShard % geo.cols) + 0.5) * geo.cell,
      box!.y + (Math.floor(failedShard / geo.cols) + 0.5) * geo.cell,
    );
    await page.waitForFunction(() => document.querySelectorAll('#history li').length >= 2, null, { timeout: 10_000 });
    expect(await page.textContent('#history')).toMatch(/token 1: held by .* — failed by/);
    await page.screenshot({ path: join(ARTIFACTS, 'serve-page.png'), fullPage: true });
    expect(dialogs).toEqual([]);
    await page.close();
  }, 90_000);

  it('with a token, the page signs in through /login and offers retry', async () => {
    const guarded = await serve(['--manifest', fx.url, '--token', 'page-token-5678']);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      const refused = await page.goto(guarded.url);
      expect(refused!.status()).toBe(401);
      await page.goto(`${guarded.url}login?token=page-token-5678#run=failed`);
      await page.goto(`${guarded.url}#run=failed`);
      await page.waitForFunction(() => !(document.querySelector('#retry') as HTMLElement).hidden, null, {
        timeout: 15_000,
      });
      await page.click('#retry');
      await page.waitForFunction(
        () => /reset to pending/.test(document.querySelector('#banner')!.textContent ?? ''),
        null,
        { timeout: 15_000 },
      );
      await page.screenshot({ path: join(ARTIFACTS, 'serve-page-phone.png'), fullPage: true });
    } finally {
      await page.close();
      await guarded.stop();
    }
  }, 60_000);
});
