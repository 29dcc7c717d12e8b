// Results are bit-identical for any --workers and --chunk-size, and the native kernels agree with the
// JS oracle, through the real binary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, genTicks, json, tempDir, TICKS } from './helpers.js';

let dir: string;
let cleanup: () => void;
let ticks: string;
const N = 50_003;

beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  ticks = join(dir, 'ticks.bin');
  genTicks(ticks, N, 9);
});
afterAll(() => cleanup());

const JOBS: [string, string[]][] = [
  ['stats', []],
  ['minmax', ['--op', 'minmax']],
  ['hist', ['--op', 'hist', '--field', 'price', '--bins', '17']],
  ['hist-range', ['--op', 'hist', '--field', 'qty', '--bins', '10', '--range', '100:900']],
  ['filter', ['--op', 'filter', '--where', 'price > 110 && (side == 1 || qty < 5)']],
];

describe.each(JOBS)('%s', (_name, opArgs) => {
  it('is identical for workers 1, 2, 3, 8, chunk sizes 1 KiB … 64 MiB, and both backends', () => {
    const results = new Set<string>();
    const runs: string[][] = [];
    for (const workers of ['1', '2', '3', '8']) runs.push(['--workers', workers, '--chunk-size', '64KiB']);
    for (const chunk of ['1KiB', '7777', '1MB', '64MiB']) runs.push(['--workers', '2', '--chunk-size', chunk]);
    for (const args of runs) {
      for (const backend of ['native', 'js']) {
        if (backend === 'js' && args[1] !== '3' && args[3] !== '7777') continue; // the JS oracle is slow; two runs suffice
        const doc = json(
          cli([
            'run',
            '--file',
            ticks,
            '--schema',
            TICKS,
            '--json',
            '--quiet',
            '--backend',
            backend,
            ...opArgs,
            ...args,
          ]),
        );
        results.add(JSON.stringify(doc.result));
      }
    }
    expect(results.size).toBe(1);
  });
});

describe('filter --out', () => {
  it('writes exactly the matching records in file order, for any worker count and backend', () => {
    const outs: Buffer[] = [];
    for (const [workers, backend, chunk] of [
      ['1', 'native', '4KiB'],
      ['3', 'native', '1000'],
      ['2', 'js', '64KiB'],
    ]) {
      const out = join(dir, `out-${workers}-${backend}.bin`);
      const doc = json(
        cli([
          'run',
          '--file',
          ticks,
          '--schema',
          TICKS,
          '--op',
          'filter',
          '--where',
          'qty < 100 || side == 0 && price >= 105',
          '--out',
          out,
          '--json',
          '--workers',
          workers!,
          '--backend',
          backend!,
          '--chunk-size',
          chunk!,
        ]),
      );
      const bytes = readFileSync(out);
      expect(bytes.length).toBe(doc.result.matched * 24);
      outs.push(bytes);
    }
    expect(outs[1]!.equals(outs[0]!)).toBe(true);
    expect(outs[2]!.equals(outs[0]!)).toBe(true);
    // and they really are the matching records, in order
    const src = readFileSync(ticks);
    const want: Buffer[] = [];
    for (let i = 0; i < N; i++) {
      const r = src.subarray(i * 24, i * 24 + 24);
      const price = r.readDoubleLE(8),
        qty = r.readInt32LE(16),
        side = r.readUInt8(20);
      if (qty < 100 || (side === 0 && price >= 105)) want.push(r);
    }
    expect(outs[0]!.equals(Buffer.concat(want))).toBe(true);
  });
});
