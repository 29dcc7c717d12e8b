// Hostile input, issue 12: options that silently did nothing (#4), booleans from the environment (#5),
// a field named __proto__ (#6), and from #15: `bigproc config` values, fractional and tiny chunk
// sizes, unicode field names. Everything runs through the real binary.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json, ROOT, TICKS, ticksFixture, type CliResult } from '../cli/helpers.js';
import { decodePartial, encodePartial } from '../../src/cluster/partial-codec.js';

const { dir, ticks } = ticksFixture(5_000, 12);
const base = ['run', '--file', ticks, '--schema', TICKS];
const KERNEL = join(ROOT, 'test', 'fixtures', 'assoc-sum.mjs');

/** exit 2 with exactly one line on stderr matching every pattern */
function usageError(r: CliResult, ...patterns: RegExp[]): void {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^bigproc: /);
  for (const p of patterns) expect(lines[0]).toMatch(p);
}

function file(name: string, content: string | Buffer | object): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content));
  return p;
}

/** A NumPy .npy (format 1.0, or 3.0 with UTF-8 names) with a structured dtype and these bytes. */
function npy(descr: string, records: number, data: Buffer, version: 1 | 3 = 1): Buffer {
  let dict = `{'descr': ${descr}, 'fortran_order': False, 'shape': (${records},), }`;
  const lenBytes = version === 1 ? 2 : 4;
  const enc = version === 1 ? 'latin1' : 'utf8';
  const fixed = 8 + lenBytes;
  const bodyLen = Buffer.byteLength(dict, enc) + 1;
  dict += `${' '.repeat((64 - ((fixed + bodyLen) % 64)) % 64)}\n`;
  const head = Buffer.alloc(fixed);
  Buffer.from('\x93NUMPY', 'latin1').copy(head);
  head[6] = version;
  head[7] = 0;
  const len = Buffer.byteLength(dict, enc);
  if (version === 1) head.writeUInt16LE(len, 8);
  else head.writeUInt32LE(len, 8);
  return Buffer.concat([head, Buffer.from(dict, enc), data]);
}

/** records of (i32, f64) with i32 = i - 2 and f64 = i / 2, for i in 0..n */
function i32f64(n: number): Buffer {
  const b = Buffer.alloc(n * 12);
  for (let i = 0; i < n; i++) {
    b.writeInt32LE(i - 2, i * 12);
    b.writeDoubleLE(i / 2, i * 12 + 4);
  }
  return b;
}

