// The manifest: with src/cluster/, the only code that knows other hosts exist. One interface, two backends (a directory
// on a shared filesystem, a PostgreSQL database). A run is a fixed list of shards; each shard moves
// pending → running (under a lease with a fencing token) → done (its partial committed exactly once),
// or → failed after its last attempt. Everything a host does is also appended to an audit trail.
//
// Time: leases are judged by the backend's clock where it has one (Postgres `now()`), by the hosts'
// wall clocks for a directory (as every NFS lock scheme does; keep clocks in sync with NTP).

/** Who holds a lease: a process on a host. */
export interface Owner {
  host: string;
  pid: number;
}

/** What a run was created for; a host joining with anything different is refused (exit 2). */
export interface RunDescriptor {
  run_id: string;
  /** identity of the input file: size, mtime and a hash of sampled blocks */
  file: { name: string; size: number; mtime_ms: number; sample_hash: string };
  /** the layout as `layoutToJson` prints it */
  layout: unknown;
  op: string;
  /** the op's prepared spec, encoded with encodePartial (what the op computes from) */
  spec: string;
  /**
   * the op's flags as the user gave them (`--where "price > 1"`), for messages: a mismatch shows these,
   * not the compiled spec. Not part of the run's identity (spec is).
   */
  args?: string;
  /** chunk plan and shard plan: shard i covers chunks [i*shard_chunks, min((i+1)*shard_chunks, chunks)) */
  records_per_chunk: number;
  chunks: number;
  shard_chunks: number;
  shards: number;
  /** what --out looked like: none, one assembled file, or a directory of parts */
  out: 'none' | 'file' | 'dir';
  /** the absolute --out path every host writes to (absent without --out) */
  out_path?: string;
}

export type ShardState = 'pending' | 'running' | 'done' | 'failed';

export interface ShardRow {
  shard: number;
  state: ShardState;
  /** the fencing token of the latest claim; 0 before the first */
  token: number;
  /** holder of the latest claim (for done: the committer) */
  owner: Owner | null;
  /** running: when the lease expires (ms since epoch, backend clock) */
  lease_expires_at: number | null;
  /** failed attempts so far (expired leases are not counted: a killed host is not the shard's fault) */
  attempts: number;
  last_error: string | null;
  /** pending after a failure: not claimable before this time */
  retry_at: number | null;
  committed_at: number | null;
}

/** A lease held on a shard by this process. */
export interface Lease {
  shard: number;
  token: number;
  leaseMs: number;
}

/** One shard taken by a claim. takeover: it was running under an expired lease of `previous`. */
export interface Claimed {
  lease: Lease;
  takeover: boolean;
  previous: Owner | null;
  /** failed attempts at the shard before this claim, on any host (its retry backoff grows with them) */
  attempts: number;
}

/** Nothing claimable now, but shards are running or waiting to be retried (ask again in ms); or every shard is done or failed. */
export type NoClaim = { kind: 'wait'; ms: number } | { kind: 'finished' };

export type ClaimResult = ({ kind: 'claimed' } & Claimed) | NoClaim;

/** claimBatch: one or more shards, lowest first. */
export type BatchClaimResult = { kind: 'claimed'; claims: Claimed[] } | NoClaim;

/** A finished shard's partial, to be committed under its lease. */
export interface Commit {
  lease: Lease;
  partial: string;
}

export type RenewResult = 'ok' | 'late' | 'lost';

export type EventType =
  | 'created'
  | 'claimed'
  | 'renewed_late'
  | 'committed'
  | 'commit_rejected'
  | 'failed'
  | 'expired'
  | 'released'
  | 'merged'
  | 'retried';

export interface ManifestEvent {
  /** ISO-8601 */
  time: string;
  type: EventType;
  shard: number | null;
  host: string;
  pid: number;
  token: number | null;
  detail: Record<string, unknown> | null;
}

export interface FailOptions {
  /** bad input: never retried */
  permanent: boolean;
  maxAttempts: number;
  /** the delay before the shard may be claimed again (the caller adds backoff and jitter) */
  retryInMs: number;
}

