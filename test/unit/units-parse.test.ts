// parseSize / parseDuration / parsePositiveInt / parseNonNegativeInt / formatBytes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatBytes,
  parseDuration,
  parseNonNegativeInt,
  parsePositiveInt,
  parseSize,
} from '../../src/config/units.js';
import { BigprocError } from '../../src/errors.js';

/** Run fn, expect a usage BigprocError (exit 2), return it for further checks. */
function usageError(fn: () => unknown): BigprocError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(BigprocError);
  const err = caught as BigprocError;
  expect(err.exitCode).toBe(2);
  return err;
}

describe('parseSize', () => {
  it.each([
    ['0', 0],
    ['4096', 4096],
    ['4096B', 4096],
    ['4096b', 4096],
    ['1KiB', 1024],
    ['1K', 1024],
    ['1k', 1024],
    ['1KB', 1000],
    ['1kb', 1000],
    ['64MiB', 64 * 1024 * 1024],
    ['64M', 64 * 1024 * 1024],
    ['64mib', 64 * 1024 * 1024],
    ['64MB', 64_000_000],
    ['64mB', 64_000_000],
    ['1GiB', 1024 ** 3],
    ['1G', 1024 ** 3],
    ['1GB', 1e9],
    ['1.5GB', 1.5e9],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['0.5KiB', 512],
    ['2TiB', 2 * 1024 ** 4],
    ['2T', 2 * 1024 ** 4],
    ['2TB', 2e12],
    ['  16 MiB  ', 16 * 1024 * 1024],
    ['7 GB', 7e9],
  ])('parses %j as %d bytes', (text, bytes) => {
    expect(parseSize(text, '--chunk-size')).toBe(bytes);
  });

  it('binary and decimal units differ by the expected factor', () => {
    for (const [bin, dec, p] of [
      ['KiB', 'KB', 1],
      ['MiB', 'MB', 2],
      ['GiB', 'GB', 3],
      ['TiB', 'TB', 4],
    ] as const) {
      expect(parseSize(`3${bin}`, 'x') / parseSize(`3${dec}`, 'x')).toBeCloseTo((1024 / 1000) ** p, 12);
    }
  });

  it('accepts safe non-negative integer numbers as they are', () => {
    expect(parseSize(0, '--x')).toBe(0);
    expect(parseSize(123456789, '--x')).toBe(123456789);
    expect(parseSize(Number.MAX_SAFE_INTEGER, '--x')).toBe(Number.MAX_SAFE_INTEGER);
  });

  // Issue 12 (#15): a fractional byte count was rounded silently; it is refused now.
  it('refuses sizes that are not a whole number of bytes, and computes exact ones exactly', () => {
    // 1.0001 KB = 1000.1 bytes
    expect(usageError(() => parseSize('1.0001KB', '--x')).message).toMatch(/whole number of bytes.*"1\.0001KB"/);
    expect(usageError(() => parseSize('1.5', '--chunk-size')).message).toContain('--chunk-size');
    expect(usageError(() => parseSize('1.3KiB', '--x')).exitCode).toBe(2);
    expect(parseSize('1.1KB', '--x')).toBe(1100);
    expect(parseSize('0.001MB', '--x')).toBe(1000);
    expect(parseSize('1.5KiB', '--x')).toBe(1536);
  });

  it('property: N<unit> is N times the unit', () => {
    const units: Record<string, number> = {
      B: 1,
      KiB: 1024,
      MiB: 1024 ** 2,
      GiB: 1024 ** 3,
      KB: 1e3,
      MB: 1e6,
      GB: 1e9,
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(...Object.keys(units)), (n, u) => {
        expect(parseSize(`${n}${u}`, '--x')).toBe(n * units[u]!);
        expect(parseSize(`${n} ${u.toLowerCase()}`, '--x')).toBe(n * units[u]!);
      }),
    );
  });

  it.each([
    [''],
    ['   '],
    ['abc'],
    ['MiB'],
    ['-1'],
    ['-1MiB'],
    ['1.5.5MB'],
    ['1e3'],
    ['10 PiB'],
    ['12 bytes'],
    ['1,024'],
    ['.5MB'],
    ['5.MB'],
    ['1 Mi B'],
  ])('rejects %j naming the parameter and the value', (text) => {
    const err = usageError(() => parseSize(text, '--chunk-size'));
    expect(err.message).toContain('--chunk-size');
    expect(err.message).toContain(JSON.stringify(text));
    expect(err.message).toMatch(/^Expected /);
  });

  it('rejects sizes that are not safe integers (8 PiB and up)', () => {
    const err = usageError(() => parseSize('8192TiB', '--shard-size'));
    expect(err.message).toContain('--shard-size');
    expect(err.message).toContain('"8192TiB"');
    expect(parseSize('8191TiB', '--shard-size')).toBe(8191 * 1024 ** 4);
    usageError(() => parseSize('99999999999999999999', '--x'));
  });

  it.each([[-1], [1.5], [NaN], [Infinity], [2 ** 53]])('rejects the number %d', (n) => {
    const err = usageError(() => parseSize(n, '--chunk-size'));
    expect(err.message).toContain('--chunk-size');
  });
});

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['250ms', 250],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['2', 2000],
    ['0', 0],
    ['1.5s', 1500],
    ['0.5m', 30_000],
    ['1.25h', 4_500_000],
    [' 20 s ', 20_000],
    ['0.4ms', 0],
    ['2.6ms', 3],
  ])('parses %j as %d ms', (text, ms) => {
    expect(parseDuration(text, '--lease')).toBe(ms);
  });

  it.each([[''], ['s'], ['-1s'], ['10sec'], ['10d'], ['1e3'], ['abc'], ['1h30m'], ['10 S']])(
    'rejects %j naming the parameter and the value',
    (text) => {
      const err = usageError(() => parseDuration(text, '--grace'));
      expect(err.message).toContain('--grace');
      expect(err.message).toContain(JSON.stringify(text));
    },
  );

  it('property: integer seconds and milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (n) => {
        expect(parseDuration(`${n}ms`, '--x')).toBe(n);
        expect(parseDuration(`${n}s`, '--x')).toBe(n * 1000);
        expect(parseDuration(`${n}`, '--x')).toBe(n * 1000);
      }),
    );
  });
});

