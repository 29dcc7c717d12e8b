// --backend gpu (gpu.js on headless-gl) through the real binary under `xvfb-run -a`: image chains (raw
// and .npy out), framestats and histogram, hist, count and filter --out all identical to --backend
// native; metrics naming the HeadlessGLKernel that really ran; the circuit breaker (BIGPROC_GPU_FAULT)
// still exact with metrics.backends counting both; --max-memory bounding host and gpu.js buffers for
// image chains, hist, count and filter; no display → exit 1, one line. Runs for real on
// llvmpipe; BIGPROC_SKIP_GPUJS=1 is the only way to skip it.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult, cli, genTicks, json, TICKS, tempDir } from './helpers.js';

const optOut = process.env.BIGPROC_SKIP_GPUJS === '1';
let dir: string;
let cleanup: () => void;
let frames: string;
let ticks: string;
const FRAME = [13, 7, 3] as const;
const SIZE = FRAME[0] * FRAME[1] * FRAME[2];
const N = 60;
/** integer steps, the blur's integer definition among them: bit-identical on every backend */
const CHAIN = 'grey|blur:1|levels:20:230|sobel|downscale:2';
/** the --max-memory test's chain, whose bounds are sized for its textures */
const MEMORY_CHAIN = 'grey|levels:20:230|sobel|downscale:2';
let outs = 0;

beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  frames = join(dir, 'frames.bin');
  const b = Buffer.alloc(N * SIZE);
  let x = 7;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  writeFileSync(frames, b);
  ticks = join(dir, 'ticks.bin');
  genTicks(ticks, 20000, 3);
});
afterAll(() => cleanup());

