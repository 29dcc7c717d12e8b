import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { BigprocError, EXIT } from '../../src/errors.js';
import { parseFrame } from '../../src/layout/frame.js';
import { writeNpy, writeNpyRaw } from '../../src/layout/npy.js';
import { layoutToJson, resolveLayout } from '../../src/layout/resolve.js';
import { parseSchema } from '../../src/layout/schema.js';

/** Run `fn`, expect a usage error, check its message contains every fragment, and return it. */
function usageError(fn: () => unknown, ...fragments: string[]): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a usage error').toBeInstanceOf(BigprocError);
  const err = caught as BigprocError;
  expect(err.exitCode).toBe(EXIT.usage);
  expect(err.message).not.toContain('\n');
  for (const f of fragments) expect(err.message).toContain(f);
  return err.message;
}

const BIN = 'data.bin';
const NPY = 'data.npy';
const raw = new Uint8Array(64); // not an .npy
const npyF8 = writeNpy('<f8', [4], new Uint8Array(32)); // data at byte 128
const npyBig = writeNpy('>i4', [2], new Uint8Array(8));
const npyHalf = writeNpy('<f2', [4], new Uint8Array(8));

describe('parseFrame', () => {
  test('WxHxC', () => {
    expect(parseFrame('640x480x3')).toEqual({
      recordSize: 640 * 480 * 3,
      bigEndian: false,
      fields: [{ name: 'pixels', type: 'bytes', offset: 0, size: 640 * 480 * 3 }],
      headerBytes: 0,
      source: 'frame',
      frame: { width: 640, height: 480, channels: 3 },
    });
    expect(parseFrame(' 2 X 3 x 1 ').frame).toEqual({ width: 2, height: 3, channels: 1 });
    expect(parseFrame('1x1x4').recordSize).toBe(4);
  });

  test('throws: malformed', () => {
    usageError(() => parseFrame('640x480'), '--frame', 'WxHxC', 'received "640x480"');
    usageError(() => parseFrame('axbxc'), '--frame', 'received "axbxc"');
    usageError(() => parseFrame('-1x2x3'), '--frame', 'received "-1x2x3"');
    usageError(() => parseFrame(''), '--frame', 'received ""');
  });

  test('throws: zero width or height', () => {
    usageError(() => parseFrame('0x480x3'), '--frame', 'at least 1', 'received "0x480x3"');
    usageError(() => parseFrame('640x0x3'), '--frame', 'received "640x0x3"');
  });

  test('throws: channels other than 1, 3, 4', () => {
    usageError(() => parseFrame('640x480x2'), '--frame', '1, 3 or 4', 'received "640x480x2"');
    usageError(() => parseFrame('640x480x0'), '--frame', 'received "640x480x0"');
  });

  test('throws: too large', () => {
    usageError(() => parseFrame('100000x100000x4'), '--frame', 'at most', 'received "100000x100000x4"');
  });
});

