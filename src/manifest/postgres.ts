// The PostgreSQL manifest (`--manifest postgres://…`): one database shared by every host, the
// database clock judging leases. Each shard operation is one named prepared statement (claim and
// commit are one round trip each), which is what lets one process move thousands of tiny shards a
// second. Statements and schema live in postgres-sql.ts.
//
// A database restart or failover must not kill a run that has hours of work in flight: connection
// errors are retried with exponential backoff for up to ~30 s before giving up with exit 1.
import pg from 'pg';
import type {
  BatchClaimResult, ClaimResult, Claimed, Commit, FailOptions, Guard, GuardResult, Lease, ManifestEvent, ManifestStore, Owner, RenewResult,
  RunDescriptor, RunManifest, ShardRow, ShardState,
} from './types.js';
import * as SQL from './postgres-sql.js';
import { checkName } from './file.js';
import { BigprocError, expected, runtime, usage } from '../errors.js';
import { addSecret, redact, urlPassword } from '../redact.js';

const { Pool } = pg;

export interface PostgresOptions {
  /** how long connection errors are retried before giving up (ms); default 30 s */
  retryMs?: number;
}

/** SQLSTATEs and socket errors that mean "the server went away or is not up yet", worth retrying. */
function isTransient(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err.code === 'string' ? err.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  // admin/crash shutdown, cannot connect now (starting up), connection exceptions, too many
  // connections; deadlock and serialization failures roll the transaction back, so retrying is safe
  if (['57P01', '57P02', '57P03', '53300', '40001', '40P01'].includes(code) || code.startsWith('08')) return true;
  // pg's own errors when the socket closes under it carry no code
  const msg = typeof err.message === 'string' ? err.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Connection ended/i.test(msg);
}

