// The sample kernel directly: the sample is spread over the whole file, keys ascend and match the JS
// key function, n ≥ records keeps everything, seeds differ, cancel and bad arguments; the limit on n
// lives in the op (policy), not in the kernel.
import { describe, expect, it } from 'vitest';
import { loadKernels } from './kernels.js';
import { sample, sampleKey } from '../../src/ops/sample.js';
import type { Layout } from '../../src/layout/types.js';
import { Control } from '../../src/engine/control.js';

const addon = loadKernels();

describe.skipIf(!addon)('native sample kernel', () => {
  const RS = 8;
  const N = 100_000;
  const data = new Uint8Array(N * RS);
  new BigUint64Array(data.buffer).forEach((_, i, a) => {
    a[i] = BigInt(i);
  });

  it('N=1000 of 100k: spread over the file, every tenth represented about equally', () => {
    for (const seed of [0n, 1n, 42n, 2n ** 64n - 1n]) {
      const r = addon!.sample(data, 0, N, RS, 1000, seed, 0, null)!;
      expect(r.indices.length).toBe(1000);
      const idx = Array.from(r.indices);
      expect(new Set(idx).size).toBe(1000);
      const tenths = new Array(10).fill(0);
      for (const i of idx) tenths[Math.floor(i / (N / 10))]++;
      // expected 100 each (sd ≈ 9.5): a generous band, no chi-square needed
      for (const t of tenths) {
        expect(t).toBeGreaterThan(60);
        expect(t).toBeLessThan(140);
      }
      expect(idx.filter((i) => i < N / 2).length).toBeGreaterThan(400);
      expect(idx.filter((i) => i >= N / 2).length).toBeGreaterThan(400);
      // keys ascend, equal the JS key function, and the bytes are the records'
      for (let j = 0; j < 1000; j++) {
        expect(r.keys[j]).toBe(sampleKey(seed, idx[j]!));
        if (j > 0) expect(r.keys[j]! > r.keys[j - 1]!).toBe(true);
        expect(new DataView(r.bytes.buffer, r.bytes.byteOffset + j * RS, RS).getBigUint64(0, true)).toBe(
          BigInt(idx[j]!),
        );
      }
    }
  });

  it('firstRecord shifts the keys: a chunk keeps what the whole file would keep from it', () => {
    const whole = addon!.sample(data, 0, N, RS, 500, 9n, 0, null)!;
    const from = 60_000;
    const part = addon!.sample(data, from * RS, N - from, RS, 500, 9n, from, null)!;
    const wholeInPart = Array.from(whole.indices).filter((i) => i >= from);
    expect(
      Array.from(part.indices)
        .slice(0, wholeInPart.length)
        .sort((a, b) => a - b),
    ).toEqual(wholeInPart.sort((a, b) => a - b));
  });

  it('n ≥ records keeps every record; seeds give different samples', () => {
    const all = addon!.sample(data, 0, 300, RS, 1000, 5n, 0, null)!;
    expect(Array.from(all.indices).sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const a = Array.from(addon!.sample(data, 0, N, RS, 50, 1n, 0, null)!.indices);
    const b = Array.from(addon!.sample(data, 0, N, RS, 50, 2n, 0, null)!.indices);
    expect(a).not.toEqual(b);
    expect(addon!.sample(data, 0, 0, RS, 10, 1n, 0, null)!.indices.length).toBe(0);
  });

  it('cancel returns null; bad n is a TypeError', () => {
    const ctl = new Control();
    // the cancel slot the kernels poll, as native/control.h lays it out
    const cancel = new Int32Array(ctl.sab, 8, 1);
    Atomics.store(cancel, 0, 1);
    expect(addon!.sample(data, 0, N, RS, 10, 1n, 0, ctl.sab)).toBeNull();
    expect(() => addon!.sample(data, 0, N, RS, 0, 1n, 0, null)).toThrow(TypeError);
  });

  it('the 1000000 limit on n is policy, kept by the op; the kernel bounds its memory by the records', () => {
    const layout = { fields: [], bigEndian: false } as unknown as Layout;
    expect(() => sample.prepare({ sampleSize: 1_000_001 }, layout, () => Promise.resolve(null))).toThrow(
      'Expected an integer from 1 to 1000000 for --sample-size but received 1000001',
    );
    const all = addon!.sample(data, 0, 300, RS, 1_000_001, 5n, 0, null)!;
    expect(Array.from(all.indices).sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});