/** bigproc under a virtual X display (headless-gl needs one). */
function xcli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync('xvfb-run', ['-a', process.execPath, BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: join(dir, 'cache'), ...env },
    timeout: 120_000,
  });
  if (r.error) throw new Error(`xvfb-run did not start (${r.error.message}): apt install xvfb xauth`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One run on `backend`: its JSON, stderr and the --out bytes (when `out` names a file suffix). */
function run(backend: string, args: string[], out?: string, env: NodeJS.ProcessEnv = {}) {
  const file = out === undefined ? undefined : join(dir, `out-${++outs}${out}`);
  const r = xcli([...args, '--backend', backend, '--json', ...(file ? ['--out', file] : [])], env);
  return { doc: json(r), stderr: r.stderr, bytes: file ? readFileSync(file) : Buffer.alloc(0) };
}

const image = (chain: string, extra: string[] = []) => [
  'run',
  '--file',
  frames,
  '--frame',
  FRAME.join('x'),
  '--op',
  chain,
  '--chunk-size',
  String(10 * SIZE),
  '--workers',
  '1',
  ...extra,
];
const numeric = (op: string, extra: string[]) => ['run', '--file', ticks, '--schema', TICKS, '--op', op, ...extra];

function expectSame(gpu: ReturnType<typeof run>, native: ReturnType<typeof run>) {
  expect(gpu.stderr).toBe('');
  expect(gpu.bytes.equals(native.bytes)).toBe(true);
  expect(gpu.doc.result).toEqual(native.doc.result);
  expect(gpu.doc.metrics.backend).toBe('gpu');
  expect(gpu.doc.metrics.backend_detail).toMatch(/^HeadlessGLKernel \(headlessgl, ANGLE \(.+\)\)$/);
  expect(native.doc.metrics.backend).toBe('native');
}

describe.skipIf(optOut)('--backend gpu (gpu.js)', () => {
  it('image chains: raw and .npy frames identical to native', { timeout: 60_000 }, () => {
    for (const suffix of ['.bin', '.npy'])
      expectSame(run('gpu', image(CHAIN), suffix), run('native', image(CHAIN), suffix));
  });

  it('framestats and histogram (summed and --per-frame) identical to native', { timeout: 60_000 }, () => {
    for (const args of [image('framestats'), image('grey|histogram'), image('invert|histogram', ['--per-frame'])]) {
      const gpu = run('gpu', args);
      expectSame(gpu, run('native', args));
      expect(gpu.doc.result.frames_in).toBe(N);
    }
  });

  it('hist, count and filter --out identical to native', { timeout: 60_000 }, () => {
    const where = ['--where', 'price < 95 || (qty > 500 && side == 1) || venue >= 65000'];
    const cases: [string[], string | undefined][] = [
      [numeric('hist', ['--field', 'price', '--bins', '17', '--range', '80:120']), undefined],
      [numeric('count', where), undefined],
      [numeric('filter', where), '.bin'],
    ];
    for (const [args, out] of cases) expectSame(run('gpu', args, out), run('native', args, out));
    const counted = run('gpu', numeric('count', where)).doc.result;
    expect(counted.matched).toBeGreaterThan(4000);
    expect(counted.matched).toBeLessThan(20000);
  });

  it('minmax, and hist without --range (its minmax pre-pass on gpu.js too), identical to native', {
    timeout: 60_000,
  }, () => {
    const cases = [
      numeric('minmax', ['--fields', 'price,qty,side,venue']),
      numeric('hist', ['--field', 'qty', '--bins', '9']),
      numeric('hist', ['--field', 'price', '--bins', '5']),
    ];
    for (const args of cases) expectSame(run('gpu', args), run('native', args));
    // the pre-pass really runs there: a device lost in each pass warns twice
    const lost = run('gpu', numeric('hist', ['--field', 'qty', '--bins', '9', '--chunk-size', '64KiB']), undefined, {
      BIGPROC_GPU_FAULT: 'lost:1',
    });
    expect(lost.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toHaveLength(2);
    expect(lost.doc.result).toEqual(run('native', numeric('hist', ['--field', 'qty', '--bins', '9'])).doc.result);
  });

  it('the breaker: a device that fails to open, a failed chunk, three in a row, a device lost — all exact', {
    timeout: 90_000,
  }, () => {
    const native = run('native', image(CHAIN), '.bin');
    const open = run('gpu', image(CHAIN), '.bin', { BIGPROC_GPU_FAULT: 'open' });
    expect(open.stderr).toMatch(
      /^warning: --backend gpu .*failed to open.*remaining chunks run on the native backend\n$/,
    );
    expect(open.doc.metrics.backends).toEqual({ gpu: { chunks: 0, bytes: 0 }, native: { chunks: 6, bytes: N * SIZE } });
    const one = run('gpu', image(CHAIN), '.bin', { BIGPROC_GPU_FAULT: 'chunk:2' });
    expect(one.stderr).toBe('');
    expect(one.doc.metrics.backends).toEqual({
      gpu: { chunks: 5, bytes: 50 * SIZE },
      native: { chunks: 1, bytes: 10 * SIZE },
    });
    const three = run('gpu', image(CHAIN), '.bin', { BIGPROC_GPU_FAULT: 'chunk:1,chunk:2,chunk:3' });
    expect(three.stderr).toMatch(
      /^warning: --backend gpu \(HeadlessGLKernel .*3 chunks failed in a row.*native backend\n$/,
    );
    expect(three.doc.metrics.backends).toEqual({
      gpu: { chunks: 1, bytes: 10 * SIZE },
      native: { chunks: 5, bytes: 50 * SIZE },
    });
    const lost = run('gpu', image(CHAIN), '.bin', { BIGPROC_GPU_FAULT: 'lost:4' });
    expect(lost.stderr.trim().split('\n')).toHaveLength(1);
    expect(lost.doc.metrics.backends).toEqual({
      gpu: { chunks: 4, bytes: 40 * SIZE },
      native: { chunks: 2, bytes: 20 * SIZE },
    });
    for (const r of [open, one, three, lost]) expect(r.bytes.equals(native.bytes)).toBe(true);
  });

  it('auto with a display calibrates gpu.js once, caches the verdict, and picks native on a software renderer', {
    timeout: 60_000,
  }, () => {
    const cache = join(dir, 'auto-cache');
    const args = numeric('count', ['--where', 'price < 95 || side == 1']);
    const calibrate = { XDG_CACHE_HOME: cache, BIGPROC_GPU_CALIBRATE_SOFTWARE: '1' };
    // WebGPU is tried first; a run that loaded Dawn never opens gl too (see gpu/open.ts driverLoaded),
    // so gpu.js is calibrated by the next run, once WebGPU's verdict is cached
    const webgpuFirst = run('auto', args, undefined, calibrate);
    expect(webgpuFirst.stderr).toBe('');
    const first = run('auto', args, undefined, calibrate);
    expect(first.stderr).toBe('');
    expect(first.doc.result).toEqual(run('native', args).doc.result);
    const verdicts = JSON.parse(readFileSync(join(cache, 'bigproc', 'gpu-calibration.json'), 'utf8'));
    const [key, v] = Object.entries(verdicts).find(([k]) => k.startsWith('gpu:')) as [
      string,
      { winner: string; gpu_mbps: number; detail: string },
    ];
    expect(key).toMatch(/^gpu:count:24:/);
    expect(v.gpu_mbps).toBeGreaterThan(0);
    expect(v.detail).toMatch(/^HeadlessGLKernel/);
    if (/llvmpipe/.test(v.detail)) expect(first.doc.metrics.backend).toBe('native');
    expect(first.doc.metrics.backend).toBe(v.winner === 'gpu' ? 'gpu' : 'native');
    expect(run('auto', args, undefined, calibrate).doc.metrics.backend).toBe(first.doc.metrics.backend);
  });

  it('--max-memory: calls of fewer frames, host and gpu.js textures within the bound, native frames', {
    timeout: 60_000,
  }, () => {
    const native = run('native', image(MEMORY_CHAIN), '.raw');
    const peaks: number[] = [];
    for (const max of [40_000, 12_000]) {
      const gpu = run('gpu', image(MEMORY_CHAIN, ['--max-memory', String(max)]), '.raw');
      expect(gpu.stderr).toBe('');
      expect(gpu.bytes.equals(native.bytes)).toBe(true);
      const m = gpu.doc.metrics.memory;
      expect(gpu.doc.metrics.backend).toBe('gpu');
      expect(m.bound_bytes).toBeLessThanOrEqual(max);
      expect(m.device_peak_bytes).toBeGreaterThan(0);
      expect(m.device_peak_bytes).toBeLessThanOrEqual(m.device_bound_bytes);
      expect(m.peak_bytes + m.device_peak_bytes).toBeLessThanOrEqual(max);
      peaks.push(m.device_peak_bytes);
    }
    expect(peaks[0]).toBeGreaterThan(peaks[1]!);
    const tight = xcli([
      ...image(MEMORY_CHAIN),
      '--backend',
      'gpu',
      '--max-memory',
      '3000',
      '--out',
      join(dir, 'tight.raw'),
    ]);
    expect(tight.status).toBe(2);
    expect(tight.stderr).toMatch(
      /^bigproc: --max-memory 3000 bytes is too small: .* in the gpu device's buffers .*give at least \d+\n$/,
    );
  });

  it('--max-memory on hist, count and filter: calls of fewer values, host and gpu.js textures within the bound, native results', {
    timeout: 90_000,
  }, () => {
    // count reads 8 f32 parts a record: its call's textures and arrays (~112 bytes a record) outgrow the
    // host's 24-byte records, so the device's own call fit (not the host's chunking) keeps the bound
    const where = ['--where', 'price < 95 || (qty > 500 && side == 1) || venue >= 65000'];
    const cases: [string[], string | undefined][] = [
      [numeric('hist', ['--field', 'price', '--bins', '17', '--range', '80:120']), undefined],
      [numeric('count', where), undefined],
      [numeric('filter', where), '.bin'],
    ];
    for (const [args, out] of cases) {
      const native = run('native', args, out);
      for (const max of [200_000, 30_000]) {
        const gpu = run('gpu', [...args, '--max-memory', String(max)], out);
        expectSame(gpu, native);
        const m = gpu.doc.metrics.memory;
        expect(m.bound_bytes).toBeLessThanOrEqual(max);
        expect(m.device_peak_bytes).toBeGreaterThan(0);
        expect(m.device_peak_bytes).toBeLessThanOrEqual(m.device_bound_bytes);
        expect(m.peak_bytes + m.device_peak_bytes).toBeLessThanOrEqual(max);
      }
    }
    const tight = xcli([
      ...numeric('hist', ['--field', 'price', '--range', '0:200']),
      '--backend',
      'gpu',
      '--max-memory',
      '500',
    ]);
    expect(tight.status).toBe(2);
    expect(tight.stderr).toMatch(
      /^bigproc: --max-memory 500 bytes is too small: one record in flight needs 24 bytes on the host and \d+ in the gpu device's buffers .*give at least \d+\n$/,
    );
  });

  it('no X display: exit 1, one line saying how to get one', () => {
    const r = cli([...image(CHAIN), '--backend', 'gpu'], { env: { DISPLAY: '' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^bigproc: --backend gpu: no X display .*xvfb-run -a bigproc.*\n$/);
  });

  it('what gpu.js cannot do exactly or at all: exit 2, one line', { timeout: 30_000 }, () => {
    const i64 = xcli([...numeric('count', ['--where', 'ts > 5']), '--backend', 'gpu']);
    expect(i64.status).toBe(2);
    expect(i64.stderr).toMatch(/^bigproc: --backend gpu: gpu\.js compares .* not i64 ones.*\n$/);
    const wide = xcli([...numeric('minmax', ['--fields', 'ts']), '--backend', 'gpu']);
    expect(wide.status).toBe(2);
    expect(wide.stderr).toMatch(/^bigproc: --backend gpu: gpu\.js minmax cannot key i64 values exactly.*\n$/);
    const sum = xcli([...numeric('checksum', []), '--backend', 'gpu']);
    expect(sum.status).toBe(2);
    expect(sum.stderr).toMatch(
      /^bigproc: --backend gpu: --backend gpu has no gpu\.js kernel for checksum; it runs .*hist, minmax, filter and count --where\n$/,
    );
  });
});
