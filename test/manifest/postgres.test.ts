// The manifest contract against PostgreSQL (a throwaway embedded server for this file), plus what
// only a database has: surviving a server restart, and giving up cleanly when it stays down.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/manifest/postgres/store.js';
import { LATEST, MIGRATIONS } from '../../src/manifest/postgres/migrations/index.js';
import { openStore } from '../../src/manifest/open.js';
import { BigprocError } from '../../src/errors.js';
import { descriptor, manifestSuite } from './suite.js';
import { freePort, startPostgres, type PgServer } from './pg-server.js';
import pg from 'pg';
import { createServer, connect, type Server, type Socket } from 'node:net';

let server: PgServer;
let dbUrl: string;

beforeAll(async () => {
  server = await startPostgres();
  dbUrl = await server.newDatabase();
});
afterAll(async () => {
  await server?.stop();
});

manifestSuite('postgres', async () => ({
  store: () => openPostgresStore(dbUrl),
  cleanup: async () => {},
}));

/**
 * A TCP proxy in front of the server that can swallow the next reply and cut the connection: the
 * statement has run and committed, but the client never hears so (what a network drop or a server
 * crash right after commit looks like).
 */
async function lossyProxy(
  port: number,
): Promise<{ port: number; dropNextReply(): void; cuts(): number; close(): Promise<void> }> {
  let drop = false;
  let cuts = 0;
  const socks = new Set<Socket>();
  const server: Server = createServer((down) => {
    const up = connect(port, '127.0.0.1');
    socks.add(down).add(up);
    const cut = () => {
      down.destroy();
      up.destroy();
    };
    down.on('data', (d) => up.write(d));
    up.on('data', (d) => {
      if (drop) {
        drop = false;
        cuts++;
        cut();
      } else down.write(d);
    });
    down.on('error', cut).on('close', cut);
    up.on('error', cut).on('close', cut);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    dropNextReply: () => (drop = true),
    cuts: () => cuts,
    close: () => {
      for (const s of socks) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

describe('postgres manifest', () => {
  it('is opened through openStore without leaving a navigator global behind (pg is imported with one, then it goes)', async () => {
    expect('navigator' in globalThis).toBe(false);
    const store = await openStore(dbUrl);
    try {
      expect(await store.runs()).toEqual(expect.any(Array));
    } finally {
      await store.close();
    }
    expect('navigator' in globalThis).toBe(false);
  });

  const A = { host: 'alpha', pid: 11 };

  /** a store whose connection goes through lossyProxy, so a test can drop the server's next answer */
  async function storeBehindLossyProxy() {
    const proxy = await lossyProxy(server.port);
    const u = new URL(dbUrl);
    u.port = String(proxy.port);
    return { proxy, store: await openPostgresStore(u.href) };
  }
  const B = { host: 'beta', pid: 22 };

  it('creates its schema once, even with hosts opening a fresh database at the same time', async () => {
    const url = await server.newDatabase();
    const stores = await Promise.all([0, 1, 2, 3].map(() => openPostgresStore(url)));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('select version from bigproc_migrations order by version');
      expect(rows.map((r) => r.version)).toEqual([1]);
    } finally {
      await client.end();
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('migrates an empty database to the latest version (every migration recorded); at the latest, opening changes nothing', async () => {
    const url = await server.newDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const schema = async () =>
      (
        await client.query(
          `select table_name, column_name, data_type from information_schema.columns where table_schema = 'public' order by 1, 2`,
        )
      ).rows;
    const recorded = async () =>
      (await client.query('select version, applied_at from bigproc_migrations order by version')).rows;
    try {
      expect(await schema()).toEqual([]);
      await (await openPostgresStore(url)).close();
      const first = await recorded();
      expect(first.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(LATEST).toBe(MIGRATIONS.length);
      const tables = new Set((await schema()).map((r) => r.table_name));
      expect([...tables].sort()).toEqual([
        'bigproc_events',
        'bigproc_guards',
        'bigproc_migrations',
        'bigproc_runs',
        'bigproc_shards',
      ]);
      const before = await schema();
      // a second bigproc at the same version: nothing applied again, nothing changed
      const store = await openPostgresStore(url);
      expect((await store.run('again').open(descriptor('again', 1), A)).created).toBe(true);
      await store.close();
      expect(await recorded()).toEqual(first);
      expect(await schema()).toEqual(before);
    } finally {
      await client.end();
    }
  });

  it('needs no CREATE privilege once the schema is there, and refuses a schema newer than it knows', async () => {
    const url = await server.newDatabase();
    await (await openPostgresStore(url)).close();
    const role = `ro_${Date.now()}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create role ${role} login password 'pw'`);
      await admin.query(`grant select, insert, update, delete on all tables in schema public to ${role}`);
      await admin.query(`grant usage on all sequences in schema public to ${role}`);
      const u = new URL(url);
      u.username = role;
      u.password = 'pw';
      const store = await openPostgresStore(u.href);
      const run = store.run('ro-run');
      expect((await run.open(descriptor('ro-run', 2), A)).created).toBe(true);
      expect((await run.claim(A, 5_000)).kind).toBe('claimed');
      await store.close();

      await admin.query('insert into bigproc_migrations (version, applied_at) values (999, now())');
      const err = await openPostgresStore(url).catch((e) => e);
      expect(err).toBeInstanceOf(BigprocError);
      expect(err.exitCode).toBe(1);
      expect(err.message).toMatch(/schema version 999, newer than this bigproc knows/);
    } finally {
      await admin.end();
    }
  });

  it('keeps working across a database restart', async () => {
    const store = await openPostgresStore(dbUrl);
    try {
      const run = store.run(`restart-${Date.now()}`);
      await run.open(descriptor(run.runId, 3), A);
      const first = await run.claim(A, 30_000);
      expect(first.kind).toBe('claimed');
      await server.halt();
      // the call made while the server is down waits (retrying) and succeeds once it is back
      const during = run.claim(A, 30_000);
      await new Promise((r) => setTimeout(r, 700));
      await server.resume();
      const second = await during;
      expect(second.kind).toBe('claimed');
      if (first.kind === 'claimed' && second.kind === 'claimed') {
        expect(second.lease.shard).not.toBe(first.lease.shard);
        expect(await run.commit(first.lease, A, 'a')).toBe(true);
        expect(await run.commit(second.lease, A, 'b')).toBe(true);
      }
      expect((await run.shards()).map((r) => r.state).sort()).toEqual(['done', 'done', 'pending']);
    } finally {
      await store.close();
    }
  });

  it('knows its own commit, merge and failure when the answer was lost on the way back', async () => {
    const { proxy, store } = await storeBehindLossyProxy();
    try {
      const run = store.run(`lossy-${Date.now()}`);
      await run.open(descriptor(run.runId, 2), A);
      const l0 = await run.claim(A, 30_000);
      const l1 = await run.claim(A, 30_000);
      if (l0.kind !== 'claimed' || l1.kind !== 'claimed') throw new Error('no claim');
      proxy.dropNextReply();
      expect(await run.commit(l0.lease, A, 'p0')).toBe(true);
      proxy.dropNextReply();
      expect(await run.fail(l1.lease, A, 'boom', { permanent: true, maxAttempts: 3, retryInMs: 0 })).toBe('failed');
      proxy.dropNextReply();
      expect(await run.storeResult('r', A)).toBe(true);
      const t = (await run.events()).map((e) => e.type);
      expect(t).toEqual(['created', 'claimed', 'claimed', 'committed', 'failed', 'merged']);
      // a stale commit is still refused after a lost answer
      proxy.dropNextReply();
      expect(await run.commit(l0.lease, A, 'again')).toBe(false);
      expect(proxy.cuts()).toBe(4);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it('commitAndClaim whose answer was lost: its commit is known as ours, its claim left to expire, the next claim goes on', async () => {
    const { proxy, store } = await storeBehindLossyProxy();
    try {
      const run = store.run(`lossy-cc-${Date.now()}`);
      await run.open(descriptor(run.runId, 3), A);
      const l0 = await run.claim(A, 30_000);
      if (l0.kind !== 'claimed') throw new Error('no claim');
      proxy.dropNextReply();
      const { verdicts, next } = await run.commitAndClaim(A, [{ lease: l0.lease, partial: 'p0' }], 30_000, 1);
      expect(verdicts).toEqual([true]);
      // the lost try claimed shard 1 (unknown to us now; its lease will expire); the retry took shard 2
      if (next.kind !== 'claimed') throw new Error(JSON.stringify(next));
      expect(next.claims.map((c) => c.lease.shard)).toEqual([2]);
      const rows = await run.shards();
      expect(rows.map((r) => r.state)).toEqual(['done', 'running', 'running']);
      const t = (await run.events()).map((e) => `${e.type}:${e.shard ?? ''}`);
      expect(t).toEqual(['created:', 'claimed:0', 'committed:0', 'claimed:1', 'claimed:2']);
      expect(proxy.cuts()).toBe(1);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it("changed(): a waiting host wakes when the run's last shard is committed, a shard released, or the result stored — not for other commits, not for another run", async () => {
    const [sa, sb] = [await openPostgresStore(dbUrl), await openPostgresStore(dbUrl)];
    try {
      const id = `notify-${Date.now()}`;
      const other = `${id}-other`;
      const a = sa.run(id);
      const b = sb.run(id);
      await a.open(descriptor(id, 3), A);
      await sb.run(other).open(descriptor(other, 1), B);
      const l = await b.claimBatch(B, 30_000, 2);
      if (l.kind !== 'claimed') throw new Error('no claim');
      const [l0, l1] = l.claims.map((c) => c.lease);
      const woke = async (act: () => Promise<unknown>) => {
        let fired = false;
        const w = a.changed!().then(() => (fired = true));
        await new Promise((r) => setTimeout(r, 50)); // LISTEN is in place before the change
        await act();
        await Promise.race([w, new Promise((r) => setTimeout(r, 600))]);
        return fired;
      };
      // another run's commit does not wake this one
      const o = await sb.run(other).claim(B, 30_000);
      if (o.kind !== 'claimed') throw new Error('no claim');
      expect(await woke(() => sb.run(other).commit(o.lease, B, 'x'))).toBe(false);
      // shard 2 still pending: nobody can be waiting, so a commit notifies no one
      expect(await woke(() => b.commitBatch(B, [{ lease: l0!, partial: 'p0' }]))).toBe(false);
      const c2 = await b.claim(B, 30_000);
      if (c2.kind !== 'claimed') throw new Error('no claim');
      // none pending now, but shard 2 still running: a commit frees nothing a waiting host could take
      expect(await woke(() => b.commitBatch(B, [{ lease: l1!, partial: 'p1' }]))).toBe(false);
      expect(a.notifies!()).toBe(true);
      expect(await woke(() => b.release(c2.lease, B))).toBe(true);
      const again = await b.claim(B, 30_000);
      if (again.kind !== 'claimed') throw new Error('no claim');
      // the commit that completes the run
      expect(await woke(() => b.commitAndClaim(B, [{ lease: again.lease, partial: 'p2' }], 30_000, 1))).toBe(true);
      expect(await woke(() => b.storeResult('r', B))).toBe(true);
      // a statement that changes nothing notifies nobody
      expect(await woke(() => b.commitBatch(B, [{ lease: l0!, partial: 'again' }]))).toBe(false);
    } finally {
      await sa.close();
      await sb.close();
    }
  });

  it('gives up with exit 1 when the database stays unreachable', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const err = await openPostgresStore(`postgres://postgres:secret@127.0.0.1:${port}/nope`, { retryMs: 600 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(BigprocError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/^database unreachable after retries: .*ECONNREFUSED/);
    expect(err.message).not.toContain('secret');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('reports bad credentials at once, without retrying', async () => {
    const url = dbUrl.replace(':bigproc@', ':wrong@');
    const t0 = Date.now();
    const err = await openPostgresStore(url).catch((e) => e);
    expect(err).toBeInstanceOf(BigprocError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toMatch(/password authentication failed/);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('takes what the URL leaves out from PG* environment variables', async () => {
    const u = new URL(dbUrl);
    const saved = { ...process.env };
    Object.assign(process.env, {
      PGHOST: u.hostname,
      PGPORT: u.port,
      PGUSER: 'postgres',
      PGPASSWORD: 'bigproc',
      PGDATABASE: u.pathname.slice(1),
    });
    try {
      for (const url of ['postgres:', 'postgres://', `postgresql:///${u.pathname.slice(1)}`]) {
        const store = await openPostgresStore(url);
        expect(Array.isArray(await store.runs())).toBe(true);
        await store.close();
      }
    } finally {
      for (const k of ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });
});
