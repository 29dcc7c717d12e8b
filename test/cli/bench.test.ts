// `bigproc bench` through the real binary: a short bench on a tiny generated file gives a document
// valid against its schema and an HTML report that renders in a real headless Chromium; --save writes
// per-op settings that `run` and `config` then use; Ctrl-C removes the generated file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, cli, genTicks, json, tempDir, TICKS } from './helpers.js';
import { benchDocumentSchema } from '../../src/bench/schema.js';
import type { BenchDocument } from '../../src/bench/types.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test', '.artifacts');

let dir: string;
let cleanup: () => void;
let doc: BenchDocument;
let html: string;
let stderr: string;
beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  html = join(dir, 'report.html');
  const r = cli([
    'bench',
    '--size',
    '2MiB',
    '--workers',
    '1,2',
    '--repeat',
    '2',
    '--warmup',
    '1',
    '--ops',
    'stats,filter:where=price > 110,hist:field=nope',
    '--compare',
    '--json',
    '--html',
    html,
    '--tmp-dir',
    dir,
  ]);
  stderr = r.stderr;
  doc = json(r);
});
afterAll(() => cleanup());

describe('bigproc bench --json', () => {
  it('prints one document valid against the schema, and removes its generated file', () => {
    const parsed = benchDocumentSchema.safeParse(doc);
    expect(parsed.success, JSON.stringify(parsed.error?.issues.slice(0, 3))).toBe(true);
    expect(doc.file).toMatchObject({ generated: true, bytes: Math.floor((2 * 2 ** 20) / 24) * 24 });
    expect(readdirSync(dir).filter((n) => n.startsWith('bigproc-bench-'))).toEqual([]);
    expect(doc.limits.map((l) => [l.kind, l.ok])).toEqual([
      ['read', true],
      ['mem', true],
    ]);
    expect(stderr).toMatch(/runs, ETA/);
  });

  it('runs every case warm-up + repeat times, interleaved, and summarises each', () => {
    const bigproc = doc.cases.filter((c) => c.tool === 'bigproc');
    expect(bigproc.map((c) => `${c.op.op}/${c.workers}`)).toEqual([
      'stats/1',
      'stats/2',
      'filter/1',
      'filter/2',
      'hist/1',
      'hist/2',
    ]);
    expect(doc.runs).toHaveLength(doc.cases.length * 3);
    expect(doc.runs.slice(0, doc.cases.length).map((r) => r.case_id)).toEqual(doc.cases.map((c) => c.id));
    const stats2 = doc.summary.find((s) => s.label === 'stats' && s.workers === 2)!;
    expect(stats2.ok).toBe(true);
    expect(stats2.gbps!.n).toBe(2);
    expect(stats2.speedup).toBeGreaterThan(0);
    expect(stats2.ratio_to_memory).toBeGreaterThan(0);
  });

  it('reports a failing configuration as failed with its error, and recommends only what ran', () => {
    const hist = doc.summary.filter((s) => s.label === 'hist:field=nope' && s.tool === 'bigproc');
    expect(hist.map((s) => s.ok)).toEqual([false, false]);
    expect(hist[0]!.error).toMatch(/^bigproc: .*nope.*\(exit 2\)$/);
    expect(doc.recommendations.map((r) => r.op)).toEqual(['stats', 'filter:where=price > 110']);
    const numpy = doc.summary.filter((s) => s.tool === 'numpy');
    expect(numpy.map((s) => [s.label, s.ok])).toEqual([
      ['stats', true],
      ['filter:where=price > 110', true],
      ['hist:field=nope', false],
    ]);
  });

  it('the human table has the limits (cold too), every case and the recommendation', () => {
    const r = cli([
      'bench',
      '--size',
      '1MiB',
      '--workers',
      '1',
      '--repeat',
      '1',
      '--warmup',
      '0',
      '--ops',
      'stats',
      '--cold',
      '--quiet',
      '--tmp-dir',
      dir,
    ]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/memory read \(mmap \+ sum u64\), \d+ threads: [\d.]+ GB\/s/);
    // cold: measured, and where the kernel kept the pages (tmpfs) the line says so
    expect(r.stdout).toMatch(
      /storage, cold \(read\(2\) after dropping the page cache\): [\d.]+ GB\/s \(min [\d.]+, max [\d.]+\)( — not cold: .*)?$/m,
    );
    expect(r.stdout).toMatch(/^stats +native +1 +64MiB +[\d.]+ /m);
    expect(r.stdout).toMatch(/recommendation[\s\S]*stats: --workers 1 --chunk-size 64MiB --backend native/);
  });

  it('--file with its layout: default ops for it; no C compiler or no NumPy is said, and the sweep still runs', () => {
    const ticks = join(dir, 'own.bin');
    genTicks(ticks, 30_000);
    const r = cli(
      [
        'bench',
        '--file',
        ticks,
        '--schema',
        TICKS,
        '--workers',
        '1',
        '--repeat',
        '1',
        '--warmup',
        '0',
        '--compare',
        '--json',
        '--quiet',
      ],
      {
        env: {
          CC: join(dir, 'no-cc'),
          XDG_CACHE_HOME: join(dir, 'cache'),
          BIGPROC_BENCH_PYTHON: join(dir, 'no-python'),
        },
      },
    );
    const d = json(r) as BenchDocument;
    expect(benchDocumentSchema.safeParse(d).success).toBe(true);
    expect(d.file).toMatchObject({ path: ticks, generated: false, bytes: 30_000 * 24 });
    expect(d.summary.map((c) => [c.label, c.ok])).toEqual([
      ['stats', true],
      ['filter:where=price > 0', true],
      ['hist:field=price', true],
    ]);
    expect(d.limits.every((l) => !l.ok && /cannot compile .*limits\.c with .*no-cc/.test(l.error!))).toBe(true);
    expect(d.summary[0]!.ratio_to_memory).toBeNull();
    expect(d.compare_note).toMatch(/^--compare skipped: .*no-python is not installed/);
    expect(existsSync(ticks)).toBe(true); // the user's file is never removed
  });

  it('bad flags are one line and exit 2', () => {
    for (const args of [
      ['--workers', '0'],
      ['--repeat', 'x'],
      ['--ops', 'nope'],
      ['--backends', 'gpu'],
      ['--schema', TICKS],
      ['--size', '10B'],
      ['--html', join(dir, 'nope', 'r.html')],
      ['--html', dir],
    ]) {
      const r = cli(['bench', ...args, '--tmp-dir', dir]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^bigproc: /);
    }
  });
});

