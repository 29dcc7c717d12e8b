// Hostile input, part 1: what --out may and may not write over, failed writes, inputs that are not
// files, unbounded reads of "small" files, signals and temp files. Through the real binary.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BIN, TICKS, cli, json, tempDir, genTicks } from '../cli/helpers.js';
import { parseNpyHeader } from '../../src/layout/npy.js';

const { dir, cleanup } = tempDir();
afterAll(() => cleanup());
const ticks = join(dir, 'ticks.bin');
genTicks(ticks, 50_000, 3);
const FILTER = ['run', '--file', ticks, '--schema', TICKS, '--op', 'filter', '--where', 'price > 105'];
const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const ORIGINAL = digest(ticks);
const expectedOut = (() => {
  const out = join(dir, 'expected.bin');
  expect(cli([...FILTER, '--out', out, '-q']).status).toBe(0);
  return readFileSync(out);
})();

/** Run bigproc with stdin and stdout bound to the given files (paths opened here). */
function cliWith(args: string[], io: { stdin?: string; stdout?: string }) {
  const fin = io.stdin ? openSync(io.stdin, 'r') : 'ignore';
  const fout = io.stdout ? openSync(io.stdout, 'w') : 'pipe';
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], { stdio: [fin, fout, 'pipe'], encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr, stdout: r.stdout ?? '' };
  } finally {
    if (typeof fin === 'number') closeSync(fin);
    if (typeof fout === 'number') closeSync(fout);
  }
}

function oneLine(stderr: string, pattern: RegExp): void {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^bigproc: /);
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

/** A device node of our own (the same as /dev/null), never the machine's: null when mknod is not allowed. */
function ownNullDevice(name: string): string | null {
  const path = join(dir, name);
  const r = spawnSync('mknod', [path, 'c', '1', '3']);
  return r.status === 0 ? path : null;
}

describe('--out never destroys the input', () => {
  const copies: [string, (d: string) => string[]][] = [
    ['the same path', () => ['--out', ticks]],
    [
      'a path through ..',
      (d) => {
        mkdirSync(join(d, 'sub'), { recursive: true });
        return ['--out', join(d, 'sub', '..', 'ticks.bin')];
      },
    ],
    [
      'a symlink to it',
      (d) => {
        symlinkSync(ticks, join(d, 'link-to-ticks'));
        return ['--out', join(d, 'link-to-ticks')];
      },
    ],
    [
      'a hard link to it',
      (d) => {
        linkSync(ticks, join(d, 'hard-ticks'));
        return ['--out', join(d, 'hard-ticks')];
      },
    ],
    ['a manifest run', (d) => ['--out', ticks, '--manifest', `file:${join(d, 'm')}`]],
    ['a static part run', () => ['--out', ticks, '--shard-count', '1', '--shard-index', '0']],
  ];
  for (const [what, extra] of copies) {
    it(`refuses ${what} with exit 2 before any work, the input intact`, () => {
      const r = cli([...FILTER, ...extra(dir)]);
      expect(r.status).toBe(2);
      oneLine(r.stderr, /same file as --file/);
      expect(digest(ticks)).toBe(ORIGINAL);
    });
  }

  it('refuses the file behind stdin (--file -)', () => {
    const r = cliWith(
      ['run', '--file', '-', '--schema', TICKS, '--op', 'filter', '--where', 'price > 105', '--out', ticks],
      { stdin: ticks },
    );
    expect(r.status).toBe(2);
    oneLine(r.stderr, /same file as --file/);
    expect(digest(ticks)).toBe(ORIGINAL);
  });

  it('refuses any other file the run reads: the --schema file, the pipeline, the kernel', () => {
    const layout = join(dir, 'layout.json');
    writeFileSync(
      layout,
      JSON.stringify({ fields: TICKS.split(',').map((f) => ({ name: f.split(':')[0], type: f.split(':')[1] })) }),
    );
    const pipe = join(dir, 'p.json');
    writeFileSync(pipe, JSON.stringify({ sinks: [{ name: 'f', op: 'filter', options: { where: 'price > 105' } }] }));
    const kernel = join(dir, 'k.mjs');
    writeFileSync(
      kernel,
      'export const init = () => 0; export const chunk = (v, s) => s + v.length; export const merge = (a, b) => a + b; export const finalize = (s) => s;\n',
    );
    for (const [args, role] of [
      [
        ['run', '--file', ticks, '--schema', `@${layout}`, '--op', 'filter', '--where', 'price > 105', '--out', layout],
        /--schema file/,
      ],
      [
        [
          'run',
          '--file',
          ticks,
          '--schema',
          TICKS,
          '--op',
          'filter',
          '--where',
          'price > 105',
          '--pipeline',
          pipe,
          '--out',
          pipe,
        ],
        /--pipeline|not used|not supported/,
      ],
      [
        [
          'run',
          '--file',
          ticks,
          '--schema',
          TICKS,
          '--op',
          'filter',
          '--where',
          'price > 105',
          '--kernel',
          kernel,
          '--out',
          kernel,
        ],
        /--kernel|not used|not supported/,
      ],
    ] as const) {
      const before = readFileSync(args[args.length - 1]!);
      const r = cli([...args]);
      expect(r.status, r.stderr).toBe(2);
      oneLine(r.stderr, role);
      expect(readFileSync(args[args.length - 1]!).equals(before)).toBe(true);
    }
  });
});

