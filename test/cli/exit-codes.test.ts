// Every exit code of the contract that a single-host run can produce, through the real binary.
import { describe, expect, it } from 'vitest';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { cli, cliAsync, genTicks, json, TICKS, ticksFixture } from './helpers.js';

const { dir, ticks } = ticksFixture(10_000);

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describe('exit 0', () => {
  it('stats by default, JSON as the contract shows', () => {
    const doc = json(cli(['run', '--file', ticks, '--schema', TICKS, '--json', '--workers', '2']));
    expect(doc.op).toBe('stats');
    expect(doc.file).toBe(ticks);
    expect(doc.layout.record_size).toBe(24);
    expect(doc.layout.fields[1]).toEqual({ name: 'price', type: 'f64', offset: 8 });
    expect(Object.keys(doc.result.fields)).toEqual(['ts', 'price', 'qty', 'side', 'flags', 'venue']);
    for (const k of ['count', 'sum', 'min', 'max', 'mean', 'std']) expect(doc.result.fields.price).toHaveProperty(k);
    expect(doc.result.fields.qty.count).toBe(10_000);
    for (const k of ['bytes', 'records', 'seconds', 'gbps', 'workers', 'backend', 'chunks'])
      expect(doc.metrics).toHaveProperty(k);
    expect(doc.metrics.bytes).toBe(240_000);
    expect(doc.metrics.chunk_ms).toHaveProperty('p50');
    expect(doc.metrics.chunk_ms).toHaveProperty('p99');
  });

  it('human output: a table on stdout, a summary on stderr, nothing on stderr with --quiet', () => {
    const r = cli(['run', '--file', ticks, '--schema', TICKS]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^field\s+type\s+count/);
    expect(r.stdout).toMatch(/\nprice\s+f64\s+10000/);
    expect(r.stderr).toMatch(/GB\/s/);
    const q = cli(['run', '--file', ticks, '--schema', TICKS, '--quiet']);
    expect(q.status).toBe(0);
    expect(q.stderr).toBe('');
  });

  it('an empty file is fine', () => {
    const empty = join(dir, 'empty.bin');
    writeFileSync(empty, '');
    const doc = json(cli(['run', '--file', empty, '--schema', TICKS, '--json']));
    expect(doc.result.fields.price.count).toBe(0);
    expect(doc.metrics.chunks).toBe(0);
    const f = json(
      cli(['run', '--file', empty, '--schema', TICKS, '--op', 'filter', '--where', 'price > 1', '--json']),
    );
    expect(f.result.matched).toBe(0);
  });

  it('--help and --version', () => {
    expect(cli(['--help']).status).toBe(0);
    expect(cli(['run', '--help']).stdout).toMatch(/--where/);
    expect(cli(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('exit 2: usage and bad input, one line each', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown option', ['run', '--file', 'x', '--frobnicate'], /unknown option '--frobnicate'/],
    ['unknown command', ['frob'], /unknown command/],
    ['no --file', ['run', '--schema', TICKS], /--file/],
    ['missing file', ['run', '--file', '/nonexistent/x.bin', '--schema', TICKS], /\/nonexistent\/x\.bin.*no such file/],
    ['bad schema type', ['run', '--file', '@TICKS', '--schema', 'a:i33'], /i33/],
    ['no layout', ['run', '--file', '@TICKS'], /no record layout/i],
    ['bad workers', ['run', '--file', '@TICKS', '--schema', TICKS, '--workers', '0'], /--workers.*0/],
    [
      'bad chunk size',
      ['run', '--file', '@TICKS', '--schema', TICKS, '--chunk-size', '12 parsecs'],
      /--chunk-size.*12 parsecs/,
    ],
    ['bad op', ['run', '--file', '@TICKS', '--schema', TICKS, '--op', 'median'], /--op.*median/],
    ['bad backend', ['run', '--file', '@TICKS', '--schema', TICKS, '--backend', 'quantum'], /--backend.*quantum/],
    ['bad where', ['run', '--file', '@TICKS', '--schema', TICKS, '--op', 'filter', '--where', 'price >'], /--where/],
    [
      'unknown where field',
      ['run', '--file', '@TICKS', '--schema', TICKS, '--op', 'filter', '--where', 'prize > 3'],
      /prize/,
    ],
    ['filter without where', ['run', '--file', '@TICKS', '--schema', TICKS, '--op', 'filter'], /--where/],
    ['hist without field', ['run', '--file', '@TICKS', '--schema', TICKS, '--op', 'hist'], /--field/],
    [
      'hist bad range',
      ['run', '--file', '@TICKS', '--schema', TICKS, '--op', 'hist', '--field', 'price', '--range', '5:1'],
      /--range.*5:1/,
    ],
    ['--out with stats', ['run', '--file', '@TICKS', '--schema', TICKS, '--out', '/tmp/never'], /--out/],
    ['file size mismatch', ['run', '--file', '@TICKS', '--schema', 'a:i64,b:f64,c:i64,d:u16'], /trailing bytes/],
  ];
  for (const [name, args, re] of cases) {
    it(name, () => {
      const r = cli(args.map((a) => (a === '@TICKS' ? ticks : a)));
      expect(r.status).toBe(2);
      expect(oneLine(r.stderr)).toMatch(re);
      expect(r.stdout).toBe('');
    });
  }

  it('a trailing partial record names the byte count; --allow-partial reports it', () => {
    const f = join(dir, 'partial.bin');
    writeFileSync(f, Buffer.alloc(24 * 3 + 5));
    const r = cli(['run', '--file', f, '--schema', TICKS]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/5 trailing bytes/);
    const ok = json(cli(['run', '--file', f, '--schema', TICKS, '--allow-partial', '--json']));
    expect(ok.result.trailing_bytes).toBe(5);
    expect(ok.result.fields.ts.count).toBe(3);
  });
});

describe('exit 1: the file changes under the run', () => {
  it('truncating the file mid-run ends with exit 1 and prints no result', async () => {
    const f = join(dir, 'shrinks.bin');
    genTicks(f, 2_000_000);
    // The JS backend with small chunks over 48 MB takes a good fraction of a second even on a fast
    // machine, so the run is still going when we cut the file (with 10 MB it was sometimes over before
    // the test saw the file open).
    const child = cliAsync([
      'run',
      '--file',
      f,
      '--schema',
      TICKS,
      '--backend',
      'js',
      '--workers',
      '1',
      '--chunk-size',
      '64KiB',
      '--json',
    ]);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    await waitForMapping(child.pid!, f);
    truncateSync(f, statSync(f).size / 2);
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/changed while it was being read/);
  });
});

describe('exit 130: SIGINT', () => {
  it('stops promptly and leaves no --out file (nor its temp file)', async () => {
    const f = join(dir, 'sigint.bin');
    genTicks(f, 2_000_000);
    const outDir = join(dir, 'out');
    mkdirSync(outDir);
    const out = join(outDir, 'matches.bin');
    const child = cliAsync([
      'run',
      '--file',
      f,
      '--schema',
      TICKS,
      '--backend',
      'js',
      '--workers',
      '2',
      '--chunk-size',
      '64KiB',
      '--op',
      'filter',
      '--where',
      'price > -1e300',
      '--out',
      out,
    ]);
    await waitFor(() => readdirSync(outDir).length > 0);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(code).toBe(130);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(outDir)).toEqual([]);
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition never became true');
}

/** Wait until the process has the file open (JS backend reads through the mapping or a file descriptor). */
async function waitForMapping(pid: number, file: string): Promise<void> {
  const uses = () => {
    try {
      if (readFileSync(`/proc/${pid}/maps`, 'utf8').includes(file)) return true;
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  };
  await waitFor(uses);
}

describe('backend fallback', () => {
  it('auto falls back to the JS kernels with one warning when the addon cannot load; native then fails with exit 1', () => {
    const env = { BIGPROC_ADDON: join(dir, 'missing.node') };
    const auto = cli(['run', '--file', ticks, '--schema', TICKS, '--json'], { env });
    expect(auto.status).toBe(0);
    expect(oneLine(auto.stderr)).toMatch(/^warning: native kernels unavailable, using the JS backend: .*missing\.node/);
    const doc = JSON.parse(auto.stdout);
    expect(doc.metrics.backend).toBe('js');
    const native = json(cli(['run', '--file', ticks, '--schema', TICKS, '--json']));
    expect(doc.result).toEqual(native.result);
    const forced = cli(['run', '--file', ticks, '--schema', TICKS, '--backend', 'native'], { env });
    expect(forced.status).toBe(1);
    expect(oneLine(forced.stderr)).toMatch(/--backend native: .*npm rebuild/);
  });
});

describe('large files', () => {
  it('a sparse file over 4 GiB is scanned whole (byte offsets past 2^32)', () => {
    const f = join(dir, 'sparse.bin');
    const records = Math.ceil(2 ** 32 / 24) + 1000;
    writeFileSync(f, '');
    truncateSync(f, records * 24);
    const doc = json(
      cli(['run', '--file', f, '--schema', TICKS, '--op', 'filter', '--where', 'qty == 0 && price == 0', '--json']),
    );
    expect(doc.result.matched).toBe(records);
    expect(doc.metrics.bytes).toBe(records * 24);
  });
});
