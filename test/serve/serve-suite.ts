// `bigproc serve` against a real manifest of either backend, holding runs in every state: one done
// (merged), one failed (a shard's error holds markup and a URL with a password), one running with a
// zombie's rejected commit, a running shard, an expired lease and pending shards. Runs are made by
// the real CLI, except the running one, which is driven through the store's own interface so that
// its state holds still while the API is checked. Every number is checked against `bigproc status`
// and `bigproc events`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basename, join } from 'node:path';
// @ts-expect-error: the package ships no types
import parsePrometheus from 'parse-prometheus-text-format';
import { openStore } from '../../src/manifest/open.js';
import type { Lease, ManifestStore, Owner } from '../../src/manifest/types.js';
import { TICKS, cli, genTicks, json, tempDir } from '../cli/helpers.js';
import { KERNEL, start, waitFor } from '../cli/manifest-suite.js';
import { get, serve, sse, type Served } from './helpers.js';

export const XSS = '<img src=x onerror=alert(1)>';

export interface Backend {
  /** a fresh manifest URL (its password, if any, is `secret`) */
  url(): Promise<string>;
  secret: string | null;
  cleanup(): Promise<void>;
}

/**
 * The CLI's own view of a run, to compare the API with: as the server shows it, a directory manifest's
 * path cut to its name (the CLI, run by the operator, prints it whole).
 */
const asServed = (url: string, text: string) => {
  const dir = /^file:(.+)$/.exec(url)?.[1];
  return dir ? text.split(dir).join(basename(dir)) : text;
};
const status = (url: string, run: string) =>
  JSON.parse(asServed(url, JSON.stringify(json(cli(['status', '--manifest', url, '--run-id', run, '--json'])))));
const trail = (url: string, run: string) =>
  asServed(url, cli(['events', '--manifest', url, '--run-id', run, '--json']).stdout)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** A planted failure whose message holds markup and the manifest's own credentials. */
export const failMessage = (url: string) => `${XSS} while reading ${url}`;

export interface Fixture {
  url: string;
  dir: string;
  ticks: string;
  /** the holders of the running run's shards */
  taker: Owner;
  zombie: Owner;
  /** in run "live": the shard the taker took over from the zombie, and the one left under an expired lease */
  takenOver: number;
  expired: number;
}

