// `bigproc gen` is deterministic whatever the workers and backend; .npy files need no layout options.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json, tempDir } from './helpers.js';
import { writeNpy } from '../../src/layout/npy.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

describe('gen', () => {
  it('writes the same bytes for any worker count, chunk size and backend', () => {
    const schema = '>a:i8,b:u16,c:i32,d:u64,e:f32,f:f64,pad<3>,g:bytes<5>';
    const dist = 'b=uniform:10:20,c=normal:0:1000,d=seq:18446744073709551000:7,e=normal:5:2,f=uniform:-1:1';
    const files: Buffer[] = [];
    for (const [w, backend, chunk] of [
      ['1', 'native', '64MiB'],
      ['3', 'native', '1000'],
      ['2', 'js', '4KiB'],
    ]) {
      const out = join(dir, `gen-${w}-${backend}.bin`);
      const r = cli([
        'gen',
        '--schema',
        schema,
        '--records',
        '3001',
        '--seed',
        '77',
        '--dist',
        dist,
        '--out',
        out,
        '--workers',
        w!,
        '--backend',
        backend!,
        '--chunk-size',
        chunk!,
        '--quiet',
      ]);
      expect(r.status, r.stderr).toBe(0);
      files.push(readFileSync(out));
    }
    expect(files[0]!.length).toBe(3001 * 35);
    expect(files[1]!.equals(files[0]!)).toBe(true);
    expect(files[2]!.equals(files[0]!)).toBe(true);
    // a different seed gives different data
    const other = join(dir, 'other.bin');
    cli(['gen', '--schema', schema, '--records', '3001', '--seed', '78', '--dist', dist, '--out', other, '--quiet']);
    expect(readFileSync(other).equals(files[0]!)).toBe(false);
  });

  it('respects the distributions it is given', () => {
    const out = join(dir, 'd.bin');
    cli([
      'gen',
      '--schema',
      'q:i32,p:f64,s:u8',
      '--records',
      '20000',
      '--dist',
      'q=uniform:1:6,p=normal:100:10,s=const:7',
      '--out',
      out,
      '--quiet',
    ]);
    const doc = json(cli(['run', '--file', out, '--schema', 'q:i32,p:f64,s:u8', '--json']));
    const f = doc.result.fields;
    expect(f.q.min).toBe(1);
    expect(f.q.max).toBe(6);
    expect(Math.abs(f.p.mean - 100)).toBeLessThan(0.5);
    expect(Math.abs(f.p.std - 10)).toBeLessThan(0.5);
    expect(f.s.min).toBe(7);
    expect(f.s.max).toBe(7);
  });

  it('rejects bad options with exit 2', () => {
    expect(cli(['gen', '--schema', 'a:u8', '--out', join(dir, 'x')]).status).toBe(2);
    expect(
      cli(['gen', '--schema', 'a:u8', '--records', '10', '--out', join(dir, 'x'), '--dist', 'a=uniform:0:300']).status,
    ).toBe(2);
    expect(cli(['gen', '--schema', 'a:u8', '--records', '10', '--out', join(dir, 'x'), '--seed', 'abc']).status).toBe(
      2,
    );
  });
});

describe('.npy input', () => {
  it('reads a structured .npy written by the fixture generator with no layout options', () => {
    const n = 1000;
    const data = Buffer.alloc(n * 12);
    let sumX = 0n;
    for (let i = 0; i < n; i++) {
      data.writeInt32BE(i - 500, i * 12);
      data.writeDoubleBE(i / 4, i * 12 + 4);
      sumX += BigInt(i - 500);
    }
    const file = join(dir, 'rec.npy');
    writeFileSync(
      file,
      writeNpy(
        [
          ['x', '>i4'],
          ['y', '>f8'],
        ],
        [n],
        data,
      ),
    );
    const doc = json(cli(['run', '--file', file, '--json']));
    expect(doc.layout.endian).toBe('big');
    expect(doc.result.fields.x.sum).toBe(Number(sumX));
    expect(doc.result.fields.x.min).toBe(-500);
    expect(doc.result.fields.y.max).toBe(999 / 4);
    const f = json(cli(['run', '--file', file, '--op', 'filter', '--where', 'x >= 0 && y < 200', '--json']));
    expect(f.result.matched).toBe(300);
  });

  it('reads a plain (N, 3) float32 array as fields value0..value2', () => {
    const data = Buffer.alloc(4 * 3 * 4);
    for (let i = 0; i < 12; i++) data.writeFloatLE(i, i * 4);
    const file = join(dir, 'plain.npy');
    writeFileSync(file, writeNpy('<f4', [4, 3], data, 2));
    const doc = json(cli(['run', '--file', file, '--json']));
    expect(Object.keys(doc.result.fields)).toEqual(['value0', 'value1', 'value2']);
    expect(doc.result.fields.value2.sum).toBe(2 + 5 + 8 + 11);
  });

  it('rejects a Fortran-ordered array with a clear message', () => {
    const file = join(dir, 'fortran.npy');
    writeFileSync(file, writeNpy('<f8', [3, 2], new Uint8Array(48), 1, true));
    const r = cli(['run', '--file', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/[Ff]ortran/);
  });
});
