// `top` through the real binary: identical for any workers/chunk size/backend and from a pipe,
// k beyond the record count, --asc, and bad options exit 2 with one line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cli, genTicks, json, tempDir, TICKS } from './helpers.js';

let dir: string;
let cleanup: () => void;
let ticks: string;
const N = 20_011;

beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  ticks = join(dir, 'ticks.bin');
  genTicks(ticks, N, 5);
});
afterAll(() => cleanup());

const run = (args: string[]) =>
  json(cli(['run', '--file', ticks, '--schema', TICKS, '--json', '--quiet', '--op', 'top', ...args]));

describe('top', () => {
  for (const opArgs of [
    ['--by', 'qty', '-k', '25'],
    ['--by', 'price', '--top-k', '7', '--asc'],
    ['--by', 'side', '-k', '30'],
  ]) {
    it(`is identical for workers 1/2/3, chunk sizes and backends (${opArgs.join(' ')})`, () => {
      const results = new Set<string>();
      for (const [w, c, b] of [
        ['1', '64KiB', 'native'],
        ['2', '64KiB', 'native'],
        ['3', '64KiB', 'native'],
        ['2', '1KiB', 'native'],
        ['3', '7777', 'native'],
        ['2', '64MiB', 'native'],
        ['3', '7777', 'js'],
        ['1', '1MB', 'js'],
      ]) {
        results.add(JSON.stringify(run([...opArgs, '--workers', w!, '--chunk-size', c!, '--backend', b!]).result));
      }
      expect(results.size).toBe(1);
      const r = JSON.parse([...results][0]!);
      expect(r.k).toBe(Number(opArgs[3]));
      expect(r.rows).toHaveLength(r.k);
      expect(Object.keys(r.rows[0])).toEqual(['index', 'ts', 'price', 'qty', 'side', 'flags', 'venue']);
    });
  }

  it('ranks correctly: largest first, ties by file position; --asc smallest first', () => {
    const buf = readFileSync(ticks);
    const qty = Array.from({ length: N }, (_, i) => buf.readInt32LE(i * 24 + 16));
    const order = qty.map((v, i) => ({ v, i }));
    const desc = [...order]
      .sort((a, b) => b.v - a.v || a.i - b.i)
      .slice(0, 25)
      .map((x) => x.i);
    const asc = [...order]
      .sort((a, b) => a.v - b.v || a.i - b.i)
      .slice(0, 25)
      .map((x) => x.i);
    const rd = run(['--by', 'qty', '-k', '25', '--chunk-size', '4KiB', '--workers', '3']).result;
    expect(rd.rows.map((r: { index: number }) => r.index)).toEqual(desc);
    expect(rd.rows.map((r: { qty: number }) => r.qty)).toEqual(desc.map((i) => qty[i]));
    const ra = run(['--by', 'qty', '-k', '25', '--asc', '--chunk-size', '4KiB', '--workers', '2']).result;
    expect(ra.rows.map((r: { index: number }) => r.index)).toEqual(asc);
    // ts is an i64 beyond 2^53: written exactly as a decimal string
    expect(rd.rows[0].ts).toBe(String(buf.readBigInt64LE(desc[0]! * 24)));
  });

  it('k larger than the record count returns every record, sorted', () => {
    const r = run(['--by', 'price', '-k', String(N + 100), '--chunk-size', '16KiB', '--workers', '3']).result;
    expect(r.k).toBe(N + 100);
    expect(r.rows).toHaveLength(N);
    for (let i = 1; i < r.rows.length; i++) expect(r.rows[i - 1].price >= r.rows[i].price).toBe(true);
  });

  it('gives the same result from a pipe', () => {
    const args = [
      '--schema',
      TICKS,
      '--json',
      '--quiet',
      '--op',
      'top',
      '--by',
      'qty',
      '-k',
      '40',
      '--chunk-size',
      '8KiB',
      '--workers',
      '2',
    ];
    const p = spawnSync(process.execPath, [BIN, 'run', '--file', '-', ...args], {
      input: readFileSync(ticks),
      maxBuffer: 1 << 26,
      encoding: 'utf8',
    });
    expect(p.status).toBe(0);
    expect(JSON.parse(p.stdout).result).toEqual(run(['--by', 'qty', '-k', '40', '--chunk-size', '8KiB']).result);
  });

  it('prints a table without --json', () => {
    const r = cli(['run', '--file', ticks, '--schema', TICKS, '--quiet', '--op', 'top', '--by', 'qty', '-k', '3']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/index\s+ts\s+price\s+qty\s+side\s+flags\s+venue/);
    expect(r.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(5);
  });

  for (const [args, flag, value] of [
    [['-k', '5'], '--by', ''],
    [['--by', 'nope'], '--by', 'nope'],
    [['--by', 'qty', '-k', '0'], '--top-k', '0'],
    [['--by', 'qty', '-k', 'ten'], '--top-k', 'ten'],
    [['--by', 'qty', '-k', '1000001'], '--top-k', '1000001'],
  ] as [string[], string, string][]) {
    it(`bad options exit 2 with one line: ${args.join(' ')}`, () => {
      const r = cli(['run', '--file', ticks, '--schema', TICKS, '--quiet', '--op', 'top', ...args]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(flag);
      expect(r.stderr).toContain(value);
    });
  }
});