describe('--out and what is at the path', () => {
  it('a regular file is replaced atomically and keeps its mode', () => {
    for (const mode of [0o444, 0o600, 0o640]) {
      const out = join(dir, `mode-${mode.toString(8)}.bin`);
      writeFileSync(out, 'old');
      chmodSync(out, mode);
      expect(cli([...FILTER, '--out', out, '-q']).status).toBe(0);
      expect(statSync(out).mode & 0o777).toBe(mode);
      expect(readFileSync(out).equals(expectedOut)).toBe(true);
    }
  });

  it('a symlink is followed: the link stays, its target is replaced (a dangling one is created)', () => {
    const target = join(dir, 'target.bin');
    writeFileSync(target, 'old');
    const link = join(dir, 'link.bin');
    symlinkSync(target, link);
    expect(cli([...FILTER, '--out', link, '-q']).status).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target).equals(expectedOut)).toBe(true);
    const dangling = join(dir, 'dangling.bin');
    symlinkSync(join(dir, 'not-yet.bin'), dangling);
    expect(cli([...FILTER, '--out', dangling, '-q']).status).toBe(0);
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'not-yet.bin')).equals(expectedOut)).toBe(true);
  });

  it('a FIFO is written directly, streamed, and stays a FIFO', async () => {
    const fifo = join(dir, 'out.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    const got: Buffer[] = [];
    reader.stdout.on('data', (b: Buffer) => got.push(b));
    const done = new Promise((r) => reader.on('close', r));
    const w = spawn(process.execPath, [BIN, ...FILTER, '--out', fifo, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const code = await new Promise((r) => w.on('close', r));
    await done;
    expect(code).toBe(0);
    expect(Buffer.concat(got).equals(expectedOut)).toBe(true);
    expect(statSync(fifo).isFIFO()).toBe(true);
  });

  it('a character device is written directly and stays a device (our own node, not the real /dev/null)', (ctx) => {
    const dev = ownNullDevice('null-dev');
    if (!dev) return ctx.skip(); // mknod not permitted here
    expect(cli([...FILTER, '--out', dev, '-q']).status).toBe(0);
    expect(statSync(dev).isCharacterDevice()).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('null-dev.bigproc-'))).toEqual([]);
  });

  it('/dev/stdout and /dev/fd/1 stream to stdout like --out -', () => {
    for (const path of ['-', '/dev/stdout', '/dev/fd/1']) {
      const r = spawnSync(process.execPath, [BIN, ...FILTER, '--out', path, '-q'], { maxBuffer: 1 << 26 });
      expect(r.status, String(r.stderr)).toBe(0);
      expect(Buffer.from(r.stdout).equals(expectedOut)).toBe(true);
    }
  });

  it('a directory, an empty path and a missing parent are refused with exit 2 before any work', () => {
    mkdirSync(join(dir, 'adir'), { recursive: true });
    for (const [out, msg] of [
      [join(dir, 'adir'), /is a directory/],
      ['', /empty path/],
      [join(dir, 'no', 'such', 'x.bin'), /does not exist/],
      [join(ticks, 'x.bin'), /not a directory/],
      // a name ending in / means a directory: one output file must not be created under its stem
      [`${join(dir, 'newdir')}/`, /ends in \/ \(a directory\).*name it without the \//],
    ] as const) {
      const r = cli([...FILTER, '--out', out]);
      expect(r.status, r.stderr).toBe(2);
      oneLine(r.stderr, msg);
    }
    expect(readdirSync(join(dir, 'adir'))).toEqual([]);
    expect(existsSync(join(dir, 'newdir'))).toBe(false);
  });

  it('gen follows the same rules and refuses a stream target it cannot map', (ctx) => {
    const r = cli(['gen', '--schema', TICKS, '--records', '10', '--out', join(dir, 'adir')]);
    expect(r.status).toBe(2);
    oneLine(r.stderr, /directory/);
    const dev = ownNullDevice('gen-null');
    if (!dev) return ctx.skip();
    const g = cli(['gen', '--schema', TICKS, '--records', '10', '--out', dev]);
    expect(g.status).toBe(2);
    oneLine(g.stderr, /regular file/);
    expect(statSync(dev).isCharacterDevice()).toBe(true);
  });
});