describe('#4 an option the chosen op does not use is an error naming the ops that take it', () => {
  it('--where with stats, hist, top, sample, checksum and a kernel', () => {
    for (const op of [
      [],
      ['--op', 'stats'],
      ['--op', 'hist', '--field', 'price'],
      ['--op', 'top', '--by', 'price'],
      ['--op', 'sample', '-n', '3'],
      ['--op', 'checksum'],
      ['--kernel', KERNEL],
    ]) {
      const name = op.length === 0 ? 'stats' : op[0] === '--kernel' ? 'kernel' : op[1];
      usageError(
        cli([...base, ...op, '--where', 'price > 110']),
        new RegExp(`--where is not used by --op ${name} \\(only by: filter, groupby, project, count, image\\)`),
        /command line/,
      );
    }
  });

  it('the ops that take --where still use it', () => {
    const all = json(cli([...base, '--op', 'count', '--json'])).result;
    const some = json(cli([...base, '--op', 'count', '--where', 'price > 110', '--json'])).result;
    expect(JSON.stringify(some)).not.toBe(JSON.stringify(all));
    expect(json(cli([...base, '--op', 'filter', '--where', 'price > 110', '--json'])).result.matched).toBeGreaterThan(
      0,
    );
  });

  it('says where the value came from: environment or settings file', () => {
    usageError(
      cli([...base, '--op', 'top', '--by', 'price'], { env: { BIGPROC_WHERE: 'side == 1' } }),
      /--where is not used by --op top/,
      /BIGPROC_WHERE/,
    );
    const cfg = file('where.json', { run: { where: 'side == 1' } });
    usageError(cli([...base, '--config', cfg]), /--where is not used by --op stats/, /settings file/);
    usageError(
      cli([...base, '--bins', '5', '--op', 'top', '--by', 'price']),
      /--bins is not used by --op top \(only by: hist\)/,
    );
    usageError(cli([...base, '--asc']), /--asc is not used by --op stats \(only by: top, image\)/);
    // a boolean set to false asks for nothing
    expect(cli([...base, '--quiet'], { env: { BIGPROC_ASC: 'false' } }).status).toBe(0);
  });

  it('--kernel/--pipeline alone pick their op; with another --op they are errors', () => {
    expect(json(cli([...base, '--kernel', KERNEL, '--json'])).op).toBe('kernel');
    usageError(
      cli([...base, '--op', 'stats', '--kernel', KERNEL]),
      /--kernel is not used by --op stats \(only by: kernel\)/,
    );
    const pipe = file('one.json', { sinks: [{ name: 's', op: 'stats' }] });
    expect(json(cli([...base, '--pipeline', pipe, '--json'])).op).toBe('pipeline');
    usageError(cli([...base, '--op', 'count', '--pipeline', pipe]), /--pipeline is not used by --op count/);
    usageError(cli([...base, '--pipeline', pipe, '--fields', 'price']), /--fields is not used by --op pipeline/);
  });

  it('run-level flags of a shared run without --manifest are errors', () => {
    for (const [flag, value] of [
      ['--grace', '5s'],
      ['--run-id', 'x'],
      ['--shard-size', '1MiB'],
      ['--max-attempts', '2'],
      ['--backoff', '2s'],
      ['--lease', '10s'],
    ]) {
      usageError(cli([...base, flag!, value!]), new RegExp(`${flag} is only used with --manifest`));
    }
    usageError(
      cli([...base], { env: { BIGPROC_GRACE: '5s' } }),
      /--grace is only used with --manifest/,
      /BIGPROC_GRACE/,
    );
    // --lease also times an --exclusive guard
    expect(cli([...base, '--lease', '10s', '--exclusive', `opts-${process.pid}`, '--quiet']).status).toBe(0);
    usageError(
      cli([...base, '--manifest', `file:${join(dir, 'm')}`, '--shard-count', '2', '--shard-index', '0']),
      /--shard-count .*cannot be combined with --manifest/,
    );
  });

  it('`bigproc config` refuses the same flags', () => {
    usageError(cli(['config', '--where', 'x > 1']), /--where is not used by --op stats/);
    usageError(cli(['config', '--grace', '1s']), /--grace is only used with --manifest/);
    expect(cli(['config', '--op', 'filter', '--where', 'x > 1']).status).toBe(0);
  });

  it('pipeline sink options are checked strictly against the sink op', () => {
    const run = (p: object) => cli([...base, '--pipeline', file('p.json', p), '--json']);
    usageError(
      run({ sinks: [{ name: 'st', op: 'stats', options: { feilds: 'price' } }] }),
      /sink "st": op stats has no option "feilds" \(valid: fields\)/,
    );
    usageError(
      run({ sinks: [{ name: 'g', op: 'groupby', options: { key: 'venue', out: 'x' } }] }),
      /sink "g": op groupby has no option "out"/,
    );
    usageError(
      run({ sinks: [{ name: 'h', op: 'hist', options: { field: 'price', bins: true } }] }),
      /sink "h": option "bins" must be a string or a number/,
    );
    usageError(
      run({ sinks: [{ name: 't', op: 'top', options: { by: 'price', asc: 'yes' } }] }),
      /option "asc" must be true or false/,
    );
    usageError(run({ sinks: [{ name: 's', op: 'stats', option: {} }] }), /sinks\[0\]: unknown key "option"/);
    usageError(run({ sinks: [{ name: 's', op: 'stats' }], extra: 1 }), /: unknown key "extra"/);
    usageError(run({ sinks: [{ name: 's', op: 'stats', options: [] }] }), /"options" must be an object/);
    // both spellings of a flag work, and take effect
    for (const key of ['max-groups', 'maxGroups']) {
      usageError(
        run({ sinks: [{ name: 'g', op: 'groupby', options: { key: 'qty', [key]: 3 } }] }),
        /max-groups|more than 3/,
      );
    }
    const ok = json(
      run({
        sinks: [
          { name: 'g', op: 'groupby', options: { key: 'side', 'max-groups': 3 } },
          { name: 't', op: 'top', options: { by: 'price', 'top-k': 2, asc: true } },
        ],
      }),
    );
    expect(ok.result.g.groups).toHaveLength(2);
    expect(ok.result.t.rows).toHaveLength(2);
    expect(ok.result.t.rows[0].price).toBeLessThanOrEqual(ok.result.t.rows[1].price);
  });
});

