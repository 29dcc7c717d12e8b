// --backend webgpu for the numeric ops and the image reduces through the real binary: hist (with
// --range, and without it: its minmax range pre-pass runs on the GPU too), minmax, count and filter --where (filter's --out
// records byte for byte), framestats and histogram — results identical to --backend native, metrics
// naming webgpu and its adapter; ops without a kernel refused in one line naming those with one.
// Runs for real on llvmpipe; BIGPROC_TEST_NO_WEBGPU=1 is the only way to skip it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json, tempDir } from './helpers.js';

const optOut = process.env.BIGPROC_TEST_NO_WEBGPU === '1';
const SCHEMA = 'x:f64,q:i32,y:f32,s:i8,big:i64';
const SIZE = 25;
const N = 20_000;
let dir: string;
let cleanup: () => void;
let file: string;
let frames: string;

beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  file = join(dir, 'data.bin');
  const b = Buffer.alloc(N * SIZE);
  let r = 12345;
  const next = () => {
    r = (r * 1103515245 + 12345) >>> 0;
    return r / 2 ** 32;
  };
  const specials = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 25, 50, 75];
  for (let i = 0; i < N; i++) {
    const at = i * SIZE;
    b.writeDoubleLE(i % 50 < specials.length ? specials[i % 50]! : next() * 120 - 10, at);
    b.writeInt32LE(Math.floor(next() * 200) - 100, at + 8);
    b.writeFloatLE(i % 37 === 0 ? -0 : i % 41 === 0 ? Number.NaN : next() * 4 - 2, at + 12);
    b.writeInt8(Math.floor(next() * 256) - 128, at + 16);
    b.writeBigInt64LE(BigInt(Math.floor(next() * 2 ** 20)) * 2n ** 40n + BigInt(i), at + 17);
  }
  writeFileSync(file, b);
  frames = join(dir, 'frames.bin');
  const f = Buffer.alloc(12 * 13 * 7 * 3);
  for (let i = 0; i < f.length; i++) f[i] = Math.floor(next() * 256);
  writeFileSync(frames, f);
});
afterAll(() => cleanup());

/** One run per backend; the results, and the webgpu run's metrics. */
function both(args: string[], out = false) {
  const runs = ['native', 'webgpu'].map((backend) => {
    const o = join(dir, `out-${backend}.bin`);
    const r = cli(
      ['run', ...args, '--backend', backend, '--chunk-size', '64KiB', '--json', ...(out ? ['--out', o] : [])],
      {
        env: { XDG_CACHE_HOME: join(dir, 'cache') },
      },
    );
    expect(r.stderr, backend).toBe('');
    return { doc: json(r), bytes: out ? readFileSync(o) : null };
  });
  return { native: runs[0]!, webgpu: runs[1]! };
}

describe.skipIf(optOut)('--backend webgpu numeric ops and image reduces', { timeout: 60_000 }, () => {
  const data = () => ['--file', file, '--schema', SCHEMA];
  const cases: [string, string[]][] = [
    ['hist f64 with --range', ['--op', 'hist', '--field', 'x', '--range', '0:100', '--bins', '8']],
    ['hist f32, range from the pre-pass', ['--op', 'hist', '--field', 'y', '--bins', '7']],
    ['hist i64 past 2^53', ['--op', 'hist', '--field', 'big', '--bins', '9']],
    ['hist i8', ['--op', 'hist', '--field', 's', '--range', '-100.5:100', '--bins', '10']],
    ['minmax, every field (NaN, ±0, ±Inf, i64 past 2^53)', ['--op', 'minmax']],
    ['minmax --fields y,s', ['--op', 'minmax', '--fields', 'y,s']],
    ['count --where', ['--op', 'count', '--where', '(x < 50 && q != 3) || y == 0 || !(s >= -2.5)']],
  ];
  for (const [name, args] of cases) {
    it(`${name}: identical to native, metrics name webgpu`, () => {
      const r = both([...data(), ...args]);
      expect(r.webgpu.doc.result).toEqual(r.native.doc.result);
      expect(r.webgpu.doc.metrics.backend).toBe('webgpu');
      expect(r.webgpu.doc.metrics.backend_detail).toMatch(/\S/);
    });
  }

  it('hist without --range: the minmax pre-pass runs on the GPU too (a device lost in each pass warns twice)', () => {
    const run = (extra: string[]) =>
      cli(['run', ...data(), '--op', 'hist', '--field', 'q', '--bins', '5', '--backend', 'webgpu', ...extra], {
        env: { XDG_CACHE_HOME: join(dir, 'cache'), BIGPROC_GPU_FAULT: 'lost:1' },
      });
    const native = json(cli(['run', ...data(), '--op', 'hist', '--field', 'q', '--bins', '5', '--json'])).result;
    const warned = (r: { stderr: string }) => r.stderr.split('\n').filter((l) => l.startsWith('warning:')).length;
    const auto = run(['--chunk-size', '64KiB', '--json']);
    expect(json(auto).result).toEqual(native);
    expect(warned(auto)).toBe(2); // the pre-pass's device, then the main pass's
    const ranged = run(['--chunk-size', '64KiB', '--json', '--range', `${native.range[0]}:${native.range[1]}`]);
    expect(json(ranged).result).toEqual(native);
    expect(warned(ranged)).toBe(1);
  });

  it('hist without --range over ±Inf: refused as on native, naming the range', () => {
    const r = cli(['run', ...data(), '--op', 'hist', '--field', 'x', '--backend', 'webgpu'], {
      env: { XDG_CACHE_HOME: join(dir, 'cache') },
    });
    const n = cli(['run', ...data(), '--op', 'hist', '--field', 'x', '--backend', 'native']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(n.stderr);
    expect(r.stderr).toMatch(/\[-Infinity, Infinity\] is not finite/);
  });

  it('filter --where --out: the same records, byte for byte, in file order', () => {
    const r = both([...data(), '--op', 'filter', '--where', 'x != nan && x >= 25 || big > 9007199254740993'], true);
    expect(r.webgpu.doc.result).toEqual(r.native.doc.result);
    expect(r.webgpu.doc.result.matched).toBeGreaterThan(1000);
    expect(r.webgpu.bytes!.equals(r.native.bytes!)).toBe(true);
    expect(r.webgpu.doc.metrics.backend).toBe('webgpu');
  });

  for (const op of ['framestats', 'grey|histogram', 'invert|framestats']) {
    for (const perFrame of op.endsWith('histogram') ? [[], ['--per-frame']] : [[]]) {
      it(`${op} ${perFrame.join(' ')}: identical to native`, () => {
        const r = both(['--file', frames, '--frame', '13x7x3', '--op', op, ...perFrame]);
        expect(r.webgpu.doc.result).toEqual(r.native.doc.result);
        expect(r.webgpu.doc.metrics.backend).toBe('webgpu');
      });
    }
  }

  it('an op without a WebGPU kernel: exit 2, one line naming the ops that have one', () => {
    const r = cli(['run', ...data(), '--op', 'stats', '--backend', 'webgpu']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^bigproc: --backend webgpu: --op stats has no WebGPU kernel; WebGPU runs image map chains \(grey .*\), framestats, histogram, hist, minmax, count, filter\n$/,
    );
  });
});
