// The multi-host run loop. Every host runs this against the same manifest: claim a shard (a run of
// whole chunks) under a lease, run one pass over its chunks on the local pool, commit its partial
// (fenced by the lease's token) together with its next claim, repeat; a heartbeat renews the lease
// every lease/3 and cancels the shard at once if the lease is lost. When nothing is left, the host
// whose commit completed the run merges the partials in shard order — the same merge as a
// single-host run, so the same bits — and the others wait for its result.
import type { Layout } from '../layout/types.js';
import type { ChunkPlan } from '../plan/chunks.js';
import { shardAt, type Shard } from '../plan/shards.js';
import type { AnyOp } from '../ops/types.js';
import type { BatchClaimResult, Claimed, Lease, Owner, RunManifest, ShardRow } from '../manifest/types.js';
import { Control } from './control.js';
import { acquireRunner, runsInline, type TaskRunner } from './pool.js';
import { runPass } from './pass.js';
import type { AtomicFile } from './output.js';
import { checkUnchanged, type RunMetrics } from './run.js';
import { decodePartial, encodePartial } from './partial-codec.js';
import { foldShards, handOver, keepsChunks } from './chunk-partials.js';
import { keepLease } from './lease-keeper.js';
import { assembleOutput, discardPart, openPart, type OutputOwner } from './parts.js';
import type { Backend } from './protocol.js';
import { latencySummary } from '../report/percentiles.js';
import { BigprocError, EXIT, clipLongValues } from '../errors.js';
import { redact } from '../redact.js';
import { isSystemError, systemError } from '../sys-errors.js';

export interface StopRequest {
  /** set on the first SIGTERM/SIGINT: claim nothing more */
  requested: boolean;
  /** call fn when a stop is requested (at once if it already was); returns a function that unsubscribes */
  on(fn: () => void): () => void;
}

