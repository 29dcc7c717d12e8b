// Static sharding (--shard-index/--shard-count, as Kubernetes Indexed Jobs and AWS Batch array jobs
// run it) merged with `bigproc merge`, and the --exclusive single-instance guard.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, TICKS, cli, json, ticksFixture } from './helpers.js';
import { start, sleep, waitFor } from './manifest-suite.js';
import { KERNEL, ORDER_HASH } from './manifest-suite.js';

const { dir, ticks } = ticksFixture(150_000, 3);
const base = () => ['run', '--file', ticks, '--schema', TICKS, '--quiet', '--chunk-size', '64KiB'];

describe('static sharding + bigproc merge', () => {
  for (const op of [
    ['--op', 'stats'],
    ['--op', 'top', '--by', 'price', '-k', '5'],
    ['--op', 'checksum', '--algo', 'crc32c'],
    ['--op', 'sample', '-n', '7', '--seed', '3'],
  ]) {
    it(`${op[1]}: the merged parts equal a single run, for 1, 3 and 7 parts`, () => {
      const single = json(cli([...base(), ...op, '--json']));
      for (const count of [1, 3, 7]) {
        const files: string[] = [];
        for (let i = 0; i < count; i++) {
          const r = cli([...base(), ...op, '--shard-count', String(count)], {
            env: { JOB_COMPLETION_INDEX: String(i) },
          });
          expect(r.status, r.stderr).toBe(0);
          const f = join(dir, `${op[1]}-${count}-${i}.json`);
          writeFileSync(f, r.stdout);
          files.push(f);
        }
        const merged = json(cli(['merge', '--json', ...files.reverse()]));
        expect(merged.result).toEqual(single.result);
      }
    });
  }

  it('a kernel whose merge is not associative: the merged parts still equal a single run (every chunk folded in order)', () => {
    const k = ['--op', 'kernel', '--kernel', ORDER_HASH];
    const single = json(cli([...base(), ...k, '--json']));
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const f = join(dir, `hash-${i}.json`);
      const r = cli([...base(), ...k, '--shard-count', '3', '--shard-index', String(i)]);
      expect(r.status, r.stderr).toBe(0);
      writeFileSync(f, r.stdout);
      files.push(f);
    }
    const merged = json(cli(['merge', '--json', ...files]));
    expect(merged.result).toEqual(single.result);
    expect(single.result.n).toBe(150_000);
    // each part hands over its chunks' states, not their merge
    const part = JSON.parse(readFileSync(files[0]!, 'utf8'));
    expect(part.version).toBe(1);
    expect(part.partial.chunk_partials.length).toBe(part.part.chunks);
  });

  it('a kernel that declares its merge associative hands over one merged state per part', () => {
    const k = ['--op', 'kernel', '--kernel', join(ROOT, 'test', 'fixtures', 'assoc-sum.mjs')];
    const single = json(cli([...base(), ...k, '--json']));
    const files = [0, 1].map((i) => {
      const f = join(dir, `assoc-${i}.json`);
      writeFileSync(f, cli([...base(), ...k, '--shard-count', '2', '--shard-index', String(i)]).stdout);
      return f;
    });
    const part = JSON.parse(readFileSync(files[1]!, 'utf8'));
    expect(part.version).toBe(1);
    expect(part.partial.chunk_partials).toBeUndefined();
    expect(json(cli(['merge', '--json', ...files])).result).toEqual(single.result);
  });

  it("a part whose partial is not its chunks' list (where the op needs one) is not merged", () => {
    const k = ['--op', 'kernel', '--kernel', ORDER_HASH];
    const files = [0, 1].map((i) => {
      const f = join(dir, `fmt-${i}.json`);
      writeFileSync(f, cli([...base(), ...k, '--shard-count', '2', '--shard-index', String(i)]).stdout);
      return f;
    });
    // part 1 edited to hold one merged state instead of its chunks' states
    const old = JSON.parse(readFileSync(files[1]!, 'utf8'));
    writeFileSync(files[1]!, JSON.stringify({ ...old, partial: old.partial.chunk_partials[0] }));
    const r = cli(['merge', ...files]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/holds a merged partial where parts of --op kernel hand over their chunks' partials/);
  });

  it('--allow-partial: merge reports the trailing bytes as a single run does', () => {
    const odd = join(dir, 'odd.bin');
    writeFileSync(odd, Buffer.concat([readFileSync(ticks).subarray(0, 24 * 1000), Buffer.alloc(10)]));
    const args = [
      'run',
      '--file',
      odd,
      '--schema',
      TICKS,
      '--quiet',
      '--chunk-size',
      '4KiB',
      '--op',
      'count',
      '--allow-partial',
    ];
    const single = json(cli([...args, '--json']));
    expect(single.result.trailing_bytes).toBe(10);
    const files = [0, 1].map((i) => {
      const f = join(dir, `odd-${i}.json`);
      writeFileSync(f, cli([...args, '--shard-count', '2', '--shard-index', String(i)]).stdout);
      return f;
    });
    expect(json(cli(['merge', '--json', ...files])).result).toEqual(single.result);
  });

  it('AWS_BATCH_JOB_ARRAY_INDEX works as the index; a missing or doubled part is exit 2', () => {
    const parts = [0, 1, 2].map((i) => {
      const f = join(dir, `aws-${i}.json`);
      writeFileSync(
        f,
        cli([...base(), '--shard-count', '3'], { env: { AWS_BATCH_JOB_ARRAY_INDEX: String(i) } }).stdout,
      );
      return f;
    });
    const missing = cli(['merge', parts[0]!, parts[2]!]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/missing part 1 of 3/);
    const twice = cli(['merge', parts[0]!, parts[0]!, parts[1]!]);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/part 0 of 3 is given twice/);
    const bad = cli([...base(), '--shard-count', '3', '--shard-index', '3']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--shard-index/);
  });

  it("--out: each part writes its own file, and the parts in order are the single run's output", () => {
    const ref = join(dir, 'ref.bin');
    expect(cli([...base(), '--op', 'filter', '--where', 'price > 105', '--out', ref]).status).toBe(0);
    const out = join(dir, 'static-out.bin');
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = cli([
        ...base(),
        '--op',
        'filter',
        '--where',
        'price > 105',
        '--out',
        out,
        '--shard-count',
        '3',
        '--shard-index',
        String(i),
      ]);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).part.out).toBe(`${out}.part-${i}-of-3`);
      files.push(`${out}.part-${i}-of-3`);
    }
    expect(Buffer.concat(files.map((f) => readFileSync(f))).equals(readFileSync(ref))).toBe(true);
  });

  it('parts of different runs are not merged', () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    writeFileSync(a, cli([...base(), '--shard-count', '2', '--shard-index', '0']).stdout);
    writeFileSync(b, cli([...base(), '--op', 'count', '--shard-count', '2', '--shard-index', '1']).stdout);
    const r = cli(['merge', a, b]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/different/);
  });
});