/** An error as one line: pg's message plus its SQLSTATE or errno. */
function oneLine(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  const msg = typeof err.message === 'string' && err.message ? err.message : String(e);
  const code = typeof err.code === 'string' ? err.code : '';
  return (code && !msg.includes(code) ? `${msg} (${code})` : msg).replace(/\s+/g, ' ');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Row = Record<string, any>;

/** The pool plus the retry policy every statement goes through. */
class Db {
  readonly pool: pg.Pool;
  private closed = false;

  constructor(config: pg.PoolConfig, private readonly retryMs: number) {
    this.pool = new Pool({
      ...config,
      // One connection per process: every statement is one short autocommit round trip (claims skip
      // locked rows rather than wait), so a second connection buys no concurrency worth its cost —
      // each backend costs the server a process start and cold catalog caches (~15 ms of CPU on 2
      // cores), paid by every host of a run. Statements from the slots and heartbeats queue here.
      max: 1,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: 10_000,
      // a peer that vanished without a FIN (host down, partition) is noticed in seconds, not hours
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: 'bigproc',
    });
    // An idle client whose server went away emits 'error'; unhandled, that would crash the process.
    // The pool already drops the client; the next query opens a fresh connection (and retries).
    this.pool.on('error', () => {});
    // Notifications arrive on whichever connection listens; a reconnected one listens again.
    this.pool.on('connect', (client) => {
      client.on('notification', (n) => this.notified(n.channel, n.payload));
      if (this.listening) client.query(`listen ${SQL.CHANNEL}`).catch(() => {});
    });
  }

  private listening = false;
  /** LISTEN is in place (on the current connection, or re-issued on the next one the pool makes) */
  listens = false;
  private readonly waiters = new Map<string, (() => void)[]>();

  private notified(channel: string, runId: string | undefined): void {
    if (channel !== SQL.CHANNEL || runId === undefined) return;
    const ws = this.waiters.get(runId);
    this.waiters.delete(runId);
    for (const w of ws ?? []) w();
  }

  /**
   * The next change notified for a run (see SQL.CHANNEL). Listening starts with the first call, so
   * only a host that ever waits for others pays for it; a failed LISTEN leaves the caller's polling.
   */
  async changed(runId: string): Promise<void> {
    if (!this.listening) {
      this.listening = true;
      try {
        await this.pool.query(`listen ${SQL.CHANNEL}`);
        this.listens = true;
      } catch {
        return new Promise(() => {});
      }
    }
    return new Promise((resolve) => {
      const ws = this.waiters.get(runId) ?? [];
      ws.push(resolve);
      this.waiters.set(runId, ws);
    });
  }

  /**
   * Run `attempt` until it succeeds, retrying transient connection errors with backoff. `again` is
   * true on retries: the previous try may have been applied even though its answer was lost.
   */
  async retry<T>(attempt: (again: boolean) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryMs;
    let delay = 50;
    for (let again = false; ; again = true) {
      try {
        return await attempt(again);
      } catch (e) {
        if (e instanceof BigprocError) throw e;
        if (!isTransient(e) || this.closed) throw runtime(`manifest database error: ${oneLine(e)}`);
        if (Date.now() + delay > deadline) throw runtime(`database unreachable after retries: ${oneLine(e)}`);
        await sleep(delay);
        delay = Math.min(delay * 2, 2_000);
      }
    }
  }

  /** One named prepared statement (prepared once per connection, then just bound and executed). */
  async query(name: string, text: string, values: unknown[]): Promise<Row[]> {
    return this.retry(() => this.once(name, text, values));
  }

  async once(name: string, text: string, values: unknown[]): Promise<Row[]> {
    return (await this.pool.query({ name, text, values })).rows;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.end();
  }
}

/**
 * Versions recorded in bigproc_migrations (none when the table does not exist yet): one statement,
 * which fails with undefined_table on a database bigproc never used (every host asks at start).
 */
async function applied(q: (text: string) => Promise<Row[]>): Promise<Set<number>> {
  try {
    return new Set((await q('select version from bigproc_migrations')).map((r) => r.version as number));
  } catch (e) {
    if ((e as { code?: string }).code === '42P01') return new Set();
    throw e;
  }
}

async function migrate(db: Db): Promise<void> {
  const latest = SQL.MIGRATIONS[SQL.MIGRATIONS.length - 1]!.version;
  const tooNew = (v: number) =>
    runtime(`the manifest database has schema version ${v}, newer than this bigproc knows (${latest}): upgrade bigproc`);
  // The usual case, an up-to-date schema, takes no lock and needs no CREATE privilege.
  const seen = await db.retry(() => applied(async (text) => (await db.pool.query(text)).rows));
  if (Math.max(0, ...seen) > latest) throw tooNew(Math.max(...seen));
  if (SQL.MIGRATIONS.every((m) => seen.has(m.version))) return;
  await db.retry(async () => {
    const client = await db.pool.connect();
    // while checked out, a dropped connection is emitted as 'error' too (besides failing the query);
    // unheard, that event would crash the process
    const ignore = () => {};
    client.on('error', ignore);
    try {
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock($1)', [SQL.MIGRATION_LOCK]);
      // Under the lock, whoever held it before us may have done the work already. (Not to_regclass
      // here: taking an advisory lock does not refresh the catalog cache, a table lock does.)
      await client.query('create table if not exists bigproc_migrations (version int primary key, applied_at timestamptz not null default now())');
      const done = new Set((await client.query('select version from bigproc_migrations')).rows.map((r) => r.version as number));
      if (Math.max(0, ...done) > latest) throw tooNew(Math.max(...done));
      for (const m of SQL.MIGRATIONS) {
        if (done.has(m.version)) continue;
        await client.query(m.sql);
        await client.query('insert into bigproc_migrations (version, applied_at) values ($1, now())', [m.version]);
      }
      await client.query('commit');
      client.removeListener('error', ignore);
      client.release();
    } catch (e) {
      // a broken connection cannot be returned to the pool; a healthy one is rolled back first
      await client.query('rollback').then(
        () => {
          client.removeListener('error', ignore);
          client.release();
        },
        () => client.release(true),
      );
      throw e;
    }
  });
}

const at = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

class PgRun implements RunManifest {
  constructor(private readonly db: Db, readonly runId: string) {}

  private noRun(): BigprocError {
    return usage(`no run ${JSON.stringify(this.runId)} in the manifest`);
  }

  async open(desc: RunDescriptor, owner: Owner): Promise<{ created: boolean; stored: RunDescriptor }> {
    const detail = { shards: desc.shards, op: desc.op, file: desc.file.name };
    return this.db.retry(async (again) => {
      const ins = await this.db.once('bigproc_open', SQL.OPEN, [this.runId, JSON.stringify(desc), desc.shards, owner.host, owner.pid, detail]);
      if (ins.length === 1) return { created: true, stored: ins[0]!.descriptor as RunDescriptor };
      const rows = await this.db.once('bigproc_descriptor', SQL.DESCRIPTOR, [this.runId]);
      if (rows.length === 0) throw runtime(`run ${JSON.stringify(this.runId)} vanished from the manifest while opening it`);
      // a retry after a lost answer may find the run our own first try created: the trail says who
      let created = false;
      if (again) {
        const ev = await this.db.once('bigproc_events', SQL.EVENTS, [this.runId, null, owner.host]);
        created = ev.some((e) => e.type === 'created' && e.pid === owner.pid);
      }
      return { created, stored: rows[0]!.descriptor as RunDescriptor };
    });
  }

  async descriptor(): Promise<RunDescriptor | null> {
    const rows = await this.db.query('bigproc_descriptor', SQL.DESCRIPTOR, [this.runId]);
    return rows.length ? (rows[0]!.descriptor as RunDescriptor) : null;
  }

  async claim(owner: Owner, leaseMs: number): Promise<ClaimResult> {
    const c = await this.claimBatch(owner, leaseMs, 1);
    return c.kind === 'claimed' ? { kind: 'claimed', ...c.claims[0]! } : c;
  }

  changed(): Promise<void> {
    return this.db.changed(this.runId);
  }

  /**
   * Once LISTEN is in place, every change a waiting host could act on is notified (releases,
   * failures, resets, the commit that completes the run, the stored result): polls are only a
   * fallback, for notifications lost while the connection was being re-made.
   */
  notifies(): boolean {
    return this.db.listens;
  }

  async claimBatch(owner: Owner, leaseMs: number, max: number): Promise<BatchClaimResult> {
    // Retried like any statement: if a claim went through but its answer was lost, the retry claims
    // other shards and the first ones' leases simply expire (expiry costs no attempt).
    const rows = await this.db.query('bigproc_claim', SQL.CLAIM, [this.runId, owner.host, owner.pid, leaseMs, Math.max(1, Math.floor(max))]);
    return this.claimed(rows, leaseMs);
  }

  /** Claimed rows as a claim result; none: whether to wait (and how long) or stop. */
  private async claimed(rows: Row[], leaseMs: number): Promise<BatchClaimResult> {
    if (rows.length) {
      const claims: Claimed[] = rows.map((r) => ({
        lease: { shard: r.shard, token: r.token, leaseMs },
        takeover: r.takeover,
        attempts: r.attempts,
        previous: r.takeover ? { host: r.prev_host as string, pid: r.prev_pid as number } : null,
      }));
      return { kind: 'claimed', claims };
    }
    const next = (await this.db.query('bigproc_claim_next', SQL.CLAIM_NEXT, [this.runId]))[0]!;
    if (next.run === 0) throw this.noRun();
    if (next.open === 0) return { kind: 'finished' };
    const ms = next.wait_ms === null ? 0 : Math.ceil(next.wait_ms);
    return { kind: 'wait', ms: Math.max(50, Math.min(leaseMs, ms)) };
  }

  async renew(lease: Lease, owner: Owner): Promise<RenewResult> {
    const rows = await this.db.query('bigproc_renew', SQL.RENEW, [this.runId, lease.shard, lease.token, lease.leaseMs, owner.host, owner.pid]);
    if (rows.length === 0) return 'lost';
    return rows[0]!.late ? 'late' : 'ok';
  }

  async commit(lease: Lease, owner: Owner, partial: string): Promise<boolean> {
    return (await this.commitBatch(owner, [{ lease, partial }]))[0]!;
  }

  async commitBatch(owner: Owner, items: Commit[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    return this.db.retry((again) => this.commitItems(owner, items, again));
  }

  /** One try of commitBatch. `again`: an earlier try may have committed and only its answer was lost. */
  private async commitItems(owner: Owner, items: Commit[], again: boolean): Promise<boolean[]> {
    const verdict = new Map<number, boolean>();
    // what an earlier try committed is ours (checked first, so the retry does not log a
    // commit_rejected against our own commit)
    if (again) for (const shard of await this.committedBy(owner, items)) verdict.set(shard, true);
    const todo = items.filter((it) => !verdict.has(it.lease.shard));
    if (todo.length) {
      const [row] = await this.db.once('bigproc_commit', SQL.COMMIT, [
        this.runId, todo.map((it) => it.lease.shard), todo.map((it) => it.lease.token), todo.map((it) => it.partial), owner.host, owner.pid,
      ]);
      const done = new Set<number>(row!.done as number[]);
      for (const it of todo) verdict.set(it.lease.shard, done.has(it.lease.shard));
      await this.logRejected(owner, todo.filter((it) => !done.has(it.lease.shard)));
    }
    return items.map((it) => verdict.get(it.lease.shard)!);
  }

  private async logRejected(owner: Owner, items: Commit[]): Promise<void> {
    for (const it of items) await this.db.once('bigproc_commit_rejected', SQL.COMMIT_REJECTED, [this.runId, it.lease.shard, it.lease.token, owner.host, owner.pid]);
  }

  async commitAndClaim(owner: Owner, items: Commit[], leaseMs: number, max: number): Promise<{ verdicts: boolean[]; next: BatchClaimResult }> {
    if (items.length === 0) return { verdicts: [], next: await this.claimBatch(owner, leaseMs, max) };
    const row = await this.db.retry(async (again) => {
      // A first try whose answer was lost may have committed and claimed: sort it out the careful
      // way below (its claims, unknown to us, simply expire, as a lost claimBatch answer's do).
      if (again) return null;
      return (await this.db.once('bigproc_commit_claim', SQL.COMMIT_CLAIM, [
        this.runId, items.map((it) => it.lease.shard), items.map((it) => it.lease.token), items.map((it) => it.partial), owner.host, owner.pid,
        leaseMs, Math.max(1, Math.floor(max)),
      ]))[0]!;
    });
    if (row === null) {
      const verdicts = await this.db.retry(() => this.commitItems(owner, items, true));
      return { verdicts, next: await this.claimBatch(owner, leaseMs, max) };
    }
    const done = new Set<number>(row.done as number[]);
    const verdicts = items.map((it) => done.has(it.lease.shard));
    await this.db.retry(() => this.logRejected(owner, items.filter((it) => !done.has(it.lease.shard))));
    return { verdicts, next: await this.claimed(row.claims as Row[], leaseMs) };
  }

  /** Which of these shards are done under our token with our partial (so an earlier try committed them). */
  private async committedBy(owner: Owner, items: Commit[]): Promise<number[]> {
    const rows = await this.db.once('bigproc_shard', SQL.SHARD, [this.runId, items.map((it) => it.lease.shard)]);
    const byShard = new Map(rows.map((r) => [r.shard as number, r]));
    return items
      .filter((it) => {
        const r = byShard.get(it.lease.shard);
        return !!r && r.state === 'done' && r.token === it.lease.token && r.owner_host === owner.host && r.owner_pid === owner.pid && r.partial === it.partial;
      })
      .map((it) => it.lease.shard);
  }

  async fail(lease: Lease, owner: Owner, error: string, opts: FailOptions): Promise<'retry' | 'failed' | 'lost'> {
    return this.db.retry(async (again) => {
      const rows = await this.db.once('bigproc_fail', SQL.FAIL, [
        this.runId, lease.shard, lease.token, error, opts.permanent, opts.maxAttempts, opts.retryInMs, owner.host, owner.pid,
      ]);
      if (rows.length) return rows[0]!.state === 'failed' ? 'failed' : 'retry';
      if (again) {
        // did the first try record it? the trail has our `failed` event for this token
        const ev = await this.db.once('bigproc_events', SQL.EVENTS, [this.runId, lease.shard, owner.host]);
        const mine = ev.filter((e) => e.type === 'failed' && e.token === lease.token && e.pid === owner.pid).pop();
        if (mine) return mine.detail?.final ? 'failed' : 'retry';
      }
      return 'lost';
    });
  }

  async release(lease: Lease, owner: Owner): Promise<void> {
    await this.db.query('bigproc_release', SQL.RELEASE, [this.runId, lease.shard, lease.token, owner.host, owner.pid]);
  }

  async shards(): Promise<ShardRow[]> {
    const rows = await this.db.query('bigproc_shards', SQL.SHARDS, [this.runId]);
    if (rows.length === 0 && !(await this.descriptor())) throw this.noRun();
    return rows.map((r) => ({
      shard: r.shard,
      state: r.state as ShardState,
      token: r.token,
      owner: r.owner_host === null ? null : { host: r.owner_host, pid: r.owner_pid },
      lease_expires_at: r.state === 'running' ? at(r.lease_until) : null,
      attempts: r.attempts,
      last_error: r.state === 'done' ? null : r.last_error,
      retry_at: r.state === 'pending' ? at(r.retry_at) : null,
      committed_at: r.state === 'done' ? at(r.committed_at) : null,
    }));
  }

  async partials(): Promise<string[]> {
    const rows = await this.db.query('bigproc_partials', SQL.PARTIALS, [this.runId]);
    if (rows.length === 0 && !(await this.descriptor())) throw this.noRun();
    return rows.map((r) => {
      if (r.state !== 'done') throw runtime(`shard ${r.shard} is ${r.state}, not done: cannot merge yet`);
      return r.partial as string;
    });
  }

  async storeResult(result: string, owner: Owner): Promise<boolean> {
    const by = `${owner.host}:${owner.pid}`;
    return this.db.retry(async (again) => {
      const rows = await this.db.once('bigproc_store_result', SQL.STORE_RESULT, [this.runId, result, by, owner.host, owner.pid]);
      if (rows[0]!.ok === 1) return true;
      if (!again) return false;
      const r = (await this.db.once('bigproc_result', SQL.RESULT, [this.runId]))[0];
      return r?.merged_by === by && r?.result === result;
    });
  }

  async result(): Promise<string | null> {
    const rows = await this.db.query('bigproc_result', SQL.RESULT, [this.runId]);
    return rows.length ? (rows[0]!.result as string | null) : null;
  }

  async retryFailed(owner: Owner): Promise<number> {
    const rows = await this.db.query('bigproc_retry_failed', SQL.RETRY_FAILED, [this.runId, owner.host, owner.pid]);
    return rows[0]!.n as number;
  }

  async events(filter: { shard?: number; host?: string } = {}): Promise<ManifestEvent[]> {
    const rows = await this.db.query('bigproc_events', SQL.EVENTS, [this.runId, filter.shard ?? null, filter.host ?? null]);
    return rows.map((r) => ({
      time: (r.time as Date).toISOString(),
      type: r.type,
      shard: r.shard,
      host: r.host,
      pid: r.pid,
      token: r.token,
      detail: r.detail,
    }));
  }
}

class PgGuard implements Guard {
  constructor(private readonly db: Db, private readonly name: string, private readonly token: number, private readonly leaseMs: number) {}

  async renew(): Promise<boolean> {
    return (await this.db.query('bigproc_guard_renew', SQL.GUARD_RENEW, [this.name, this.token, this.leaseMs])).length === 1;
  }

  async release(): Promise<void> {
    await this.db.query('bigproc_guard_release', SQL.GUARD_RELEASE, [this.name, this.token]);
  }
}

class PgStore implements ManifestStore {
  constructor(readonly url: string, private readonly db: Db) {}

  async runs(): Promise<string[]> {
    return (await this.db.query('bigproc_runs', SQL.RUNS, [])).map((r) => r.run_id as string);
  }

  run(runId: string): RunManifest {
    return new PgRun(this.db, checkName('--run-id', runId));
  }

  async guard(name: string, owner: Owner, leaseMs: number): Promise<GuardResult> {
    checkName('--exclusive', name);
    // take it, or read who has it; if the holder lets go in between, the next round takes it
    for (let tries = 0; tries < 5; tries++) {
      const took = await this.db.query('bigproc_guard_take', SQL.GUARD_TAKE, [name, owner.host, owner.pid, leaseMs]);
      if (took.length) return { kind: 'held', guard: new PgGuard(this.db, name, took[0]!.token, leaseMs) };
      const held = await this.db.query('bigproc_guard_holder', SQL.GUARD_HOLDER, [name]);
      if (held.length) return { kind: 'busy', holder: { host: held[0]!.owner_host, pid: held[0]!.owner_pid }, since: held[0]!.since };
    }
    throw runtime(`the guard ${JSON.stringify(name)} changed hands too fast to take or report`);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/**
 * Open a Postgres manifest: `postgres://user:pass@host:port/db` (or `postgresql://`). Whatever the
 * URL leaves out comes from the PG* environment variables, as with psql; `postgres:` alone means
 * "all of it from the environment". Brings the schema up to date before returning.
 */
export async function openPostgresStore(url: string, opts: PostgresOptions = {}): Promise<ManifestStore> {
  if (!/^postgres(ql)?:/i.test(url)) throw expected('--manifest', 'postgres://… or postgresql://…', url);
  // from here on the password is masked wherever it shows up, even where a driver error quotes it bare
  addSecret(urlPassword(url));
  const fromEnv = /^postgres(ql)?:(\/\/)?$/i.test(url);
  const db = new Db(fromEnv ? {} : { connectionString: url }, opts.retryMs ?? 30_000);
  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => {});
    if (e instanceof BigprocError) throw new BigprocError(`${e.message} (--manifest ${redact(url)})`, e.exitCode);
    throw e;
  }
  return new PgStore(redact(url), db);
}