/** One run inside a manifest. Methods that change a shard log their own event in the trail. */
export interface RunManifest {
  readonly runId: string;
  /**
   * Create the run (shards all pending) or join it. Returns the stored descriptor; the caller
   * compares it with its own. Logs `created` when this call created it.
   */
  open(desc: RunDescriptor, owner: Owner): Promise<{ created: boolean; stored: RunDescriptor }>;
  /** The stored descriptor, or null when the run does not exist. */
  descriptor(): Promise<RunDescriptor | null>;
  /**
   * Claim one shard: a pending one (retry time passed) or a running one whose lease expired (logs
   * `expired` for the old token, then `claimed`). The new token is greater than any before it.
   */
  claim(owner: Owner, leaseMs: number): Promise<ClaimResult>;
  /**
   * Claim up to `max` shards at once, as claim() would one by one. Hosts working through tiny shards
   * use it so that one durable write covers many claims.
   */
  claimBatch(owner: Owner, leaseMs: number, max: number): Promise<BatchClaimResult>;
  /** Extend a held lease by lease.leaseMs from now. 'late': it had expired but nobody took it (renewed, logs renewed_late); 'lost': another token took over or the shard ended — stop working on it. */
  renew(lease: Lease, owner: Owner): Promise<RenewResult>;
  /** Commit the shard's partial if lease.token is still current and the shard running; else log commit_rejected and return false. */
  commit(lease: Lease, owner: Owner, partial: string): Promise<boolean>;
  /** commit() for several shards at once (one round trip where the backend allows); one verdict per item, in order. */
  commitBatch(owner: Owner, items: Commit[]): Promise<boolean[]>;
  /**
   * commitBatch(items), then claimBatch(max): what a host does each time it finishes shards and wants
   * more, in one round trip where the backend allows (Postgres: one statement, one durable write).
   */
  commitAndClaim(
    owner: Owner,
    items: Commit[],
    leaseMs: number,
    max: number,
  ): Promise<{ verdicts: boolean[]; next: BatchClaimResult }>;
  /**
   * Resolves when the backend learns that a shard of this run changed state (committed, released,
   * failed, reset) or its result was stored — Postgres: LISTEN/NOTIFY. Absent, or never resolving, where the backend cannot
   * tell: a host waiting for other hosts' last shards races it with its polling timer.
   */
  changed?(): Promise<void>;
  /**
   * changed() is known to report every change a waiting host could act on (not so for a directory:
   * inotify sees only this machine's changes): such a host need poll only now and then, as a fallback.
   */
  notifies?(): boolean;
  /** Record a failed attempt: back to pending (claimable after retryInMs) or failed for good. Ignored (returns 'lost') when the token is stale. */
  fail(lease: Lease, owner: Owner, error: string, opts: FailOptions): Promise<'retry' | 'failed' | 'lost'>;
  /** Give the lease back at once (graceful shutdown): the shard is pending again, not counted as an attempt. */
  release(lease: Lease, owner: Owner): Promise<void>;
  shards(): Promise<ShardRow[]>;
  /** The committed partials in shard order (all shards must be done). */
  partials(): Promise<string[]>;
  /** Store the merged result unless one is stored already; true when this call stored it (logs `merged`). */
  storeResult(result: string, owner: Owner): Promise<boolean>;
  result(): Promise<string | null>;
  /** Reset failed shards to pending with no attempts; returns how many (logs `retried` per shard). */
  retryFailed(owner: Owner): Promise<number>;
  events(filter?: { shard?: number; host?: string }): Promise<ManifestEvent[]>;
}

/** A held single-instance guard (--exclusive). */
export interface Guard {
  /** false: the guard was lost (expired and taken by another invocation) */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

export type GuardResult = { kind: 'held'; guard: Guard } | { kind: 'busy'; holder: Owner; since: number };

/** A manifest location: a directory or a database. */
export interface ManifestStore {
  readonly url: string;
  /** run ids present, oldest first */
  runs(): Promise<string[]>;
  run(runId: string): RunManifest;
  /** Take the named single-instance guard, or report who holds it. Expired guards are taken over. */
  guard(name: string, owner: Owner, leaseMs: number): Promise<GuardResult>;
  close(): Promise<void>;
}
