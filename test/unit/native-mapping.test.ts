// Native addon: loading, cpuInfo, Mapping (open/size/mtime/stat/view/close), argument validation,
// progress and cancel through the ctl SharedArrayBuffer.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addonLoadError, loadAddon } from '../../src/native/addon.js';
import { Control } from '../../src/engine/control.js';
import { loadKernels } from './kernels.js';

const addon = loadKernels();
// Created on first use (a skipped file leaves nothing behind), removed after the file's tests.
let tempDir: string | undefined;
const dir = (): string => (tempDir ??= mkdtempSync(join(tmpdir(), 'bigproc-native-')));
afterAll(() => {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir(), name);
  writeFileSync(p, bytes);
  return p;
}

/** n records of 8 bytes: an i32 (i) and a u32 (i * 3). */
function records8(n: number): Buffer {
  const b = Buffer.alloc(n * 8);
  for (let i = 0; i < n; i++) {
    b.writeInt32LE(i - 1000, i * 8);
    b.writeUInt32LE(i * 3, i * 8 + 4);
  }
  return b;
}

it('loads the addon', () => {
  expect(addonLoadError()).toBeNull();
  expect(addon).not.toBeNull();
  expect(loadAddon()).toBe(addon); // cached
});

describe.runIf(addon)('native: cpuInfo and Mapping', () => {
  const a = addon!;

  it('reports arch, features and the dispatched clone', () => {
    const info = a.cpuInfo();
    expect(info.arch).toBe(process.arch);
    expect(Array.isArray(info.features)).toBe(true);
    expect(['avx512f', 'avx2', 'default', 'neon']).toContain(info.dispatch);
    if (info.dispatch === 'avx2') expect(info.features).toContain('avx2');
    if (info.dispatch === 'avx512f') expect(info.features).toContain('avx512f');
  });

  it('maps a file: size, mtimeMs, stat(), view()', () => {
    const bytes = records8(100);
    const p = file('basic.bin', bytes);
    const m = new a.Mapping(p);
    expect(m.size).toBe(800);
    expect(m.mtimeMs).toBe(statSync(p).mtimeMs);
    expect(m.stat()).toEqual({ size: 800, mtimeMs: statSync(p).mtimeMs });
    const v = new Uint8Array(m.view(8, 16));
    expect(v.length).toBe(16);
    expect(Buffer.from(v).equals(bytes.subarray(8, 24))).toBe(true);
    // two views over the same bytes are fine
    expect(new Uint8Array(m.view(8, 16))[0]).toBe(v[0]);
    expect(m.view(800, 0).byteLength).toBe(0);
    expect(() => m.view(790, 11)).toThrow(TypeError);
    appendFileSync(p, Buffer.alloc(8));
    expect(m.stat().size).toBe(808); // fresh fstat
    expect(m.size).toBe(800); // from the open
    m.close();
    m.close(); // idempotent
    expect(() => m.stat()).toThrow(/closed/);
    expect(() => a.stats(m, 0, 1, 8, [{ offset: 0, type: 'i32' }])).toThrow(/closed/);
  });

  it('fails to map with the errno code', () => {
    expect(() => new a.Mapping(join(dir(), 'missing.bin'))).toThrow(
      expect.objectContaining({ code: 'ENOENT', message: expect.stringMatching(/^cannot map .*missing\.bin: /) }),
    );
    const d = join(dir(), 'a-directory');
    mkdirSync(d);
    expect(() => new a.Mapping(d)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
  });

  it('handles an empty file with 0 records', () => {
    const m = new a.Mapping(file('empty.bin', new Uint8Array(0)));
    expect(m.size).toBe(0);
    expect(m.view(0, 0).byteLength).toBe(0);
    const s = a.stats(m, 0, 0, 8, [
      { offset: 0, type: 'i32' },
      { offset: 0, type: 'f64' },
    ])!;
    expect(s[0]).toEqual({ count: 0, sum: 0n, sumsq: 0n, min: null, max: null });
    expect(s[1]).toEqual({ count: 0, nan: 0, posinf: 0, neginf: 0, sum: 0n, sumsq: 0n, min: null, max: null });
    expect(a.hist(m, 0, 0, 8, { offset: 0, type: 'f64' }, 0, 1, 3)).toEqual({
      counts: [0, 0, 0],
      below: 0,
      above: 0,
      nan: 0,
    });
    expect(a.filter(m, 0, 0, 8, [{ op: 'const', value: true }], true)).toEqual({ matched: 0, out: Buffer.alloc(0) });
    expect(() => a.stats(m, 0, 1, 8, [])).toThrow(TypeError);
    m.close();
  });

  it('validates arguments with TypeErrors', () => {
    const m = new a.Mapping(file('args.bin', records8(10)));
    const f = [{ offset: 0, type: 'i32' as const }];
    expect(() => a.stats(m, 0, -1, 8, f)).toThrow(
      new TypeError('Expected non-negative integer for records but received -1'),
    );
    expect(() => a.stats(m, 0, 1, 0, f)).toThrow(
      new TypeError('Expected positive integer for recordSize but received 0'),
    );
    expect(() => a.stats(m, 0.5, 1, 8, f)).toThrow(
      new TypeError('Expected non-negative integer for byteOffset but received 0.5'),
    );
    expect(() => a.stats({} as never, 0, 1, 8, f)).toThrow(
      new TypeError('Expected Mapping for mapping but received {}'),
    );
    expect(() => a.stats(m, 8, 10, 8, f)).toThrow(TypeError); // 8 + 80 > 80
    expect(() => a.stats(m, 81, 0, 8, f)).toThrow(TypeError);
    expect(a.stats(m, 80, 0, 8, f)).not.toBeNull();
    expect(() => a.stats(m, 0, 1, 8, [{ offset: 0, type: 'i33' as never }])).toThrow(
      new TypeError(
        'Expected one of i8, u8, i16, u16, i32, u32, i64, u64, f32, f64 for fields[0].type but received "i33"',
      ),
    );
    expect(() => a.stats(m, 0, 1, 8, [{ offset: 5, type: 'i32' }])).toThrow(/fields\[0\]\.offset/);
    expect(() => a.hist(m, 0, 1, 8, f[0]!, 1, 1, 4)).toThrow(TypeError);
    expect(() => a.hist(m, 0, 1, 8, f[0]!, 0, 1, 0)).toThrow(/positive integer for bins/);
    expect(() => a.stats(m, 0, 1, 8, f, new SharedArrayBuffer(8))).toThrow(/ctl/);
    m.close();
  });

  it('adds exactly records * recordSize to the progress counter', () => {
    const n = 300_000; // several 1 MiB progress blocks
    const m = new a.Mapping(file('progress.bin', records8(n)));
    const ctl = new Control();
    // the progress slot the kernels count into, as native/control.h lays it out
    const progress = new BigInt64Array(ctl.sab, 0, 1);
    const f = { offset: 0, type: 'i32' as const };
    a.stats(m, 0, n, 8, [f], ctl.sab);
    expect(Atomics.load(progress, 0)).toBe(BigInt(n * 8));
    a.hist(m, 8, n - 1, 8, f, 0, 10, 5, ctl.sab);
    expect(Atomics.load(progress, 0)).toBe(BigInt(n * 8 + (n - 1) * 8));
    a.filter(m, 0, 1234, 8, [{ op: 'const', value: true }], false, ctl.sab);
    expect(Atomics.load(progress, 0)).toBe(BigInt(n * 8 + (n - 1) * 8 + 1234 * 8));
    a.minmax(m, 0, 100, 8, [f], ctl.sab);
    expect(Atomics.load(progress, 0)).toBe(BigInt(n * 8 + (n - 1) * 8 + 1234 * 8 + 100 * 8));
    m.close();
  });

  it('returns null when the cancel flag is set', () => {
    const n = 1000;
    const m = new a.Mapping(file('cancel.bin', records8(n)));
    const ctl = new Control();
    // the two slots the kernels use, as native/control.h lays them out
    const progress = new BigInt64Array(ctl.sab, 0, 1),
      cancel = new Int32Array(ctl.sab, 8, 1);
    Atomics.store(cancel, 0, 1);
    const f = { offset: 0, type: 'i32' as const };
    expect(a.stats(m, 0, n, 8, [f], ctl.sab)).toBeNull();
    expect(a.hist(m, 0, n, 8, f, 0, 1, 2, ctl.sab)).toBeNull();
    expect(a.filter(m, 0, n, 8, [{ op: 'const', value: true }], true, ctl.sab)).toBeNull();
    expect(a.minmax(m, 0, n, 8, [f], ctl.sab)).toBeNull();
    expect(Atomics.load(progress, 0)).toBe(0n);
    Atomics.store(cancel, 0, 0);
    expect(a.stats(m, 0, n, 8, [f], ctl.sab)).not.toBeNull();
    m.close();
  });
});