describe('failed writes are errors', () => {
  it('stdout on a full device: exit 1 with one line, for every command that prints', () => {
    for (const args of [
      ['run', '--file', ticks, '--schema', TICKS, '--json'],
      [...FILTER, '--out', '-'],
      [...FILTER, '--out', '/dev/stdout'],
      ['run', '--file', ticks, '--schema', TICKS, '-q'],
      ['config', '--json'],
    ]) {
      const r = cliWith(args, { stdout: '/dev/full' });
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(1);
      oneLine(r.stderr, /cannot write to stdout: no space left on device/);
    }
  });

  it('--out on a full device: exit 1 with one line', () => {
    const r = cli([...FILTER, '--out', '/dev/full']);
    expect(r.status).toBe(1);
    oneLine(r.stderr, /cannot write --out "\/dev\/full": no space left on device/);
  });

  it('a closed pipe (| head) is exit 0', () => {
    const r = spawnSync(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${BIN}" ${FILTER.map((a) => `'${a}'`).join(' ')} --out - -q | head -c 10 > /dev/null; echo "\${PIPESTATUS:-}"`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    const p = spawnSync('bash', [
      '-c',
      `"${process.execPath}" "${BIN}" ${FILTER.map((a) => `'${a}'`).join(' ')} --out - -q | head -c 10 > /dev/null; exit \${PIPESTATUS[0]}`,
    ]);
    expect(p.status).toBe(0);
  });
});

describe('inputs that are not files', () => {
  it('--file on a character device, a /proc file or a socket: exit 2, pointing at --file -', async () => {
    const sock = join(dir, 's.sock');
    const server = createServer().listen(sock);
    await new Promise((r) => server.once('listening', r));
    try {
      for (const f of ['/dev/zero', '/proc/self/status', '/proc/cpuinfo', sock]) {
        const r = cli(['run', '--file', f, '--schema', 'a:u8']);
        expect(r.status, f).toBe(2);
        oneLine(r.stderr, /--file -/);
      }
    } finally {
      server.close();
    }
  });

  it('"small" input files are capped and must be regular files: /dev/zero, a huge file, a directory', () => {
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, '');
    truncateSync(huge, 64 * 1024 * 1024);
    const base = ['run', '--file', ticks, '--schema', TICKS];
    const cases: [string[], RegExp][] = [
      [[...base, '--pipeline', '/dev/zero'], /--pipeline.*character device/],
      [[...base, '--pipeline', huge], /--pipeline.*bytes; expected at most/],
      [[...base, '--pipeline', dir], /--pipeline/],
      [['run', '--file', ticks, '--schema', '@/dev/zero'], /--schema.*character device/],
      [['run', '--file', ticks, '--schema', `@${huge}`], /--schema.*expected at most/],
      [[...base, '--op', 'checksum', '--verify', '/dev/zero'], /--verify.*character device/],
      [[...base, '--config', '/dev/zero'], /--config.*character device/],
      [['merge', '/dev/zero'], /character device/],
    ];
    for (const [args, msg] of cases) {
      const t0 = Date.now();
      const r = cli(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      oneLine(r.stderr, msg);
      expect(Date.now() - t0).toBeLessThan(10_000);
    }
    const m = cliWith(['merge', '-'], { stdin: '/dev/zero' });
    expect(m.status).toBe(2);
    oneLine(m.stderr, /character device/);
  });
});

