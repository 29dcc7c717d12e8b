// The PostgreSQL manifest (`--manifest postgres://…`): one database shared by every host, the
// database clock judging leases. Each shard operation is one named prepared statement, one module
// each in this folder (claim and commit are one round trip each), which is what lets one process move
// thousands of tiny shards a second; the schema is the numbered migrations in migrations/.
import type {
  BatchClaimResult,
  ClaimResult,
  Commit,
  FailOptions,
  GuardResult,
  Lease,
  ManifestEvent,
  ManifestStore,
  Owner,
  RenewResult,
  RunDescriptor,
  RunManifest,
  ShardRow,
} from '../types.js';
import { checkName } from '../file.js';
import { BigprocError, expected } from '../../errors.js';
import { addSecret, redact, urlPassword } from '../../redact.js';
import { Db } from './db.js';
import { migrate } from './migrate.js';
import { descriptor, openRun } from './open-run.js';
import { claimBatch } from './claim.js';
import { commitBatch } from './commit.js';
import { commitAndClaim } from './commit-and-claim.js';
import { renew } from './renew.js';
import { fail } from './fail.js';
import { release } from './release.js';
import { shards } from './shards.js';
import { partials } from './partials.js';
import { result, storeResult } from './result.js';
import { retryFailed } from './retry-failed.js';
import { events } from './events.js';
import { runs } from './runs.js';
import { takeGuard } from './guard.js';

export interface PostgresOptions {
  /** how long connection errors are retried before giving up (ms); default 30 s */
  retryMs?: number;
}

class PgRun implements RunManifest {
  constructor(
    private readonly db: Db,
    readonly runId: string,
  ) {}

  open(desc: RunDescriptor, owner: Owner): Promise<{ created: boolean; stored: RunDescriptor }> {
    return openRun(this.db, this.runId, desc, owner);
  }

  descriptor(): Promise<RunDescriptor | null> {
    return descriptor(this.db, this.runId);
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

  claimBatch(owner: Owner, leaseMs: number, max: number): Promise<BatchClaimResult> {
    return claimBatch(this.db, this.runId, owner, leaseMs, max);
  }

  renew(lease: Lease, owner: Owner): Promise<RenewResult> {
    return renew(this.db, this.runId, lease, owner);
  }

  async commit(lease: Lease, owner: Owner, partial: string): Promise<boolean> {
    return (await this.commitBatch(owner, [{ lease, partial }]))[0]!;
  }

  commitBatch(owner: Owner, items: Commit[]): Promise<boolean[]> {
    return commitBatch(this.db, this.runId, owner, items);
  }

  commitAndClaim(
    owner: Owner,
    items: Commit[],
    leaseMs: number,
    max: number,
  ): Promise<{ verdicts: boolean[]; next: BatchClaimResult }> {
    return commitAndClaim(this.db, this.runId, owner, items, leaseMs, max);
  }

  fail(lease: Lease, owner: Owner, error: string, opts: FailOptions): Promise<'retry' | 'failed' | 'lost'> {
    return fail(this.db, this.runId, lease, owner, error, opts);
  }

  release(lease: Lease, owner: Owner): Promise<void> {
    return release(this.db, this.runId, lease, owner);
  }

  shards(): Promise<ShardRow[]> {
    return shards(this.db, this.runId);
  }

  partials(): Promise<string[]> {
    return partials(this.db, this.runId);
  }

  storeResult(merged: string, owner: Owner): Promise<boolean> {
    return storeResult(this.db, this.runId, merged, owner);
  }

  result(): Promise<string | null> {
    return result(this.db, this.runId);
  }

  retryFailed(owner: Owner): Promise<number> {
    return retryFailed(this.db, this.runId, owner);
  }

  events(filter: { shard?: number; host?: string } = {}): Promise<ManifestEvent[]> {
    return events(this.db, this.runId, filter);
  }
}

class PgStore implements ManifestStore {
  constructor(
    readonly url: string,
    private readonly db: Db,
  ) {}

  runs(): Promise<string[]> {
    return runs(this.db);
  }

  run(runId: string): RunManifest {
    return new PgRun(this.db, checkName('--run-id', runId));
  }

  guard(name: string, owner: Owner, leaseMs: number): Promise<GuardResult> {
    checkName('--exclusive', name);
    return takeGuard(this.db, name, owner, leaseMs);
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
