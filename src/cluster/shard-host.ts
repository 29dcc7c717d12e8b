// The multi-host run loop, as one host runs it against a shared manifest: claim a shard (a run of
// whole chunks) under a lease, work through its chunks on the local pool, settle — commit its partial
// (fenced by the lease's token) together with the next claim — or give it back, and repeat; a
// heartbeat renews each lease every lease/3 and cancels work on the shard at once if it is lost.
// When nothing is left, finish (finish.ts): the host whose commit completed the run merges.
//
// A host runs several slots (claim → work → settle loops) at once when a shard has fewer chunks than
// there are threads; they share the pool, the host's share of the work and its fatal error.
import type { Layout } from '../layout/types.js';
import type { ChunkPlan } from '../plan/chunks.js';
import { shardAt, type Shard } from '../plan/shards.js';
import type { AnyOp } from '../ops/types.js';
import type { BatchClaimResult, Claimed, Lease, Owner, RunManifest } from '../manifest/types.js';
import { Control } from '../engine/control.js';
import { acquireRunner, runsInline } from '../engine/pool.js';
import { chunkWindow, runPass } from '../engine/pass.js';
import type { AtomicFile } from '../engine/output.js';
import { checkUnchanged } from '../engine/run.js';
import { runMetrics, type RunMetrics } from '../engine/metrics.js';
import type { CpuBackend, TaskRunner } from '../engine/protocol.js';
import { BigprocError, EXIT, clipLongValues, hasCode } from '../errors.js';
import { redact } from '../redact.js';
import { isSystemError, systemError } from '../sys-errors.js';
import { averageShardMs, nextBatch, nextPoll, POLL_FIRST_MS, pollWait, retryDelay } from './backoff.js';
import { encodePartial } from './partial-codec.js';
import { handOver, keepsChunks } from './chunk-partials.js';
import { keepLease } from './lease-keeper.js';
import { discardPart, openPart, type OutputOwner } from './parts.js';
import { ChangeWaiter, Siblings, type StopRequest } from './waiter.js';
import { finishRun, type Ending } from './finish.js';

export type { StopRequest } from './waiter.js';

export interface ShardedInput {
  file: string;
  layout: Layout;
  plan: ChunkPlan;
  op: AnyOp;
  spec: unknown;
  backend: CpuBackend;
  backendDetail?: string;
  workers: number;
  out?: string;
  /** with --out: which run the output belongs to (written in a directory's _SUCCESS) */
  outOwner?: OutputOwner;
  identity: { size: number; mtimeMs: number };
  run: RunManifest;
  owner: Owner;
  /** chunks per shard */
  perShard: number;
  leaseMs: number;
  maxAttempts: number;
  /** first retry delay; doubled per attempt, with jitter */
  backoffMs: number;
  graceMs: number;
  stop: StopRequest;
  /** a log line for stderr (a no-op with --quiet) */
  log: (line: string) => void;
}

export interface Share {
  shards: number;
  records: number;
  bytes: number;
  /** commits refused because the lease had been taken over meanwhile */
  rejected: number;
  /** shards dropped because a renewal failed */
  lost: number;
  /** failed attempts on this host */
  failures: number;
}

export interface ShardedOutcome extends Ending {
  share: Share;
  metrics: RunMetrics;
}

/** A shard in hand: its lease, its heartbeat, the control that cancels work on it. */
interface Held {
  lease: Lease;
  ctl: Control;
  /** failed attempts at the shard before this claim (any host) */
  attempts: number;
  /** the lease was lost (taken over, or not renewable for a whole lease period) */
  lost: boolean;
  /** stop the heartbeat */
  end(): void;
}

/** A shard worked through, waiting to be committed. */
interface Ready {
  held: Held;
  shard: Shard;
  partial: string;
  part?: AtomicFile;
  chunkMs: number[];
}

/** A shard's error as the manifest stores it (every host and `status` see it): masked, clipped, in words. */
export function errorText(e: unknown): string {
  const known = isSystemError(e) ? systemError(e) : e;
  return clipLongValues(redact((known as Error)?.message ?? String(e)));
}

const endAll = (held: Held[]) => {
  for (const h of held) h.end();
};

/**
 * Past the grace period after a stop request, the shard in hand is abandoned: its work is cancelled
 * and (see ShardHost.cancelled) its lease released.
 */
function graceTimer(stop: StopRequest, graceMs: number, ctl: Control): { over(): boolean; end(): void } {
  let over = false;
  let timer: NodeJS.Timeout | undefined;
  const off = stop.on(() => {
    timer = setTimeout(() => {
      over = true;
      ctl.cancel();
    }, graceMs);
  });
  return {
    over: () => over,
    end() {
      off();
      if (timer) clearTimeout(timer);
    },
  };
}