describe('#5 booleans from the environment', () => {
  const partial = file('partial.bin', Buffer.concat([Buffer.alloc(24 * 3), Buffer.alloc(5)]));
  const prun = (value: string) =>
    cli(['run', '--file', partial, '--schema', TICKS, '--json'], { env: { BIGPROC_ALLOW_PARTIAL: value } });

  it('false, 0, no, off (any case) turn the option off', () => {
    for (const v of ['false', '0', 'no', 'off', 'FALSE', 'Off', ' no ']) usageError(prun(v), /5 trailing bytes/);
  });

  it('true, 1, yes, on (any case) turn it on', () => {
    for (const v of ['true', '1', 'yes', 'on', 'TRUE', 'On']) expect(json(prun(v)).result.trailing_bytes, v).toBe(5);
  });

  it('anything else, empty included, is exit 2 naming the variable and the value', () => {
    usageError(prun(''), /BIGPROC_ALLOW_PARTIAL/, /received ""/);
    usageError(prun('maybe'), /BIGPROC_ALLOW_PARTIAL/, /"maybe"/, /true\/false, 1\/0, yes\/no or on\/off/);
    usageError(prun('2'), /BIGPROC_ALLOW_PARTIAL/);
  });

  it('the same for every boolean of every command', () => {
    const human = cli([...base], { env: { BIGPROC_JSON: '0', BIGPROC_QUIET: 'no' } });
    expect(human.status).toBe(0);
    expect(() => JSON.parse(human.stdout)).toThrow();
    expect(human.stderr).toMatch(/records/);
    expect(json(cli([...base], { env: { BIGPROC_JSON: 'yes' } })).op).toBe('stats');
    usageError(cli([...base], { env: { BIGPROC_QUIET: 'quietly' } }), /BIGPROC_QUIET/);
    usageError(cli(['config'], { env: { BIGPROC_JSON: 'nah' } }), /BIGPROC_JSON.*"nah"/);
    usageError(cli(['merge', join(dir, 'nothing.json')], { env: { BIGPROC_JSON: 'nah' } }), /BIGPROC_JSON/);
    usageError(cli([...base, '--op', 'top', '--by', 'price'], { env: { BIGPROC_ASC: 'maybe' } }), /BIGPROC_ASC/);
    const asc = json(
      cli([...base, '--op', 'top', '--by', 'price', '-k', '1', '--json'], { env: { BIGPROC_ASC: 'ON' } }),
    );
    const desc = json(
      cli([...base, '--op', 'top', '--by', 'price', '-k', '1', '--json'], { env: { BIGPROC_ASC: 'off' } }),
    );
    expect(asc.result.rows[0].price).toBeLessThan(desc.result.rows[0].price);
  });

  it('settings-file booleans stay strict', () => {
    usageError(cli([...base, '--config', file('b.json', { 'allow-partial': 'false' })]), /true or false/);
    usageError(cli([...base, '--config', file('b2.json', { quiet: 1 })]), /true or false/);
  });
});

