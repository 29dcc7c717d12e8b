// Hostile user kernels (issue 12, classes 9 and 14).
//  9: a kernel stuck anywhere — its module's top level, init, chunk, merge, finalize — never keeps
//     Ctrl-C (exit 130) or SIGTERM (143) from ending the run at once: no user code runs in the main
//     thread, whose event loop serves the signals.
// 14: what a kernel returns that cannot cross threads or be printed (a function, a Symbol, a Promise,
//     a cycle) is named, with the export and the path; NaN, ±Infinity, Map, Set, Date and typed arrays
//     print with the tool's encoding.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cli, json, TICKS, ticksFixture } from '../cli/helpers.js';

const { dir, ticks } = ticksFixture(20_000, 3);
// 20,000 records of 24 bytes in 64 KiB chunks: 8 chunks, so merge() runs several times.
const base = ['run', '--file', ticks, '--schema', TICKS, '--chunk-size', '64KiB'];

let n = 0;
/** A kernel module from the four exports' bodies (and optional top-level code); returns its path. */
function kernel(parts: { top?: string; init?: string; chunk?: string; merge?: string; finalize?: string }): string {
  const file = join(dir, `k${n++}.mjs`);
  writeFileSync(
    file,
    `import { writeFileSync } from 'node:fs';
${parts.top ?? ''}
export function init() { ${parts.init ?? 'return { n: 0 };'} }
export function chunk(view, s) { ${parts.chunk ?? 's.n += view.length; return s;'} }
export function merge(a, b) { ${parts.merge ?? 'return { n: a.n + b.n };'} }
export function finalize(s) { ${parts.finalize ?? 'return s;'} }
`,
  );
  return file;
}

/** Code that marks (once per thread, by creating `marker`) that it got stuck, then spins forever. */
const spin = (marker: string) => `writeFileSync(${JSON.stringify(marker)}, ''); while (true) {}`;

interface Ended {
  code: number | null;
  signal: string | null;
  stderr: string;
  /** ms from the signal to the exit */
  ms: number;
}