describe('signals and temp files', () => {
  const big = join(dir, 'big.bin');
  genTicks(big, 3_000_000, 5);
  const slow = [
    'run',
    '--file',
    big,
    '--schema',
    TICKS,
    '--op',
    'filter',
    '--where',
    'price > 90',
    '--backend',
    'js',
    '--workers',
    '1',
    '--chunk-size',
    '1MiB',
    '-q',
  ];
  const temps = (name: string) => readdirSync(dir).filter((f) => f.startsWith(`.${name}.bigproc-`));

  for (const [signal, code] of [
    ['SIGHUP', 129],
    ['SIGQUIT', 131],
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} mid-run exits ${code} and leaves no temp file`, async () => {
      const out = join(dir, `sig-${signal}.bin`);
      const child = spawn(process.execPath, [BIN, ...slow, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
      await waitFor(() => temps(`sig-${signal}.bin`).length > 0);
      child.kill(signal);
      const status = await new Promise((r) => child.on('close', (c) => r(c)));
      expect(status).toBe(code);
      expect(temps(`sig-${signal}.bin`)).toEqual([]);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('SIGUSR1 opens no debugger port: the run goes on and ends normally', async () => {
    const out = join(dir, 'usr1.bin');
    const child = spawn(process.execPath, [BIN, ...slow, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    const closed = new Promise((r) => child.on('close', (c) => r(c)));
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    child.stdout.resume();
    await waitFor(() => temps('usr1.bin').length > 0);
    child.kill('SIGUSR1');
    expect(await closed).toBe(0);
    expect(stderr).not.toMatch(/Debugger listening|inspector/i);
    expect(existsSync(out)).toBe(true);
  });

  it("temp files of killed runs on this host are removed by the next write; live or other hosts' stay", () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const host = hostname().replace(/[^A-Za-z0-9.]/g, '_');
    const out = join(dir, 'stale.bin');
    const stale = join(dir, `.stale.bin.bigproc-${host}-${dead}-deadbeef.tmp`);
    const live = join(dir, `.stale.bin.bigproc-${host}-${process.pid}-cafef00d.tmp`);
    const other = join(dir, `.stale.bin.bigproc-elsewhere-${dead}-0badf00d.tmp`);
    for (const f of [stale, live, other]) writeFileSync(f, 'partial');
    expect(cli([...FILTER, '--out', out, '-q']).status).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(other)).toBe(true);
  });
});

describe('small things', () => {
  it('bigproc with no arguments prints its help on stderr and exits 2', () => {
    const r = cli([]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Usage: bigproc/);
    expect(r.stderr).toMatch(/run/);
  });

  it('gen --out x.npy writes an .npy header that bigproc (and NumPy, where present) reads back', () => {
    const npy = join(dir, 'gen.npy');
    const schema = 'ts:i64,price:f64,pad<2>,side:u8,tag:bytes<3>';
    expect(cli(['gen', '--schema', schema, '--records', '1000', '--out', npy, '--seed', '4', '-q']).status).toBe(0);
    const head = parseNpyHeader(readFileSync(npy).subarray(0, 4096), npy);
    expect(head.records).toBe(1000);
    expect(head.layout.fields.map((f) => [f.name, f.type, f.offset])).toEqual([
      ['ts', 'i64', 0],
      ['price', 'f64', 8],
      ['side', 'u8', 18],
      ['tag', 'bytes', 19],
    ]);
    expect(head.layout.recordSize).toBe(22);
    const plain = join(dir, 'gen.bin');
    expect(cli(['gen', '--schema', schema, '--records', '1000', '--out', plain, '--seed', '4', '-q']).status).toBe(0);
    expect(readFileSync(npy).subarray(head.layout.headerBytes).equals(readFileSync(plain))).toBe(true);
    expect(json(cli(['run', '--file', npy, '--json'])).result).toEqual(
      json(cli(['run', '--file', plain, '--schema', schema, '--json'])).result,
    );
    const py = spawnSync(
      'python3',
      [
        '-c',
        `import numpy as np; a = np.load(${JSON.stringify(npy)}); print(a.shape[0], a.dtype.itemsize, repr(float(a['price'].sum())))`,
      ],
      { encoding: 'utf8' },
    );
    if (py.status === 0) expect(py.stdout.split(' ').slice(0, 2)).toEqual(['1000', '22']);
  });
});

async function waitFor(cond: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