/** done: "done"; failed: "failed" (one shard, 2 attempts); running: "live" (see the top of this file). */
export async function makeRuns(url: string): Promise<Fixture & { cleanup: () => void }> {
  const { dir, cleanup } = tempDir();
  const ticks = join(dir, 'ticks.bin');
  genTicks(ticks, 100_000, 3);
  const base = [
    'run',
    '--file',
    ticks,
    '--schema',
    TICKS,
    '--quiet',
    '--chunk-size',
    '64KiB',
    '--shard-size',
    '256KiB',
    '--manifest',
    url,
  ];
  expect(cli([...base, '--run-id', 'done']).status).toBe(0);
  const failTs = String(1700000000000000000n + 50_000n * 1000n);
  const failed = cli([...base, '--kernel', KERNEL, '--run-id', 'failed', '--backoff', '10ms', '--max-attempts', '2'], {
    env: { FAIL_TS: failTs, FAIL_MESSAGE: failMessage(url) },
  });
  expect(failed.status, failed.stderr).toBe(3);
  const zombie = { host: 'zombie-host', pid: 101 };
  const taker = { host: 'taker-host', pid: 202 };
  const store = await openStore(url, { existing: true });
  try {
    return { url, dir, ticks, taker, zombie, cleanup, ...(await liveRun(store, zombie, taker)) };
  } finally {
    await store.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Shards 0-1 done; the zombie claims 2 and 3 under short leases and stops renewing; the taker takes
 * one of them over (claiming and releasing any fresh shard a store offers first), and the zombie's
 * late commit of it is rejected; the other stays running under an expired lease; the rest pending.
 */
async function liveRun(
  store: ManifestStore,
  zombie: Owner,
  taker: Owner,
): Promise<{ takenOver: number; expired: number }> {
  const desc = (await store.run('done').descriptor())!;
  const partials = await store.run('done').partials();
  const run = store.run('live');
  await run.open({ ...desc, run_id: 'live' }, taker);
  for (let i = 0; i < 2; i++) {
    const c = await run.claim(taker, 60_000);
    if (c.kind !== 'claimed') throw new Error('no claim');
    expect(await run.commit(c.lease, taker, partials[c.lease.shard]!)).toBe(true);
  }
  const held = new Map<number, Lease>();
  for (let i = 0; i < 2; i++) {
    const z = await run.claim(zombie, 150);
    if (z.kind !== 'claimed') throw new Error('no claim');
    held.set(z.lease.shard, z.lease);
  }
  await sleep(400);
  const fresh: Lease[] = [];
  let took: Lease | null = null;
  for (let i = 0; i < desc.shards && !took; i++) {
    const c = await run.claim(taker, 600_000);
    if (c.kind !== 'claimed') throw new Error('no claim');
    if (held.has(c.lease.shard)) took = c.lease;
    else fresh.push(c.lease);
  }
  if (!took) throw new Error("the taker never took the zombie's shards over");
  for (const l of fresh) await run.release(l, taker);
  expect(await run.commit(held.get(took.shard)!, zombie, 'late')).toBe(false);
  const expired = [...held.keys()].find((s) => s !== took.shard)!;
  return { takenOver: took.shard, expired };
}

export function serveSuite(name: string, backend: () => Promise<Backend>): void {
  describe(`bigproc serve (${name})`, () => {
    let be: Backend;
    let fx: Fixture & { cleanup: () => void };
    let server: Served;
    const api = (path: string, headers?: Record<string, string>) => get(new URL(path, server.url).href, { headers });

    beforeAll(async () => {
      be = await backend();
      fx = await makeRuns(await be.url());
      server = await serve(['--manifest', fx.url]);
    }, 90_000);
    afterAll(async () => {
      await server?.stop();
      fx?.cleanup();
      await be?.cleanup();
    });

    it('GET /api/runs lists every run with the counts `bigproc status` gives', async () => {
      const r = await api('/api/runs');
      expect(r.status).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      const runs = r.json().runs;
      expect(runs.map((x: any) => x.id).sort()).toEqual(['done', 'failed', 'live']);
      for (const x of runs) {
        const st = status(fx.url, x.id);
        expect(x.state).toBe(st.state);
        expect(x.shards).toEqual(st.shards);
        expect(x.hosts).toBe(st.hosts.length);
      }
      const byId = Object.fromEntries(runs.map((x: any) => [x.id, x]));
      expect(byId.done.bytes_done).toBe(byId.done.file_bytes);
      expect(byId.done.records_done).toBe(100_000);
      expect(byId.live.shards).toMatchObject({ done: 2, running: 2, expired: 1, failed: 0 });
      expect(byId.failed.shards.failed).toBe(1);
    });

    it('GET /api/runs/:id is `bigproc status --json` plus host rows with the shards they hold and their tokens', async () => {
      for (const id of ['done', 'failed', 'live']) {
        const d = (await api(`/api/runs/${id}`)).json();
        const st = status(fx.url, id);
        for (const k of ['run_id', 'state', 'shards', 'failed', 'result', 'hosts'])
          expect(d[k], `${id}.${k}`).toEqual(st[k]);
      }
      const live = (await api('/api/runs/live')).json();
      const taker = live.host_rows.find((h: any) => h.host === fx.taker.host);
      expect(taker.shards_done).toBe(2);
      expect(taker.current).toHaveLength(1);
      expect(taker.current[0]).toMatchObject({ shard: fx.takenOver, token: 2 });
      expect(taker.alive).toBe(true);
    });

    it('GET /api/runs/:id/shards filters by state and host', async () => {
      const all = (await api('/api/runs/live/shards')).json().shards;
      expect(all.length).toBe(status(fx.url, 'live').shards.total);
      const running = (await api('/api/runs/live/shards?state=running')).json().shards;
      expect(running.map((s: any) => s.shard)).toEqual([2, 3]);
      expect(running.find((s: any) => s.shard === fx.takenOver)).toMatchObject({ token: 2, owner: fx.taker });
      expect(Date.parse(running.find((s: any) => s.shard === fx.expired).lease_expires_at)).toBeLessThan(Date.now());
      const mine = (await api(`/api/runs/live/shards?host=${fx.zombie.host}`)).json().shards;
      expect(mine.map((s: any) => s.shard)).toEqual([fx.expired]);
      expect(all.filter((s: any) => s.state === 'pending').length).toBe(all.length - 4);
      const failed = (await api('/api/runs/failed/shards?state=failed')).json().shards;
      expect(failed).toHaveLength(1);
      expect(failed[0].attempts).toBe(2);
      expect(failed[0].last_error).toContain(XSS);
    });

    it('GET /api/runs/:id/events pages through the whole trail of `bigproc events` with a cursor, and filters', async () => {
      for (const id of ['done', 'failed', 'live']) {
        const want = trail(fx.url, id);
        const got: any[] = [];
        let after = 0;
        for (let pages = 0; pages < 100; pages++) {
          const p = (await api(`/api/runs/${id}/events?after=${after}&limit=3`)).json();
          got.push(...p.events);
          after = p.next;
          if (!p.more) break;
        }
        expect(got.map(({ id: _id, ...e }) => e)).toEqual(want);
        expect(got.map((e) => e.id)).toEqual(want.map((_, i) => i + 1));
      }
      const rejected = (await api('/api/runs/live/events?type=commit_rejected')).json().events;
      expect(rejected).toHaveLength(1);
      expect(rejected[0]).toMatchObject({ shard: fx.takenOver, token: 1, host: fx.zombie.host });
      const history = (await api(`/api/runs/live/events?shard=${fx.takenOver}`)).json().events;
      expect(history.map((e: any) => e.type)).toEqual(['claimed', 'expired', 'claimed', 'commit_rejected']);
    });

    it('GET /api/runs/:id/result: the merged result once done, 404 before', async () => {
      const r = await api('/api/runs/done/result');
      expect(r.status).toBe(200);
      expect(r.json().result).toEqual(status(fx.url, 'done').result);
      const none = await api('/api/runs/live/result');
      expect(none.status).toBe(404);
      expect(none.json().error).toMatch(/no merged result yet/);
    });

    it('GET /api/health: 200 for a healthy run, 503 for a degraded one, with the reasons `bigproc health` gives', async () => {
      expect((await api('/api/health?run=done')).status).toBe(200);
      const failed = await api('/api/health?run=failed');
      expect(failed.status).toBe(503);
      expect(failed.json().reasons).toEqual(['1 shard(s) failed after their last attempt']);
      const live = await api('/api/health?run=live');
      expect(live.status).toBe(503);
      expect(live.json().reasons[0]).toMatch(/1 shard\(s\) held under expired leases/);
      expect(cli(['health', '--manifest', fx.url, '--run-id', 'done']).status).toBe(0);
      expect(cli(['health', '--manifest', fx.url, '--run-id', 'failed']).status).toBe(1);
      const all = await api('/api/health');
      expect(all.status).toBe(503);
      expect(all.json().runs).toHaveLength(3);
    });

    it('/metrics parses as Prometheus text and its numbers are those of `bigproc status` and `bigproc events`', async () => {
      const r = await api('/metrics');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      const families = parsePrometheus(r.text) as {
        name: string;
        type: string;
        metrics: { labels: Record<string, string>; value: string }[];
      }[];
      const fam = (n: string) => families.find((f) => f.name === n)!;
      const value = (n: string, labels: Record<string, string>) => {
        const m = fam(n).metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
        return m === undefined ? undefined : Number(m.value);
      };
      expect(fam('bigproc_commits_total').type).toBe('COUNTER');
      expect(fam('bigproc_shards').type).toBe('GAUGE');
      for (const run of ['done', 'failed', 'live']) {
        const st = status(fx.url, run);
        const evs = trail(fx.url, run);
        const n = (t: string) => evs.filter((e) => e.type === t).length;
        for (const state of ['pending', 'running', 'done', 'failed'])
          expect(value('bigproc_shards', { run, state }), `${run} ${state}`).toBe(st.shards[state]);
        expect(value('bigproc_shards_expired', { run })).toBe(st.shards.expired);
        expect(value('bigproc_commits_total', { run })).toBe(n('committed'));
        expect(value('bigproc_commits_total', { run })).toBe(
          st.hosts.reduce((s: number, h: any) => s + h.shards_done, 0),
        );
        expect(value('bigproc_claims_total', { run })).toBe(n('claimed'));
        expect(value('bigproc_commits_rejected_total', { run })).toBe(n('commit_rejected'));
        expect(value('bigproc_lease_expiries_total', { run })).toBe(n('expired'));
        expect(value('bigproc_failures_total', { run })).toBe(n('failed'));
        expect(value('bigproc_hosts', { run })).toBe(st.hosts.length);
      }
      expect(value('bigproc_commits_rejected_total', { run: 'live' })).toBe(1);
      expect(value('bigproc_bytes_processed_total', { run: 'done' })).toBe(2_400_000);
      expect(value('bigproc_records_processed_total', { run: 'done' })).toBe(100_000);
      expect(value('bigproc_seconds_since_last_commit', { run: 'done' })).toBeGreaterThanOrEqual(0);
      expect(value('bigproc_run_info', { run: 'failed', state: 'failed', op: 'kernel' })).toBe(1);
    });

    it('errors are JSON with a status and no stack: unknown run, endpoint, parameter, method; retry without a token', async () => {
      const cases: [string, string, number, RegExp][] = [
        ['GET', '/api/runs/nope', 404, /no run "nope"/],
        ['GET', '/api/nothing', 404, /no such endpoint/],
        ['GET', '/api/runs/live/events?limit=0', 400, /limit/],
        ['GET', '/api/runs/live/events?limit=abc', 400, /limit/],
        ['GET', '/api/runs/live/events?type=bogus', 400, /type/],
        ['GET', '/api/runs/live/shards?colour=red', 400, /unknown query parameter "colour"/],
        ['GET', '/api/runs/live/shards?state=done&state=failed', 400, /more than once/],
        ['GET', '/api/health?lease=1ms', 400, /--lease/],
        ['DELETE', '/api/runs/live', 405, /not allowed/],
        ['POST', '/api/runs/failed/retry', 403, /--token/],
      ];
      for (const [method, path, code, message] of cases) {
        const r = await get(new URL(path, server.url).href, { method });
        expect(r.status, `${method} ${path}`).toBe(code);
        expect(r.headers['content-type']).toMatch(/^application\/json/);
        expect(r.json().status).toBe(code);
        expect(r.json().error).toMatch(message);
        expect(r.text).not.toMatch(/\n\s+at /);
      }
      // a request naming another host (DNS rebinding) is refused by a server without a token
      const rebound = await api('/api/runs', { host: 'attacker.example' });
      expect(rebound.status).toBe(421);
    });

    it('no credential or manifest path reaches any response, while markup in stored errors is returned as data', async () => {
      const paths = [
        '/',
        '/api/info',
        '/api/runs',
        '/api/runs/failed',
        '/api/runs/failed/shards',
        '/api/runs/failed/events',
        '/api/runs/live',
        '/api/health',
        '/metrics',
        '/api/runs/nope',
      ];
      const bodies = await Promise.all(paths.map(async (p) => (await api(p)).text));
      const stream = await sse(new URL('/api/runs/failed/stream', server.url).href);
      try {
        const snap = await stream.waitFor((m) => m.event === 'snapshot', 10_000, 'a snapshot');
        bodies.push(JSON.stringify(snap.data));
      } finally {
        stream.close();
      }
      const all = bodies.join('\n');
      if (be.secret) expect(all).not.toContain(be.secret);
      const dirUrl = /^file:(.+)$/.exec(fx.url)?.[1];
      if (dirUrl) expect(all).not.toContain(dirUrl);
      expect(all).toContain(XSS.replace(/"/g, '\\"'));
      expect((await api('/api/runs/failed/shards')).json().shards.find((s: any) => s.last_error).last_error).toContain(
        `${XSS} while reading `,
      );
    });

    it('SSE: a commit arrives within a second; a client reconnecting with Last-Event-ID gets every trail event it missed', async () => {
      const args = [
        'run',
        '--file',
        fx.ticks,
        '--schema',
        TICKS,
        '--quiet',
        '--kernel',
        KERNEL,
        '--chunk-size',
        '64KiB',
        '--shard-size',
        '64KiB',
        '--manifest',
        fx.url,
        '--run-id',
        'sse',
        '--workers',
        '1',
      ];
      const host = start(args, { SLOW_MS: '150' });
      try {
        await waitFor(
          'the run to exist',
          () => cli(['status', '--manifest', fx.url, '--run-id', 'sse']).status === 0,
          20_000,
        );
        const first = await sse(new URL('/api/runs/sse/stream', server.url).href);
        const snap = await first.waitFor((m) => m.event === 'snapshot', 10_000, 'a snapshot');
        expect(snap.data.shards.length).toBeGreaterThan(10);
        const commits = [];
        for (let i = 0; i < 3; i++)
          commits.push(
            await first.waitFor((m) => m.event === 'trail' && m.data.type === 'committed', 20_000, 'a commit'),
          );
        // the event's time is the committing host's clock (or the database's): both this machine's
        const lags = commits.map((m) => m.at - Date.parse(m.data.time));
        for (const lag of lags) expect(lag, `lags ${lags}`).toBeLessThan(1000);
        const shardMsg = await first.waitFor(
          (m) => m.event === 'shard' && m.data.state === 'done',
          5000,
          'a shard turning done',
        );
        expect(shardMsg.data.token).toBeGreaterThan(0);
        const lastId = Number([...first.messages].reverse().find((m) => m.event === 'trail')!.id);
        first.close();
        // while disconnected, more happens
        await waitFor('more commits', () => trail(fx.url, 'sse').length >= lastId + 4, 20_000);
        const again = await sse(new URL('/api/runs/sse/stream', server.url).href, { 'last-event-id': String(lastId) });
        await again.waitFor((m) => m.event === 'snapshot', 10_000, 'the snapshot');
        const upTo = trail(fx.url, 'sse').length;
        await again.waitFor((m) => m.event === 'trail' && Number(m.id) >= upTo, 10_000, 'the replay');
        const replayed = again.messages.filter((m) => m.event === 'trail');
        expect(replayed.map((m) => Number(m.id))).toEqual(
          Array.from({ length: replayed.length }, (_, i) => lastId + 1 + i),
        );
        const want = trail(fx.url, 'sse');
        for (const m of replayed) {
          const { id: _id, ...e } = m.data;
          expect(e).toEqual(want[Number(m.id) - 1]);
        }
        again.close();
      } finally {
        host.kill('SIGKILL');
        await host.done;
      }
    }, 90_000);

    it('with a token: every request needs it (header or the /login cookie), and retry resets the failed shards', async () => {
      const token = 'serve-test-token-1234';
      const guarded = await serve(['--manifest', fx.url, '--token', token]);
      try {
        const at = (p: string) => new URL(p, guarded.url).href;
        for (const p of ['/', '/api/runs', '/metrics', '/api/runs/live/stream', '/api/health']) {
          expect((await get(at(p))).status, p).toBe(401);
          expect((await get(at(p), { headers: { authorization: 'Bearer wrong' } })).status, p).toBe(401);
        }
        expect((await get(at('/api/runs'), { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
        expect((await get(at('/login?token=wrong'))).status).toBe(401);
        const login = await get(at(`/login?token=${token}`));
        expect(login.status).toBe(303);
        const cookie = String(login.headers['set-cookie']).split(';')[0]!;
        expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
        expect((await get(at('/metrics'), { headers: { cookie } })).status).toBe(200);
        expect((await get(at('/api/info'), { headers: { cookie } })).json().retry).toBe(true);
        const retried = await get(at('/api/runs/failed/retry'), {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        });
        expect(retried.status).toBe(200);
        expect(retried.json().reset).toBe(1);
        expect(status(fx.url, 'failed').shards).toMatchObject({ failed: 0, pending: 1 });
        expect(trail(fx.url, 'failed').filter((e) => e.type === 'retried')).toHaveLength(1);
      } finally {
        expect(await guarded.stop()).toBe(0);
      }
    }, 30_000);
  });
}
