// The directory manifest (`--manifest file:DIR`), for a filesystem the hosts share (NFS included):
// every state change is an atomic create of an immutable file (see epochs.ts), never a rewrite, a
// delete or a flock. Layout of DIR/<run-id>/:
//   run.json            the run descriptor (first host wins)
//   lease/, end/        shard epochs: lease/<shard>.<token>, end/<shard>.<token>
//   partial/<s>.<t>     a shard's committed partial when it is large; a small one (up to 8 KiB: most
//                       ops) rides in the end file of token t itself, which saves a file creation per
//                       shard (the costly step on a local disk and a round trip on NFS)
//   reset/<s>.<t>       `bigproc retry` forgave the failure that ended token t
//   result.json         the merged result (first merger wins; merging is deterministic anyway)
//   events/<host>-<pid>-<n>.ndjson  the audit trail, one append-only file per process
// Guards (--exclusive) live in DIR/_guards with the same epoch scheme.
import { appendFileSync, existsSync, readFileSync, statSync, unlinkSync, watch, type FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type {
  BatchClaimResult,
  ClaimResult,
  Claimed,
  Commit,
  EventType,
  FailOptions,
  Guard,
  GuardResult,
  Lease,
  ManifestEvent,
  ManifestStore,
  Owner,
  RenewResult,
  RunDescriptor,
  RunManifest,
  ShardRow,
} from './types.js';
import { EpochDir, listing as list, publishOnce, type EndBody, type EpochState, type LeaseBody } from './epochs.js';
import { BigprocError, EXIT, runtime, show, usage } from '../errors.js';
import { describeSystemError } from '../report/system-error.js';
import { makeDirs } from '../make-dirs.js';

/**
 * Partials up to this many bytes are stored in the commit's end file rather than a file of their own
 * (stats, hist, counts and checksums fit). Every host reads every end file once, so this bounds what a
 * scan reads; larger partials are read by the merging host alone.
 */
const INLINE_PARTIAL_MAX = 8 * 1024;

/** Shards tried in one claim without a scan before scanning after all (a late joiner, many hosts). */
const FRESH_TRIES = 16;

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkName(what: string, name: string): string {
  if (!RUN_ID.test(name))
    throw usage(
      `Expected letters, digits, '.', '_' or '-' (at most 128) for ${what} but received ${JSON.stringify(name)}`,
    );
  return name;
}

/** Orders events of one process exactly, whatever the clock's resolution. */
let eventSeq = 0;

/** One process's append-only event file; appends from one writer never interleave. */
class EventLog {
  private file: string | null = null;
  constructor(private readonly dir: string) {}

  append(
    owner: Owner,
    type: EventType,
    shard: number | null,
    token: number | null,
    detail: Record<string, unknown> | null,
  ): void {
    if (!this.file) {
      makeDirs(this.dir);
      this.file = join(
        this.dir,
        `${owner.host.replace(/[^A-Za-z0-9._-]/g, '_')}-${owner.pid}-${randomBytes(3).toString('hex')}.ndjson`,
      );
    }
    // Sub-millisecond time, so events of different processes in the same millisecond still sort in order.
    const t = performance.timeOrigin + performance.now();
    const e: ManifestEvent & { t: number; seq: number } = {
      time: new Date(t).toISOString(),
      type,
      shard,
      host: owner.host,
      pid: owner.pid,
      token,
      detail,
      t,
      seq: eventSeq++,
    };
    // Opened and closed per event: on NFS, close is what sends the data to the server (close-to-open),
    // so other hosts see the event at once, and a crash of this host loses none already appended.
    appendFileSync(this.file, `${JSON.stringify(e)}\n`);
  }

  /** Every process's events, with their exact times (t) and order within a process (seq), unsorted. */
  static readAll(dir: string): TimedEvent[] {
    const all: TimedEvent[] = [];
    for (const name of list(dir)) {
      if (!name.endsWith('.ndjson')) continue;
      const text = readFileSync(join(dir, name), 'utf8');
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          all.push(JSON.parse(line));
        } catch {
          // a line cut short by a crash mid-append: skip it
        }
      }
    }
    return all;
  }
}

type TimedEvent = ManifestEvent & { t: number; seq: number };

/** The trail's event for how an epoch ended. */
const END_EVENT: Record<EndBody['kind'], EventType> = {
  committed: 'committed',
  expired: 'expired',
  released: 'released',
  failed: 'failed',
};