/** Start a run, wait until the kernel is stuck (the marker exists), signal it, and time the exit. */
function stuckRun(args: string[], marker: string, signal: NodeJS.Signals): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let sentAt = 0;
    const giveUp = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running ${sentAt ? 'after the signal' : 'and never stuck'}: ${stderr}`));
    }, 30_000);
    const poll = setInterval(() => {
      if (!existsSync(marker)) return;
      clearInterval(poll);
      // a moment for every thread to get into the loop
      setTimeout(() => {
        sentAt = performance.now();
        child.kill(signal);
      }, 100);
    }, 20);
    child.on('exit', (code, sig) => {
      clearInterval(poll);
      clearTimeout(giveUp);
      resolve({ code, signal: sig, stderr, ms: sentAt ? performance.now() - sentAt : -1 });
    });
  });
}

const WHERE = ['top', 'init', 'chunk', 'merge', 'finalize'] as const;

describe('class 9: a kernel stuck in any of its code still ends on SIGINT/SIGTERM', () => {
  for (const where of WHERE) {
    for (const workers of ['1', '2']) {
      for (const [signal, code] of [
        ['SIGINT', 130],
        ['SIGTERM', 143],
      ] as const) {
        it(`stuck in ${where === 'top' ? "the module's top level" : `${where}()`}, --workers ${workers}, ${signal} → ${code} within 2 s`, async () => {
          const marker = join(dir, `stuck-${where}-${workers}-${signal}`);
          const k = kernel(where === 'top' ? { top: spin(marker) } : { [where]: spin(marker) });
          const before = readdirSync(dir).length;
          const r = await stuckRun([...base, '--kernel', k, '--workers', workers], marker, signal);
          expect({ code: r.code, signal: r.signal }).toEqual({ code, signal: null });
          expect(r.ms).toBeLessThan(2000);
          expect(r.stderr.trim().split('\n')).toEqual([`bigproc: interrupted (${signal})`]);
          // nothing left behind: the marker is the only new file
          expect(readdirSync(dir).length).toBe(before + 1);
        });
      }
    }
  }

  it('a manifest run stuck in finalize(): the second Ctrl-C aborts at once', async () => {
    const marker = join(dir, 'stuck-manifest');
    const k = kernel({ finalize: spin(marker) });
    const args = [
      ...base,
      '--kernel',
      k,
      '--workers',
      '2',
      '--manifest',
      `file:${join(dir, 'm')}`,
      '--run-id',
      'stuck',
      '--quiet',
    ];
    const r = await new Promise<Ended>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      let sentAt = 0;
      const poll = setInterval(() => {
        if (!existsSync(marker)) return;
        clearInterval(poll);
        child.kill('SIGINT');
        setTimeout(() => {
          sentAt = performance.now();
          child.kill('SIGINT');
        }, 300);
      }, 20);
      child.on('exit', (code, signal) => resolve({ code, signal, stderr, ms: performance.now() - sentAt }));
    });
    expect(r.code).toBe(130);
    expect(r.ms).toBeLessThan(2000);
    expect(r.stderr).toMatch(/aborted \(SIGINT\)/);
  });

  it('what merge() and finalize() print reaches stdout/stderr before the result, not lost at exit', () => {
    const k = kernel({
      merge: "if (a.n === 0) console.error('merge says hi'); return { n: a.n + b.n };",
      finalize: "console.error('finalize says', s.n); return s;",
    });
    const r = cli([...base, '--kernel', k, '--quiet', '--json']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('merge says hi\nfinalize says 20000\n');
    expect(JSON.parse(r.stdout).result).toEqual({ n: 20_000 });
  });

  it('a run that is not stuck is unchanged: same result for 1 and 3 workers, and as static parts merged', () => {
    // a float sum whose fold order shows in the last digits
    const k = kernel({
      init: 'return { s: 0, c: 0 };',
      chunk:
        "const p = view.column('price'); for (let i = 0; i < view.length; i++) { s.s += p[i] * 1.1; s.c++; } return s;",
      merge: 'return { s: a.s + b.s, c: a.c + b.c };',
    });
    const one = json(cli([...base, '--kernel', k, '--json', '--workers', '1'])).result;
    const three = json(cli([...base, '--kernel', k, '--json', '--workers', '3'])).result;
    expect(three).toEqual(one);
    expect(one.c).toBe(20_000);
    const parts = [0, 1, 2].map((i) => {
      const f = join(dir, `part-${n}-${i}.json`);
      const r = cli([...base, '--kernel', k, '--shard-count', '3', '--shard-index', String(i)]);
      expect(r.status).toBe(0);
      writeFileSync(f, r.stdout);
      return f;
    });
    expect(json(cli(['merge', ...parts, '--json'])).result).toEqual(one);
  });
});

/** A run expected to fail with exit 1 and exactly one line on stderr; returns that line. */
function failsWith(args: string[]): string {
  const r = cli(args);
  expect(r.status, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/worker crashed|Maximum call stack|could not be cloned|undefined$/);
  return lines[0]!;
}

describe('class 14: kernel values that cannot cross threads or be printed are named', () => {
  const CROSS = /which cannot cross threads \(states must be numbers, bigints, strings/;

  for (const [what, value, kind] of [
    ['a function', '() => 1', 'a function'],
    ['a Symbol', "Symbol('x')", 'a Symbol'],
    ['a Promise', 'Promise.resolve(1)', 'a Promise'],
    ['a WeakMap', 'new WeakMap()', 'a WeakMap'],
  ] as const) {
    it(`chunk() returning a state holding ${what}: names chunk(), the path and the kind (workers 1 and 2)`, () => {
      const k = kernel({ chunk: `s.a = { b: [0, ${value}] }; return s;` });
      for (const w of ['1', '2']) {
        const line = failsWith([...base, '--kernel', k, '--workers', w]);
        expect(line).toContain(`--kernel ${k}: chunk() returned a state holding ${kind} at .a.b[1]`);
        expect(line).toMatch(CROSS);
      }
    });
  }

  it('merge() returning a state holding a function: names merge()', () => {
    const k = kernel({ merge: 'return { n: a.n + b.n, f() {} };' });
    const line = failsWith([...base, '--kernel', k]);
    expect(line).toContain('merge() returned a state holding a function at .f');
    expect(line).toMatch(CROSS);
  });

  it('init() returning an unclonable state (an empty file: no merge): names init()', () => {
    const empty = join(dir, 'empty.bin');
    writeFileSync(empty, '');
    const k = kernel({ init: 'return { m: new Map([["k", Symbol.iterator]]) };' });
    const line = failsWith(['run', '--file', empty, '--schema', TICKS, '--kernel', k]);
    expect(line).toContain('init() returned a state holding a Symbol at .m.get("k")');
  });

  it('a state with an associative merge handed between static parts: an unclonable one is named too', () => {
    const k = kernel({
      top: 'export const associative = true;',
      merge: 'return { n: a.n + b.n, p: Promise.resolve() };',
    });
    const line = failsWith([...base, '--kernel', k, '--shard-count', '2', '--shard-index', '0']);
    expect(line).toContain('merge() returned a state holding a Promise at .p');
  });

  it('a circular chunk state: fine in one run, a clear message where states are stored as JSON', () => {
    const k = kernel({ chunk: 's.n += view.length; s.self = s; return s;', merge: 'return { n: a.n + b.n };' });
    expect(json(cli([...base, '--kernel', k, '--json'])).result).toEqual({ n: 20_000 });
    const line = failsWith([...base, '--kernel', k, '--shard-count', '2', '--shard-index', '1']);
    expect(line).toMatch(/cannot encode a circular partial result/);
  });

  for (const [what, body, expected] of [
    [
      'a function',
      'return { ok: 1, f: () => 1 };',
      /finalize\(\) returned a result holding a function at \.f, which cannot be printed as JSON/,
    ],
    [
      'a Symbol in an array',
      "return { list: [1, Symbol('s')] };",
      /finalize\(\) returned a result holding a Symbol at \.list\[1\]/,
    ],
    [
      'a Promise (an async finalize)',
      'return Promise.resolve(s);',
      /finalize\(\) returned a Promise, which cannot be printed as JSON/,
    ],
    [
      'a cycle',
      'const o = { a: { b: {} } }; o.a.b.up = o.a; return o;',
      /finalize\(\) returned a circular result: \.a\.b\.up refers back to \.a/,
    ],
    [
      'itself',
      'const o = {}; o.me = o; return o;',
      /finalize\(\) returned a circular result: \.me refers back to the result itself/,
    ],
  ] as const) {
    it(`finalize() returning ${what}: exit 1, named`, () => {
      const k = kernel({ finalize: body });
      expect(failsWith([...base, '--kernel', k, '--json'])).toMatch(expected);
    });
  }

  it('a shared (not circular) object in a result prints twice', () => {
    const k = kernel({ finalize: 'const x = { v: 1 }; return { a: x, b: [x] };' });
    expect(json(cli([...base, '--kernel', k, '--json'])).result).toEqual({ a: { v: 1 }, b: [{ v: 1 }] });
  });

  it('NaN, ±Infinity, bigints, Map, Set, Date and typed arrays print with the tool encoding', () => {
    const k = kernel({
      finalize: `return { nan: NaN, inf: 1 / 0, ninf: -1 / 0, big: 2n ** 70n, m: new Map([['a', 1], [2, NaN]]), set: new Set([3, 4]),
        d: new Date(0), bad: new Date(NaN), f64: new Float64Array([0.5, Infinity]), i64: new BigInt64Array([-5n]), n: s.n,
        gone: undefined, holes: [undefined, 1] };`,
    });
    const expected = {
      nan: 'NaN',
      inf: 'Infinity',
      ninf: '-Infinity',
      big: (2n ** 70n).toString(),
      m: [
        ['a', 1],
        [2, 'NaN'],
      ],
      set: [3, 4],
      d: '1970-01-01T00:00:00.000Z',
      bad: null,
      f64: [0.5, 'Infinity'],
      i64: ['-5'],
      n: 20_000,
      holes: [null, 1],
    };
    expect(json(cli([...base, '--kernel', k, '--json'])).result).toEqual(expected);
    // the text output is the same document
    const text = cli([...base, '--kernel', k, '--quiet']);
    expect(text.status).toBe(0);
    expect(JSON.parse(text.stdout)).toEqual(expected);
  });

  it('a bare non-finite or bigint result is wrapped as {"value": …}', () => {
    expect(json(cli([...base, '--kernel', kernel({ finalize: 'return -Infinity;' }), '--json'])).result).toEqual({
      value: '-Infinity',
    });
    expect(json(cli([...base, '--kernel', kernel({ finalize: 'return 7n;' }), '--json'])).result).toEqual({
      value: '7',
    });
    expect(json(cli([...base, '--kernel', kernel({ finalize: 'return undefined;' }), '--json'])).result).toEqual({
      value: null,
    });
  });

  it('the same encoding after static parts are merged (NaN and a Map in the states survive the JSON hand-over)', () => {
    const k = kernel({
      init: 'return { m: new Map(), x: NaN };',
      chunk: 's.m.set(view.length, (s.m.get(view.length) ?? 0) + 1); return s;',
      merge: 'for (const [k, v] of b.m) a.m.set(k, (a.m.get(k) ?? 0) + v); return a;',
      finalize: 'return { m: new Map([...s.m].sort((p, q) => p[0] - q[0])), x: s.x };',
    });
    const single = json(cli([...base, '--kernel', k, '--json'])).result;
    expect(single.x).toBe('NaN');
    expect(Array.isArray(single.m)).toBe(true);
    const parts = [0, 1].map((i) => {
      const f = join(dir, `mp-${i}.json`);
      writeFileSync(f, cli([...base, '--kernel', k, '--shard-count', '2', '--shard-index', String(i)]).stdout);
      return f;
    });
    expect(json(cli(['merge', ...parts, '--json'])).result).toEqual(single);
  });
});
