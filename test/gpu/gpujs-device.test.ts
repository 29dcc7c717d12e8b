// The gpu.js device (--backend gpu) for real, on headless-gl under xvfb-run (vitest has no X display):
// every image map op against the JS oracle on odd frame sizes with C = 1/3/4 (integer ops and blur bit
// for bit, float convolve within a level), chains equal to their steps one by one, and hist equal to
// the JS op (NumPy's binning) on random data with NaN, ±0, ±Inf and values on bin edges. The kernels
// must be HeadlessGLKernels: gpu.js without a display would quietly run on the CPU instead.
// Never skipped: a machine without xvfb-run or gl fails here, unless BIGPROC_SKIP_GPUJS=1 says to skip.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'bigproc-gpujs-'));
const child = join(dir, 'child.cjs');

beforeAll(async () => {
  // bundled as the CLI is (gpu.js and gl left to require() from node_modules)
  await build({
    entryPoints: [join(root, 'test/gpu/gpujs-child.ts')],
    outfile: child,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['gpu.js', 'gl'],
    define: { 'import.meta.url': '__childUrl' },
    banner: { js: "const __childUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runChild(cases: string, env: Record<string, string | undefined> = {}) {
  const r = spawnSync('xvfb-run', ['-a', process.execPath, child, cases], {
    encoding: 'utf8',
    env: { ...process.env, NODE_PATH: join(root, 'node_modules'), ...env },
    timeout: 170_000,
  });
  if (r.error) throw new Error(`xvfb-run did not start (${r.error.message}): apt install xvfb xauth`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as { detail?: string; kernelClass?: string; failures?: string[]; error?: string };
  } catch {
    throw new Error(`child gave no result (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  }
}

describe.skipIf(process.env.BIGPROC_SKIP_GPUJS === '1')('gpu.js device on headless-gl', () => {
  it('runs every image map op and chain as HeadlessGLKernels, equal to the JS oracle', { timeout: 180_000 }, () => {
    const r = runChild('image');
    expect(r.error).toBeUndefined();
    expect(r.kernelClass).toBe('HeadlessGLKernel');
    expect(r.detail).toMatch(/^HeadlessGLKernel \(headlessgl, ANGLE \(.+\)\)$/);
    expect(r.failures).toEqual([]);
  });

  it('bins hist exactly as the JS op (NumPy) for every keyed type', { timeout: 60_000 }, () => {
    const r = runChild('hist');
    expect(r.error).toBeUndefined();
    expect(r.kernelClass).toBe('HeadlessGLKernel');
    expect(r.failures).toEqual([]);
  });

  it('finds minmax exactly as the JS op (NaN, ±0 apart, ±Inf, type ends, big-endian); refuses i64', {
    timeout: 60_000,
  }, () => {
    const r = runChild('minmax');
    expect(r.error).toBeUndefined();
    expect(r.kernelClass).toBe('HeadlessGLKernel');
    expect(r.failures).toEqual([]);
  });

  it('reduces frames (framestats, histogram summed and per frame) exactly as the JS op', { timeout: 120_000 }, () => {
    const r = runChild('reduce');
    expect(r.error).toBeUndefined();
    expect(r.kernelClass).toBe('HeadlessGLKernel');
    expect(r.failures).toEqual([]);
  });

  it('filters and counts --where exactly as the JS ops (NaN, ±0, ±Inf, type ends, big-endian)', {
    timeout: 60_000,
  }, () => {
    const r = runChild('where');
    expect(r.error).toBeUndefined();
    expect(r.kernelClass).toBe('HeadlessGLKernel');
    expect(r.failures).toEqual([]);
  });

  it('without an X display refuses with one line saying how to get one, instead of running on the CPU', () => {
    const r = spawnSync(process.execPath, [child, 'hist'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: join(root, 'node_modules'), DISPLAY: '' },
    });
    const out = JSON.parse(r.stdout.trim()) as { error?: string };
    expect(out.error).toMatch(/^GpuUnavailable: --backend gpu: no X display .*xvfb-run -a bigproc/);
  });
});