export class ShardHost {
  private readonly t0 = performance.now();
  private readonly threads: number;
  /** claim → work → settle loops run at once */
  private readonly slots: number;
  private readonly window: number;
  private readonly keepChunks: boolean;
  private readonly share: Share = { shards: 0, records: 0, bytes: 0, rejected: 0, lost: 0, failures: 0 };
  private readonly chunkMs: number[] = [];
  private pool: TaskRunner | null = null;
  /**
   * A failure that concerns this host rather than a shard (the file changed, --out cannot be written):
   * every slot stops, gives its shard back and the host exits with the error.
   */
  private fatal: Error | null = null;
  /** the controls of the shards in hand, cancelled together by a fatal error */
  private readonly active = new Set<Control>();
  private readonly siblings = new Siblings();
  /**
   * This host's commit completed the run (its next claim found every shard done): it merges. A host
   * that learns of the end while waiting for others leaves the merge to that one (see finish.ts).
   */
  private completedHere = false;
  /** A slot here found nothing left to claim or wait for: its siblings, holding nothing, need not ask. */
  private runFinished = false;
  /** this host's running average of wall time per shard (0 until it has done one): paces polling */
  private shardMs = 0;

  constructor(private readonly input: ShardedInput) {
    this.threads = Math.max(1, Math.min(input.workers, input.plan.chunks.length || 1));
    // A shard may have fewer chunks than there are threads: hold several shards at once, so every
    // thread has a chunk (each slot claims, runs and commits its own shards) — plus one, so the next
    // shard's chunks already wait in the pool's queue while a slot commits and claims.
    this.slots = Math.ceil(this.threads / input.perShard) + 1;
    this.keepChunks = keepsChunks(input.op, input.spec);
    this.window = chunkWindow(Math.max(1, Math.ceil(this.threads / this.slots)), input.out !== undefined);
  }

  async run(): Promise<ShardedOutcome> {
    const { input } = this;
    try {
      const chunkBytes = input.plan.recordsPerChunk * input.plan.recordSize;
      this.pool = await acquireRunner(
        this.threads,
        runsInline({ threads: this.threads, op: input.op, stream: false, backend: input.backend, chunkBytes }),
      );
      const ends = await Promise.allSettled(Array.from({ length: this.slots }, () => this.slot()));
      if (this.fatal) throw this.fatal;
      for (const e of ends) if (e.status === 'rejected') throw e.reason;
      const ending = await finishRun(
        { ...input, waiter: () => this.waiter() },
        { completed: this.completedHere, committed: this.share.shards > 0 },
      );
      return { ...ending, share: this.share, metrics: this.metrics() };
    } finally {
      if (this.pool) void this.pool.destroy().catch(() => {});
    }
  }

  private metrics(): RunMetrics {
    const { share, input } = this;
    return runMetrics({
      bytes: share.bytes,
      records: share.records,
      t0: this.t0,
      workers: this.pool ? this.threads : 0,
      backend: input.backend,
      chunks: this.chunkMs.length,
      chunkMs: this.chunkMs,
      passes: 1,
      backendDetail: input.backendDetail,
    });
  }

  private waiter(): ChangeWaiter {
    return new ChangeWaiter(this.input.run, this.siblings, this.input.stop);
  }

  private stopping(): boolean {
    return this.input.stop.requested || this.fatal !== null;
  }

  private stopAll(e: Error): void {
    this.fatal ??= e;
    for (const c of this.active) c.cancel();
  }

  /** One slot: settle the last batch with the next claim, wait or work, until the run is over here. */
  private async slot(): Promise<void> {
    let poll = POLL_FIRST_MS;
    let batch = 1;
    const changed = this.waiter();
    // The previous turn's shards: their heartbeats run until they are committed, together with the
    // next claim.
    let held: Held[] = [];
    let ready: Ready[] = [];
    for (;;) {
      if (this.runFinished && ready.length === 0) {
        endAll(held);
        break;
      }
      let c: BatchClaimResult | null;
      const claimSent = Date.now();
      try {
        c = await this.settle(ready, this.stopping() ? 0 : batch);
      } finally {
        endAll(held);
        held = [];
        ready = [];
      }
      if (c === null || c.kind === 'finished') break;
      if (c.kind === 'wait') {
        // Shards held by others may be committed (or given up) at any moment: poll, don't sleep until
        // their leases expire — and look again at once when the manifest says something changed.
        await changed.or(pollWait(c.ms, poll, !!this.input.run.notifies?.()));
        poll = nextPoll(poll, this.shardMs);
        continue;
      }
      poll = POLL_FIRST_MS;
      held = c.claims.map((x) => this.hold(x, claimSent));
      const t = performance.now();
      ready = await this.workBatch(held);
      // Grow the batch while a whole batch of shards takes little time (tiny shards); big shards stay
      // one at a time.
      const perShard = (performance.now() - t) / held.length;
      this.shardMs = averageShardMs(this.shardMs, perShard);
      batch = nextBatch(batch, perShard);
    }
  }

