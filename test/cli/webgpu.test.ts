// --backend webgpu|gpu|auto through the real binary: frames identical to native, metrics naming the
// backend that really ran, the circuit breaker (BIGPROC_GPU_FAULT: device open failure, faults mid-run)
// still giving native's exact bytes with metrics.backends counting both, and the one-line errors.
// Runs for real on llvmpipe; BIGPROC_TEST_NO_WEBGPU=1 is the only way to skip it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json, tempDir } from './helpers.js';

const optOut = process.env.BIGPROC_TEST_NO_WEBGPU === '1';
let dir: string;
let cleanup: () => void;
let file: string;
const FRAME = [13, 7, 3] as const;
const SIZE = FRAME[0] * FRAME[1] * FRAME[2];
const N = 60;
const CHAIN = 'grey|blur:1|sobel';
let runs = 0;

beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  file = join(dir, 'frames.bin');
  const b = Buffer.alloc(N * SIZE);
  let x = 7;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  writeFileSync(file, b);
});
afterAll(() => cleanup());

/** A run of CHAIN in chunks of 10 frames (6 chunks); its result, metrics, stderr and output bytes. */
function run(backend: string, env: NodeJS.ProcessEnv = {}, extra: string[] = []) {
  const out = join(dir, `out-${++runs}.bin`);
  const r = cli(
    [
      'run',
      '--file',
      file,
      '--frame',
      FRAME.join('x'),
      '--op',
      CHAIN,
      '--backend',
      backend,
      '--chunk-size',
      String(10 * SIZE),
      '--workers',
      '1',
      '--json',
      '--out',
      out,
      ...extra,
    ],
    { env: { XDG_CACHE_HOME: join(dir, 'cache'), ...env } },
  );
  const doc = json(r);
  return { doc, stderr: r.stderr, bytes: readFileSync(out) };
}

