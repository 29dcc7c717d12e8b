// --pipeline: several sinks in one pass equal each op run alone (with its where as a filter first).
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json, TICKS, ticksFixture } from './helpers.js';

const { dir, ticks } = ticksFixture(40_000, 21);

const PIPE = {
  sinks: [
    { name: 'all', op: 'stats' },
    { name: 'prices', op: 'hist', options: { field: 'price', range: '80:120', bins: 8 } },
    { name: 'expensive', op: 'filter', options: { where: 'price > 110' } },
    { name: 'buys', op: 'stats', options: { fields: 'price,qty' }, where: 'side == 1' },
    { name: 'auto-range', op: 'hist', options: { field: 'qty' } },
  ],
};

describe('--pipeline', () => {
  it('gives each sink the result it has alone, for any workers, chunk size and backend', () => {
    const file = join(dir, 'p.json');
    writeFileSync(file, JSON.stringify(PIPE));
    const base = ['run', '--file', ticks, '--schema', TICKS, '--json'];
    const alone = {
      all: json(cli(base)).result,
      prices: json(cli([...base, '--op', 'hist', '--field', 'price', '--range', '80:120', '--bins', '8'])).result,
      expensive: json(cli([...base, '--op', 'filter', '--where', 'price > 110'])).result,
      'auto-range': json(cli([...base, '--op', 'hist', '--field', 'qty'])).result,
    };
    // the where-sink alone: filter to a file, then stats on it
    const buys = join(dir, 'buys.bin');
    expect(cli([...base, '--op', 'filter', '--where', 'side == 1', '--out', buys]).status).toBe(0);
    const buysAlone = json(cli(['run', '--file', buys, '--schema', TICKS, '--json', '--fields', 'price,qty'])).result;
    for (const [w, chunk, backend] of [
      ['1', '64MiB', 'native'],
      ['3', '10000', 'native'],
      ['2', '64KiB', 'js'],
    ]) {
      const doc = json(
        cli([...base, '--pipeline', file, '--workers', w!, '--chunk-size', chunk!, '--backend', backend!]),
      );
      expect(doc.op).toBe('pipeline');
      expect(doc.result).toEqual({ ...alone, buys: buysAlone });
    }
  });

  it('rejects bad pipeline files with exit 2', () => {
    const bad = join(dir, 'bad.json');
    for (const content of [
      '{',
      '{"sinks": []}',
      '{"sinks": [{"name": "a", "op": "median"}]}',
      '{"sinks": [{"name": "a", "op": "stats"}, {"name": "a", "op": "stats"}]}',
      '{"sinks": [{"name": "h", "op": "hist", "options": {"field": "qty"}, "where": "side == 1"}]}',
    ]) {
      writeFileSync(bad, content);
      const r = cli(['run', '--file', ticks, '--schema', TICKS, '--pipeline', bad]);
      expect(r.status, content).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('writes a sink\'s own "out" in the same pass, equal to the op run alone with --out', () => {
    const file = join(dir, 'outs.json');
    const mine = join(dir, 'sink-expensive.bin');
    const csv = join(dir, 'sink-buys.csv');
    writeFileSync(
      file,
      JSON.stringify({
        sinks: [
          { name: 'all', op: 'stats' },
          { name: 'expensive', op: 'filter', options: { where: 'price > 110' }, out: mine },
          { name: 'buys', op: 'project', options: { fields: 'ts,qty' }, where: 'side == 1', out: csv },
        ],
      }),
    );
    const base = ['run', '--file', ticks, '--schema', TICKS, '--json'];
    const alone = join(dir, 'alone-expensive.bin');
    const filtered = json(cli([...base, '--op', 'filter', '--where', 'price > 110', '--out', alone])).result;
    const projected = join(dir, 'alone-buys.csv');
    expect(
      cli([...base, '--op', 'project', '--fields', 'ts,qty', '--where', 'side == 1', '--out', projected]).status,
    ).toBe(0);
    for (const [w, chunk] of [
      ['1', '64MiB'],
      ['3', '10000'],
    ]) {
      const doc = json(cli([...base, '--pipeline', file, '--workers', w!, '--chunk-size', chunk!]));
      expect(doc.result.expensive).toEqual(filtered);
      expect(readFileSync(mine).equals(readFileSync(alone))).toBe(true);
      expect(readFileSync(csv, 'utf8')).toBe(readFileSync(projected, 'utf8'));
    }
  });
});
