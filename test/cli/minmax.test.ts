// `--op minmax` through the real binary: stats' count/min/max exactly (NaN apart, −0 below +0, ±Inf,
// 64-bit integers beyond 2^53), identical for --workers 1/2/3 and both backends; and hist without
// --range, whose range pass is now minmax, bins as with the explicit range stats gives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json, tempDir } from './helpers.js';

const SCHEMA = 'x:f64,y:f32,big:u64,neg:i64,small:i8';
const RS = 8 + 4 + 8 + 8 + 1;
const N = 40_001;
let dir: string;
let cleanup: () => void;
let file: string;

/** Records with NaNs, ±0, ±Inf and 64-bit extremes scattered through chunks of 64 KiB. */
function fixture(): Buffer {
  const b = Buffer.alloc(N * RS);
  let s = 12345;
  const rnd = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const specials = [NaN, -0, 0, Infinity, -Infinity];
  for (let i = 0; i < N; i++) {
    const o = i * RS;
    const x = i % 997 === 5 ? specials[((i / 997) % 5) | 0]! : (rnd() - 0.5) * 1e6;
    b.writeDoubleLE(i % 4000 === 0 ? NaN : x, o);
    b.writeFloatLE(i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : NaN, o + 8); // y: zeros and NaNs only
    b.writeBigUInt64LE(i === 30_000 ? 2n ** 64n - 1n : 2n ** 53n + BigInt(i), o + 12);
    b.writeBigInt64LE(i === 20_000 ? -(2n ** 63n) : -BigInt(i) * 3n, o + 20);
    b.writeInt8((i % 256) - 128, o + 28);
  }
  return b;
}

beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  file = join(dir, 'mm.bin');
  writeFileSync(file, fixture());
});
afterAll(() => cleanup());

const run = (args: string[]) => json(cli(['run', '--file', file, '--schema', SCHEMA, '--json', '--quiet', ...args]));

describe('--op minmax', () => {
  it('is identical for --workers 1/2/3 and both backends, and equals stats count/min/max', () => {
    const results = new Set<string>();
    let last: any;
    for (const workers of ['1', '2', '3']) {
      for (const backend of ['native', 'js']) {
        if (backend === 'js' && workers !== '2') continue; // the oracle once is enough
        last = run(['--op', 'minmax', '--workers', workers, '--chunk-size', '64KiB', '--backend', backend]).result;
        results.add(JSON.stringify(last));
      }
    }
    expect(results.size).toBe(1);
    const st = run(['--op', 'stats', '--workers', '2', '--chunk-size', '64KiB']).result;
    for (const [name, s] of Object.entries<any>(st.fields)) {
      const m = last.fields[name];
      expect([m.type, m.count, m.min, m.max], name).toEqual([s.type, s.count, s.min, s.max]);
      expect(m.nan).toBe(s.nan ?? 0);
    }
    expect(last.fields.x).toMatchObject({ min: '-Infinity', max: 'Infinity' });
    expect(last.fields.big.max).toBe('18446744073709551615');
    expect(last.fields.neg.min).toBe('-9223372036854775808');
    expect(last.fields.small).toEqual({ type: 'i8', count: N, nan: 0, min: -128, max: 127 });
  });

  it('zeros and NaNs only: NaN counted apart, min and max printed as stats prints them', () => {
    const text = (op: string) => {
      const r = cli(['run', '--file', file, '--schema', SCHEMA, '--op', op, '--fields', 'y', '--quiet']);
      expect(r.status).toBe(0);
      return r.stdout
        .split('\n')
        .find((l) => l.trimStart().startsWith('y '))!
        .trim()
        .split(/\s+/);
    };
    const row = text('minmax'); // field type count nan min max
    const st = text('stats'); // field type count sum min max mean std
    expect(row).toEqual(['y', 'f32', String(Math.ceil((N * 2) / 3)), String(Math.floor(N / 3)), st[4], st[5]]);
    expect(row.slice(4)).toEqual(['0', '0']); // −0 and +0 (JSON and text print −0 as 0, as stats does)
  });

  it('refuses a non-numeric field in one line', () => {
    const r = cli(['run', '--file', file, '--schema', SCHEMA, '--op', 'minmax', '--fields', 'nope']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^bigproc: .*nope/);
  });
});

describe('hist without --range (its range pass is minmax)', () => {
  it('bins exactly as with the explicit range stats finds, for every worker count', () => {
    const st = run(['--op', 'stats', '--fields', 'small']).result.fields.small;
    const explicit = run(['--op', 'hist', '--field', 'small', '--bins', '7', '--range', `${st.min}:${st.max}`]).result;
    for (const workers of ['1', '2', '3']) {
      const auto = run([
        '--op',
        'hist',
        '--field',
        'small',
        '--bins',
        '7',
        '--workers',
        workers,
        '--chunk-size',
        '64KiB',
      ]);
      expect(auto.result).toEqual(explicit);
    }
  });

  it('a range that is not finite is still refused, naming the field and its range', () => {
    const r = cli(['run', '--file', file, '--schema', SCHEMA, '--op', 'hist', '--field', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bigproc: .*x \[-Infinity, Infinity\] is not finite/);
  });
});
