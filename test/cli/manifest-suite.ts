// Multi-host runs through the real binary, for any manifest backend: several processes on one
// manifest give the single-process result bit for bit with exactly one commit per shard; mismatched
// runs are refused; failed shards end in exit 3 and `bigproc retry` revives them; SIGTERM finishes
// or releases the shard in hand; a stopped (zombie) holder cannot commit; a killed run resumes.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, TICKS, cli, genTicks, json, tempDir } from './helpers.js';

export interface Proc {
  pid: number;
  kill(signal: NodeJS.Signals): void;
  /** what it has written to stderr so far */
  stderr(): string;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export function start(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  return { pid: child.pid!, kill: (s) => child.kill(s), stderr: () => stderr, done };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function events(url: string, runId: string): any[] {
  const r = cli(['events', '--manifest', url, '--run-id', runId, '--json']);
  if (r.status !== 0 && /no run|does not exist/.test(r.stderr)) return []; // not created yet
  if (r.status !== 0) throw new Error(`events failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

export async function waitFor(what: string, pred: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (pred()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const KERNEL = join(ROOT, 'test', 'fixtures', 'slow-sum.mjs');
/** a kernel whose merge is not associative (see the fixture) */
export const ORDER_HASH = join(ROOT, 'test', 'fixtures', 'order-hash.mjs');

/** Every shard committed exactly once in the trail. */
export function expectOneCommitPerShard(evs: any[], shards: number): void {
  const commits = new Map<number, number>();
  for (const e of evs) if (e.type === 'committed') commits.set(e.shard, (commits.get(e.shard) ?? 0) + 1);
  expect(commits.size).toBe(shards);
  for (const [, n] of commits) expect(n).toBe(1);
}

export function manifestCliSuite(
  name: string,
  setup: () => Promise<{ url: () => string; cleanup: () => Promise<void> }>,
): void {
  describe(`multi-host runs through the CLI (${name})`, () => {
    let dir: string;
    let cleanupDir: () => void;
    let ticks: string;
    let newUrl: () => string;
    let cleanupBackend: () => Promise<void>;
    const N = 200_000;
    const base = () => ['run', '--file', ticks, '--schema', TICKS, '--quiet'];

    beforeAll(async () => {
      ({ dir, cleanup: cleanupDir } = tempDir());
      ticks = join(dir, 'ticks.bin');
      genTicks(ticks, N, 5);
      ({ url: newUrl, cleanup: cleanupBackend } = await setup());
    }, 60_000);
    afterAll(async () => {
      await cleanupBackend();
      cleanupDir();
    });

    it('three processes on one manifest give the single-process result; one commit per shard', async () => {
      for (const op of [
        ['--op', 'stats'],
        ['--op', 'hist', '--field', 'price', '--range', '50:150', '--bins', '37'],
        ['--op', 'checksum'],
        ['--op', 'groupby', '--key', 'side', '--agg', 'count,sum(qty),mean(price)'],
      ]) {
        const single = json(cli([...base(), ...op, '--chunk-size', '64KiB', '--json']));
        const url = newUrl();
        const args = [
          ...base(),
          ...op,
          '--chunk-size',
          '64KiB',
          '--shard-size',
          '256KiB',
          '--manifest',
          url,
          '--run-id',
          'r1',
          '--json',
          '--workers',
          '1',
        ];
        const procs = [start(args), start(args), start(args)];
        const outs = await Promise.all(procs.map((p) => p.done));
        for (const o of outs) expect(o.status, o.stderr).toBe(0);
        const docs = outs.map((o) => JSON.parse(o.stdout));
        const merged = docs.filter((d) => d.result !== null);
        expect(merged.length).toBeGreaterThanOrEqual(1);
        for (const d of merged) expect(d.result).toEqual(single.result);
        expect(docs.reduce((s, d) => s + d.share.shards, 0)).toBe(docs[0].share.of);
        const evs = events(url, 'r1');
        expectOneCommitPerShard(evs, docs[0].share.of);
        expect(evs.filter((e) => e.type === 'merged').length).toBe(1);
        const status = json(cli(['status', '--manifest', url, '--run-id', 'r1', '--json']));
        expect(status.state).toBe('done');
        expect(status.shards.done).toBe(docs[0].share.of);
        expect(status.result).toEqual(single.result);
        expect(cli(['health', '--manifest', url, '--run-id', 'r1']).status).toBe(0);
      }
    }, 120_000);

    it('a kernel whose merge is not associative gives the single-process result too: every chunk folded in order', async () => {
      const k = ['--op', 'kernel', '--kernel', ORDER_HASH, '--chunk-size', '64KiB'];
      const single = json(cli([...base(), ...k, '--json']));
      const url = newUrl();
      // shards of 3 chunks, several processes: a merge of per-shard results would give another hash
      const args = [
        ...base(),
        ...k,
        '--shard-size',
        '192KiB',
        '--manifest',
        url,
        '--run-id',
        'h',
        '--json',
        '--workers',
        '2',
      ];
      const outs = await Promise.all([start(args).done, start(args).done]);
      for (const o of outs) expect(o.status, o.stderr).toBe(0);
      const merged = outs.map((o) => JSON.parse(o.stdout)).filter((d) => d.result !== null);
      expect(merged.length).toBeGreaterThanOrEqual(1);
      for (const d of merged) expect(d.result).toEqual(single.result);
    }, 60_000);

    it('--out through a manifest: the assembled file equals a single run, a directory gets parts and _SUCCESS', async () => {
      const ref = join(dir, 'ref.bin');
      json(cli([...base(), '--op', 'filter', '--where', 'price > 105', '--out', ref, '--json']));
      const url = newUrl();
      const out = join(dir, 'm-out.bin');
      const args = [
        ...base(),
        '--op',
        'filter',
        '--where',
        'price > 105',
        '--out',
        out,
        '--chunk-size',
        '64KiB',
        '--shard-size',
        '128KiB',
        '--manifest',
        url,
        '--workers',
        '1',
      ];
      const outs = await Promise.all([start(args).done, start(args).done]);
      for (const o of outs) expect(o.status, o.stderr).toBe(0);
      expect(readFileSync(out).equals(readFileSync(ref))).toBe(true);
      expect(existsSync(`${out}.parts`)).toBe(false);
      const outDir = `${join(dir, 'm-dir')}/`;
      const r = cli([
        ...base(),
        '--op',
        'filter',
        '--where',
        'price > 105',
        '--out',
        outDir,
        '--chunk-size',
        '64KiB',
        '--shard-size',
        '128KiB',
        '--manifest',
        newUrl(),
      ]);
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(outDir, '_SUCCESS'))).toBe(true);
      const { readdirSync } = await import('node:fs');
      const parts = readdirSync(outDir)
        .filter((n) => n.startsWith('part-'))
        .sort();
      expect(parts.every((p) => /^part-\d{6}$/.test(p))).toBe(true);
      expect(Buffer.concat(parts.map((p) => readFileSync(join(outDir, p)))).equals(readFileSync(ref))).toBe(true);
    }, 60_000);

    it("--out DIR/ holding another run's finished output is refused before any work; the same run again is fine", () => {
      const outDir = `${join(dir, 'reused-dir')}/`;
      const run = (where: string, url: string) =>
        cli([
          ...base(),
          '--op',
          'filter',
          '--where',
          where,
          '--out',
          outDir,
          '--chunk-size',
          '64KiB',
          '--shard-size',
          '128KiB',
          '--manifest',
          url,
          '--json',
        ]);
      const url = newUrl();
      const first = run('price > 110', url);
      expect(first.status, first.stderr).toBe(0);
      const parts = () =>
        readdirSync(outDir)
          .filter((n) => n.startsWith('part-'))
          .sort();
      const bytes = () => Buffer.concat(parts().map((p) => readFileSync(join(outDir, p))));
      const before = bytes();
      // the same command again: its own finished run, nothing to redo, the output untouched
      expect(run('price > 110', url).status).toBe(0);
      expect(bytes().equals(before)).toBe(true);
      // another run (other options, so another run id) into the same directory: exit 2, nothing created
      const url2 = newUrl();
      const other = run('price > 120', url2);
      expect(other.status).toBe(2);
      expect(other.stderr).toMatch(/already holds the output of run/);
      expect(other.stderr.trim().split('\n')).toHaveLength(1);
      expect(bytes().equals(before)).toBe(true);
      expect(existsSync(join(outDir, '.staging'))).toBe(false);
      expect(cli(['status', '--manifest', url2, '--json']).status).toBe(2); // no run was created there
      // the same --run-id given to a different run (another file) on another manifest: refused too
      const named = (file: string, u: string) =>
        cli([
          'run',
          '--file',
          file,
          '--schema',
          TICKS,
          '--quiet',
          '--op',
          'filter',
          '--where',
          'price > 110',
          '--out',
          `${join(dir, 'named-dir')}/`,
          '--chunk-size',
          '64KiB',
          '--shard-size',
          '128KiB',
          '--manifest',
          u,
          '--run-id',
          'nightly',
        ]);
      expect(named(ticks, newUrl()).status).toBe(0);
      const other2 = join(dir, 'other-named.bin');
      genTicks(other2, 50_000, 9);
      const again = named(other2, newUrl());
      expect(again.status).toBe(2);
      expect(again.stderr).toMatch(/another run named "nightly"/);
    }, 60_000);

    it('a host that sees the file change under it gives its shard back (not failed) and exits 1', async () => {
      const copy = join(dir, `changing-${Date.now()}.bin`);
      copyFileSync(ticks, copy);
      const url = newUrl();
      const gateLog = join(dir, `changing-${Date.now()}.log`);
      writeFileSync(gateLog, '');
      const p = start(
        [
          'run',
          '--file',
          copy,
          '--schema',
          TICKS,
          '--quiet',
          '--kernel',
          KERNEL,
          '--chunk-size',
          '64KiB',
          '--shard-size',
          '256KiB',
          '--manifest',
          url,
          '--run-id',
          'c',
          '--workers',
          '1',
        ],
        { SLOW_MS: '300', GATE_FILE: `${gateLog}.never`, GATE_LOG: gateLog },
      );
      await waitFor('a shard being worked on', () => readFileSync(gateLog, 'utf8').includes('start'));
      const later = new Date(Date.now() + 60_000);
      utimesSync(copy, later, later);
      const o = await p.done;
      expect(o.status).toBe(1);
      expect(o.stderr).toMatch(/file changed/);
      const evs = events(url, 'c');
      expect(evs.filter((e) => e.type === 'failed')).toHaveLength(0);
      expect(evs.filter((e) => e.type === 'released').length).toBeGreaterThanOrEqual(1);
      const st = json(cli(['status', '--manifest', url, '--run-id', 'c', '--json']));
      expect(st.shards.failed).toBe(0);
      expect(st.shards.running).toBe(0);
    }, 60_000);

    it('--out: a host naming another path is refused; a host that cannot write it exits 2 before any work (no run, no failed shard)', () => {
      const url = newUrl();
      const args = [
        ...base(),
        '--op',
        'filter',
        '--where',
        'price > 105',
        '--chunk-size',
        '64KiB',
        '--shard-size',
        '128KiB',
        '--manifest',
        url,
        '--run-id',
        'o',
      ];
      const bad = cli([...args, '--out', join(ticks, 'x.bin')]); // under a regular file: never writable
      expect(bad.status, bad.stderr).toBe(2);
      expect(bad.stderr).toMatch(/cannot write --out/);
      // refused before any work: not even the run was created, so no shard can have failed
      const st = cli(['status', '--manifest', url, '--run-id', 'o', '--json']);
      expect(st.status).toBe(2);
      expect(st.stderr).toMatch(/no run "o"|does not exist/);
      const url2 = newUrl();
      const a = [...args.slice(0, -4), '--manifest', url2, '--run-id', 'o'];
      expect(cli([...a, '--out', join(dir, 'o1.bin')]).status).toBe(0);
      const other = cli([...a, '--out', join(dir, 'o2.bin')]);
      expect(other.status).toBe(2);
      expect(other.stderr).toMatch(/different --out path/);
    }, 60_000);

    it('a host with a different file or options is refused with exit 2 naming the difference', () => {
      const url = newUrl();
      expect(cli([...base(), '--manifest', url, '--run-id', 'same', '--chunk-size', '64KiB']).status).toBe(0);
      const other = join(dir, 'other.bin');
      genTicks(other, N, 6);
      const r1 = cli([
        'run',
        '--file',
        other,
        '--schema',
        TICKS,
        '--quiet',
        '--manifest',
        url,
        '--run-id',
        'same',
        '--chunk-size',
        '64KiB',
      ]);
      expect(r1.status).toBe(2);
      expect(r1.stderr).toMatch(/different file/);
      const r2 = cli([
        ...base(),
        '--op',
        'hist',
        '--field',
        'price',
        '--range',
        '0:1',
        '--manifest',
        url,
        '--run-id',
        'same',
        '--chunk-size',
        '64KiB',
      ]);
      expect(r2.status).toBe(2);
      expect(r2.stderr).toMatch(/different op/);
      const r3 = cli([...base(), '--manifest', url, '--run-id', 'same', '--chunk-size', '32KiB']);
      expect(r3.status).toBe(2);
      expect(r3.stderr).toMatch(/--chunk-size/);
      expect(r3.stderr.trim().split('\n')).toHaveLength(1);
    }, 60_000);

    it('a shard that keeps failing ends the run with exit 3 naming it; retry resets it and the run completes', async () => {
      const url = newUrl();
      const failTs = String(1700000000000000000n + 150_000n * 1000n);
      const args = [
        ...base(),
        '--kernel',
        KERNEL,
        '--chunk-size',
        '64KiB',
        '--shard-size',
        '256KiB',
        '--manifest',
        url,
        '--run-id',
        'f',
        '--backoff',
        '20ms',
        '--max-attempts',
        '2',
      ];
      const r = cli(args, { env: { FAIL_TS: failTs } });
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/1 shard failed after the last attempt — shard \d+ \(2 attempts\): .*planted failure/);
      const st = json(cli(['status', '--manifest', url, '--run-id', 'f', '--json']));
      expect(st.state).toBe('failed');
      expect(st.shards.failed).toBe(1);
      expect(cli(['health', '--manifest', url, '--run-id', 'f']).status).toBe(1);
      const fails = events(url, 'f').filter((e) => e.type === 'failed');
      expect(fails.map((e) => e.detail.attempts)).toEqual([1, 2]);
      const rr = cli(['retry', '--manifest', url, '--run-id', 'f', '--json']);
      expect(json(rr).reset).toBe(1);
      const done = json(cli([...args, '--json']));
      const single = json(cli([...base(), '--kernel', KERNEL, '--json']));
      expect(done.result).toEqual(single.result);
    }, 60_000);

    it('bad input is not retried: every shard fails after one attempt, marked permanent, and the run exits 3', () => {
      const url = newUrl();
      const r = cli([
        ...base(),
        '--op',
        'groupby',
        '--key',
        'ts',
        '--max-groups',
        '5',
        '--chunk-size',
        '64KiB',
        '--shard-size',
        '256KiB',
        '--manifest',
        url,
        '--run-id',
        'bad',
        '--backoff',
        '10ms',
        '--max-attempts',
        '3',
      ]);
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/--max-groups 5 exceeded/);
      const fails = events(url, 'bad').filter((e) => e.type === 'failed');
      const st = json(cli(['status', '--manifest', url, '--run-id', 'bad', '--json']));
      expect(st.shards.failed).toBe(st.shards.total);
      expect(fails).toHaveLength(st.shards.total);
      for (const f of fails) expect(f.detail).toMatchObject({ attempts: 1, permanent: true, final: true });
    }, 60_000);

    it('a second SIGINT aborts at once (exit 130), leaving the leases in hand to expire', async () => {
      const url = newUrl();
      const gateLog = join(dir, `sigint2-${Date.now()}.log`);
      writeFileSync(gateLog, '');
      // shards of 4 chunks of 2 s each: finishing the one in hand would take seconds
      const p = start(
        [
          ...base(),
          '--kernel',
          KERNEL,
          '--chunk-size',
          '64KiB',
          '--shard-size',
          '256KiB',
          '--manifest',
          url,
          '--run-id',
          'i',
          '--workers',
          '1',
          '--grace',
          '60s',
        ],
        { SLOW_MS: '2000', GATE_FILE: `${gateLog}.never`, GATE_LOG: gateLog },
      );
      await waitFor('a shard being worked on', () => readFileSync(gateLog, 'utf8').includes('start'));
      p.kill('SIGINT');
      await sleep(200);
      const t0 = Date.now();
      p.kill('SIGINT');
      const o = await p.done;
      expect(o.status).toBe(130);
      // (finishing the shard in hand would take seconds more: 4 chunks of 2 s)
      expect(Date.now() - t0).toBeLessThan(4000);
      const st = json(cli(['status', '--manifest', url, '--run-id', 'i', '--json']));
      expect(st.shards.running).toBeGreaterThanOrEqual(1);
      expect(events(url, 'i').filter((e) => e.type === 'committed' || e.type === 'released')).toHaveLength(0);
    }, 60_000);

    it('SIGTERM: the shard in hand is finished and committed, nothing more is claimed, exit 0', async () => {
      const url = newUrl();
      // The test kernel logs each chunk it starts (GATE_LOG; the gate file never exists, so it never waits).
      const gateLog = join(dir, `sigterm-${Date.now()}.log`);
      writeFileSync(gateLog, '');
      const p = start(
        [
          ...base(),
          '--kernel',
          KERNEL,
          '--chunk-size',
          '64KiB',
          '--shard-size',
          '256KiB',
          '--manifest',
          url,
          '--run-id',
          't',
          '--workers',
          '1',
        ],
        { SLOW_MS: '150', GATE_FILE: `${gateLog}.never`, GATE_LOG: gateLog },
      );
      await waitFor('a shard being worked on', () => readFileSync(gateLog, 'utf8').includes('start'));
      p.kill('SIGTERM');
      const o = await p.done;
      expect(o.status, o.stderr).toBe(0);
      const evs = events(url, 't');
      // The shard being worked on is finished and committed. A host holds one shard more than its
      // threads need; if that one had not been started it is given back. Nothing is claimed after the
      // signal, and nothing is left held.
      const claims = evs.filter((e) => e.type === 'claimed');
      expect(claims.length).toBeGreaterThanOrEqual(1);
      expect(claims.length).toBeLessThanOrEqual(2);
      const committed = evs.filter((e) => e.type === 'committed').length;
      expect(committed).toBeGreaterThanOrEqual(1);
      expect(committed + evs.filter((e) => e.type === 'released').length).toBe(claims.length);
      // With a grace period shorter than the shard, the lease is released instead.
      const qLog = `${gateLog}.q`;
      writeFileSync(qLog, '');
      const q = start(
        [
          ...base(),
          '--kernel',
          KERNEL,
          '--chunk-size',
          '64KiB',
          '--shard-size',
          '256KiB',
          '--manifest',
          url,
          '--run-id',
          't',
          '--workers',
          '1',
          '--grace',
          '100ms',
        ],
        { SLOW_MS: '500', GATE_FILE: `${qLog}.never`, GATE_LOG: qLog },
      );
      await waitFor('a new shard being worked on', () => readFileSync(qLog, 'utf8').includes('start'));
      q.kill('SIGTERM');
      const o2 = await q.done;
      expect(o2.status, o2.stderr).toBe(0);
      const evs2 = events(url, 't');
      const held = evs2.filter((e) => e.type === 'claimed').length - claims.length;
      expect(evs2.filter((e) => e.type === 'released')).toHaveLength(
        held + evs.filter((e) => e.type === 'released').length,
      );
      expect(evs2.filter((e) => e.type === 'committed')).toHaveLength(committed);
      // The released shard is claimable again at once: the run completes.
      const single = json(cli([...base(), '--kernel', KERNEL, '--json']));
      const fin = json(
        cli([
          ...base(),
          '--kernel',
          KERNEL,
          '--chunk-size',
          '64KiB',
          '--shard-size',
          '256KiB',
          '--manifest',
          url,
          '--run-id',
          't',
          '--json',
        ]),
      );
      expect(fin.result).toEqual(single.result);
    }, 60_000);

    it('tiny shards are claimed in batches; SIGTERM gives back the unstarted rest of a batch; the run then completes', async () => {
      const url = newUrl();
      const small = join(dir, 'small.bin');
      genTicks(small, 3_000, 9);
      // 10 records a shard, a few ms of work each: a host grows its batches to ~50 ms of shards
      const args = [
        'run',
        '--file',
        small,
        '--schema',
        TICKS,
        '--quiet',
        '--kernel',
        KERNEL,
        '--chunk-size',
        '240B',
        '--shard-size',
        '240B',
        '--manifest',
        url,
        '--run-id',
        'b',
        '--workers',
        '1',
      ];
      const gateFile = join(dir, `gate-${Date.now()}`);
      const gateLog = `${gateFile}.log`;
      writeFileSync(gateLog, '');
      // Not --quiet: the test waits for the host to say it took SIGTERM in.
      const p = start(
        args.filter((a) => a !== '--quiet'),
        { SLOW_MS: '4', GATE_FILE: gateFile, GATE_LOG: gateLog },
      );
      await waitFor('some commits', () => events(url, 'b').filter((e) => e.type === 'committed').length >= 30);
      // Hold the host at the start of a shard and see whether it holds at least two shards the kernel
      // has not begun. With --workers 1 the host runs two claim slots (one keeps the thread busy while
      // the other commits), so one of those may be the other slot's shard in hand, already queued for
      // the thread; the rest are unstarted parts of batches. If not, let it run on (a pause makes the
      // host shrink its batches, which regrow within a few shards) and hold it again.
      const shardOfTs = (ts: string) => Number((BigInt(ts) - 1_700_000_000_000_000_000n) / 1000n) / 10;
      const log = () => readFileSync(gateLog, 'utf8').split('\n').filter(Boolean);
      const starts = () => log().filter((l) => l.startsWith('start'));
      let unstarted: number[] = [];
      for (let attempt = 0; attempt < 10 && unstarted.length < 2; attempt++) {
        if (attempt > 0) {
          const from = starts().length;
          rmSync(gateFile);
          await waitFor('the host to run on', () => starts().length >= from + 40);
        }
        const begun = starts().length;
        writeFileSync(gateFile, String(begun));
        await waitFor('the host to pause', () => log().at(-1)!.startsWith('paused') && starts().length >= begun);
        const started = new Set([...starts(), log().at(-1)!].map((l) => shardOfTs(l.split(' ')[1]!)));
        const evs = events(url, 'b');
        const settled = new Set(evs.filter((e) => e.type === 'committed' || e.type === 'released').map((e) => e.shard));
        const held = evs
          .filter((e) => e.type === 'claimed' && e.pid === p.pid && !settled.has(e.shard))
          .map((e) => e.shard as number);
        unstarted = held.filter((s) => !started.has(s));
      }
      expect(unstarted.length).toBeGreaterThanOrEqual(2);
      p.kill('SIGTERM');
      // Let the held shard go on only once the host has taken the signal in (else, on a loaded
      // machine, it could finish that shard and start the next before it sees the signal).
      await waitFor('the host to take the signal', () => p.stderr().includes('claiming no more shards'));
      rmSync(gateFile);
      const o = await p.done;
      expect(o.status, o.stderr).toBe(0);
      const evs = events(url, 'b');
      const count = (t: string) => evs.filter((e) => e.type === t).length;
      // Claimed shards not yet started were given back, not left to expire; shards in hand were finished.
      const released = evs.filter((e) => e.type === 'released').map((e) => e.shard as number);
      expect(released.length, `released ${released} of unstarted ${unstarted}`).toBeGreaterThanOrEqual(
        unstarted.length - 1,
      );
      expect(unstarted).toEqual(expect.arrayContaining(released));
      expect(count('claimed')).toBe(count('committed') + count('released'));
      const fin = json(cli([...args.filter((a) => a !== '--quiet'), '--json']));
      const single = json(cli(['run', '--file', small, '--schema', TICKS, '--quiet', '--kernel', KERNEL, '--json']));
      expect(fin.result).toEqual(single.result);
      expectOneCommitPerShard(events(url, 'b'), 300);
    }, 60_000);

    it('a zombie (SIGSTOP past its lease, then SIGCONT) cannot commit; the shard is committed once by the taker', async () => {
      const url = newUrl();
      const args = [
        ...base(),
        '--kernel',
        KERNEL,
        '--chunk-size',
        '64KiB',
        '--shard-size',
        '256KiB',
        '--manifest',
        url,
        '--run-id',
        'z',
        '--workers',
        '1',
        '--lease',
        '600ms',
        '--json',
      ];
      const zombie = start(args, { SLOW_MS: '100' });
      await waitFor('the zombie claims', () =>
        events(url, 'z').some((e) => e.type === 'claimed' && e.pid === zombie.pid),
      );
      zombie.kill('SIGSTOP');
      await sleep(1000);
      const taker = start(args);
      const t = await taker.done;
      expect(t.status, t.stderr).toBe(0);
      const takeover = events(url, 'z').filter((e) => e.type === 'expired');
      expect(takeover.length).toBeGreaterThanOrEqual(1);
      zombie.kill('SIGCONT');
      const z = await zombie.done;
      expect(z.status, z.stderr).toBe(0);
      const evs = events(url, 'z');
      const shards = JSON.parse(t.stdout).share.of;
      expectOneCommitPerShard(evs, shards);
      const zombieShard = takeover[0].shard;
      expect(
        evs.some(
          (e) =>
            e.type === 'committed' && e.pid === zombie.pid && e.shard === zombieShard && e.token === takeover[0].token,
        ),
      ).toBe(false);
      // It either had its commit rejected or noticed the lost lease at its next heartbeat.
      expect(
        evs.some((e) => e.type === 'commit_rejected' && e.pid === zombie.pid) ||
          /lease lost/.test(z.stderr) ||
          JSON.parse(z.stdout).share.lost > 0,
      ).toBe(true);
      const single = json(cli([...base(), '--kernel', KERNEL, '--json']));
      const merged = [JSON.parse(t.stdout), JSON.parse(z.stdout)].find((d) => d.result !== null);
      expect(merged.result).toEqual(single.result);
    }, 60_000);

    it('health: degraded (exit 1) while a dead host holds expired leases, healthy (0) once the run is done', async () => {
      const url = newUrl();
      const args = [
        ...base(),
        '--kernel',
        KERNEL,
        '--chunk-size',
        '64KiB',
        '--shard-size',
        '256KiB',
        '--manifest',
        url,
        '--run-id',
        'h',
        '--workers',
        '1',
        '--lease',
        '800ms',
        '--json',
      ];
      const p = start(args, { SLOW_MS: '100' });
      await waitFor('a claim', () => events(url, 'h').some((e) => e.type === 'claimed'));
      p.kill('SIGKILL');
      await p.done;
      await sleep(1000);
      const sick = cli(['health', '--manifest', url, '--run-id', 'h', '--json']);
      expect(sick.status).toBe(1);
      expect(JSON.parse(sick.stdout).health).toBe('degraded');
      expect(JSON.parse(sick.stdout).reasons.join(' ')).toMatch(/expired leases/);
      const fin = json(cli(args));
      expect(fin.result).not.toBeNull();
      expect(cli(['health', '--manifest', url, '--run-id', 'h']).status).toBe(0);
    }, 60_000);

    it('a killed run resumes where it stopped (cron-style): no shard is done twice', async () => {
      const url = newUrl();
      const args = [
        ...base(),
        '--kernel',
        KERNEL,
        '--chunk-size',
        '64KiB',
        '--shard-size',
        '256KiB',
        '--manifest',
        url,
        '--run-id',
        'k',
        '--workers',
        '1',
        '--lease',
        '500ms',
        '--json',
      ];
      const p = start(args, { SLOW_MS: '30' });
      await waitFor('two commits', () => events(url, 'k').filter((e) => e.type === 'committed').length >= 2);
      p.kill('SIGKILL');
      await p.done;
      const before = events(url, 'k').filter((e) => e.type === 'committed').length;
      const r = json(cli(args));
      expect(r.share.shards).toBe(r.share.of - before);
      const single = json(cli([...base(), '--kernel', KERNEL, '--json']));
      expect(r.result).toEqual(single.result);
      expectOneCommitPerShard(events(url, 'k'), r.share.of);
      // A further invocation of the finished run prints the stored result and does nothing.
      const again = json(cli(args));
      expect(again.share.shards).toBe(0);
      expect(again.result).toEqual(single.result);
    }, 60_000);
  });
}