describe('bench --html in a real headless Chromium', () => {
  it('is self-contained and its charts render with non-zero size', async (ctx) => {
    const page = readFileSync(html, 'utf8');
    expect(page).not.toMatch(/<script|<link|src=|https?:\/\//);
    if (!existsSync(CHROMIUM)) {
      console.log(`skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
      ctx.skip();
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM });
    try {
      const tab = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await tab.goto(`file://${html}`);
      const charts = await tab.$$eval('svg.chart', (els) =>
        els.map((e) => {
          const box = e.getBoundingClientRect();
          const sizes = (sel: string) =>
            Array.from(e.querySelectorAll(sel)).map((x) => {
              const b = x.getBoundingClientRect();
              return Math.max(b.width, b.height);
            });
          return {
            op: e.getAttribute('data-op'),
            w: box.width,
            h: box.height,
            points: sizes('circle.point'),
            limits: sizes('line.limit'),
            rec: sizes('circle.recommended'),
          };
        }),
      );
      expect(charts.map((c) => c.op)).toEqual(['stats', 'filter:where=price > 110', 'hist:field=nope']);
      for (const c of charts.slice(0, 2)) {
        expect(c.w).toBeGreaterThan(100);
        expect(c.h).toBeGreaterThan(100);
        expect(c.points.length).toBe(3); // 1 and 2 workers, and NumPy
        expect(c.limits.length).toBe(2); // read(2) and memory
        expect(c.rec.length).toBe(1);
        for (const s of [...c.points, ...c.limits, ...c.rec]) expect(s).toBeGreaterThan(0);
      }
      mkdirSync(ARTIFACTS, { recursive: true });
      await tab.screenshot({ path: join(ARTIFACTS, 'bench-report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});

describe('bench --save', () => {
  it('writes run.ops.<op> into the settings file; run and config use it, flags still win', () => {
    const cfg = join(dir, 'bigproc.config.json');
    writeFileSync(cfg, JSON.stringify({ schema: TICKS, run: { workers: 2 } }));
    const r = cli([
      'bench',
      '--size',
      '1MiB',
      '--workers',
      '1',
      '--repeat',
      '1',
      '--warmup',
      '0',
      '--ops',
      'stats',
      '--chunk-size',
      '256KiB',
      '--save',
      '--config',
      cfg,
      '--tmp-dir',
      dir,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/saved run\.ops\.stats: --workers 1 --chunk-size 256KiB --backend native/);
    expect(JSON.parse(readFileSync(cfg, 'utf8'))).toEqual({
      schema: TICKS,
      run: { workers: 2, ops: { stats: { workers: 1, 'chunk-size': '256KiB', backend: 'native' } } },
    });
    const settings = (args: string[]) =>
      Object.fromEntries(
        json(cli(['config', '--config', cfg, '--json', ...args])).settings.map(
          (s: { option: string; value: unknown; source: string }) => [s.option, [s.value, s.source]],
        ),
      );
    expect(settings([])['--workers']).toEqual(['1', `config ${cfg} (run.ops.stats)`]);
    expect(settings([])['--chunk-size']).toEqual(['256KiB', `config ${cfg} (run.ops.stats)`]);
    expect(settings(['--op', 'count'])['--workers']).toEqual(['2', `config ${cfg}`]);
    const ticks = join(dir, 'ticks.bin');
    genTicks(ticks, 40_000);
    const run = json(cli(['run', '--config', cfg, '--file', ticks, '--json']));
    expect(run.metrics).toMatchObject({
      workers: 1,
      backend: 'native',
      chunks: Math.ceil(40_000 / Math.floor((256 * 1024) / 24)),
    });
    expect(json(cli(['run', '--config', cfg, '--file', ticks, '--json', '--workers', '2'])).metrics.workers).toBe(2);
    // another op: the run section's 2 workers (a run uses at most one worker per chunk, hence the chunk size)
    expect(
      json(
        cli([
          'run',
          '--config',
          cfg,
          '--file',
          ticks,
          '--json',
          '--op',
          'filter',
          '--where',
          'price > 1',
          '--chunk-size',
          '256KiB',
        ]),
      ).metrics.workers,
    ).toBe(2);
  });
});

describe('bench interrupted', () => {
  it('Ctrl-C ends the measured child, removes the generated file and exits 130', async () => {
    const scratch = join(dir, 'int');
    mkdirSync(scratch);
    const child = spawn(
      process.execPath,
      [
        BIN,
        'bench',
        '--size',
        '64MiB',
        '--workers',
        '1',
        '--repeat',
        '50',
        '--ops',
        'stats',
        '--tmp-dir',
        scratch,
        '--quiet',
      ],
      { stdio: 'ignore' },
    );
    const started = Date.now();
    while (
      !readdirSync(scratch).some((n) => existsSync(join(scratch, n, 'ticks.bin'))) &&
      Date.now() - started < 20_000
    )
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(130);
    expect(readdirSync(scratch)).toEqual([]);
  });
});