  /**
   * Take a claimed shard into hand: its heartbeat renews the lease every lease/3 from now on (also
   * while it waits its turn in a batch) and cancels work on it at once if the lease is lost.
   */
  private hold(c: Claimed, claimSent: number): Held {
    const { run, owner, log, leaseMs } = this.input;
    const ctl = new Control();
    this.active.add(ctl);
    if (this.fatal) ctl.cancel();
    const h: Held = {
      lease: c.lease,
      ctl,
      attempts: c.attempts,
      lost: false,
      end: () => {
        keeper.end();
        this.active.delete(ctl);
      },
    };
    const keeper = keepLease({
      leaseMs,
      since: claimSent,
      renew: () => run.renew(c.lease, owner),
      onLost: () => {
        h.lost = true;
        ctl.cancel();
      },
      onLate: () => log(`shard ${c.lease.shard}: lease renewed late (token ${c.lease.token})`),
    });
    if (c.takeover)
      log(
        `shard ${c.lease.shard}: took over an expired lease of ${c.previous?.host}:${c.previous?.pid} (token ${c.lease.token})`,
      );
    return h;
  }

  /** Work through a claimed batch in order; shards not started yet when the host stops go back at once. */
  private async workBatch(held: Held[]): Promise<Ready[]> {
    const ready: Ready[] = [];
    try {
      for (const h of held) {
        if (this.stopping()) {
          await this.giveBack(h.lease, 'stopping');
          continue;
        }
        const r = await this.work(h);
        if (r) ready.push(r);
      }
    } catch (e) {
      endAll(held);
      throw e;
    }
    return ready;
  }

  /** Run one held shard's chunks. Returns its partial, ready to commit, or null when the shard was dealt with otherwise. */
  private async work(h: Held): Promise<Ready | null> {
    const { input } = this;
    const { lease, ctl } = h;
    let part: AtomicFile | undefined;
    if (input.out) {
      try {
        part = openPart(input.out, lease.shard, lease.token);
      } catch (e) {
        // This host cannot write the output: not the shard's fault, so no attempt is spent on it.
        this.stopAll(e as Error);
        await this.giveBack(lease, 'cannot write --out here');
        return null;
      }
    }
    const shard = shardAt(input.plan, input.perShard, lease.shard);
    // Chunks keep their file offsets; their indices are renumbered from 0 for the pass's ordered merge.
    const chunks = input.plan.chunks
      .slice(shard.firstChunk, shard.firstChunk + shard.chunks)
      .map((ch, i) => ({ ...ch, index: i }));
    const grace = graceTimer(input.stop, input.graceMs, ctl);
    try {
      const r = await runPass({
        pool: this.pool!,
        file: input.file,
        plan: { ...input.plan, chunks },
        op: input.op,
        spec: input.spec,
        backend: input.backend,
        ctl,
        output: part,
        window: this.window,
        keepChunks: this.keepChunks,
      });
      r.fold?.close(); // the shard hands over its partial; the merge is the last host's
      if (r.cancelled) {
        part?.abort();
        await this.cancelled(h, grace.over());
        return null;
      }
      checkUnchanged(input.file, input.identity);
      return {
        held: h,
        shard,
        partial: encodePartial(handOver(input.op, input.spec, r.partial)),
        part,
        chunkMs: r.chunkMs,
      };
    } catch (e) {
      part?.abort();
      await this.failed(h, e);
      return null;
    } finally {
      grace.end();
    }
  }

  /** Work on a shard was cancelled: its lease was lost, its grace period ran out, or the host stops. */
  private async cancelled(h: Held, graceOver: boolean): Promise<void> {
    const { lease } = h;
    if (h.lost) {
      this.share.lost++;
      this.input.log(`shard ${lease.shard}: lease lost (token ${lease.token}); work on it stopped`);
    } else if (graceOver) await this.giveBack(lease, 'grace period over');
    else if (this.fatal) await this.giveBack(lease, 'stopping');
  }