export interface ShardedInput {
  file: string;
  layout: Layout;
  plan: ChunkPlan;
  op: AnyOp;
  spec: unknown;
  backend: Backend;
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

export interface ShardedOutcome {
  /** the run's final result once every shard is done (merged here or earlier elsewhere), else null */
  result: unknown;
  /** this host stored the merged result */
  merged: boolean;
  /** the run ended with shards out of attempts */
  failed: ShardRow[];
  /** stopped by a signal before the run finished */
  stopped: boolean;
  share: Share;
  metrics: RunMetrics;
}

// Polling while others hold the last shards: quick at first (the run is probably about to end), then
// backing off so a thousand idle hosts do not hammer the manifest — but never to more than a quarter
// of the time a shard takes here, since the others' last shards end within about that long, and every
// host waits for the end (to take over a crashed host's shards) before it exits.
//
// Where the manifest notifies every change a waiting host could act on (run.notifies: PostgreSQL once
// LISTEN is in place), the host sleeps until told, polling only every POLL_MAX_MS as a fallback.
const POLL_FIRST_MS = 20;
const POLL_MAX_MS = 1000;

// Tiny shards are claimed (and committed) several at a time, so the manifest's cost per statement
// (on Postgres, one durable WAL flush per claim) is shared by the batch. A batch is sized to take
// about BATCH_BUDGET_MS of work, so a host never sits on much that idle hosts could have taken;
// shards of ordinary size (tens of milliseconds and more) are claimed one at a time.
const BATCH_BUDGET_MS = 50;
const MAX_BATCH = 64;

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

function backoff(baseMs: number, failures: number): number {
  const exp = Math.min(60_000, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exp * (0.5 + Math.random()));
}

/** A shard's error as the manifest stores it (every host and `status` see it): masked, clipped, in words. */
function errorText(e: unknown): string {
  const known = isSystemError(e) ? systemError(e) : e;
  return clipLongValues(redact((known as Error)?.message ?? String(e)));
}

export async function runSharded(input: ShardedInput): Promise<ShardedOutcome> {
  const t0 = performance.now();
  const { plan, op, spec, run, owner, stop, log } = input;
  const threads = Math.max(1, Math.min(input.workers, plan.chunks.length || 1));
  // A shard may have fewer chunks than there are threads: hold several shards at once, so every
  // thread has a chunk (each slot claims, runs and commits its own shards) — plus one, so the next
  // shard's chunks already wait in the pool's queue while a slot commits and claims.
  const slots = Math.ceil(threads / input.perShard) + 1;
  const keepChunks = keepsChunks(op, spec);
  const window = Math.max(1, Math.ceil(threads / slots)) * (input.out ? 2 : 4);
  const share: Share = { shards: 0, records: 0, bytes: 0, rejected: 0, lost: 0, failures: 0 };
  const chunkMs: number[] = [];
  let pool: TaskRunner | null = null;

  // A failure that concerns this host rather than a shard (the file changed, --out cannot be written):
  // every slot stops, gives its shard back and the host exits with the error.
  let fatal: Error | null = null;
  const active = new Set<Control>();
  const stopAll = (e: Error) => {
    fatal ??= e;
    for (const c of active) c.cancel();
  };

  // A slot waiting for shards held elsewhere wakes as soon as a sibling slot here gives a shard back
  // or finds the run finished: that may be what it waits for, and the manifest's own wake-up
  // (run.changed), where there is one, comes later or only in the run's tail.
  let siblings: (() => void)[] = [];
  const siblingChanged = () => new Promise<void>((resolve) => siblings.push(resolve));
  const wakeSiblings = () => {
    const ws = siblings;
    siblings = [];
    for (const w of ws) w();
  };

  const giveBack = async (lease: Lease, why: string) => {
    try {
      await run.release(lease, owner);
      wakeSiblings();
      log(`shard ${lease.shard}: ${why}; lease released`);
    } catch (e) {
      log(`shard ${lease.shard}: ${why}; could not release the lease (it will expire): ${errorText(e)}`);
    }
  };

  /**
   * Take a claimed shard into hand: its heartbeat renews the lease every lease/3 from now on (also
   * while it waits its turn in a batch) and cancels work on it at once if the lease is lost.
   */
  const hold = (c: Claimed, claimSent: number): Held => {
    const ctl = new Control();
    active.add(ctl);
    if (fatal) ctl.cancel();
    const h: Held = {
      lease: c.lease,
      ctl,
      attempts: c.attempts,
      lost: false,
      end: () => {
        keeper.end();
        active.delete(ctl);
      },
    };
    const keeper = keepLease({
      leaseMs: input.leaseMs,
      since: claimSent,
      renew: () => run.renew(c.lease, owner),
      onLost: () => {
        h.lost = true;
        ctl.cancel();
      },
      onLate: () => log(`shard ${c.lease.shard}: lease renewed late (token ${c.lease.token})`),
    });
    if (c.takeover) log(`shard ${c.lease.shard}: took over an expired lease of ${c.previous?.host}:${c.previous?.pid} (token ${c.lease.token})`);
    return h;
  };

  /** Run one held shard's chunks. Returns its partial, ready to commit, or null when the shard was dealt with otherwise. */
  const work = async (h: Held): Promise<Ready | null> => {
    const { lease, ctl } = h;
    const shard = shardAt(plan, input.perShard, lease.shard);
    // Chunks keep their file offsets; their indices are renumbered from 0 for the pass's ordered merge.
    const chunks = plan.chunks.slice(shard.firstChunk, shard.firstChunk + shard.chunks).map((ch, i) => ({ ...ch, index: i }));
    let graceOver = false;
    // Past the grace period after a stop request, the shard in hand is abandoned and its lease released.
    let graceTimer: NodeJS.Timeout | undefined;
    const offStop = stop.on(() => {
      graceTimer = setTimeout(() => {
        graceOver = true;
        ctl.cancel();
      }, input.graceMs);
    });
    let part: AtomicFile | undefined;
    try {
      if (input.out) {
        try {
          part = openPart(input.out, lease.shard, lease.token);
        } catch (e) {
          // This host cannot write the output: not the shard's fault, so no attempt is spent on it.
          stopAll(e as Error);
          await giveBack(lease, 'cannot write --out here');
          return null;
        }
      }
      const r = await runPass({
        pool: pool!, file: input.file, plan: { ...plan, chunks }, op, spec, backend: input.backend, ctl, output: part, window, keepChunks,
      });
      r.fold?.close(); // the shard hands over its partial; the merge is the last host's
      if (r.cancelled) {
        part?.abort();
        if (h.lost) {
          share.lost++;
          log(`shard ${lease.shard}: lease lost (token ${lease.token}); work on it stopped`);
        } else if (graceOver) await giveBack(lease, 'grace period over');
        else if (fatal) await giveBack(lease, 'stopping');
        return null;
      }
      checkUnchanged(input.file, input.identity);
      return { held: h, shard, partial: encodePartial(handOver(op, spec, r.partial)), part, chunkMs: r.chunkMs };
    } catch (e) {
      part?.abort();
      // The file changed under this host: its own view of the file is what is wrong (a local copy
      // rewritten, a stale mount), not the shard — stop here and give the shard back, untouched, for
      // hosts that still see the file the run was created for.
      if (e instanceof BigprocError && /file changed/.test(e.message)) {
        stopAll(e);
        await giveBack(lease, 'the file changed here');
        return null;
      }
      if (h.lost) {
        share.lost++;
        return null;
      }
      // Work cut short because another slot hit a fatal error: give the shard back untouched.
      if (fatal) {
        await giveBack(lease, 'stopping');
        return null;
      }
      const permanent = e instanceof BigprocError && e.exitCode === EXIT.usage;
      // this failure's number among the shard's attempts on every host, so the backoff keeps growing
      // when another host (or the next cron run) takes the shard up again
      const n = h.attempts + 1;
      share.failures++;
      const verdict = await run.fail(lease, owner, errorText(e), { permanent, maxAttempts: input.maxAttempts, retryInMs: backoff(input.backoffMs, n) });
      log(`shard ${lease.shard}: failed (${verdict === 'failed' ? 'no attempts left' : verdict === 'retry' ? 'will be retried' : 'lease already lost'}): ${errorText(e)}`);
      return null;
    } finally {
      offStop();
      if (graceTimer) clearTimeout(graceTimer);
    }
  };

  // This host's commit completed the run (its next claim found every shard done): it merges. A host
  // that learns of the end while waiting for others leaves the merge to that one (see awaitResult).
  let completedHere = false;
  // A slot here found nothing left to claim or wait for: its siblings, holding nothing, need not ask.
  let runFinished = false;

  /**
   * Commit finished shards together and, unless `claimMax` is 0, claim the next ones in the same round
   * trip (see RunManifest.commitAndClaim). A shard whose lease was lost meanwhile is dropped. Returns
   * the claim's result, or null when only committing.
   */
  const settle = async (ready: Ready[], claimMax: number): Promise<BatchClaimResult | null> => {
    const live: Ready[] = [];
    for (const r of ready) {
      if (r.held.lost) {
        r.part?.abort();
        share.lost++;
        log(`shard ${r.held.lease.shard}: lease lost (token ${r.held.lease.token}); result dropped`);
      } else {
        r.part?.commit();
        live.push(r);
      }
    }
    const items = live.map((r) => ({ lease: r.held.lease, partial: r.partial }));
    let verdicts: boolean[] = [];
    let next: BatchClaimResult | null = null;
    if (claimMax > 0) ({ verdicts, next } = await run.commitAndClaim(owner, items, input.leaseMs, claimMax));
    else if (items.length > 0) verdicts = await run.commitBatch(owner, items);
    for (const [i, r] of live.entries()) {
      const { lease } = r.held;
      if (verdicts[i]) {
        share.shards++;
        share.records += r.shard.records;
        share.bytes += r.shard.bytes;
        chunkMs.push(...r.chunkMs);
        log(`shard ${lease.shard}: committed (token ${lease.token}, ${r.shard.chunks} chunks)`);
      } else {
        if (input.out) discardPart(input.out, lease.shard, lease.token);
        share.rejected++;
        log(`shard ${lease.shard}: commit rejected — token ${lease.token} is no longer current`);
      }
    }
    if (next?.kind === 'finished') {
      runFinished = true;
      // Completed by this host only if one of its commits went through (all rejected: it lost them).
      if (verdicts.some(Boolean)) completedHere = true;
      // A commit frees nothing a sibling could claim; the end of the run is news to it.
      wakeSiblings();
    }
    return next;
  };

  /**
   * The result the host that completed the run is storing: wait for it (woken by the manifest where it
   * can tell) rather than merge the same partials again. Past a third of a lease with nothing stored,
   * that host may have died after its commit: null, and this one merges after all.
   */
  const awaitResult = async (): Promise<string | null> => {
    const deadline = Date.now() + Math.max(POLL_FIRST_MS, input.leaseMs / 3);
    const changed = changes();
    changed.watch();
    let poll = POLL_FIRST_MS;
    for (;;) {
      const stored = await run.result();
      if (stored !== null || stop.requested || Date.now() >= deadline) return stored;
      await changed.or(Math.min(run.notifies?.() ? POLL_MAX_MS : poll, deadline - Date.now()));
      poll = Math.min(poll * 1.5, POLL_MAX_MS);
    }
  };

  /**
   * Waiting `ms`, cut short by a stop request, by the manifest saying something changed (run.changed)
   * or by a sibling slot's news, whichever comes first; the timer and the stop listener go with it.
   * One pending change at a time: a poll that ends first leaves it pending for the next. `watch()`
   * starts listening before the caller first looks, so a change between that look and the first wait
   * is not missed.
   */
  const changes = () => {
    let pending: Promise<void> | undefined;
    let local: Promise<void> | undefined;
    const watch = () => {
      if (run.changed) pending ??= run.changed().finally(() => (pending = undefined));
    };
    return {
      watch,
      or(ms: number): Promise<void> {
        watch();
        local ??= siblingChanged().finally(() => (local = undefined));
        return new Promise<void>((resolve) => {
          let over = false;
          let off = () => {};
          const end = () => {
            if (over) return;
            over = true;
            clearTimeout(timer);
            off();
            resolve();
          };
          const timer = setTimeout(end, ms);
          // (called at once when a stop was requested already)
          off = stop.on(end);
          if (over) off();
          void pending?.then(end);
          void local!.then(end);
        });
      },
    };
  };

  // this host's running average of wall time per shard (0 until it has done one): paces polling
  let shardMs = 0;

  const slot = async (): Promise<void> => {
    let poll = POLL_FIRST_MS;
    let batch = 1;
    const changed = changes();
    // The previous turn's shards: their heartbeats run until they are committed, together with the
    // next claim.
    let held: Held[] = [];
    let ready: Ready[] = [];
    for (;;) {
      if (runFinished && ready.length === 0) {
        for (const h of held) h.end();
        break;
      }
      let c: BatchClaimResult | null;
      const claimSent = Date.now();
      try {
        c = await settle(ready, stop.requested || fatal ? 0 : batch);
      } finally {
        for (const h of held) h.end();
        held = [];
        ready = [];
      }
      if (c === null || c.kind === 'finished') break;
      if (c.kind === 'wait') {
        // Shards held by others may be committed (or given up) at any moment: poll, don't sleep until
        // their leases expire — and look again at once when the manifest says something changed.
        await changed.or(Math.min(c.ms, run.notifies?.() ? POLL_MAX_MS : poll * (1 + Math.random() * 0.5)));
        poll = Math.min(POLL_MAX_MS, poll * 1.5, shardMs > 0 ? Math.max(POLL_FIRST_MS, shardMs / 4) : Infinity);
        continue;
      }
      poll = POLL_FIRST_MS;
      held = c.claims.map((x) => hold(x, claimSent));
      const t = performance.now();
      try {
        for (const h of held) {
          // Shards of the batch not started yet when the host stops go back at once.
          if (stop.requested || fatal) {
            await giveBack(h.lease, 'stopping');
            continue;
          }
          const r = await work(h);
          if (r) ready.push(r);
        }
      } catch (e) {
        for (const h of held) h.end();
        throw e;
      }
      // Grow the batch while a whole batch of shards takes less than BATCH_BUDGET_MS of work (tiny
      // shards); big shards stay one at a time.
      const perShard = (performance.now() - t) / held.length;
      shardMs = shardMs > 0 ? 0.7 * shardMs + 0.3 * perShard : perShard;
      batch = Math.max(1, Math.min(MAX_BATCH, batch * 2, Math.floor(BATCH_BUDGET_MS / Math.max(perShard, 1e-3))));
    }
  };

  try {
    pool = await acquireRunner(threads, runsInline({ threads, op, stream: false, backend: input.backend, chunkBytes: plan.recordsPerChunk * plan.recordSize }));
    const ends = await Promise.allSettled(Array.from({ length: slots }, slot));
    if (fatal) throw fatal;
    for (const e of ends) if (e.status === 'rejected') throw e.reason;

    const metrics = (): RunMetrics => {
      const seconds = (performance.now() - t0) / 1000;
      return {
        bytes: share.bytes, records: share.records, seconds: Math.round(seconds * 1e6) / 1e6,
        gbps: seconds > 0 ? Math.round((share.bytes / seconds / 1e9) * 1000) / 1000 : 0,
        workers: pool ? threads : 0, backend: input.backend, chunks: chunkMs.length, chunk_ms: latencySummary(chunkMs), passes: 1,
        ...(input.backendDetail ? { dispatch: input.backendDetail } : {}),
      };
    };
    if (stop.requested) {
      const failed = (await run.shards().catch(() => [] as ShardRow[])).filter((r) => r.state === 'failed');
      return { result: null, merged: false, failed, stopped: true, share, metrics: metrics() };
    }

    const rows = await run.shards();
    const failed = rows.filter((r) => r.state === 'failed');
    if (failed.length > 0) return { result: null, merged: false, failed, stopped: false, share, metrics: metrics() };

    const tokens = rows.map((r) => r.token);
    // The host that completed the run is the one expected to merge: no result to look for yet.
    // A host that took part waits for it (awaitResult looks first); one that had nothing to do (a
    // re-run of a finished run) only looks.
    let stored = completedHere || share.shards > 0 ? null : await run.result();
    if (!completedHere && share.shards > 0) {
      stored = await awaitResult();
      // stopped while waiting for another host's merge: leave the merge to it (or to the next run)
      if (stored === null && stop.requested) return { result: null, merged: false, failed: [], stopped: true, share, metrics: metrics() };
    }
    if (stored !== null) {
      if (input.out) assembleOutput(input.out, tokens, input.outOwner ?? { run_id: run.runId, fingerprint: '' });
      return { result: JSON.parse(stored), merged: false, failed: [], stopped: false, share, metrics: metrics() };
    }
    // Every shard is done and nobody has merged yet: merge in shard order. Two hosts may both get
    // here; the merge is deterministic, and only the first to store it reports it.
    const result = await foldShards(op, spec, (await run.partials()).map(decodePartial));
    const merged = await run.storeResult(JSON.stringify(result), owner);
    // Every host that gets here makes sure the output is final before it exits (assembly is
    // idempotent and tolerates another host doing it at the same time).
    if (input.out) assembleOutput(input.out, tokens, input.outOwner ?? { run_id: run.runId, fingerprint: '' });
    const final = merged ? result : JSON.parse((await run.result()) ?? 'null');
    return { result: final, merged, failed: [], stopped: false, share, metrics: metrics() };
  } finally {
    if (pool) void (pool as TaskRunner).destroy().catch(() => {});
  }
}