describe('#6 a field named __proto__', () => {
  const SCHEMA = '__proto__:i32,b:f64';
  const data = file('proto.bin', i32f64(10));
  const layoutJson = file('proto-layout.json', {
    fields: [
      { name: '__proto__', type: 'i32' },
      { name: 'b', type: 'f64' },
    ],
  });
  const npyFile = file('proto.npy', npy("[('__proto__', '<i4'), ('b', '<f8')]", 10, i32f64(10)));
  const layouts: string[][] = [
    ['--file', data, '--schema', SCHEMA],
    ['--file', data, '--schema', `@${layoutJson}`],
    ['--file', npyFile],
  ];
  const r = (layout: string[], ...args: string[]) => json(cli(['run', ...layout, '--json', ...args])).result;

  it('is in stats, top, sample, hist, filter and groupby results, from --schema, @layout.json and .npy', () => {
    for (const l of layouts) {
      const stats = r(l);
      expect(Object.keys(stats.fields)).toEqual(['__proto__', 'b']);
      // biome-ignore lint/suspicious/noProto: a field named __proto__ is the data under test, not the prototype
      expect(stats.fields.__proto__).toMatchObject({ count: 10, sum: 25, min: -2, max: 7 });
      expect(r(l, '--op', 'top', '--by', '__proto__', '-k', '1').rows).toEqual([
        JSON.parse('{"index": 9, "__proto__": 7, "b": 4.5}'),
      ]);
      expect(r(l, '--op', 'top', '--by', 'b', '-k', '1').rows[0]).toHaveProperty('__proto__', 7);
      const sample = r(l, '--op', 'sample', '-n', '2').rows;
      for (const row of sample) expect(Object.keys(row)).toEqual(['index', '__proto__', 'b']);
      expect(r(l, '--op', 'hist', '--field', '__proto__', '--bins', '9').counts).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 2]);
      expect(r(l, '--op', 'filter', '--where', '__proto__ > 5').matched).toBe(2);
      const g = r(
        l,
        '--op',
        'groupby',
        '--key',
        '__proto__',
        '--agg',
        'count,sum(__proto__)',
        '--where',
        '__proto__ < 0',
      );
      expect(g.groups).toEqual([
        { key: [-2], count: 1, 'sum(__proto__)': -2 },
        { key: [-1], count: 1, 'sum(__proto__)': -1 },
      ]);
    }
  });

  it('is in project output', () => {
    for (const l of layouts) {
      const out = cli([
        'run',
        ...l,
        '--op',
        'project',
        '--format',
        'ndjson',
        '--out',
        '-',
        '--quiet',
        '--where',
        '__proto__ == 0',
      ]);
      expect(out.status, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout.trim())).toEqual(JSON.parse('{"__proto__": 0, "b": 1}'));
      expect(Object.keys(JSON.parse(out.stdout.trim()))).toEqual(['__proto__', 'b']);
      const csv = cli(['run', ...l, '--op', 'project', '--out', '-', '--quiet', '--fields', '__proto__']);
      expect(csv.stdout.split('\n').slice(0, 2)).toEqual(['__proto__', '-2']);
    }
  });

  it('a "__proto__" key in the settings file or a pipeline file is an unknown key, exit 2', () => {
    usageError(
      cli([...base, '--config', file('p1.json', '{"__proto__": {"workers": "2"}}')]),
      /unknown section "__proto__"/,
    );
    usageError(cli([...base, '--config', file('p2.json', '{"__proto__": 2}')]), /unknown setting "__proto__"/);
    usageError(
      cli([...base, '--config', file('p3.json', '{"run": {"__proto__": "x"}}')]),
      /unknown setting "run.__proto__"/,
    );
    usageError(
      cli(['config', '--config', file('p4.json', '{"__proto__": {"quiet": true}}')]),
      /unknown section "__proto__"/,
    );
    const pipe = (text: string) => cli([...base, '--pipeline', file('pp.json', text)]);
    usageError(
      pipe('{"sinks": [{"name": "s", "op": "stats", "options": {"__proto__": {"fields": "qty"}}}]}'),
      /op stats has no option "__proto__"/,
    );
    usageError(
      pipe('{"sinks": [{"name": "s", "op": "stats", "__proto__": {}}]}'),
      /sinks\[0\]: unknown key "__proto__"/,
    );
    usageError(
      pipe('{"__proto__": {"sinks": []}, "sinks": [{"name": "s", "op": "stats"}]}'),
      /: unknown key "__proto__"/,
    );
  });

  it('a sink named __proto__ keeps its result; --op names from Object.prototype are unknown ops', () => {
    const doc = json(
      cli([...base, '--json', '--pipeline', file('pn.json', { sinks: [{ name: '__proto__', op: 'count' }] })]),
    );
    expect(Object.keys(doc.result)).toEqual(['__proto__']);
    for (const op of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
      usageError(cli([...base, '--op', op]), /for --op but received/);
  });

  it('partial results keep a "__proto__" key through the codec (multi-host and static parts)', () => {
    const own = Object.fromEntries([
      ['__proto__', { n: 5n }],
      ['x', -0],
    ]);
    const back = decodePartial(encodePartial(own)) as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(['__proto__', 'x']);
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')!.value).toEqual({ n: 5n });
    expect(Object.is(back.x, -0)).toBe(true);
    const tagged = Object.fromEntries([
      ['__proto__', 1],
      ['$odd', 2],
    ]);
    expect(Object.keys(decodePartial(encodePartial(tagged)) as object)).toEqual(['__proto__', '$odd']);
  });
});

