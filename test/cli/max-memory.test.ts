// --max-memory: the chunks (then the window) shrink until the records in flight fit; the bytes held,
// measured by the pass (metrics.memory.peak_bytes), stay under the bound; output and results are the
// same as without it; a bound one record cannot fit is exit 2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json, tempDir } from './helpers.js';
import { fitMemory, heldBytes } from '../../src/engine/memory-bound.js';

let dir: string;
let cleanup: () => void;
let file: string;
const W = 64;
const H = 48;
const N = 120;
const FRAME = W * H * 3;

beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  const b = Buffer.alloc(N * FRAME);
  let x = 5;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  file = join(dir, 'frames.raw');
  writeFileSync(file, b);
});
afterAll(() => cleanup());

const base = () => ['run', '--file', file, '--frame', `${W}x${H}x3`, '--workers', '2', '--chunk-size', '64KiB'];

describe('--max-memory', () => {
  it('keeps the bytes in flight under the bound, with the same output', () => {
    const out = (name: string) => join(dir, name);
    const plain = json(cli([...base(), '--op', 'grey|blur:1', '--out', out('plain.raw'), '--json']));
    expect(plain.metrics.memory).toBeUndefined();
    for (const [max, backend] of [
      [160 * 1024, 'native'],
      [60 * 1024, 'js'],
      [FRAME + 2 * (W * H), 'native'],
    ] as const) {
      const name = `m-${max}.raw`;
      const doc = json(
        cli([
          ...base(),
          '--op',
          'grey|blur:1',
          '--out',
          out(name),
          '--max-memory',
          String(max),
          '--backend',
          backend,
          '--json',
        ]),
      );
      const m = doc.metrics.memory;
      expect(m.max_bytes).toBe(max);
      expect(m.bound_bytes).toBeLessThanOrEqual(max);
      expect(m.peak_bytes).toBeGreaterThan(0);
      expect(m.peak_bytes).toBeLessThanOrEqual(max);
      expect(m.records_per_chunk).toBeLessThan(7); // 64KiB chunks hold 7 frames
      expect(doc.metrics.chunks).toBe(Math.ceil(N / m.records_per_chunk));
      expect(doc.result).toEqual(plain.result);
      expect(Buffer.compare(readFileSync(out(name)), readFileSync(out('plain.raw')))).toBe(0);
    }
  });

  it('holds a reduce and a PNG run under the bound too', () => {
    const stats = json(cli([...base(), '--op', 'framestats', '--json'])).result;
    const doc = json(cli([...base(), '--op', 'framestats', '--max-memory', '30KiB', '--json']));
    expect(doc.result).toEqual(stats);
    expect(doc.metrics.memory.peak_bytes).toBeLessThanOrEqual(30 * 1024);
    const png = join(dir, 'png');
    const p = json(
      cli([...base(), '--op', 'invert', '--out', `${png}/`, '--format', 'png', '--max-memory', '64KiB', '--json']),
    );
    expect(p.metrics.memory.peak_bytes).toBeGreaterThan(0);
    expect(p.metrics.memory.peak_bytes).toBeLessThanOrEqual(64 * 1024);
    expect(readdirSync(png)).toHaveLength(N);
  });

  it('refuses a bound one frame cannot fit, and a pipe, with exit 2 and one line', () => {
    for (const [args, re] of [
      [
        ['--op', 'grey', '--out', join(dir, 'x.raw'), '--max-memory', String(FRAME)],
        /--max-memory 9216 bytes is too small: one record in flight needs 15360 bytes/,
      ],
      [['--op', 'grey', '--max-memory', '0'], /positive size for --max-memory/],
    ] as const) {
      const r = cli([...base(), ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const r = cli(['run', '--file', '-', '--frame', `${W}x${H}x3`, '--op', 'framestats', '--max-memory', '1MiB'], {
      input: '',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--max-memory is for a run on one host over a file \(a pipe/);
  });

  it('fitMemory: chunks shrink first, then the window; the bound always holds', () => {
    const need = { inBytes: 100, outBytes: 50 };
    expect(fitMemory({ maxBytes: 1e9, recordsPerChunk: 10, window: 4, ...need })).toEqual({
      recordsPerChunk: 10,
      window: 4,
    });
    expect(fitMemory({ maxBytes: 2000, recordsPerChunk: 10, window: 4, ...need })).toEqual({
      recordsPerChunk: 3,
      window: 4,
    });
    expect(fitMemory({ maxBytes: 400, recordsPerChunk: 10, window: 4, ...need })).toEqual({
      recordsPerChunk: 1,
      window: 2,
    });
    expect(() => fitMemory({ maxBytes: 199, recordsPerChunk: 10, window: 4, ...need })).toThrow(/too small/);
    for (let max = 200; max < 5000; max += 37) {
      const f = fitMemory({ maxBytes: max, recordsPerChunk: 10, window: 4, ...need });
      expect(heldBytes(need, f.recordsPerChunk, f.window)).toBeLessThanOrEqual(max);
    }
  });
});
