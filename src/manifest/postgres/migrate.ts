// Bringing a database's schema up to this bigproc's version at open: each pending migration in a
// transaction of its own, in order, under an advisory lock, recorded in bigproc_migrations — so hosts
// that start at the same moment do not race (the first applies them, the others wait on the lock and
// then find nothing left to do), and a migration that fails leaves the ones before it applied.
import type pg from 'pg';
import { runtime } from '../../errors.js';
import type { Db, Row } from './db.js';
import { LATEST, MIGRATIONS, type Migration } from './migrations/index.js';

/** pg_advisory_xact_lock key for migrations: "bigp" in ASCII, so it is recognisable in pg_locks. */
export const MIGRATION_LOCK = 0x62696770;

const VERSIONS = 'select version from bigproc_migrations';

/**
 * Versions recorded in bigproc_migrations (none when the table does not exist yet): one statement,
 * which fails with undefined_table on a database bigproc never used (every host asks at start).
 */
async function applied(q: (text: string) => Promise<Row[]>): Promise<Set<number>> {
  try {
    return new Set((await q(VERSIONS)).map((r) => r.version as number));
  } catch (e) {
    if ((e as { code?: string }).code === '42P01') return new Set();
    throw e;
  }
}

function refuseNewer(versions: Set<number>): void {
  const newest = Math.max(0, ...versions);
  if (newest > LATEST)
    throw runtime(
      `the manifest database has schema version ${newest}, newer than this bigproc knows (${LATEST}): upgrade bigproc`,
    );
}

export async function migrate(db: Db): Promise<void> {
  // The usual case, an up-to-date schema, takes no lock and needs no CREATE privilege.
  const seen = await db.retry(() => applied(async (text) => (await db.pool.query(text)).rows));
  refuseNewer(seen);
  for (const m of MIGRATIONS)
    if (!seen.has(m.version)) await db.retry(() => withClient(db, (client) => applyOne(client, m)));
}

/**
 * One migration in one transaction, unless (under the lock) whoever held it before us applied it
 * already. (Not to_regclass here: taking an advisory lock does not refresh the catalog cache, a table
 * lock does.)
 */
async function applyOne(client: pg.PoolClient, m: Migration): Promise<void> {
  await client.query('begin');
  await client.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  await client.query(
    'create table if not exists bigproc_migrations (version int primary key, applied_at timestamptz not null default now())',
  );
  const done = new Set((await client.query(VERSIONS)).rows.map((r) => r.version as number));
  refuseNewer(done);
  if (!done.has(m.version)) {
    await client.query(m.sql);
    await client.query('insert into bigproc_migrations (version, applied_at) values ($1, now())', [m.version]);
  }
  await client.query('commit');
}

/** fn on a client of its own, rolled back on failure; a broken connection is not returned to the pool. */
async function withClient(db: Db, fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await db.pool.connect();
  // while checked out, a dropped connection is emitted as 'error' too (besides failing the query);
  // unheard, that event would crash the process
  const ignore = () => {};
  client.on('error', ignore);
  try {
    await fn(client);
    client.removeListener('error', ignore);
    client.release();
  } catch (e) {
    // a healthy connection is rolled back first
    await client.query('rollback').then(
      () => {
        client.removeListener('error', ignore);
        client.release();
      },
      () => client.release(true),
    );
    throw e;
  }
}