describe('#15 `bigproc config` validates, chunk sizes, unicode field names', () => {
  it('`bigproc config` refuses what run refuses', () => {
    usageError(cli(['config', '--workers', '-4']), /--workers/, /"-4"/);
    usageError(cli(['config'], { env: { BIGPROC_WORKERS: '0' } }), /--workers/);
    usageError(cli(['config', '--config', file('w.json', { workers: -4 })]), /--workers/);
    usageError(cli(['config', '--chunk-size', '1.5']), /--chunk-size/, /whole number of bytes/);
    usageError(cli(['config', '--chunk-size', '0']), /--chunk-size/);
    usageError(cli(['config', '--backend', 'quantum']), /--backend/);
    usageError(cli(['config', '--op', 'nope']), /--op/);
    usageError(cli(['config', '--manifest', 'file:/tmp/x', '--lease', '1ms']), /--lease/);
    expect(cli(['config', '--workers', '4', '--chunk-size', '1.5KiB']).status).toBe(0);
  });

  it('a size that is not a whole number of bytes is refused', () => {
    for (const s of ['1.5', '1.3KiB', '0.1B', '1.0001KB'])
      usageError(cli([...base, '--chunk-size', s]), /--chunk-size/, /whole number of bytes/);
    expect(json(cli([...base, '--chunk-size', '1.5KiB', '--json'])).metrics.chunks).toBe(Math.ceil(5000 / 64));
    usageError(cli([...base, '--manifest', `file:${join(dir, 'm2')}`, '--shard-size', '2.5']), /--shard-size/);
  });

  it('tiny chunks still work, with one warning line when they make a very large plan', () => {
    const many = file('many.bin', Buffer.alloc(150_000));
    const tiny = cli(['run', '--file', many, '--schema', 'a:u8', '--chunk-size', '1', '--json', '--op', 'count']);
    expect(tiny.status).toBe(0);
    expect(tiny.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^bigproc: warning: --chunk-size 1 cuts the file into 150000 chunks/),
    ]);
    const big = cli(['run', '--file', many, '--schema', 'a:u8', '--json', '--op', 'count']);
    expect(big.stderr).toBe('');
    expect(JSON.parse(tiny.stdout).result).toEqual(JSON.parse(big.stdout).result);
    // a few hundred tiny chunks: no warning
    expect(cli([...base, '--chunk-size', '24', '--quiet']).stderr).toBe('');
  });

  it('unicode field names are kept exactly, in --schema, @layout.json and .npy (v1 latin-1 and v3 UTF-8)', () => {
    const data = file('u.bin', i32f64(6));
    const v3 = file('u3.npy', npy("[('größe', '<i4'), ('名前', '<f8')]", 6, i32f64(6), 3));
    const v1 = file('u1.npy', npy("[('größe', '<i4'), ('température', '<f8')]", 6, i32f64(6), 1));
    const lj = file('u.json', {
      fields: [
        { name: 'größe', type: 'i32' },
        { name: '名前', type: 'f64' },
      ],
    });
    for (const [layout, second] of [
      [['--schema', 'größe:i32,名前:f64'], '名前'],
      [['--schema', `@${lj}`], '名前'],
      [[], '名前'],
      [[], 'température'],
    ] as const) {
      const f = layout.length ? data : second === '名前' ? v3 : v1;
      const run = (...a: string[]) => json(cli(['run', '--file', f, ...layout, '--json', ...a]));
      const doc = run();
      expect(doc.layout.fields.map((x: { name: string }) => x.name)).toEqual(['größe', second]);
      expect(Object.keys(doc.result.fields)).toEqual(['größe', second]);
      expect(run('--op', 'filter', '--where', `größe >= 1 && ${second} < 2`).result.matched).toBe(1);
      expect(run('--op', 'top', '--by', second, '-k', '1').result.rows).toEqual([
        { index: 5, größe: 3, [second]: 2.5 },
      ]);
      expect(
        run('--op', 'groupby', '--key', 'größe', '--agg', `max(${second})`, '--where', 'größe == 0').result.groups,
      ).toEqual([{ key: [0], [`max(${second})`]: 1 }]);
      expect(run('--op', 'hist', '--field', second, '--bins', '5').result.field).toBe(second);
    }
  });
});