type Classified =
  | { state: 'pending'; attempts: number; retryAt: number | null; lastError: string | null }
  | { state: 'running'; expiresAt: number; attempts: number; lastError: string | null }
  | { state: 'done' }
  | { state: 'failed'; attempts: number; lastError: string | null };

function classify(st: EpochState | undefined, isReset: (epoch: string) => boolean, key: string): Classified {
  if (!st || st.token === 0) return { state: 'pending', attempts: 0, retryAt: null, lastError: null };
  const end = st.end;
  if (!end) {
    const lease = st.lease!;
    return { state: 'running', expiresAt: st.renewedAt + lease.lease_ms, attempts: lease.attempts, lastError: null };
  }
  switch (end.kind) {
    case 'committed':
      return { state: 'done' };
    case 'expired':
    case 'released':
      return { state: 'pending', attempts: end.attempts, retryAt: null, lastError: null };
    case 'failed':
      if (end.final) {
        if (isReset(`${key}.${st.token}`))
          return { state: 'pending', attempts: 0, retryAt: null, lastError: end.error ?? null };
        return { state: 'failed', attempts: end.attempts, lastError: end.error ?? null };
      }
      return { state: 'pending', attempts: end.attempts, retryAt: end.retry_at ?? null, lastError: end.error ?? null };
  }
}

class FileRun implements RunManifest {
  private readonly dir: string;
  private readonly epochs: EpochDir;
  private readonly log: EventLog;
  private shardCount = -1;
  /**
   * Claims without a scan (see claim): shards from `fresh` on were never claimed as far as this host
   * knows, and nothing else can have become claimable before `scanBy` (ms). Until a first scan: none.
   */
  private fresh = Infinity;
  private scanBy = 0;
  /** inotify watches behind changed(), made on its first call; null until then */
  private watchers: FSWatcher[] | null = null;
  private waiting: (() => void)[] = [];

  constructor(
    root: string,
    readonly runId: string,
  ) {
    this.dir = join(root, runId);
    this.epochs = new EpochDir(this.dir);
    this.log = new EventLog(join(this.dir, 'events'));
  }

  async open(desc: RunDescriptor, owner: Owner): Promise<{ created: boolean; stored: RunDescriptor }> {
    makeDirs(this.dir);
    this.epochs.ensure();
    for (const d of ['partial', 'reset', 'events']) makeDirs(join(this.dir, d));
    const created = publishOnce(this.epochs.tmpDir, join(this.dir, 'run.json'), JSON.stringify(desc));
    const stored = (await this.descriptor())!;
    this.shardCount = stored.shards;
    if (created)
      this.log.append(owner, 'created', null, null, { shards: desc.shards, op: desc.op, file: desc.file.name });
    return { created, stored };
  }

