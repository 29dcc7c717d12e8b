// `sample` through the real binary: identical for any workers/chunk size/backend and from a pipe,
// different seeds give different samples, n beyond the record count, and bad options exit 2.
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
  genTicks(ticks, N, 3);
});
afterAll(() => cleanup());

const run = (args: string[]) =>
  json(cli(['run', '--file', ticks, '--schema', TICKS, '--json', '--quiet', '--op', 'sample', ...args]));

describe('sample', () => {
  it('is identical for workers 1/2/3, chunk sizes and backends', () => {
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
      results.add(
        JSON.stringify(run(['-n', '50', '--seed', '7', '--workers', w!, '--chunk-size', c!, '--backend', b!]).result),
      );
    }
    expect(results.size).toBe(1);
    const r = JSON.parse([...results][0]!);
    expect(r.n).toBe(50);
    expect(r.seed).toBe('7');
    expect(r.rows).toHaveLength(50);
    const idx = r.rows.map((x: { index: number }) => x.index);
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    expect(new Set(idx).size).toBe(50);
    // the rows are the records at those positions
    const buf = readFileSync(ticks);
    for (const row of r.rows) expect(row.qty).toBe(buf.readInt32LE(row.index * 24 + 16));
  });

  it('depends on the seed; the default seed is 1', () => {
    const a = run(['-n', '20', '--seed', '1']).result;
    const b = run(['--sample-size', '20', '--seed', '2']).result;
    expect(a.rows).not.toEqual(b.rows);
    expect(run(['-n', '20']).result).toEqual(a);
  });

  it('n larger than the record count returns every record in file order', () => {
    const r = run(['-n', String(N + 5), '--chunk-size', '16KiB', '--workers', '3']).result;
    expect(r.rows).toHaveLength(N);
    expect(r.rows.map((x: { index: number }) => x.index)).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('gives the same result from a pipe', () => {
    const args = [
      '--schema',
      TICKS,
      '--json',
      '--quiet',
      '--op',
      'sample',
      '-n',
      '30',
      '--seed',
      '99',
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
    expect(JSON.parse(p.stdout).result).toEqual(run(['-n', '30', '--seed', '99']).result);
  });

  it('prints a table without --json', () => {
    const r = cli(['run', '--file', ticks, '--schema', TICKS, '--quiet', '--op', 'sample', '-n', '3']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/index\s+ts\s+price\s+qty\s+side\s+flags\s+venue/);
  });

  for (const [args, flag, value] of [
    [['--seed', '3'], '-n', ''],
    [['-n', '0'], '--sample-size', '0'],
    [['-n', 'many'], '--sample-size', 'many'],
    [['-n', '2000000'], '--sample-size', '2000000'],
    [['-n', '5', '--seed', 'abc'], '--seed', 'abc'],
  ] as [string[], string, string][]) {
    it(`bad options exit 2 with one line: ${args.join(' ')}`, () => {
      const r = cli(['run', '--file', ticks, '--schema', TICKS, '--quiet', '--op', 'sample', ...args]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(flag);
      expect(r.stderr).toContain(value);
    });
  }
});
