// Native filter: postfix programs (cmp/const/and/or/not), IEEE NaN semantics, signed/unsigned 64-bit
// compares, big-endian fields, the copied output, program validation.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernels } from './kernels.js';
import type { Instr as FilterInstr } from '../../src/ops/lib/predicate.js';

const addon = loadKernels();
// Created on first use (a skipped file leaves nothing behind), removed after the file's tests.
let tempDir: string | undefined;
const dir = (): string => (tempDir ??= mkdtempSync(join(tmpdir(), 'bigproc-native-filter-')));
afterAll(() => {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

// record (32 bytes, unaligned fields): price f64 @0, qty i32 @8, side u8 @12, code i16 BE @13,
// w f32 BE @15, id u64 @19, padding @27..30, and the row index in byte 31
const RS = 32;
interface Row {
  price: number;
  qty: number;
  side: number;
  code: number;
  w: number;
  id: bigint;
}

function encode(rows: Row[]): Buffer {
  const b = Buffer.alloc(rows.length * RS);
  rows.forEach((r, i) => {
    const o = i * RS;
    b.writeDoubleLE(r.price, o);
    b.writeInt32LE(r.qty, o + 8);
    b.writeUInt8(r.side, o + 12);
    b.writeInt16BE(r.code, o + 13);
    b.writeFloatBE(r.w, o + 15);
    b.writeBigUInt64LE(r.id, o + 19);
    b.writeUInt8(i & 255, o + 31);
  });
  return b;
}

const rows: Row[] = [
  { price: 100, qty: -5, side: 0, code: -300, w: 0.5, id: 0n },
  { price: 110, qty: 10, side: 1, code: 300, w: NaN, id: 2n ** 64n - 1n },
  { price: 110.5, qty: 0, side: 1, code: 0, w: -0, id: 2n ** 63n },
  { price: NaN, qty: 2147483647, side: 2, code: 32767, w: Infinity, id: 2n ** 63n - 1n },
  { price: -0, qty: -2147483648, side: 0, code: -32768, w: 1.5, id: 42n },
  { price: 1e300, qty: 7, side: 255, code: 1, w: -2, id: 1n },
];

const bytes = encode(rows);
let rowsPath: string | undefined;

function run(program: FilterInstr[], wantOutput = false, records = rows.length) {
  if (rowsPath === undefined) {
    rowsPath = join(dir(), 'rows.bin');
    writeFileSync(rowsPath, bytes);
  }
  const m = new addon!.Mapping(rowsPath);
  try {
    return addon!.filter(m, 0, records, RS, program, wantOutput)!;
  } finally {
    m.close();
  }
}

const price = (cmp: 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne', value: number): FilterInstr => ({
  op: 'cmp',
  offset: 0,
  type: 'f64',
  cmp,
  value,
});

/** indexes of matching rows, from the copied output (each record's last byte is its index) */
function matchedRows(out: Buffer): number[] {
  const idx: number[] = [];
  for (let o = 0; o < out.length; o += RS) idx.push(out[o + 31]!);
  return idx;
}

describe.runIf(addon)('native filter', () => {
  it('float compares with IEEE semantics (NaN false except ne, -0 == 0)', () => {
    expect(run([price('gt', 110)]).matched).toBe(2); // 110.5, 1e300
    expect(run([price('ge', 110)]).matched).toBe(3);
    expect(run([price('lt', 110)]).matched).toBe(2); // 100, -0
    expect(run([price('le', 110)]).matched).toBe(3);
    expect(run([price('eq', 0)]).matched).toBe(1); // -0
    expect(run([price('ne', 110)]).matched).toBe(5); // NaN included
    expect(run([price('eq', NaN)]).matched).toBe(0);
    expect(run([price('ne', NaN)]).matched).toBe(6);
  });

  it('copies matching records in file order; out is absent unless asked for', () => {
    const r = run([price('gt', 105)], true);
    expect(r.matched).toBe(3);
    expect(r.out!.length).toBe(3 * RS);
    expect(r.out!.equals(Buffer.concat([bytes.subarray(RS, 3 * RS), bytes.subarray(5 * RS, 6 * RS)]))).toBe(true);
    expect('out' in run([price('gt', 105)], false)).toBe(false);
    expect(run([price('gt', 1e308)], true).out!.length).toBe(0);
  });

  it('and / or / not / const', () => {
    const side1: FilterInstr = { op: 'cmp', offset: 12, type: 'u8', cmp: 'eq', value: 1n };
    const qtyPos: FilterInstr = { op: 'cmp', offset: 8, type: 'i32', cmp: 'gt', value: 0n };
    expect(matchedRows(run([side1, qtyPos, { op: 'and' }], true).out!)).toEqual([1]);
    expect(matchedRows(run([side1, qtyPos, { op: 'or' }], true).out!)).toEqual([1, 2, 3, 5]);
    expect(matchedRows(run([side1, qtyPos, { op: 'or' }, { op: 'not' }], true).out!)).toEqual([0, 4]);
    expect(run([{ op: 'const', value: true }]).matched).toBe(6);
    expect(run([{ op: 'const', value: false }, { op: 'not' }, side1, { op: 'and' }]).matched).toBe(2);
    expect(run([{ op: 'const', value: false }, side1, { op: 'or' }]).matched).toBe(2);
    // NOT (price > 105) keeps NaN: negation of a false compare
    expect(matchedRows(run([price('gt', 105), { op: 'not' }], true).out!)).toEqual([0, 3, 4]);
  });

  it('integer compares: u64 above 2^63, i32 extremes, big-endian i16, f32 big-endian', () => {
    const id = (cmp: 'lt' | 'ge' | 'eq', value: bigint): FilterInstr => ({
      op: 'cmp',
      offset: 19,
      type: 'u64',
      cmp,
      value,
    });
    expect(matchedRows(run([id('ge', 2n ** 63n)], true).out!)).toEqual([1, 2]);
    expect(run([id('eq', 2n ** 64n - 1n)]).matched).toBe(1);
    expect(run([id('lt', 2n ** 63n)]).matched).toBe(4);
    const qty: FilterInstr = { op: 'cmp', offset: 8, type: 'i32', cmp: 'le', value: -2147483648n };
    expect(matchedRows(run([qty], true).out!)).toEqual([4]);
    const code: FilterInstr = { op: 'cmp', offset: 13, type: 'i16', bigEndian: true, cmp: 'lt', value: -299n };
    expect(matchedRows(run([code], true).out!)).toEqual([0, 4]);
    const w = (cmp: 'gt' | 'ne', value: number): FilterInstr => ({
      op: 'cmp',
      offset: 15,
      type: 'f32',
      bigEndian: true,
      cmp,
      value,
    });
    expect(matchedRows(run([w('gt', 0.4)], true).out!)).toEqual([0, 3, 4]);
    expect(run([w('ne', 0)]).matched).toBe(5); // -0 == 0; NaN != 0
  });

  it('rejects malformed programs', () => {
    expect(() => run([])).toThrow(TypeError);
    expect(() => run([{ op: 'and' }])).toThrow(/operand/);
    expect(() =>
      run([
        { op: 'const', value: true },
        { op: 'const', value: true },
      ]),
    ).toThrow(/exactly one/);
    expect(() => run([{ op: 'xor' } as never])).toThrow(/program\[0\]\.op/);
    expect(() => run([{ op: 'cmp', offset: 12, type: 'u8', cmp: 'eq', value: 256n }])).toThrow(/program\[0\]\.value/);
    expect(() => run([{ op: 'cmp', offset: 12, type: 'i8', cmp: 'eq', value: -129n }])).toThrow(TypeError);
    expect(() => run([{ op: 'cmp', offset: 12, type: 'u8', cmp: 'like' as never, value: 1n }])).toThrow(/cmp/);
    expect(() => run([{ op: 'cmp', offset: 30, type: 'f64', cmp: 'eq', value: 1 }])).toThrow(/offset/);
  });

  it('many blocks: count and output match a JS evaluation', () => {
    const n = 50_000; // > 1 MiB and many 4096-record blocks
    const big: Row[] = Array.from({ length: n }, (_, i) => ({
      price: 90 + ((i * 7919) % 4001) / 100,
      qty: (i % 200) - 100,
      side: i % 3,
      code: i % 1000,
      w: i / 3,
      id: BigInt(i) * 1_000_000_007n,
    }));
    const bb = encode(big);
    const p = join(dir(), 'big.bin');
    writeFileSync(p, bb);
    const m = new addon!.Mapping(p);
    const prog: FilterInstr[] = [
      price('gt', 110),
      { op: 'cmp', offset: 12, type: 'u8', cmp: 'ne', value: 1n },
      { op: 'and' },
    ];
    const r = addon!.filter(m, 0, n, RS, prog, true)!;
    m.close();
    const want = big.map((row, i) => [row, i] as const).filter(([row]) => row.price > 110 && row.side !== 1);
    expect(r.matched).toBe(want.length);
    expect(r.out!.equals(Buffer.concat(want.map(([, i]) => bb.subarray(i * RS, (i + 1) * RS))))).toBe(true);
  });
});
