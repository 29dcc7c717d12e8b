// The connection to the manifest database and the retry policy every statement goes through. A
// database restart or failover must not kill a run that has hours of work in flight: connection
// errors are retried with exponential backoff for up to ~30 s before giving up with exit 1.
import pg from 'pg';
import { BigprocError, runtime, usage } from '../../errors.js';
import { CHANNEL } from './fragments.js';

const { Pool } = pg;

export interface PostgresOptions {
  /** how long connection errors are retried before giving up (ms); default 30 s */
  retryMs?: number;
}

/** SQLSTATEs and socket errors that mean "the server went away or is not up yet", worth retrying. */
export function isTransient(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err.code === 'string' ? err.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code))
    return true;
  // admin/crash shutdown, cannot connect now (starting up), connection exceptions, too many
  // connections; deadlock and serialization failures roll the transaction back, so retrying is safe
  if (['57P01', '57P02', '57P03', '53300', '40001', '40P01'].includes(code) || code.startsWith('08')) return true;
  // pg's own errors when the socket closes under it carry no code
  const msg = typeof err.message === 'string' ? err.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Connection ended/i.test(
    msg,
  );
}

/** An error as one line: pg's message plus its SQLSTATE or errno. */
export function oneLine(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  const msg = typeof err.message === 'string' && err.message ? err.message : String(e);
  const code = typeof err.code === 'string' ? err.code : '';
  return (code && !msg.includes(code) ? `${msg} (${code})` : msg).replace(/\s+/g, ' ');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type Row = Record<string, unknown>;

/** The pool plus the retry policy every statement goes through. */
export class Db {
  readonly pool: pg.Pool;
  private closed = false;

  constructor(
    config: pg.PoolConfig,
    private readonly retryMs: number,
  ) {
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
      if (this.listening) client.query(`listen ${CHANNEL}`).catch(() => {});
    });
  }

  private listening = false;
  /** LISTEN is in place (on the current connection, or re-issued on the next one the pool makes) */
  listens = false;
  private readonly waiters = new Map<string, (() => void)[]>();

  private notified(channel: string, runId: string | undefined): void {
    if (channel !== CHANNEL || runId === undefined) return;
    const ws = this.waiters.get(runId);
    this.waiters.delete(runId);
    for (const w of ws ?? []) w();
  }

  /**
   * The next change notified for a run (see CHANNEL). Listening starts with the first call, so
   * only a host that ever waits for others pays for it; a failed LISTEN leaves the caller's polling.
   */
  async changed(runId: string): Promise<void> {
    if (!this.listening) {
      this.listening = true;
      try {
        await this.pool.query(`listen ${CHANNEL}`);
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

/** The error for a run id the manifest does not hold. */
export function noRun(runId: string): BigprocError {
  return usage(`no run ${JSON.stringify(runId)} in the manifest`);
}
