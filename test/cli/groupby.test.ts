// `groupby` through the real binary: identical results for any workers / chunk size / backend and
// from a pipe, agreement with a direct computation, --max-groups and bad options exit 2 with one line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cli, genTicks, json, tempDir, TICKS } from './helpers.js';

let dir: string;
let cleanup: () => void;
let ticks: string;
const N = 30_011;
const EXTRA = [
  '--dist',
  'ts=seq:1700000000000000000:1000,price=normal:100:10,qty=uniform:1:1000,side=uniform:0:1,venue=uniform:0:12,flags=uniform:0:3',
];

beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  ticks = join(dir, 'ticks.bin');
  genTicks(ticks, N, 3, EXTRA);
});
afterAll(() => cleanup());

const base = () => ['run', '--file', ticks, '--schema', TICKS, '--quiet', '--op', 'groupby'];
const run = (args: string[]) => json(cli([...base(), '--json', ...args]));
const AGG = 'count,sum(qty),mean(price),min(ts),max(ts),std(price)';

describe('groupby', () => {
  for (const opArgs of [
    ['--key', 'venue', '--agg', AGG],
    ['--key', 'side,venue', '--agg', 'count,std(qty),max(price),sum(price)'],
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
      ]) {
        results.add(JSON.stringify(run([...opArgs, '--workers', w!, '--chunk-size', c!, '--backend', b!]).result));
      }
      expect(results.size).toBe(1);
      const r = JSON.parse([...results][0]!);
      expect(r.keys).toEqual(opArgs[1]!.split(','));
      expect(r.groups.reduce((s: number, g: { count: number }) => s + g.count, 0)).toBe(N);
    });
  }

  it('matches a direct computation from the file, sorted by key', () => {
    const r = run(['--key', 'venue', '--agg', AGG, '--chunk-size', '16KiB', '--workers', '3']).result;
    const buf = readFileSync(ticks);
    const ref = new Map<number, { n: number; qty: number; price: number[]; ts: bigint[] }>();
    for (let i = 0; i < N; i++) {
      const o = i * 24;
      const v = buf.readUInt16LE(o + 22);
      let g = ref.get(v);
      if (!g) {
        g = { n: 0, qty: 0, price: [], ts: [] };
        ref.set(v, g);
      }
      g.n++;
      g.qty += buf.readInt32LE(o + 16);
      g.price.push(buf.readDoubleLE(o + 8));
      g.ts.push(buf.readBigInt64LE(o));
    }
    const keys = [...ref.keys()].sort((a, b) => a - b);
    expect(r.groups.map((g: { key: number[] }) => g.key)).toEqual(keys.map((k) => [k]));
    expect(r.aggs).toEqual(AGG.split(','));
    r.groups.forEach((g: Record<string, unknown>, i: number) => {
      const x = ref.get(keys[i]!)!;
      expect(Object.keys(g)).toEqual(['key', ...AGG.split(',')]);
      expect(g.count).toBe(x.n);
      expect(g['sum(qty)']).toBe(x.qty);
      const mean = x.price.reduce((a, b) => a + b, 0) / x.n;
      expect(Math.abs((g['mean(price)'] as number) - mean)).toBeLessThan(1e-9);
      const std = Math.sqrt(x.price.reduce((a, b) => a + (b - mean) ** 2, 0) / x.n);
      expect(Math.abs((g['std(price)'] as number) - std)).toBeLessThan(1e-9);
      // ts beyond 2^53: exact decimal strings
      expect(g['min(ts)']).toBe(String(x.ts.reduce((a, b) => (b < a ? b : a))));
      expect(g['max(ts)']).toBe(String(x.ts.reduce((a, b) => (b > a ? b : a))));
    });
  });

  it('gives the same result from a pipe', () => {
    const args = [
      '--schema',
      TICKS,
      '--json',
      '--quiet',
      '--op',
      'groupby',
      '--key',
      'venue,side',
      '--agg',
      AGG,
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
    expect(JSON.parse(p.stdout).result).toEqual(
      run(['--key', 'venue,side', '--agg', AGG, '--chunk-size', '64KiB']).result,
    );
  });

  it('--where groups only the matching records', () => {
    const all = run(['--key', 'venue', '--agg', 'count', '--workers', '2']).result;
    const some = run([
      '--key',
      'venue',
      '--agg',
      'count',
      '--where',
      'side == 1',
      '--workers',
      '2',
      '--chunk-size',
      '4KiB',
    ]).result;
    const js = run(['--key', 'venue', '--agg', 'count', '--where', 'side == 1', '--backend', 'js']).result;
    expect(some).toEqual(js);
    const buf = readFileSync(ticks);
    let ones = 0;
    for (let i = 0; i < N; i++) ones += buf[i * 24 + 20] === 1 ? 1 : 0;
    expect(some.groups.reduce((s: number, g: { count: number }) => s + g.count, 0)).toBe(ones);
    expect(all.groups.reduce((s: number, g: { count: number }) => s + g.count, 0)).toBe(N);
  });

  it('default --agg is count', () => {
    const r = run(['--key', 'flags', '--workers', '2', '--chunk-size', '32KiB']).result;
    expect(r.aggs).toEqual(['count']);
    expect(r.groups.map((g: { key: number[] }) => g.key[0])).toEqual([0, 1, 2, 3]);
    expect(Object.keys(r.groups[0])).toEqual(['key', 'count']);
  });

  it('prints a table without --json', () => {
    const r = cli([...base(), '--key', 'venue', '--agg', 'count,mean(price)']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^venue\s+count\s+mean\(price\)$/);
    expect(r.stdout).toMatch(/13 groups by venue/);
  });

  it('past --max-groups: exit 2, one line naming the flag and the value (in a chunk and across chunks)', () => {
    for (const extra of [
      ['--chunk-size', '64MiB'],
      ['--chunk-size', '1KiB', '--workers', '3'],
      ['--backend', 'js'],
    ]) {
      const r = cli([...base(), '--key', 'ts', '--max-groups', '500', ...extra]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('--max-groups 500 exceeded');
    }
    // 13 venues in chunks of 240 bytes (10 records): each chunk fits 12, the merge does not
    const m = cli([...base(), '--key', 'venue', '--max-groups', '12', '--chunk-size', '240']);
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(/--max-groups 12 exceeded.*across chunks/);
    expect(run(['--key', 'venue', '--max-groups', '13']).result.groups).toHaveLength(13);
  });

  for (const [args, flag, value] of [
    [['--agg', 'count'], '--key', ''],
    [['--key', 'nope'], '--key', '"nope"'],
    [['--key', 'price'], '--key', '"price"'],
    [['--key', 'venue', '--agg', 'sum(qty'], '--agg', '"sum(qty"'],
    [['--key', 'venue', '--agg', 'count,avg(qty)'], '--agg', '"avg(qty)"'],
    [['--key', 'venue', '--agg', 'mean(nope)'], '--agg', '"nope"'],
    [['--key', 'venue', '--max-groups', '0'], '--max-groups', '"0"'],
  ] as [string[], string, string][]) {
    it(`bad options exit 2 with one line: ${args.join(' ')}`, () => {
      const r = cli([...base(), ...args]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(flag);
      expect(r.stderr).toContain(value);
    });
  }
});
