// project through the real binary: identical output for any worker count, chunk size and backend,
// the result document, --where against filter, --out - piped through head, bad options; --format
// columns: a directory of one file per field, written atomically (refused over a non-empty one, gone
// after SIGINT).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
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
      const runs: [string, string, string][] = [
        ['1', '64MiB', 'native'],
        ['2', '96KiB', 'native'],
        ['3', '10000B', 'native'],
        ['2', '37KiB', 'js'],
        ['3', '1MiB', 'js'],
      ];
      for (const [workers, chunk, backend] of runs) {
        const out = join(dir, `p-${format}-${workers}-${chunk}-${backend}`);
        const doc = json(
          cli([
            ...base(),
            '--format',
            format,
            '--fields',
            'ts,price,side',
            '--out',
            out,
            '--workers',
            workers,
            '--chunk-size',
            chunk,
            '--backend',
            backend,
            '--json',
          ]),
        );
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
    const matched = json(
      cli(['run', '--file', ticks, '--schema', TICKS, '--op', 'filter', '--where', where, '--json', '--quiet']),
    ).result.matched;
    const out = join(dir, 'w.ndjson');
    const doc = json(
      cli([...base(), '--format', 'ndjson', '--where', where, '--out', out, '--json', '--chunk-size', '50KiB']),
    );
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
    expect(
      cli(['run', '--file', ticks, '--schema', TICKS, '--op', 'filter', '--where', where, '--out', sub, '--quiet'])
        .status,
    ).toBe(0);
    const out2 = join(dir, 'w2.ndjson');
    expect(
      cli(['run', '--file', sub, '--schema', TICKS, '--op', 'project', '--format', 'ndjson', '--out', out2, '--quiet'])
        .status,
    ).toBe(0);
    expect(readFileSync(out2).equals(readFileSync(out))).toBe(true);
  });

  it('bin output reads back with the schema the result gives', () => {
    const out = join(dir, 'p.bin');
    const doc = json(cli([...base(), '--format', 'bin', '--fields', 'venue,price', '--out', out, '--json']));
    expect(doc.result).toMatchObject({ record_size: 10, schema: 'venue:u16,price:f64', bytes: N * 10 });
    const a = json(cli(['run', '--file', out, '--schema', doc.result.schema, '--op', 'stats', '--json', '--quiet']))
      .result.fields;
    const b = json(
      cli(['run', '--file', ticks, '--schema', TICKS, '--op', 'stats', '--fields', 'venue,price', '--json', '--quiet']),
    ).result.fields;
    expect(a).toEqual(b);
  });

  it('--out - streams to stdout (result on stderr) and exits 0 when head closes the pipe', () => {
    const file = join(dir, 'f.csv');
    expect(cli([...base(), '--format', 'csv', '--out', file]).status).toBe(0);
    const r = spawnSync(
      process.execPath,
      [BIN, ...base(), '--format', 'csv', '--out', '-', '--json', '--chunk-size', '100KiB'],
      { maxBuffer: 1 << 28 },
    );
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
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        'run',
        '--file',
        '-',
        '--schema',
        TICKS,
        '--op',
        'project',
        '--format',
        'csv',
        '--fields',
        'price,venue',
        '--out',
        '-',
        '--chunk-size',
        '40KiB',
        '--workers',
        '2',
        '--quiet',
      ],
      { input: readFileSync(ticks), maxBuffer: 1 << 28 },
    );
    expect(r.status).toBe(0);
    expect(Buffer.compare(r.stdout, readFileSync(file))).toBe(0);
  });

  it('bad options exit 2 with one line naming the flag and value, and leave no file behind', () => {
    const cases: [string[], RegExp][] = [
      [[], /--op project needs --out PATH/],
      [
        ['--out', join(dir, 'bad1'), '--format', 'xml'],
        /Expected one of csv, ndjson, bin, columns for --format but received "xml"/,
      ],
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

describe('project --format columns (CLI)', () => {
  // TICKS: ts:i64 @0, price:f64 @8, qty:i32 @16, side:u8 @20, flags:u8 @21, venue:u16 @22 (24 bytes)
  const FIELDS: Record<string, { offset: number; size: number }> = {
    ts: { offset: 0, size: 8 },
    price: { offset: 8, size: 8 },
    qty: { offset: 16, size: 4 },
    side: { offset: 20, size: 1 },
    flags: { offset: 21, size: 1 },
    venue: { offset: 22, size: 2 },
  };
  /** Each field's bytes of the records (matching `keep`), straight from the input file. */
  const columnsOf = (names: string[], keep: (dv: DataView, base: number) => boolean = () => true): Buffer[] => {
    const data = readFileSync(ticks);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const bases: number[] = [];
    for (let base = 0; base + 24 <= data.length; base += 24) if (keep(dv, base)) bases.push(base);
    return names.map((n) => {
      const f = FIELDS[n]!;
      return Buffer.concat(bases.map((b) => data.subarray(b + f.offset, b + f.offset + f.size)));
    });
  };
  const siblings = (parent: string, name: string) =>
    readdirSync(parent).filter((f) => f.startsWith(`.${name}.bigproc-`));

  for (const where of [undefined, 'price > 105 && side == 1']) {
    it(`${where ? 'with --where: ' : ''}the fields' bytes per file, the same for workers 1/2/3, several chunk sizes and both backends`, () => {
      const names = ['venue', 'ts', 'price', 'side'];
      const want = columnsOf(
        names,
        where ? (dv, b) => dv.getFloat64(b + 8, true) > 105 && dv.getUint8(b + 20) === 1 : undefined,
      );
      const records = want[3]!.length;
      expect(records).toBeGreaterThan(where ? 1000 : N - 1);
      const runs: [string, string, string][] = [
        ['1', '64MiB', 'native'],
        ['2', '96KiB', 'native'],
        ['3', '10000B', 'native'],
        ['2', '37KiB', 'js'],
        ['3', '1MiB', 'js'],
      ];
      let refResult: unknown = null;
      for (const [workers, chunk, backend] of runs) {
        const out = join(dir, `cols-${where ? 'w' : 'all'}-${workers}-${chunk}-${backend}`);
        const doc = json(
          cli([
            ...base(),
            '--format',
            'columns',
            '--fields',
            names.join(','),
            ...(where ? ['--where', where] : []),
            '--out',
            out,
            '--workers',
            workers,
            '--chunk-size',
            chunk,
            '--backend',
            backend,
            '--json',
          ]),
        );
        expect(readdirSync(out).sort()).toEqual(['_schema.json', 'price.bin', 'side.bin', 'ts.bin', 'venue.bin']);
        names.forEach((n, i) => {
          expect(readFileSync(join(out, `${n}.bin`)).equals(want[i]!)).toBe(true);
        });
        const manifest = JSON.parse(readFileSync(join(out, '_schema.json'), 'utf8'));
        expect(manifest).toMatchObject({ format: 'bigproc-columns', version: 1, records });
        expect(
          manifest.columns.map((c: { name: string; file: string; type: string; byte_order: string; bytes: number }) => [
            c.name,
            c.file,
            c.type,
            c.byte_order,
            c.bytes,
          ]),
        ).toEqual([
          ['venue', 'venue.bin', 'u16', 'little', records * 2],
          ['ts', 'ts.bin', 'i64', 'little', records * 8],
          ['price', 'price.bin', 'f64', 'little', records * 8],
          ['side', 'side.bin', 'u8', 'little', records],
        ]);
        expect(doc.result).toMatchObject({ records, format: 'columns', fields: names, bytes: records * 19 });
        if (refResult === null) refResult = doc.result;
        else expect(doc.result).toEqual(refResult);
        expect(siblings(dir, `cols-${where ? 'w' : 'all'}`)).toEqual([]);
      }
    });
  }

  it('a column file reads back with the schema its manifest gives', () => {
    const out = join(dir, 'cols-stats');
    const doc = json(cli([...base(), '--format', 'columns', '--fields', 'qty,price', '--out', out, '--json']));
    expect(doc.result.columns).toEqual([
      { name: 'qty', file: 'qty.bin', schema: 'qty:i32' },
      { name: 'price', file: 'price.bin', schema: 'price:f64' },
    ]);
    const want = json(
      cli(['run', '--file', ticks, '--schema', TICKS, '--op', 'stats', '--fields', 'qty,price', '--json', '--quiet']),
    ).result.fields;
    for (const c of JSON.parse(readFileSync(join(out, '_schema.json'), 'utf8')).columns) {
      const got = json(
        cli(['run', '--file', join(out, c.file), '--schema', c.schema, '--op', 'stats', '--json', '--quiet']),
      ).result.fields;
      expect(got[c.name]).toEqual(want[c.name]);
    }
  });

  it('from a pipe (--file -): the same files as from the file', () => {
    const ref = join(dir, 'cols-pipe-ref');
    expect(
      cli([...base(), '--format', 'columns', '--fields', 'price,venue', '--where', 'qty < 500', '--out', ref]).status,
    ).toBe(0);
    const out = join(dir, 'cols-pipe');
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        'run',
        '--file',
        '-',
        '--schema',
        TICKS,
        '--op',
        'project',
        '--format',
        'columns',
        '--fields',
        'price,venue',
        '--where',
        'qty < 500',
        '--out',
        out,
        '--chunk-size',
        '40KiB',
        '--workers',
        '2',
        '--quiet',
      ],
      { input: readFileSync(ticks), maxBuffer: 1 << 28 },
    );
    expect(r.status).toBe(0);
    for (const f of ['price.bin', 'venue.bin', '_schema.json'])
      expect(readFileSync(join(out, f)).equals(readFileSync(join(ref, f)))).toBe(true);
  });

  it('an empty input: empty column files and a manifest of 0 records', () => {
    const empty = join(dir, 'empty.bin');
    writeFileSync(empty, '');
    const out = join(dir, 'cols-empty');
    const doc = json(
      cli([
        'run',
        '--file',
        empty,
        '--schema',
        TICKS,
        '--op',
        'project',
        '--format',
        'columns',
        '--fields',
        'ts',
        '--out',
        out,
        '--json',
        '--quiet',
      ]),
    );
    expect(doc.result).toMatchObject({ records: 0, bytes: 0 });
    expect(statSync(join(out, 'ts.bin')).size).toBe(0);
    expect(JSON.parse(readFileSync(join(out, '_schema.json'), 'utf8')).records).toBe(0);
  });

  it('--out - and an existing non-empty directory exit 2 with one line; an empty directory is replaced', () => {
    const dash = cli([...base(), '--format', 'columns', '--out', '-']);
    expect(dash.status).toBe(2);
    expect(dash.stdout).toBe('');
    expect(dash.stderr.trim().split('\n')).toEqual([
      'bigproc: Expected a directory path with --format columns (one file per field; stdout cannot hold them) for --out but received "-"',
    ]);

    const full = join(dir, 'cols-full');
    mkdirSync(full);
    writeFileSync(join(full, 'mine.txt'), 'keep me');
    for (const backend of ['native', 'js']) {
      const r = cli([...base(), '--format', 'columns', '--fields', 'ts', '--out', full, '--backend', backend]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/cannot write --out ".*cols-full": the directory is not empty/);
    }
    expect(readdirSync(full)).toEqual(['mine.txt']);
    expect(siblings(dir, 'cols-full')).toEqual([]);

    const file = join(dir, 'cols-a-file');
    writeFileSync(file, 'x');
    const f = cli([...base(), '--format', 'columns', '--out', file]);
    expect(f.status).toBe(2);
    expect(f.stderr).toMatch(/not a directory/);
    expect(readFileSync(file, 'utf8')).toBe('x');

    const empty = join(dir, 'cols-was-empty');
    mkdirSync(empty);
    expect(cli([...base(), '--format', 'columns', '--fields', 'side', '--out', empty]).status).toBe(0);
    expect(readdirSync(empty).sort()).toEqual(['_schema.json', 'side.bin']);
    expect(readFileSync(join(empty, 'side.bin')).equals(columnsOf(['side'])[0]!)).toBe(true);
  });

  it('SIGINT mid-run exits 130 and leaves neither the directory nor its temp directory', async () => {
    const parent = join(dir, 'sigint');
    mkdirSync(parent);
    const out = join(parent, 'cols');
    // Records from a pipe that stays open: the run is certainly mid-way (some columns written, more to
    // come) when the signal arrives.
    const child = spawn(
      process.execPath,
      [
        BIN,
        'run',
        '--file',
        '-',
        '--schema',
        TICKS,
        '--workers',
        '2',
        '--chunk-size',
        '16KiB',
        '--op',
        'project',
        '--format',
        'columns',
        '--out',
        out,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    child.stdin!.on('error', () => {});
    child.stdin!.write(readFileSync(ticks).subarray(0, 24 * 20_000));
    await waitFor(() =>
      readdirSync(parent).some((d) => {
        try {
          return d.startsWith('.cols.bigproc-') && statSync(join(parent, d, 'ts.bin')).size > 0;
        } catch {
          return false;
        }
      }),
    );
    child.kill('SIGINT');
    const code = await exited;
    expect({ code, stderr }).toEqual({ code: 130, stderr: 'bigproc: interrupted (SIGINT)\n' });
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 3000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition never became true');
}