describe('--exclusive', () => {
  it('a second invocation exits 75 naming the holder; after the first ends the name is free', async () => {
    const locks = join(dir, 'locks');
    const env = { BIGPROC_LOCK_DIR: locks, SLOW_MS: '100' };
    const first = start([...base(), '--kernel', KERNEL, '--workers', '1', '--exclusive', 'nightly'], env);
    await waitFor('the guard', () => existsSync(join(locks, '_guards', 'lease', 'nightly.1')));
    const second = cli([...base(), '--exclusive', 'nightly'], { env });
    expect(second.status).toBe(75);
    expect(second.stderr).toMatch(
      new RegExp(`--exclusive nightly: another invocation holds it \\(host .*, pid ${first.pid}`),
    );
    expect((await first.done).status).toBe(0);
    expect(cli([...base(), '--exclusive', 'nightly'], { env }).status).toBe(0);
  }, 30_000);

  it('a guard left by a killed invocation is taken over once its lease expires', async () => {
    const locks = join(dir, 'locks2');
    const env = { BIGPROC_LOCK_DIR: locks, SLOW_MS: '100' };
    const first = start([...base(), '--kernel', KERNEL, '--workers', '1', '--exclusive', 'job', '--lease', '3s'], env);
    await waitFor('the guard', () => existsSync(join(locks, '_guards', 'lease', 'job.1')));
    first.kill('SIGKILL');
    await first.done;
    const t0 = Date.now();
    const busy = cli([...base(), '--exclusive', 'job', '--lease', '3s'], { env });
    // Still within the dead holder's lease (unless this machine took 3 s to start a process).
    if (Date.now() - t0 < 2500) expect(busy.status).toBe(75);
    await sleep(3200 - (Date.now() - t0));
    expect(cli([...base(), '--exclusive', 'job', '--lease', '3s'], { env }).status).toBe(0);
  }, 30_000);
});