describe('parsePositiveInt', () => {
  it.each([
    ['1', 1],
    [' 42 ', 42],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    [7, 7],
  ] as const)('parses %j', (text, n) => {
    expect(parsePositiveInt(text, '--workers')).toBe(n);
  });

  it.each([['0'], [0], ['-1'], [-3], ['1.5'], [2.5], ['abc'], [''], ['1e3'], ['0x10'], ['9007199254740992'], [NaN]])(
    'rejects %j with "a positive integer" and the parameter name',
    (text) => {
      const err = usageError(() => parsePositiveInt(text as string | number, '--workers'));
      expect(err.message).toContain('--workers');
      expect(err.message).toContain('a positive integer');
    },
  );

  it('respects max and says the allowed range', () => {
    expect(parsePositiveInt('10', '--bins', 10)).toBe(10);
    const err = usageError(() => parsePositiveInt('11', '--bins', 10));
    expect(err.message).toContain('--bins');
    expect(err.message).toContain('from 1 to 10');
    expect(err.message).toContain('"11"');
    const err2 = usageError(() => parsePositiveInt(11, '--bins', 10));
    expect(err2.message).toContain('11');
  });
});

describe('parseNonNegativeInt', () => {
  it('accepts 0 and positive integers, rejects the rest', () => {
    expect(parseNonNegativeInt('0', '--header-bytes')).toBe(0);
    expect(parseNonNegativeInt(' 128 ', '--header-bytes')).toBe(128);
    expect(parseNonNegativeInt(5, '--header-bytes')).toBe(5);
    for (const bad of ['-1', '1.5', 'x', '', -1, 0.5]) {
      const err = usageError(() => parseNonNegativeInt(bad, '--header-bytes'));
      expect(err.message).toContain('--header-bytes');
    }
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.00 KiB'],
    [1536, '1.50 KiB'],
    [10 * 1024, '10.0 KiB'],
    [100 * 1024, '100 KiB'],
    [64 * 1024 ** 2, '64.0 MiB'],
    [5 * 1024 ** 3, '5.00 GiB'],
    [3 * 1024 ** 5, '3072 TiB'],
  ])('%d → %s', (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });
});