describe('resolveLayout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bigproc-resolve-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('--schema', () => {
    expect(resolveLayout({ schema: 'a:i64,b:u8' }, raw, BIN)).toEqual(parseSchema('a:i64,b:u8'));
    expect(resolveLayout({ schema: 'a:i64' }, null, BIN).recordSize).toBe(8);
  });

  test('--schema with a larger --record-size: trailing padding', () => {
    const l = resolveLayout({ schema: 'a:i64,b:u8', recordSize: 16 }, raw, BIN);
    expect(l.recordSize).toBe(16);
    expect(l.fields).toHaveLength(2);
  });

  test('throws: --record-size smaller than the schema', () => {
    usageError(
      () => resolveLayout({ schema: 'a:i64,b:u8', recordSize: 8 }, raw, BIN),
      '--record-size',
      'at least 9',
      'received 8',
    );
  });

  test('throws: --schema and --frame together', () => {
    usageError(
      () => resolveLayout({ schema: 'a:u8', frame: '2x2x1' }, raw, BIN),
      '--schema',
      '--frame',
      'cannot be used together',
      '"2x2x1"',
    );
  });

  test('--record-size alone: opaque records', () => {
    expect(resolveLayout({ recordSize: 24 }, raw, BIN)).toEqual({
      recordSize: 24,
      bigEndian: false,
      fields: [],
      headerBytes: 0,
      source: 'record-size',
    });
  });

  test.each([0, -1, 1.5, Number.NaN, 2 ** 53, 2 ** 31])('throws: --record-size %s', (n) => {
    usageError(
      () => resolveLayout({ recordSize: n }, raw, BIN),
      '--record-size',
      'positive integer',
      `received ${JSON.stringify(n)}`,
    );
  });

  test('--header-bytes sets headerBytes', () => {
    expect(resolveLayout({ recordSize: 8, headerBytes: 100 }, raw, BIN).headerBytes).toBe(100);
    expect(resolveLayout({ schema: 'a:u8', headerBytes: 0 }, raw, BIN).headerBytes).toBe(0);
  });

  test.each([-1, 0.5, Number.POSITIVE_INFINITY])('throws: --header-bytes %s', (n) => {
    usageError(
      () => resolveLayout({ recordSize: 8, headerBytes: n }, raw, BIN),
      '--header-bytes',
      'non-negative integer',
    );
  });

  test('--header-bytes overrides a JSON layout header_bytes', () => {
    const file = join(dir, 'h.json');
    writeFileSync(file, JSON.stringify({ fields: [{ name: 'a', type: 'u8' }], header_bytes: 16 }));
    expect(resolveLayout({ schema: `@${file}` }, raw, BIN).headerBytes).toBe(16);
    expect(resolveLayout({ schema: `@${file}`, headerBytes: 4 }, raw, BIN).headerBytes).toBe(4);
  });

  test('throws: no layout for a plain file, naming it', () => {
    usageError(
      () => resolveLayout({}, raw, BIN),
      `No record layout for ${BIN}`,
      '--schema, --record-size or --frame',
      '.npy',
    );
    usageError(() => resolveLayout({}, null, 'stdin'), 'No record layout for stdin');
    usageError(() => resolveLayout({ headerBytes: 8 }, raw, BIN), 'No record layout');
  });

  test('an .npy file describes itself', () => {
    const l = resolveLayout({}, npyF8, NPY);
    expect(l).toEqual({
      recordSize: 8,
      bigEndian: false,
      fields: [{ name: 'value', type: 'f64', offset: 0, size: 8 }],
      headerBytes: 128,
      source: 'npy',
      expectedRecords: 4,
    });
  });

  test('a bad .npy header is an error naming the file', () => {
    usageError(() => resolveLayout({}, npyHalf, NPY), NPY, 'half-precision');
  });

  test('an .npy file with an explicit layout still skips its header', () => {
    expect(resolveLayout({ schema: 'a:i32,b:i32' }, npyF8, NPY)).toMatchObject({
      recordSize: 8,
      headerBytes: 128,
      source: 'schema',
    });
    expect(resolveLayout({ recordSize: 2 }, npyHalf, NPY)).toMatchObject({
      recordSize: 2,
      headerBytes: 128,
      source: 'record-size',
    });
    expect(resolveLayout({ frame: '2x2x1' }, npyF8, NPY)).toMatchObject({ recordSize: 4, headerBytes: 128 });
    expect(resolveLayout({ recordSize: 8 }, npyF8, NPY).expectedRecords).toBeUndefined();
  });

  test('throws: --header-bytes with an .npy file', () => {
    usageError(
      () => resolveLayout({ headerBytes: 128 }, npyF8, NPY),
      '--header-bytes',
      NPY,
      '.npy',
      'received --header-bytes 128',
    );
    usageError(() => resolveLayout({ recordSize: 8, headerBytes: 0 }, npyF8, NPY), '--header-bytes');
  });

  test('throws: a JSON header_bytes that disagrees with the .npy header', () => {
    const file = join(dir, 'npy.json');
    writeFileSync(file, JSON.stringify({ fields: [{ name: 'a', type: 'f64' }], header_bytes: 64 }));
    usageError(() => resolveLayout({ schema: `@${file}` }, npyF8, NPY), 'header_bytes 64', NPY, 'byte 128');
    writeFileSync(file, JSON.stringify({ fields: [{ name: 'a', type: 'f64' }], header_bytes: 128 }));
    expect(resolveLayout({ schema: `@${file}` }, npyF8, NPY).headerBytes).toBe(128);
  });

  test('throws: an explicit layout over a broken .npy preamble', () => {
    const broken = writeNpyRaw("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8));
    broken[6] = 9;
    usageError(() => resolveLayout({ recordSize: 8 }, broken, NPY), NPY, 'version 9.0');
  });

  test('--frame, and --record-size must match it', () => {
    expect(resolveLayout({ frame: '4x4x3' }, raw, BIN)).toEqual(parseFrame('4x4x3'));
    expect(resolveLayout({ frame: '4x4x3', recordSize: 48 }, raw, BIN).recordSize).toBe(48);
    usageError(() => resolveLayout({ frame: '4x4x3', recordSize: 64 }, raw, BIN), '--record-size', '48', 'received 64');
  });

  test('--big-endian', () => {
    expect(resolveLayout({ schema: 'a:i32', bigEndian: true }, raw, BIN).bigEndian).toBe(true);
    expect(resolveLayout({ schema: '>a:i32', bigEndian: true }, raw, BIN).bigEndian).toBe(true);
    expect(resolveLayout({ recordSize: 4, bigEndian: true }, raw, BIN).bigEndian).toBe(true);
    expect(resolveLayout({ frame: '1x1x1', bigEndian: true }, raw, BIN).bigEndian).toBe(false);
    expect(resolveLayout({}, npyBig, NPY).bigEndian).toBe(true);
    expect(resolveLayout({ bigEndian: true }, npyBig, NPY).bigEndian).toBe(true);
    expect(resolveLayout({ schema: 'a:i32', bigEndian: false }, raw, BIN).bigEndian).toBe(false);
  });

  test('throws: --big-endian against a little-endian schema or .npy', () => {
    usageError(() => resolveLayout({ schema: '<a:i32', bigEndian: true }, raw, BIN), '--big-endian', '"<a:i32"');
    usageError(() => resolveLayout({ bigEndian: true }, npyF8, NPY), '--big-endian', NPY, 'little-endian');
  });
});

describe('layoutToJson', () => {
  test('what --json shows', () => {
    const l = resolveLayout({ schema: '>ts:i64,pad<4>,id:bytes<16>', recordSize: 32 }, raw, BIN);
    expect(layoutToJson(l)).toEqual({
      record_size: 32,
      endian: 'big',
      header_bytes: 0,
      fields: [
        { name: 'ts', type: 'i64', offset: 0 },
        { name: 'id', type: 'bytes<16>', offset: 12 },
      ],
    });
    expect(layoutToJson(resolveLayout({}, npyF8, NPY))).toEqual({
      record_size: 8,
      endian: 'little',
      header_bytes: 128,
      fields: [{ name: 'value', type: 'f64', offset: 0 }],
    });
    expect(JSON.parse(JSON.stringify(layoutToJson(resolveLayout({ recordSize: 4 }, null, BIN))))).toEqual({
      record_size: 4,
      endian: 'little',
      header_bytes: 0,
      fields: [],
    });
  });
});