describe.skipIf(optOut)('--backend webgpu', () => {
  let native: ReturnType<typeof run>;
  beforeAll(() => {
    native = run('native');
  });

  it('writes the very frames native does and names the adapter', () => {
    const gpu = run('webgpu');
    expect(gpu.stderr).toBe('');
    expect(gpu.bytes.equals(native.bytes)).toBe(true);
    expect(gpu.doc.result).toEqual(native.doc.result);
    expect(gpu.doc.metrics.backend).toBe('webgpu');
    expect(gpu.doc.metrics.backend_detail).toMatch(/\w/);
    expect(gpu.doc.metrics.backends).toBeUndefined();
    expect(native.doc.metrics.backend).toBe('native');
    expect(native.doc.metrics.backend_detail).toBe(native.doc.metrics.dispatch);
  });

  it('--every 7 (chunks of 10 frames, so the kept frames fall at different places in each): the frames native keeps', () => {
    const cpu = run('native', {}, ['--every', '7']);
    const gpu = run('webgpu', {}, ['--every', '7']);
    expect(gpu.stderr).toBe('');
    expect(cpu.bytes.length).toBe(Math.ceil(N / 7) * FRAME[0] * FRAME[1]);
    expect(gpu.bytes.equals(cpu.bytes)).toBe(true);
    expect(gpu.doc.result).toEqual(cpu.doc.result);
    expect(gpu.doc.metrics.backend).toBe('webgpu');
  });

  it('a device that fails to open: one warning, every chunk on native, exact', () => {
    const r = run('webgpu', { BIGPROC_GPU_FAULT: 'open' });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^warning: --backend webgpu .*failed to open.*remaining chunks run on the native backend\n$/,
    );
    expect(r.bytes.equals(native.bytes)).toBe(true);
    expect(r.doc.metrics.backend).toBe('native');
    expect(r.doc.metrics.backends).toEqual({ webgpu: { chunks: 0, bytes: 0 }, native: { chunks: 6, bytes: N * SIZE } });
  });

  it('one failed chunk goes to native alone, silently; the others stay on the GPU', () => {
    const r = run('webgpu', { BIGPROC_GPU_FAULT: 'chunk:2' });
    expect(r.stderr).toBe('');
    expect(r.bytes.equals(native.bytes)).toBe(true);
    expect(r.doc.metrics.backend).toBe('webgpu');
    expect(r.doc.metrics.backends).toEqual({
      webgpu: { chunks: 5, bytes: 50 * SIZE },
      native: { chunks: 1, bytes: 10 * SIZE },
    });
  });

  it('three failures in a row trip the breaker: one warning, the rest on native, exact', () => {
    const r = run('webgpu', { BIGPROC_GPU_FAULT: 'chunk:1,chunk:2,chunk:3' });
    expect(r.stderr).toMatch(/^warning: --backend webgpu .*3 chunks failed in a row.*native backend\n$/);
    expect(r.bytes.equals(native.bytes)).toBe(true);
    expect(r.doc.metrics.backends).toEqual({
      webgpu: { chunks: 1, bytes: 10 * SIZE },
      native: { chunks: 5, bytes: 50 * SIZE },
    });
  });

  it('a device lost mid-run (destroyed for real) trips the breaker at once', () => {
    const r = run('webgpu', { BIGPROC_GPU_FAULT: 'lost:4' });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^warning: --backend webgpu/);
    expect(r.bytes.equals(native.bytes)).toBe(true);
    expect(r.doc.metrics.backends).toEqual({
      webgpu: { chunks: 4, bytes: 40 * SIZE },
      native: { chunks: 2, bytes: 20 * SIZE },
    });
  });

  it('no adapter: exit 1, one line saying what is missing', () => {
    const r = cli(['run', '--file', file, '--frame', FRAME.join('x'), '--op', CHAIN, '--backend', 'webgpu'], {
      env: { BIGPROC_GPU_FAULT: 'unavailable' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^bigproc: --backend webgpu: no adapter.*\n$/);
  });

  it('an op without a WebGPU kernel: exit 2 naming the ops that have one', () => {
    const r = cli(['run', '--file', file, '--record-size', '4', '--op', 'checksum', '--backend', 'webgpu']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^bigproc: --backend webgpu: --op checksum has no WebGPU kernel; WebGPU runs image map chains \(grey invert .*\), framestats, histogram, hist, minmax, count, filter\n$/,
    );
  });

  it('auto on a software renderer: noted once per machine, no calibration, native', () => {
    const cache = join(dir, 'auto-software');
    const first = run('auto', { XDG_CACHE_HOME: cache });
    expect(first.stderr).toBe('');
    expect(first.bytes.equals(native.bytes)).toBe(true);
    const verdicts = JSON.parse(readFileSync(join(cache, 'bigproc', 'gpu-calibration.json'), 'utf8'));
    if (!/llvmpipe|lavapipe|softpipe|swiftshader/i.test(verdicts['webgpu:software-renderer']?.detail ?? '')) return;
    expect(Object.keys(verdicts)).toEqual(['webgpu:software-renderer']);
    expect(first.doc.metrics.backend).toBe('native');
    expect(run('auto', { XDG_CACHE_HOME: cache }).doc.metrics.backend).toBe('native');
  });

  it('auto calibrates once, caches the verdict per machine, and picks native on a software renderer', () => {
    const cache = join(dir, 'auto-cache');
    const calibrate = { XDG_CACHE_HOME: cache, BIGPROC_GPU_CALIBRATE_SOFTWARE: '1' };
    const first = run('auto', calibrate);
    expect(first.stderr).toBe('');
    expect(first.bytes.equals(native.bytes)).toBe(true);
    const verdicts = JSON.parse(readFileSync(join(cache, 'bigproc', 'gpu-calibration.json'), 'utf8'));
    const [key, v] = Object.entries(verdicts)[0] as [string, { winner: string; gpu_mbps: number; detail: string }];
    expect(key).toMatch(/^webgpu:image:273:/);
    expect(v.gpu_mbps).toBeGreaterThan(0);
    if (/llvmpipe/.test(v.detail)) expect(first.doc.metrics.backend).toBe('native');
    expect(first.doc.metrics.backend).toBe(v.winner);
    const again = run('auto', calibrate);
    expect(again.doc.metrics.backend).toBe(v.winner);
  });
});
