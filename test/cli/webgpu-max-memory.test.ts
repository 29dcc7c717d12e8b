// --max-memory on --backend webgpu through the real binary: the host's chunks and the device's buffers
// (storage, staging, tables of both buffer sets in flight) share the bound — metrics.memory's peak_bytes
// plus device_peak_bytes stay within max_bytes, batches shrink to fit, and the output is native's, byte
// for byte; a bound that cannot hold one record on the host plus the device's smallest batch exits 2 in
// one line saying how many bytes it needs. Runs for real on llvmpipe; BIGPROC_TEST_NO_WEBGPU=1 skips it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json, tempDir } from './helpers.js';

const optOut = process.env.BIGPROC_TEST_NO_WEBGPU === '1';
const FRAME = '13x7x3';
const SIZE = 13 * 7 * 3;
const N = 60;
let dir: string;
let cleanup: () => void;
let frames: string;
let numbers: string;
let runs = 0;

function random(seed: number) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x / 2 ** 32;
  };
}

beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  const next = random(7);
  frames = join(dir, 'frames.bin');
  writeFileSync(frames, Buffer.from(Array.from({ length: N * SIZE }, () => Math.floor(next() * 256))));
  numbers = join(dir, 'numbers.bin');
  const b = Buffer.alloc(5000 * 8);
  for (let i = 0; i < 5000; i++) b.writeDoubleLE(next() * 120 - 10, i * 8);
  writeFileSync(numbers, b);
});
afterAll(() => cleanup());

/** One run: its exit status, stderr, --json document (when it succeeded) and --out bytes (when asked). */
function run(args: string[], backend: string, max?: number, out = false) {
  const o = join(dir, `out-${++runs}.bin`);
  const r = cli([
    'run',
    ...args,
    '--backend',
    backend,
    '--workers',
    '1',
    '--json',
    ...(out ? ['--out', o] : []),
    ...(max === undefined ? [] : ['--max-memory', String(max)]),
  ]);
  return { r, doc: r.status === 0 ? json(r) : null, bytes: out && r.status === 0 ? readFileSync(o) : null };
}

/** The bound held: host peak + device peak within max_bytes, the device really used and counted. */
function expectWithin(doc: any, max: number) {
  const m = doc.metrics.memory;
  expect(doc.metrics.backend).toBe('webgpu');
  expect(m.max_bytes).toBe(max);
  expect(m.bound_bytes).toBeLessThanOrEqual(max);
  expect(m.device_peak_bytes).toBeGreaterThan(0);
  expect(m.device_peak_bytes).toBeLessThanOrEqual(m.device_bound_bytes);
  expect(m.peak_bytes).toBeGreaterThan(0);
  expect(m.peak_bytes + m.device_peak_bytes).toBeLessThanOrEqual(max);
}

describe.skipIf(optOut)('--max-memory with --backend webgpu', () => {
  let chain: string[];
  beforeAll(() => {
    chain = ['--file', frames, '--frame', FRAME, '--op', 'grey|blur:1|sobel'];
  });

  it('an image chain: native frames, host and device within the bound, smaller batches as it shrinks', () => {
    const native = run(chain, 'native', undefined, true);
    const peaks: number[] = [];
    for (const max of [20_000, 8000, 3000]) {
      const gpu = run(chain, 'webgpu', max, true);
      expect(gpu.r.stderr).toBe('');
      expect(gpu.bytes!.equals(native.bytes!)).toBe(true);
      expect(gpu.doc.result).toEqual(native.doc.result);
      expectWithin(gpu.doc, max);
      peaks.push(gpu.doc.metrics.memory.device_peak_bytes);
    }
    // the device's buffers shrink with the bound (batches of fewer frames), not only the host's chunks
    expect(peaks[0]).toBeGreaterThan(peaks[1]!);
    expect(peaks[1]).toBeGreaterThan(peaks[2]!);
    // without --max-memory: today's sizes, no memory metrics
    const plain = run(chain, 'webgpu', undefined, true);
    expect(plain.bytes!.equals(native.bytes!)).toBe(true);
    expect(plain.doc.metrics.memory).toBeUndefined();
  });

  it('a reduce chain with map steps (both runners share the device part): native values', () => {
    const args = ['--file', frames, '--frame', FRAME, '--op', 'grey|blur:1|framestats'];
    const native = run(args, 'native');
    const gpu = run(args, 'webgpu', 6000);
    expect(gpu.r.stderr).toBe('');
    expect(gpu.doc.result).toEqual(native.doc.result);
    expectWithin(gpu.doc, 6000);
  });

  it('a per-frame histogram (1 KiB of counts per frame on the device, more than the frame): batches of fewer frames than a chunk', () => {
    const args = ['--file', frames, '--frame', FRAME, '--op', 'histogram', '--per-frame'];
    const native = run(args, 'native');
    const gpu = run(args, 'webgpu', 40_000);
    expect(gpu.r.stderr).toBe('');
    expect(gpu.doc.result).toEqual(native.doc.result);
    expectWithin(gpu.doc, 40_000);
  });

  it('hist: the native bins, host and device within the bound', () => {
    const args = [
      '--file',
      numbers,
      '--schema',
      'x:f64',
      '--op',
      'hist',
      '--field',
      'x',
      '--range',
      '0:100',
      '--bins',
      '16',
    ];
    const native = run(args, 'native');
    for (const max of [64 * 1024, 4096]) {
      const gpu = run(args, 'webgpu', max);
      expect(gpu.r.stderr).toBe('');
      expect(gpu.doc.result).toEqual(native.doc.result);
      expectWithin(gpu.doc, max);
    }
  });

  it('a bound below one record on the host plus the smallest batch on the device: exit 2, one line with the bytes needed', () => {
    const { r } = run(chain, 'webgpu', 1000, true);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^bigproc: --max-memory 1000 bytes is too small: one record in flight needs \d+ bytes on the host and \d+ in the webgpu device's buffers .*give at least (\d+)$/,
    );
    const least = Number(/give at least (\d+)/.exec(lines[0]!)![1]);
    expect(least).toBeGreaterThan(1000);
    // that many is enough
    const ok = run(chain, 'webgpu', least, true);
    expect(ok.r.stderr).toBe('');
    expectWithin(ok.doc, least);
  });
});
