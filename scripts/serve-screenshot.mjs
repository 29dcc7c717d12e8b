// node scripts/serve-screenshot.mjs: the README's picture of `bigproc serve` (docs/serve.png). Four
// processes share a directory manifest over the demo file (sample/ticks.bin, made as `npm run demo`
// makes it), a fifth runs `bigproc serve`, and headless Chromium (Debian's /usr/bin/chromium) watches
// the page until about a third of the shards are done, then takes the picture. The kernel is the
// test suite's slow-sum (SLOW_MS of busy time per chunk), so the run lasts long enough to watch.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'bigproc.mjs');
const file = join(root, 'sample', 'ticks.bin');
const schema = 'ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16';
const work = mkdtempSync(join(tmpdir(), 'bigproc-shot-'));
const manifest = `file:${join(work, 'manifest')}`;
const children = [];

function start(args, env = {}) {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  return child;
}

try {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'gen',
        '--schema',
        schema,
        '--records',
        String(Math.floor(2 ** 30 / 24)),
        '--out',
        file,
        '--seed',
        '42',
        '--quiet',
        '--dist',
        'ts=seq:1700000000000000000:1000000,price=normal:100:10,qty=uniform:1:1000,side=uniform:0:1,flags=uniform:0:15,venue=uniform:0:31',
      ],
      { stdio: 'inherit' },
    );
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  mkdirSync(join(work, 'manifest'));
  const host = [
    'run',
    '--file',
    file,
    '--schema',
    schema,
    '--kernel',
    join(root, 'test', 'fixtures', 'slow-sum.mjs'),
    '--chunk-size',
    '2MiB',
    '--shard-size',
    '4MiB',
    '--manifest',
    manifest,
    '--run-id',
    'demo',
    '--workers',
    '1',
    '--quiet',
  ];
  for (let i = 0; i < 4; i++) start(host, { SLOW_MS: '120' });
  const server = start(['serve', '--manifest', manifest, '--port', '0']);
  const url = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(String(d).trim())));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // wait for the run to appear (the hosts create it), then watch it
    for (let i = 0; i < 100; i++) {
      await page.goto(`${url}#run=demo`);
      if (await page.waitForSelector('#runs tbody tr', { timeout: 2000 }).catch(() => null)) break;
    }
    await page.waitForFunction(
      () => {
        const m = /done (\d+)/.exec(document.querySelector('#legend')?.textContent ?? '');
        return m && Number(m[1]) >= 80;
      },
      null,
      { timeout: 120_000, polling: 250 },
    );
    await page.screenshot({ path: join(root, 'docs', 'serve.png') });
    console.log(`docs/serve.png written (${url})`);
  } finally {
    await browser.close();
  }
} finally {
  // hosts finish the shard in hand on SIGTERM: let them, then remove the manifest
  await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.on('close', resolve);
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
  rmSync(work, { recursive: true, force: true });
}
