// User kernels (--kernel module.mjs): same result for any worker count and backend, errors that point
// at the user's file and line.
import { describe, expect, it } from 'vitest';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json, ROOT, TICKS, ticksFixture } from './helpers.js';

const { dir, ticks } = ticksFixture(30_000, 11);

describe('--kernel', () => {
  it('the README examples give the same result for any workers and backend', () => {
    for (const ex of ['vwap.mjs', 'longest-run.mjs']) {
      const k = join(ROOT, 'examples', ex);
      const results = new Set<string>();
      for (const [w, backend] of [
        ['1', 'native'],
        ['3', 'native'],
        ['2', 'js'],
      ]) {
        const doc = json(
          cli([
            'run',
            '--file',
            ticks,
            '--schema',
            TICKS,
            '--kernel',
            k,
            '--json',
            '--workers',
            w!,
            '--backend',
            backend!,
            '--chunk-size',
            '64KiB',
          ]),
        );
        expect(doc.op).toBe('kernel');
        results.add(JSON.stringify(doc.result));
      }
      expect(results.size).toBe(1);
    }
  });

  it('computes what a plain loop computes', () => {
    const k = join(dir, 'count.mjs');
    writeFileSync(
      k,
      `export const init = () => ({ n: 0, big: 0n, hi: 0 });
export function chunk(view, s) { const q = view.column('qty'); for (let i = 0; i < view.length; i++) { s.n++; if (q[i] > 500) s.hi++; s.big += view.get(i, 'ts'); } return s; }
export const merge = (a, b) => ({ n: a.n + b.n, big: a.big + b.big, hi: a.hi + b.hi });
export const finalize = (s) => s;\n`,
    );
    const doc = json(
      cli(['run', '--file', ticks, '--schema', TICKS, '--kernel', k, '--json', '--chunk-size', '100000']),
    );
    const buf = readFileSync(ticks);
    let hi = 0;
    let big = 0n;
    for (let i = 0; i < 30_000; i++) {
      if (buf.readInt32LE(i * 24 + 16) > 500) hi++;
      big += buf.readBigInt64LE(i * 24);
    }
    expect(doc.result).toEqual({ n: 30_000, big: big.toString(), hi });
  });

  it('a kernel that throws: exit 1, one line naming the file and line', () => {
    const k = join(dir, 'throws.mjs');
    writeFileSync(
      k,
      `export const init = () => 0;\nexport function chunk(view, s) {\n  if (view.length > 0) throw new Error('boom');\n  return s;\n}\nexport const merge = (a, b) => a + b;\nexport const finalize = (s) => s;\n`,
    );
    const r = cli(['run', '--file', ticks, '--schema', TICKS, '--kernel', k]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/boom/);
    expect(r.stderr).toContain(`${k}:3:`);
  });

  it('a module that does not load or lacks an export: exit 2', () => {
    const bad = join(dir, 'syntax.mjs');
    writeFileSync(bad, 'export function init( {\n');
    const r = cli(['run', '--file', ticks, '--schema', TICKS, '--kernel', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/syntax\.mjs/);
    const partial = join(dir, 'partial.mjs');
    writeFileSync(partial, 'export const init = () => 0;\n');
    const p = cli(['run', '--file', ticks, '--schema', TICKS, '--kernel', partial]);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/must export a function chunk/);
    expect(cli(['run', '--file', ticks, '--schema', TICKS, '--kernel', join(dir, 'nope.mjs')]).status).toBe(2);
  });
});
