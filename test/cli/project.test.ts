// project through the real binary: identical output for any worker count, chunk size and backend,
// the result document, --where against filter, --out - piped through head, bad options.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cli, genTicks, json, tempDir, TICKS } from './helpers.js';

let dir: string;
let cleanup: () => void;
let ticks: string;
const N = 60_000;
beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  ticks = join(dir, 'ticks.bin');
  genTicks(ticks, N, 9);
});
afterAll(() => cleanup());

const base = () => ['run', '--file', ticks, '--schema', TICKS, '--op', 'project', '--quiet'];

describe('project (CLI)', () => {
  for (const format of ['csv', 'ndjson', 'bin']) {
    it(`${format}: the same bytes for workers 1/2/3, several chunk sizes and both backends`, () => {
      let ref: Buffer | null = null;
      let refResult: unknown = null;
      const runs: [string, string, string][] = [['1', '64MiB', 'native'], ['2', '96KiB', 'native'], ['3', '10000B', 'native'], ['2', '37KiB', 'js'], ['3', '1MiB', 'js']];
      for (const [workers, chunk, backend] of runs) {
        const out = join(dir, `p-${format}-${workers}-${chunk}-${backend}`);
        const doc = json(cli([...base(), '--format', format, '--fields', 'ts,price,side', '--out', out, '--workers', workers, '--chunk-size', chunk, '--backend', backend, '--json']));
        const bytes = readFileSync(out);
        expect(doc.result.bytes).toBe(bytes.length);
        if (ref === null) {
          ref = bytes;
          refResult = doc.result;
        } else {
          expect(bytes.equals(ref)).toBe(true);
          expect(doc.result).toEqual(refResult);
        }
      }
      expect(refResult).toMatchObject({ records: N, format, fields: ['ts', 'price', 'side'] });
      if (format === 'csv') {
        const text = ref!.toString();
        expect(text.startsWith('ts,price,side\n')).toBe(true);
        expect(text.split('\n').length).toBe(N + 2);
        expect(text.match(/ts,price,side/g)!.length).toBe(1);
      }
      if (format === 'bin') expect(ref!.length).toBe(N * 17);
    });
  }

  it('--where writes exactly the records filter matches; default --fields is every field', () => {
    const where = 'price > 105 && side == 1';
    const matched = json(cli(['run', '--file', ticks, '--schema', TICKS, '--op', 'filter', '--where', where, '--json', '--quiet'])).result.matched;
    const out = join(dir, 'w.ndjson');
    const doc = json(cli([...base(), '--format', 'ndjson', '--where', where, '--out', out, '--json', '--chunk-size', '50KiB']));
    expect(doc.result.records).toBe(matched);
    expect(doc.result.fields).toEqual(['ts', 'price', 'qty', 'side', 'flags', 'venue']);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBe(matched);
    for (const l of lines) {
      const o = JSON.parse(l);
      expect(o.price > 105 && o.side === 1).toBe(true);
    }
    // the same subset through a filter --out, then projected whole
    const sub = join(dir, 'sub.bin');
    expect(cli(['run', '--file', ticks, '--schema', TICKS, '--op', 'filter', '--where', where, '--out', sub, '--quiet']).status).toBe(0);
    const out2 = join(dir, 'w2.ndjson');
    expect(cli(['run', '--file', sub, '--schema', TICKS, '--op', 'project', '--format', 'ndjson', '--out', out2, '--quiet']).status).toBe(0);
    expect(readFileSync(out2).equals(readFileSync(out))).toBe(true);
  });

  it('bin output reads back with the schema the result gives', () => {
    const out = join(dir, 'p.bin');
    const doc = json(cli([...base(), '--format', 'bin', '--fields', 'venue,price', '--out', out, '--json']));
    expect(doc.result).toMatchObject({ record_size: 10, schema: 'venue:u16,price:f64', bytes: N * 10 });
    const a = json(cli(['run', '--file', out, '--schema', doc.result.schema, '--op', 'stats', '--json', '--quiet'])).result.fields;
    const b = json(cli(['run', '--file', ticks, '--schema', TICKS, '--op', 'stats', '--fields', 'venue,price', '--json', '--quiet'])).result.fields;
    expect(a).toEqual(b);
  });

  it('--out - streams to stdout (result on stderr) and exits 0 when head closes the pipe', () => {
    const file = join(dir, 'f.csv');
    expect(cli([...base(), '--format', 'csv', '--out', file]).status).toBe(0);
    const r = spawnSync(process.execPath, [BIN, ...base(), '--format', 'csv', '--out', '-', '--json', '--chunk-size', '100KiB'], { maxBuffer: 1 << 28 });
    expect(r.status).toBe(0);
    expect(Buffer.compare(r.stdout, readFileSync(file))).toBe(0);
    expect(JSON.parse(r.stderr.toString()).result.bytes).toBe(r.stdout.length);
    const cmd = `"${process.execPath}" "${BIN}" run --file "${ticks}" --schema '${TICKS}' --op project --format csv --out - --chunk-size 16KiB -q | head -n 3; echo "status=\${PIPESTATUS[0]}"`;
    const h = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
    const lines = h.stdout.split('\n');
    expect(lines[0]).toBe('ts,price,qty,side,flags,venue');
    expect(lines.length).toBe(5);
    expect(lines[3]).toBe('status=0');
    expect(h.stderr).toBe('');
  });

  it('from a pipe (--file -): the same bytes as from the file', () => {
    const file = join(dir, 'stdin-ref.csv');
    expect(cli([...base(), '--format', 'csv', '--fields', 'price,venue', '--out', file]).status).toBe(0);
    const r = spawnSync(process.execPath, [BIN, 'run', '--file', '-', '--schema', TICKS, '--op', 'project', '--format', 'csv', '--fields', 'price,venue', '--out', '-', '--chunk-size', '40KiB', '--workers', '2', '--quiet'],
      { input: readFileSync(ticks), maxBuffer: 1 << 28 });
    expect(r.status).toBe(0);
    expect(Buffer.compare(r.stdout, readFileSync(file))).toBe(0);
  });

  it('bad options exit 2 with one line naming the flag and value, and leave no file behind', () => {
    const cases: [string[], RegExp][] = [
      [[], /--op project needs --out PATH/],
      [['--out', join(dir, 'bad1'), '--format', 'xml'], /Expected one of csv, ndjson, bin for --format but received "xml"/],
      [['--out', join(dir, 'bad2'), '--fields', 'ts,nope'], /for --fields but received "nope"/],
      [['--out', join(dir, 'bad3'), '--where', 'price >'], /--where/],
    ];
    for (const [extra, re] of cases) {
      const r = cli([...base(), ...extra]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n').length).toBe(1);
    }
    expect(readdirSync(dir).filter((f) => f.startsWith('bad') || f.startsWith('.bad'))).toEqual([]);
    expect(existsSync(join(dir, 'bad1'))).toBe(false);
  });
});