  /** Work on a shard failed: the host's fault (give it back), a lost lease, or an attempt spent on the shard. */
  private async failed(h: Held, e: unknown): Promise<void> {
    const { input } = this;
    const { lease } = h;
    // The file changed under this host: its own view of the file is what is wrong (a local copy
    // rewritten, a stale mount), not the shard — stop here and give the shard back, untouched, for
    // hosts that still see the file the run was created for.
    if (hasCode(e, 'FileChanged')) {
      this.stopAll(e);
      return this.giveBack(lease, 'the file changed here');
    }
    if (h.lost) {
      this.share.lost++;
      return;
    }
    // Work cut short because another slot hit a fatal error: give the shard back untouched.
    if (this.fatal) return this.giveBack(lease, 'stopping');
    const permanent = e instanceof BigprocError && e.exitCode === EXIT.usage;
    // this failure's number among the shard's attempts on every host, so the backoff keeps growing
    // when another host (or the next cron run) takes the shard up again
    const n = h.attempts + 1;
    this.share.failures++;
    const verdict = await input.run.fail(lease, input.owner, errorText(e), {
      permanent,
      maxAttempts: input.maxAttempts,
      retryInMs: retryDelay(input.backoffMs, n),
    });
    const what =
      verdict === 'failed' ? 'no attempts left' : verdict === 'retry' ? 'will be retried' : 'lease already lost';
    input.log(`shard ${lease.shard}: failed (${what}): ${errorText(e)}`);
  }

  private async giveBack(lease: Lease, why: string): Promise<void> {
    try {
      await this.input.run.release(lease, this.input.owner);
      this.siblings.wake();
      this.input.log(`shard ${lease.shard}: ${why}; lease released`);
    } catch (e) {
      this.input.log(`shard ${lease.shard}: ${why}; could not release the lease (it will expire): ${errorText(e)}`);
    }
  }

  /**
   * Commit finished shards together and, unless `claimMax` is 0, claim the next ones in the same round
   * trip (see RunManifest.commitAndClaim). A shard whose lease was lost meanwhile is dropped. Returns
   * the claim's result, or null when only committing.
   */
  private async settle(ready: Ready[], claimMax: number): Promise<BatchClaimResult | null> {
    const { run, owner, leaseMs } = this.input;
    const live = this.dropLost(ready);
    const items = live.map((r) => ({ lease: r.held.lease, partial: r.partial }));
    let verdicts: boolean[] = [];
    let next: BatchClaimResult | null = null;
    if (claimMax > 0) ({ verdicts, next } = await run.commitAndClaim(owner, items, leaseMs, claimMax));
    else if (items.length > 0) verdicts = await run.commitBatch(owner, items);
    live.forEach((r, i) => {
      this.counted(r, verdicts[i] === true);
    });
    if (next?.kind === 'finished') {
      this.runFinished = true;
      // Completed by this host only if one of its commits went through (all rejected: it lost them).
      if (verdicts.some(Boolean)) this.completedHere = true;
      // A commit frees nothing a sibling could claim; the end of the run is news to it.
      this.siblings.wake();
    }
    return next;
  }

  /** The shards still held, their --out parts made final; those whose lease was lost are dropped. */
  private dropLost(ready: Ready[]): Ready[] {
    const live: Ready[] = [];
    for (const r of ready) {
      if (r.held.lost) {
        r.part?.abort();
        this.share.lost++;
        this.input.log(`shard ${r.held.lease.shard}: lease lost (token ${r.held.lease.token}); result dropped`);
      } else {
        r.part?.commit();
        live.push(r);
      }
    }
    return live;
  }

  /** A commit's verdict, counted in this host's share (accepted) or undone (its token was no longer current). */
  private counted(r: Ready, accepted: boolean): void {
    const { lease } = r.held;
    if (accepted) {
      this.share.shards++;
      this.share.records += r.shard.records;
      this.share.bytes += r.shard.bytes;
      this.chunkMs.push(...r.chunkMs);
      this.input.log(`shard ${lease.shard}: committed (token ${lease.token}, ${r.shard.chunks} chunks)`);
    } else {
      if (this.input.out) discardPart(this.input.out, lease.shard, lease.token);
      this.share.rejected++;
      this.input.log(`shard ${lease.shard}: commit rejected — token ${lease.token} is no longer current`);
    }
  }
}

/** Run this host's part of a shared run to its end (see ShardHost). */
export function runSharded(input: ShardedInput): Promise<ShardedOutcome> {
  return new ShardHost(input).run();
}