  async descriptor(): Promise<RunDescriptor | null> {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'run.json'), 'utf8')) as RunDescriptor;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  private async count(): Promise<number> {
    if (this.shardCount < 0) {
      const d = await this.descriptor();
      if (!d) throw usage(`no run ${JSON.stringify(this.runId)} in the manifest`);
      this.shardCount = d.shards;
    }
    return this.shardCount;
  }

  /**
   * The next change this machine's kernel sees in the run: an end file (commit, release, failure,
   * expiry), a reset, or result.json. Lease files (claims, renewals) free nothing, so they are not
   * watched. On NFS, inotify sees only this host's own changes: other hosts' show up at the caller's
   * next poll, as they would without this. No watch possible (no inotify, too many watches): never
   * resolves, and the poll does the work.
   */
  changed(): Promise<void> {
    if (!this.watchers) {
      this.watchers = [];
      const wake = () => {
        const ws = this.waiting;
        this.waiting = [];
        for (const w of ws) w();
      };
      const watched: [string, ((name: string | null) => boolean) | null][] = [
        [this.epochs.endDir, null],
        [join(this.dir, 'reset'), null],
        [this.dir, (name) => name === null || name === 'result.json'],
      ];
      for (const [dir, only] of watched) {
        try {
          // Not persistent: a watch never keeps the process alive.
          const w = watch(dir, { persistent: false }, (_event, name) => {
            if (!only || only(name === null ? null : String(name))) wake();
          });
          w.on('error', () => w.close());
          this.watchers.push(w);
        } catch {
          // the caller polls
        }
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Stop watching (see changed()); waiters left fall back on their own timers. */
  close(): void {
    for (const w of this.watchers ?? []) w.close();
    this.watchers = null;
  }

  /** Whether `bigproc retry` forgave the failure that ended an epoch ("<shard>.<token>"); lists reset/ on first use. */
  private resetCheck(): (epoch: string) => boolean {
    let reset: Set<string> | null = null;
    return (epoch) => {
      if (reset === null) reset = new Set(list(join(this.dir, 'reset')));
      return reset.has(epoch);
    };
  }

  async claim(owner: Owner, leaseMs: number): Promise<ClaimResult> {
    const n = await this.count();
    const now = Date.now();
    const body: LeaseBody = { host: owner.host, pid: owner.pid, lease_ms: leaseMs, claimed_at: now, attempts: 0 };
    const fast = this.claimFreshFast(owner, leaseMs, n, now, body);
    if (fast) return fast;
    // A scan, in shard order: the first claimable shard, whether never claimed, released, due for a
    // retry, or held under a lease that expired (taken over).
    const states = this.epochs.scan();
    const isReset = this.resetCheck();
    const classified = Array.from({ length: n }, (_, s) => classify(states.get(String(s)), isReset, String(s)));
    const again = this.scheduleNextScan(classified, states, leaseMs, now);
    const took = (s: number) => {
      this.fresh = s + 1;
      if (again.some((x) => x !== s)) this.scanBy = now;
    };
    this.fresh = n;
    let wakeAt = Infinity;
    let open = false;
    for (let s = 0; s < n; s++) {
      const c = classified[s]!;
      if (c.state !== 'pending' && c.state !== 'running') continue;
      open = true;
      const at = c.state === 'pending' ? c.retryAt : c.expiresAt;
      // a retry not due yet, or a lease not expired: wake when it is
      if (at !== null && (c.state === 'pending' ? at > now : at >= now)) {
        wakeAt = Math.min(wakeAt, at);
        continue;
      }
      const st = states.get(String(s));
      const won =
        c.state === 'pending'
          ? this.claimPending(owner, leaseMs, s, st?.token ?? 0, c.attempts, body)
          : this.takeOver(owner, leaseMs, s, st!, c, body, now);
      if (won) {
        took(s);
        return won;
      }
      // lost the race (or the epoch ended some other way first): look again next time
      wakeAt = now;
    }
    if (!open) return { kind: 'finished' };
    return { kind: 'wait', ms: Math.max(50, Math.min(leaseMs, Math.ceil(wakeAt - Date.now()))) };
  }

  /**
   * Fast path, while the last scan says nothing else can be claimable yet: the next shards never
   * claimed, taken without a scan (see EpochDir.claimFresh). The scan reads every lease and end file
   * other hosts made since the last one; this costs one file creation however many hosts race.
   */
  private claimFreshFast(owner: Owner, leaseMs: number, n: number, now: number, body: LeaseBody): ClaimResult | null {
    if (!(this.fresh < n && now < this.scanBy)) return null;
    const keys: string[] = [];
    for (let s = this.fresh; s < n && keys.length < FRESH_TRIES; s++) keys.push(String(s));
    const won = this.epochs.claimFresh(keys, body);
    if (won < 0) {
      this.fresh += keys.length;
      return null;
    }
    const s = this.fresh + won;
    this.fresh = s + 1;
    this.log.append(owner, 'claimed', s, 1, null);
    return { kind: 'claimed', lease: { shard: s, token: 1, leaseMs }, takeover: false, previous: null, attempts: 0 };
  }

  /**
   * The fast path may be used until something scanned could become claimable (a retry falls due, a
   * lease expires) — at once if something claimed before is claimable again (released, expired,
   * reset) and this claim does not take it — and for at most a third of this host's lease, so shards
   * released meanwhile, or claimed since by a host with a shorter lease that died, wait no longer.
   * Returns the shards claimable again.
   */
  private scheduleNextScan(
    classified: Classified[],
    states: Map<string, EpochState>,
    leaseMs: number,
    now: number,
  ): number[] {
    this.scanBy = now + leaseMs / 3;
    const again: number[] = [];
    for (const [s, c] of classified.entries()) {
      if (c.state === 'running') this.scanBy = Math.min(this.scanBy, c.expiresAt);
      else if (c.state === 'pending' && c.retryAt !== null && c.retryAt > now)
        this.scanBy = Math.min(this.scanBy, c.retryAt);
      else if (c.state === 'pending' && (states.get(String(s))?.token ?? 0) > 0) again.push(s);
    }
    return again;
  }

  /** A pending shard (never claimed, released, or due for a retry): the next epoch, if no host took it first. */
  private claimPending(
    owner: Owner,
    leaseMs: number,
    s: number,
    token: number,
    attempts: number,
    body: LeaseBody,
  ): ClaimResult | null {
    if (!this.epochs.claim(String(s), token + 1, { ...body, attempts })) return null;
    this.log.append(owner, 'claimed', s, token + 1, null);
    return {
      kind: 'claimed',
      lease: { shard: s, token: token + 1, leaseMs },
      takeover: false,
      previous: null,
      attempts,
    };
  }

  /** A running shard whose lease expired: end its epoch as expired, then claim the next one. */
  private takeOver(
    owner: Owner,
    leaseMs: number,
    s: number,
    st: EpochState,
    c: Classified & { state: 'running' },
    body: LeaseBody,
    now: number,
  ): ClaimResult | null {
    const key = String(s);
    const token = st.token;
    const prev = st.lease!;
    const previous = { host: prev.host, pid: prev.pid };
    const ended = this.epochs.end(key, token, {
      kind: 'expired',
      host: owner.host,
      pid: owner.pid,
      time: now,
      attempts: c.attempts,
    });
    // The epoch ended some other way first (the holder committed at the last moment, or another host
    // expired it): look again next time rather than claim on a stale view.
    if (!ended) return null;
    this.log.append(owner, 'expired', s, token, { holder: previous, expired_ms_ago: now - c.expiresAt });
    if (!this.epochs.claim(key, token + 1, { ...body, attempts: c.attempts })) return null;
    this.log.append(owner, 'claimed', s, token + 1, { takeover: true, previous });
    return {
      kind: 'claimed',
      lease: { shard: s, token: token + 1, leaseMs },
      takeover: true,
      previous,
      attempts: c.attempts,
    };
  }

  /** One by one: a directory claim costs a few file creations, nothing a batch would share. */
  async claimBatch(owner: Owner, leaseMs: number, max: number): Promise<BatchClaimResult> {
    const claims: Claimed[] = [];
    while (claims.length < max) {
      const c = await this.claim(owner, leaseMs);
      if (c.kind !== 'claimed') {
        if (claims.length === 0) return c;
        break;
      }
      claims.push({ lease: c.lease, takeover: c.takeover, previous: c.previous, attempts: c.attempts });
    }
    return { kind: 'claimed', claims };
  }

  async renew(lease: Lease, owner: Owner): Promise<RenewResult> {
    const now = Date.now();
    let before: number | null;
    try {
      before = this.epochs.touch(String(lease.shard), lease.token, now);
    } catch (e) {
      throw runtime(`cannot renew the lease of shard ${lease.shard}: ${(e as Error).message}`);
    }
    if (before === null) return 'lost';
    if (before + lease.leaseMs < now) {
      this.log.append(owner, 'renewed_late', lease.shard, lease.token, { late_ms: now - before - lease.leaseMs });
      return 'late';
    }
    return 'ok';
  }

  private leaseAttempts(lease: Lease): number {
    return this.epochs.lease(String(lease.shard), lease.token)?.attempts ?? 0;
  }

  async commitBatch(owner: Owner, items: Commit[]): Promise<boolean[]> {
    const verdicts: boolean[] = [];
    for (const it of items) verdicts.push(await this.commit(it.lease, owner, it.partial));
    return verdicts;
  }

  /** In turn: a directory gains nothing from doing both at once. */
  async commitAndClaim(
    owner: Owner,
    items: Commit[],
    leaseMs: number,
    max: number,
  ): Promise<{ verdicts: boolean[]; next: BatchClaimResult }> {
    const verdicts = await this.commitBatch(owner, items);
    return { verdicts, next: await this.claimBatch(owner, leaseMs, max) };
  }

  async commit(lease: Lease, owner: Owner, partial: string): Promise<boolean> {
    const key = String(lease.shard);
    // Only the holder of this token writes this name; a repeated commit must not replace (or, when
    // rejected, delete) the partial an earlier commit of the same token made.
    const file = join(this.dir, 'partial', `${key}.${lease.token}`);
    const inline = Buffer.byteLength(partial) <= INLINE_PARTIAL_MAX;
    if (!inline) publishOnce(this.epochs.tmpDir, file, partial);
    const ok = this.epochs.end(key, lease.token, {
      kind: 'committed',
      host: owner.host,
      pid: owner.pid,
      time: Date.now(),
      attempts: this.leaseAttempts(lease),
      ...(inline ? { partial } : {}),
    });
    if (ok) {
      this.log.append(owner, 'committed', lease.shard, lease.token, null);
      return true;
    }
    const cur = this.epochs.state(key);
    // A partial nobody will ever read (its token ended some other way) is removed.
    if (!inline && this.epochs.epoch(key, lease.token).end?.kind !== 'committed') {
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    }
    this.log.append(owner, 'commit_rejected', lease.shard, lease.token, {
      current_token: cur.token,
      ended: cur.end?.kind ?? null,
    });
    return false;
  }

  async fail(lease: Lease, owner: Owner, error: string, opts: FailOptions): Promise<'retry' | 'failed' | 'lost'> {
    const attempts = this.leaseAttempts(lease) + 1;
    const final = opts.permanent || attempts >= opts.maxAttempts;
    const now = Date.now();
    const ok = this.epochs.end(String(lease.shard), lease.token, {
      kind: 'failed',
      host: owner.host,
      pid: owner.pid,
      time: now,
      attempts,
      error,
      permanent: opts.permanent,
      final,
      ...(final ? {} : { retry_at: now + opts.retryInMs }),
    });
    if (!ok) return 'lost';
    this.log.append(owner, 'failed', lease.shard, lease.token, { error, attempts, permanent: opts.permanent, final });
    return final ? 'failed' : 'retry';
  }

  async release(lease: Lease, owner: Owner): Promise<void> {
    const ok = this.epochs.end(String(lease.shard), lease.token, {
      kind: 'released',
      host: owner.host,
      pid: owner.pid,
      time: Date.now(),
      attempts: this.leaseAttempts(lease),
    });
    if (ok) this.log.append(owner, 'released', lease.shard, lease.token, null);
  }

  async shards(): Promise<ShardRow[]> {
    const n = await this.count();
    const states = this.epochs.scan();
    const isReset = this.resetCheck();
    const rows: ShardRow[] = [];
    for (let s = 0; s < n; s++) {
      const key = String(s);
      const st = states.get(key);
      const c = classify(st, isReset, key);
      const owner =
        st?.end && st.end.kind === 'committed'
          ? { host: st.end.host, pid: st.end.pid }
          : st?.lease
            ? { host: st.lease.host, pid: st.lease.pid }
            : null;
      rows.push({
        shard: s,
        state: c.state,
        token: st?.token ?? 0,
        owner,
        lease_expires_at: c.state === 'running' ? c.expiresAt : null,
        attempts: c.state === 'done' ? (st?.end?.attempts ?? 0) : c.attempts,
        last_error: c.state === 'done' ? null : c.lastError,
        retry_at: c.state === 'pending' ? c.retryAt : null,
        committed_at: c.state === 'done' ? st!.end!.time : null,
      });
    }
    return rows;
  }

  async partials(): Promise<string[]> {
    const rows = await this.shards();
    return rows.map((r) => {
      if (r.state !== 'done') throw runtime(`shard ${r.shard} is ${r.state}, not done: cannot merge yet`);
      return (
        this.epochs.committedPartial(String(r.shard), r.token) ??
        readFileSync(join(this.dir, 'partial', `${r.shard}.${r.token}`), 'utf8')
      );
    });
  }

  async storeResult(result: string, owner: Owner): Promise<boolean> {
    const ok = publishOnce(this.epochs.tmpDir, join(this.dir, 'result.json'), result);
    if (ok) this.log.append(owner, 'merged', null, null, null);
    return ok;
  }

  async result(): Promise<string | null> {
    try {
      return readFileSync(join(this.dir, 'result.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async retryFailed(owner: Owner): Promise<number> {
    const rows = await this.shards();
    let n = 0;
    for (const r of rows) {
      if (r.state !== 'failed') continue;
      if (
        publishOnce(
          this.epochs.tmpDir,
          join(this.dir, 'reset', `${r.shard}.${r.token}`),
          JSON.stringify({ host: owner.host, pid: owner.pid, time: Date.now() }),
        )
      ) {
        this.log.append(owner, 'retried', r.shard, r.token, { attempts: r.attempts, last_error: r.last_error });
        n++;
      }
    }
    return n;
  }

  async events(filter: { shard?: number; host?: string } = {}): Promise<ManifestEvent[]> {
    const all = EventLog.readAll(join(this.dir, 'events'));
    // A process killed between making an epoch file and logging it (they are two writes) leaves the
    // event out of its log; the lease and end files are the record, so such events are recovered
    // from them (detail: {"recovered": true}).
    const logged = new Set(all.map((e) => `${e.type} ${e.shard} ${e.token}`));
    const recover = (
      type: EventType,
      key: string,
      token: number,
      body: { host: string; pid: number },
      time: number,
    ) => {
      const shard = Number(key);
      if (logged.has(`${type} ${shard} ${token}`)) return;
      all.push({
        time: new Date(time).toISOString(),
        type,
        shard,
        host: body.host,
        pid: body.pid,
        token,
        detail: { recovered: true },
        t: time,
        seq: -1,
      });
    };
    for (const [key, token, lease] of this.epochs.leases()) recover('claimed', key, token, lease, lease.claimed_at);
    for (const [key, token, end] of this.epochs.ends()) recover(END_EVENT[end.kind], key, token, end, end.time);
    all.sort((a, b) => a.t - b.t || a.seq - b.seq || a.host.localeCompare(b.host) || a.pid - b.pid);
    return all
      .map(({ t: _t, seq: _s, ...e }) => e)
      .filter(
        (e) =>
          (filter.shard === undefined || e.shard === filter.shard) &&
          (filter.host === undefined || e.host === filter.host),
      );
  }
}

class FileGuard implements Guard {
  constructor(
    private readonly epochs: EpochDir,
    private readonly name: string,
    private readonly token: number,
    private readonly owner: Owner,
  ) {}
  async renew(): Promise<boolean> {
    return this.epochs.touch(this.name, this.token, Date.now()) !== null;
  }
  async release(): Promise<void> {
    this.epochs.end(this.name, this.token, {
      kind: 'released',
      host: this.owner.host,
      pid: this.owner.pid,
      time: Date.now(),
      attempts: 0,
    });
  }
}

export class FileStore implements ManifestStore {
  readonly url: string;
  private readonly root: string;

  /**
   * create: make the directory when it does not exist yet (a run does; status and the like do not).
   * label: what the directory is, for messages (the lock directory of --exclusive is one too).
   */
  constructor(dir: string, opts: { create?: boolean; label?: string } = {}) {
    this.root = resolve(dir);
    this.url = `file:${dir}`;
    const label = opts.label ?? 'a manifest directory';
    try {
      if (opts.create ?? true) makeDirs(this.root);
      else statSync(this.root);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new BigprocError(
        `cannot use ${show(dir)} as ${label}: ${code === 'ENOENT' && !(opts.create ?? true) ? 'it does not exist' : describeSystemError(e)}`,
        EXIT.usage,
        'ManifestUnreachable',
      );
    }
    if (!statSync(this.root).isDirectory())
      throw new BigprocError(
        `cannot use ${show(dir)} as ${label}: it is not a directory`,
        EXIT.usage,
        'ManifestUnreachable',
      );
  }

  async runs(): Promise<string[]> {
    return list(this.root)
      .filter((name) => !name.startsWith('_') && existsSync(join(this.root, name, 'run.json')))
      .map((name) => ({ name, t: statSync(join(this.root, name, 'run.json')).mtimeMs }))
      .sort((a, b) => a.t - b.t || a.name.localeCompare(b.name))
      .map((r) => r.name);
  }

  private readonly opened: FileRun[] = [];

  run(runId: string): RunManifest {
    const r = new FileRun(this.root, checkName('--run-id', runId));
    this.opened.push(r);
    return r;
  }

  async guard(name: string, owner: Owner, leaseMs: number): Promise<GuardResult> {
    checkName('--exclusive', name);
    const epochs = new EpochDir(join(this.root, '_guards'));
    epochs.ensure();
    for (let tries = 0; tries < 5; tries++) {
      const now = Date.now();
      const st = epochs.state(name);
      if (st.token > 0 && !st.end) {
        const lease = st.lease!;
        if (st.renewedAt + lease.lease_ms >= now)
          return { kind: 'busy', holder: { host: lease.host, pid: lease.pid }, since: lease.claimed_at };
        epochs.end(name, st.token, { kind: 'expired', host: owner.host, pid: owner.pid, time: now, attempts: 0 });
      }
      if (
        epochs.claim(name, st.token + 1, {
          host: owner.host,
          pid: owner.pid,
          lease_ms: leaseMs,
          claimed_at: now,
          attempts: 0,
        })
      ) {
        return { kind: 'held', guard: new FileGuard(epochs, name, st.token + 1, owner) };
      }
    }
    const st = epochs.state(name);
    return {
      kind: 'busy',
      holder: { host: st.lease?.host ?? '?', pid: st.lease?.pid ?? 0 },
      since: st.lease?.claimed_at ?? 0,
    };
  }

  async close(): Promise<void> {
    for (const r of this.opened) r.close();
  }
}
