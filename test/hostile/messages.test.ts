// Hostile inputs, messages: no output ever shows a credential (issue 12 #12), system errors read as
// one plain line (#13), a directory that cannot be created fails at once (#10), and the smaller
// message faults of #15 (the user's --where in a mismatch, merge without a manifest, events --shard
// out of range, health saying its error once, long values clipped).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { BIN, TICKS, tempDir, ticksFixture, type CliResult } from '../cli/helpers.js';
import { freePort, startPostgres, type PgServer } from '../manifest/pg-server.js';
import { redact } from '../../src/redact.js';
import { clipLongValues, show } from '../../src/errors.js';
import { makeDirs } from '../../src/make-dirs.js';
import { systemError } from '../../src/sys-errors.js';

const SECRET = 's3cr3tPW';
const { dir, ticks } = ticksFixture(20_000, 3);
const isRoot = process.getuid?.() === 0;

/** The binary with a time limit: a hang fails the test instead of stalling the suite. */
function run(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A shell command line (for ulimit, setpriv, unshare), its output and exit code. */
function sh(script: string, timeoutMs = 60_000): CliResult {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: timeoutMs });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const bigproc = (args: string[]) => [process.execPath, BIN, ...args].map(q).join(' ');

/** One error line on stderr, no internal error, no stack. */
function expectOneLine(r: CliResult, code: number): void {
  expect(r.status, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^bigproc: /);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

function expectNoSecret(r: CliResult, secret = SECRET): void {
  expect(r.stdout).not.toContain(secret);
  expect(r.stderr).not.toContain(secret);
}

describe('redact()', () => {
  it('masks the password of any URL, keeping user and host', () => {
    expect(redact(`x postgres://u:${SECRET}@h:5432/db y`)).toBe('x postgres://u:****@h:5432/db y');
    expect(redact(`(--manifest postgresql://u:${SECRET}@h/db)`)).toBe('(--manifest postgresql://u:****@h/db)');
    // a raw '@' in the password, as pg accepts it; and inside JSON
    expect(redact(`postgres://u:p@ss${SECRET}@h/db`)).toBe('postgres://u:****@h/db');
    expect(redact(JSON.stringify({ value: `postgres://u:${SECRET}@h/db`, source: 'flag' }))).toBe(
      '{"value":"postgres://u:****@h/db","source":"flag"}',
    );
    expect(redact('postgres://u@h/db and file:/tmp/x')).toBe('postgres://u@h/db and file:/tmp/x');
  });

  it('masks password= in libpq keyword/value strings, URL parameters and JSON members', () => {
    expect(redact(`host=h user=u password=${SECRET} dbname=d`)).toBe('host=h user=u password=**** dbname=d');
    expect(redact(`host=h password='a b ${SECRET}'`)).toBe('host=h password=****');
    expect(redact(`postgres://u@h/db?sslmode=require&password=${SECRET}&x=1`)).toBe(
      'postgres://u@h/db?sslmode=require&password=****&x=1',
    );
    expect(redact(`{"password": "${SECRET}"}`)).toBe('{"password": "****"}');
  });

  it('masks PGPASSWORD wherever it appears', () => {
    const before = process.env.PGPASSWORD;
    process.env.PGPASSWORD = 'pgEnvPass99';
    try {
      expect(redact('the kernel said pgEnvPass99 twice: pgEnvPass99')).toBe('the kernel said **** twice: ****');
    } finally {
      if (before === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = before;
    }
  });
});

describe('long values in messages', () => {
  it('are clipped to 100 characters with an ellipsis and their length, once', () => {
    const long = 'x'.repeat(5000);
    expect(show(long)).toBe(`"${'x'.repeat(99)}…" (5000 characters)`);
    expect(clipLongValues(`got ${show(long)} there`)).toBe(`got "${'x'.repeat(99)}…" (5000 characters) there`);
    expect(clipLongValues(`unknown option '--${long}'`)).toBe(
      `unknown option '--${'x'.repeat(97)}…' (5002 characters)`,
    );
    expect(clipLongValues(`bare /${long} end`)).toBe(`bare /${'x'.repeat(98)}… (5001 characters) end`);
    // short values and prose with apostrophes are left alone
    const prose = `the run's shards can't be merged: ${'word '.repeat(30)}`;
    expect(clipLongValues(prose)).toBe(prose);
  });

  it.each([
    [
      '--where',
      ['run', '--file', 'F', '--schema', TICKS, '--op', 'filter', '--where', `price > ${'1'.repeat(5000)} &&`],
    ],
    ['--schema', ['run', '--file', 'F', '--schema', 'a'.repeat(5000)]],
    ['--file', ['run', '--file', `/nope/${'d'.repeat(5000)}`, '--schema', TICKS]],
    ['--op', ['run', '--file', 'F', '--schema', TICKS, '--op', 'o'.repeat(5000)]],
    ['an unknown option', ['run', '--file', 'F', '--schema', TICKS, `--${'z'.repeat(5000)}`]],
    ['--run-id', ['run', '--file', 'F', '--schema', TICKS, '--manifest', 'file:M', '--run-id', 'r'.repeat(5000)]],
  ])('a 5000-character %s is echoed clipped', (_what, args) => {
    const r = run(args.map((a) => (a === 'F' ? ticks : a === 'file:M' ? `file:${join(dir, 'm-long')}` : a)));
    expectOneLine(r, 2);
    expect(r.stderr.length).toBeLessThan(600);
    expect(r.stderr).toMatch(/…["']? \(50\d\d characters\)/);
  });
});

describe('system errors as plain lines (#13)', () => {
  let d: { dir: string; cleanup: () => void };
  let reg: string;
  let sub: string;
  beforeAll(() => {
    d = tempDir();
    reg = join(d.dir, 'regular');
    writeFileSync(reg, 'x');
    sub = join(d.dir, 'adir');
    mkdirSync(sub);
  });
  afterAll(() => d.cleanup());

  it('a path under a regular file (ENOTDIR) is exit 2 naming it and saying why', () => {
    for (const args of [
      ['run', '--file', join(reg, 'x.bin'), '--schema', TICKS],
      ['run', '--file', ticks, '--schema', TICKS, '--manifest', `file:${join(reg, 'm')}`],
      ['gen', '--schema', TICKS, '--records', '10', '--out', join(reg, 'x.bin')],
    ]) {
      const r = run(args);
      expectOneLine(r, 2);
      expect(r.stderr).toContain(join(reg, ''));
      expect(r.stderr).toMatch(/not a directory/);
    }
  });

  it('a directory where a file is written (EISDIR) is exit 2, not an internal error', () => {
    const r = run(['gen', '--schema', TICKS, '--records', '10', '--out', sub]);
    expectOneLine(r, 2);
    expect(r.stderr).toContain(sub);
    expect(r.stderr).toMatch(/directory/);
  });

  it.skipIf(!isRoot || spawnSync('setpriv', ['--version']).status !== 0)(
    'an unreadable input (EACCES) is exit 2: permission denied, with its path',
    () => {
      // root reads anything: the unreadable file is read as nobody
      const open = join(d.dir, 'pub');
      mkdirSync(open, { mode: 0o755 });
      chmodSync(open, 0o755);
      chmodSync(d.dir, 0o755);
      const f = join(open, 'locked.bin');
      writeFileSync(f, readFileSync(ticks));
      chmodSync(f, 0o000);
      const r = sh(
        `setpriv --reuid=65534 --regid=65534 --clear-groups ${bigproc(['run', '--file', f, '--schema', TICKS])}`,
      );
      expectOneLine(r, 2);
      expect(r.stderr).toContain(f);
      expect(r.stderr).toMatch(/permission denied/);
    },
  );

  it.skipIf(!isRoot)('a file over the size limit (EFBIG) is exit 1 naming --out', () => {
    const out = join(d.dir, 'big.bin');
    const r = sh(`ulimit -f 8; ${bigproc(['gen', '--schema', TICKS, '--records', '100000', '--out', out, '--quiet'])}`);
    expectOneLine(r, 1);
    expect(r.stderr).toContain(`--out ${JSON.stringify(out)}`);
    expect(r.stderr).toMatch(/file too large/);
  });

  // A full disk: a 64 KiB tmpfs in a private mount namespace (the machine's mounts are untouched).
  const canMount = isRoot && spawnSync('unshare', ['-m', 'true']).status === 0;
  it.skipIf(!canMount)('a full disk (ENOSPC) is exit 1: no space left on device, naming the path', () => {
    const mnt = join(d.dir, 'tiny');
    mkdirSync(mnt);
    const mount = `mount -t tmpfs -o size=64k tmpfs ${q(mnt)}`;
    const gen = sh(
      `unshare -m sh -c ${q(`${mount} && ${bigproc(['gen', '--schema', TICKS, '--records', '100000', '--out', join(mnt, 'x.bin'), '--quiet'])}`)}`,
    );
    expectOneLine(gen, 1);
    expect(gen.stderr).toContain(join(mnt, 'x.bin'));
    expect(gen.stderr).toMatch(/no space left on device/);
    const project = sh(
      `unshare -m sh -c ${q(`${mount} && ${bigproc(['run', '--file', ticks, '--schema', TICKS, '--op', 'project', '--fields', 'ts,price', '--out', join(mnt, 'p.bin'), '--quiet'])}`)}`,
    );
    expectOneLine(project, 1);
    expect(project.stderr).toMatch(/no space left on device/);
  });

  it('maps what reaches main without a path or a label still to one line', () => {
    const e = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', syscall: 'read' });
    expect(systemError(e).message).toBe('cannot read a file: input/output error (EIO)');
    expect(systemError(e).exitCode).toBe(1);
    const r = Object.assign(new Error('EISDIR'), { code: 'EISDIR', syscall: 'rename', path: '.x.tmp', dest: 'out' });
    expect(systemError(r).message).toBe('cannot replace "out": is a directory (EISDIR)');
    expect(systemError(r).exitCode).toBe(2);
  });
});

describe('a directory that cannot be created (#10)', () => {
  it('makeDirs ends on /proc instead of spinning', () => {
    const t0 = Date.now();
    expect(() => makeDirs('/proc/bigproc-nope/a/b')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it.each([
    ['--manifest file:/proc/nope', ['--manifest', 'file:/proc/nope'], {}],
    ['--manifest file:/proc/nope/deeper', ['--manifest', 'file:/proc/nope/deeper/still'], {}],
    ['--manifest under /proc/self', ['--manifest', 'file:/proc/self/nope'], {}],
    ['BIGPROC_LOCK_DIR=/proc/nope --exclusive', ['--exclusive', 'job'], { BIGPROC_LOCK_DIR: '/proc/nope' }],
  ])('%s: exit 2 with one line, at once', (_what, args, env) => {
    const t0 = Date.now();
    const r = run(['run', '--file', ticks, '--schema', TICKS, ...args], { env, timeoutMs: 20_000 });
    expectOneLine(r, 2);
    expect(r.stderr).toMatch(/\/proc\//);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('a lock directory under a regular file names BIGPROC_LOCK_DIR', () => {
    const f = join(dir, 'not-a-dir');
    writeFileSync(f, '');
    const r = run(['run', '--file', ticks, '--schema', TICKS, '--exclusive', 'job'], {
      env: { BIGPROC_LOCK_DIR: join(f, 'locks') },
      timeoutMs: 20_000,
    });
    expectOneLine(r, 2);
    expect(r.stderr).toContain('BIGPROC_LOCK_DIR');
  });
});

describe('messages (#15)', () => {
  it("a manifest mismatch shows the user's --where, not the compiled predicate", () => {
    const m = `file:${join(dir, 'm-where')}`;
    const base = [
      'run',
      '--file',
      ticks,
      '--schema',
      TICKS,
      '--manifest',
      m,
      '--run-id',
      'w',
      '--quiet',
      '--op',
      'filter',
      '--out',
      join(dir, 'w.bin'),
    ];
    expect(run([...base, '--where', 'price > 100']).status).toBe(0);
    const r = run([...base, '--where', 'price > 110']);
    expectOneLine(r, 2);
    expect(r.stderr).toContain('--where "price > 100" there, --where "price > 110" here');
    expect(r.stderr).not.toMatch(/program|offset|"cmp"/);
  });

  it("… and the user's --fields for stats", () => {
    const m = `file:${join(dir, 'm-fields')}`;
    const base = ['run', '--file', ticks, '--schema', TICKS, '--manifest', m, '--run-id', 's', '--quiet'];
    expect(run([...base, '--fields', 'qty']).status).toBe(0);
    const r = run([...base, '--fields', 'price']);
    expectOneLine(r, 2);
    expect(r.stderr).toContain('--fields "qty" there, --fields "price" here');
  });

  it('merge compares part files and speaks of no manifest', () => {
    const part = (where: string, i: number) => {
      const r = run([
        'run',
        '--file',
        ticks,
        '--schema',
        TICKS,
        '--op',
        'count',
        '--where',
        where,
        '--shard-index',
        String(i),
        '--shard-count',
        '2',
      ]);
      expect(r.status, r.stderr).toBe(0);
      const p = join(dir, `part-${i}.json`);
      writeFileSync(p, r.stdout);
      return p;
    };
    const a = part('qty > 10', 0);
    const b = part('qty > 20', 1);
    const r = run(['merge', a, b]);
    expectOneLine(r, 2);
    expect(r.stderr).not.toMatch(/manifest|--run-id/);
    expect(r.stderr).toContain(a);
    expect(r.stderr).toContain(b);
    expect(r.stderr).toContain('--where "qty > 10"');
  });

  it('events --shard outside the plan is exit 2 naming the valid range', () => {
    const m = `file:${join(dir, 'm-events')}`;
    expect(
      run([
        'run',
        '--file',
        ticks,
        '--schema',
        TICKS,
        '--manifest',
        m,
        '--run-id',
        'e',
        '--shard-size',
        '64KiB',
        '--chunk-size',
        '64KiB',
        '--quiet',
      ]).status,
    ).toBe(0);
    const shards = JSON.parse(run(['status', '--manifest', m, '--json']).stdout).shards.total as number;
    expect(shards).toBeGreaterThan(1);
    for (const n of [shards, 999]) {
      const r = run(['events', '--manifest', m, '--shard', String(n)]);
      expectOneLine(r, 2);
      expect(r.stderr).toContain(`from 0 to ${shards - 1}`);
      expect(r.stderr).toContain(`received ${n}`);
    }
    const last = run(['events', '--manifest', m, '--shard', String(shards - 1)]);
    expect(last.status).toBe(0);
    expect(last.stdout).toMatch(/committed/);
  });

  it('health says an unreachable manifest once, on stderr; --json adds the document on stdout', () => {
    const m = `file:${join(dir, 'never-made')}`;
    const r = run(['health', '--manifest', m]);
    expectOneLine(r, 2);
    expect(r.stdout).toBe('');
    const j = run(['health', '--manifest', m, '--json']);
    expectOneLine(j, 2);
    expect(JSON.parse(j.stdout).health).toBe('unreachable');
  });

  it('health says a degraded run once, on stderr', () => {
    const m = `file:${join(dir, 'm-sick')}`;
    const k = join(dir, 'fails.mjs');
    writeFileSync(
      k,
      "export const init = () => 0;\nexport function chunk() { throw new Error('no'); }\nexport const merge = (a, b) => a + b;\nexport const finalize = (s) => s;\n",
    );
    expect(
      run(['run', '--file', ticks, '--schema', TICKS, '--kernel', k, '--manifest', m, '--max-attempts', '1', '--quiet'])
        .status,
    ).toBe(3);
    const r = run(['health', '--manifest', m]);
    expectOneLine(r, 1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/degraded: 1 shard\(s\) failed/);
  });
});

describe('credentials never shown (#12)', () => {
  it('a keyword/value string or a URL parameter given as --manifest is echoed masked', () => {
    for (const m of [`host=127.0.0.1 user=u password=${SECRET}`, `mysql://u:${SECRET}@h/db`]) {
      const r = run(['status', '--manifest', m]);
      expectOneLine(r, 2);
      expectNoSecret(r);
      expect(r.stderr).toContain('****');
    }
  });

  it('config masks the --manifest password from a flag, the environment and the settings file', () => {
    const url = `postgres://u:${SECRET}@127.0.0.1:1/db`;
    const cfg = join(dir, 'settings.json');
    writeFileSync(cfg, JSON.stringify({ manifest: url }));
    for (const r of [
      run(['config', '--manifest', url]),
      run(['config', '--manifest', url, '--json']),
      run(['config'], { env: { BIGPROC_MANIFEST: url } }),
      run(['config', '--json'], { env: { BIGPROC_MANIFEST: url } }),
      run(['config', '--config', cfg]),
    ]) {
      expect(r.status, r.stderr).toBe(0);
      expectNoSecret(r);
      expect(r.stdout).toContain('postgres://u:****@127.0.0.1:1/db');
    }
  });

  it('an unreachable database: health and its --json, masked', async () => {
    const url = `postgres://u:${SECRET}@127.0.0.1:${await freePort()}/db`;
    for (const args of [
      ['health', '--manifest', url],
      ['health', '--manifest', url, '--json'],
      ['health', '--manifest', url, '--debug'],
    ]) {
      const r = run(args);
      expect(r.status).toBe(2);
      expectNoSecret(r);
    }
  });

  describe('against a real PostgreSQL server', () => {
    let server: PgServer;
    let good: string;
    let wrong: string;
    let noPassword: string;
    beforeAll(async () => {
      server = await startPostgres();
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        await admin.query(`create role hostile login password '${SECRET}'`);
        await admin.query('create database hostile owner hostile');
      } finally {
        await admin.end();
      }
      good = `postgres://hostile:${SECRET}@127.0.0.1:${server.port}/hostile`;
      wrong = `postgres://hostile:wr0ngPW${SECRET}@127.0.0.1:${server.port}/hostile`;
      noPassword = `postgres://hostile@127.0.0.1:${server.port}/hostile`;
    });
    afterAll(async () => {
      await server?.stop();
    });

    /** Every command that takes --manifest, against this URL. */
    function everyCommand(url: string, runId: string, env: NodeJS.ProcessEnv = {}): CliResult[] {
      const commands = [
        ['run', '--file', ticks, '--schema', TICKS, '--manifest', url, '--run-id', runId],
        ['run', '--file', ticks, '--schema', TICKS, '--manifest', url, '--run-id', runId, '--json'],
        ['run', '--file', ticks, '--schema', TICKS, '--manifest', url, '--exclusive', 'lock-1'],
        ['status', '--manifest', url],
        ['status', '--manifest', url, '--json'],
        ['status', '--manifest', url, '--run-id', 'unknown-run'],
        ['status', '--manifest', url, '--run-id', 'unknown-run', '--json'],
        ['events', '--manifest', url, '--run-id', runId],
        ['events', '--manifest', url, '--run-id', runId, '--json'],
        ['events', '--manifest', url, '--run-id', 'unknown-run'],
        ['health', '--manifest', url, '--run-id', runId],
        ['health', '--manifest', url, '--run-id', runId, '--json'],
        ['health', '--manifest', url, '--run-id', 'unknown-run'],
        ['retry', '--manifest', url, '--run-id', runId],
        ['retry', '--manifest', url, '--run-id', runId, '--json'],
        ['retry', '--manifest', url, '--run-id', 'unknown-run', '--debug'],
        ['config', '--manifest', url],
        ['config', '--manifest', url, '--json'],
      ];
      return commands.map((args) => run(args, { env }));
    }

    it('a failing run whose kernel quotes the URL, then every command: the password appears nowhere', () => {
      const k = join(dir, 'quotes-url.mjs');
      writeFileSync(
        k,
        `export const init = () => 0;\nexport function chunk() { throw new Error('cannot reach ' + process.env.DB_URL); }\nexport const merge = (a, b) => a + b;\nexport const finalize = (s) => s;\n`,
      );
      const failing = run(
        [
          'run',
          '--file',
          ticks,
          '--schema',
          TICKS,
          '--kernel',
          k,
          '--manifest',
          good,
          '--run-id',
          'f',
          '--max-attempts',
          '1',
        ],
        { env: { DB_URL: good } },
      );
      expect(failing.status, failing.stderr).toBe(3);
      expectNoSecret(failing);
      expect(failing.stderr).toContain('postgres://hostile:****@');
      const status = run(['status', '--manifest', good, '--run-id', 'f', '--json']);
      expect(JSON.parse(status.stdout).failed[0].error).toContain('postgres://hostile:****@');
      for (const r of [...everyCommand(good, 'f'), ...everyCommand(good, 'ok')]) expectNoSecret(r);
      // the unknown run id of the issue: named, with the URL masked
      const unknown = run(['status', '--manifest', good, '--run-id', 'unknown-run']);
      expectOneLine(unknown, 2);
      expect(unknown.stderr).toContain('in the manifest postgres://hostile:****@');
    });

    it('a wrong password: every command fails without showing either password', () => {
      for (const r of everyCommand(wrong, 'w')) {
        expect(r.stderr).not.toContain(`wr0ngPW${SECRET}`);
        expectNoSecret(r);
      }
      const r = run(['status', '--manifest', wrong]);
      expectOneLine(r, 1);
      expect(r.stderr).toMatch(/password authentication failed/);
    });

    it('PGPASSWORD is never printed, even where a kernel quotes it', () => {
      const k = join(dir, 'quotes-env.mjs');
      writeFileSync(
        k,
        `export const init = () => 0;\nexport function chunk() { throw new Error('PGPASSWORD is ' + process.env.PGPASSWORD); }\nexport const merge = (a, b) => a + b;\nexport const finalize = (s) => s;\n`,
      );
      const env = { PGPASSWORD: SECRET };
      const failing = run(
        [
          'run',
          '--file',
          ticks,
          '--schema',
          TICKS,
          '--kernel',
          k,
          '--manifest',
          noPassword,
          '--run-id',
          'env',
          '--max-attempts',
          '1',
        ],
        { env },
      );
      expect(failing.status, failing.stderr).toBe(3);
      expectNoSecret(failing);
      for (const r of everyCommand(noPassword, 'env', env)) expectNoSecret(r);
    });
  });
});
