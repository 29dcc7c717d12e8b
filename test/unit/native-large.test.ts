// Native kernels on a file larger than 4 GiB: a sparse 5 GiB + 24 byte file whose last records are
// read at byteOffset > 2^32 (64-bit offsets and sizes everywhere).
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernels } from './kernels.js';
import type { FloatAcc as StatsFloatPartial, IntAcc as StatsIntPartial } from '../../src/ops/stats.js';

const addon = loadKernels();
// Created on first use (a skipped file leaves nothing behind), removed after the file's tests.
let tempDir: string | undefined;
const dir = (): string => (tempDir ??= mkdtempSync(join(tmpdir(), 'bigproc-native-large-')));
afterAll(() => {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

describe.runIf(addon)('native: files over 4 GiB', () => {
  it('reads the last records of a 5 GiB sparse file', () => {
    const a = addon!;
    const size = 5 * 2 ** 30 + 24;
    const p = join(dir(), 'sparse.bin');
    writeFileSync(p, '');
    truncateSync(p, size); // sparse: no blocks allocated
    // the last 3 records (24 bytes each: ts i64, price f64, qty i32, side u8, flags u8, venue u16)
    const rs = 24;
    const recs = Buffer.alloc(3 * rs);
    for (let i = 0; i < 3; i++) {
      recs.writeBigInt64LE(2n ** 62n + BigInt(i), i * rs);
      recs.writeDoubleLE(100.5 + i, i * rs + 8);
      recs.writeInt32LE(-i, i * rs + 16);
    }
    const fd = openSync(p, 'r+');
    writeSync(fd, recs, 0, recs.length, size - recs.length);
    closeSync(fd);

    const m = new a.Mapping(p);
    expect(m.size).toBe(size);
    const byteOffset = size - 3 * rs;
    expect(byteOffset).toBeGreaterThan(2 ** 32);
    const [ts, price, qty] = a.stats(m, byteOffset, 3, rs, [
      { offset: 0, type: 'i64' },
      { offset: 8, type: 'f64' },
      { offset: 16, type: 'i32' },
    ])! as [StatsIntPartial, StatsFloatPartial, StatsIntPartial];
    expect(ts.sum).toBe(3n * 2n ** 62n + 3n);
    expect(ts.max).toBe(2n ** 62n + 2n);
    expect(price.sum).toBe(609n << 1073n); // 100.5 + 101.5 + 102.5 = 304.5 = 609·2^-1
    expect(price.min).toBe(100.5);
    expect(price.max).toBe(102.5);
    expect(qty.sum).toBe(-3n);
    expect(a.hist(m, byteOffset, 3, rs, { offset: 8, type: 'f64' }, 100, 103, 3)!.counts).toEqual([1, 1, 1]);
    const r = a.filter(m, byteOffset, 3, rs, [{ op: 'cmp', offset: 8, type: 'f64', cmp: 'gt', value: 101 }], true)!;
    expect(r.matched).toBe(2);
    expect(r.out!.equals(recs.subarray(rs))).toBe(true);
    const v = new Uint8Array(m.view(byteOffset, rs));
    expect(Buffer.from(v).equals(recs.subarray(0, rs))).toBe(true);
    m.close();
  });
});
