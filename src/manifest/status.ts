// A run's status as `bigproc status` prints it and `bigproc health` judges it, read through the
// RunManifest interface only: `bigproc serve` shows the same numbers from the same functions.
import type { ManifestEvent, RunDescriptor, RunManifest, ShardRow } from './types.js';

export interface StatusDoc {
  run_id: string;
  state: 'running' | 'done' | 'failed';
  shards: { total: number; pending: number; running: number; done: number; failed: number; expired: number };
  hosts: { host: string; pid: number; shards_done: number; last_seen: string }[];
  throughput_bytes_per_s: number | null;
  eta_seconds: number | null;
  failed: { shard: number; attempts: number; error: string | null }[];
  result: unknown;
}

export function shardBytes(desc: RunDescriptor): number {
  const recordSize = (desc.layout as { record_size?: number }).record_size ?? 0;
  return desc.records_per_chunk * recordSize * desc.shard_chunks;
}

export async function statusOf(
  run: RunManifest,
  desc: RunDescriptor,
): Promise<{ doc: StatusDoc; rows: ShardRow[]; events: ManifestEvent[] }> {
  const [rows, events, stored] = await Promise.all([run.shards(), run.events(), run.result()]);
  const now = Date.now();
  const count = (s: string) => rows.filter((r) => r.state === s).length;
  const shards = {
    total: rows.length,
    pending: count('pending'),
    running: count('running'),
    done: count('done'),
    failed: count('failed'),
    expired: rows.filter((r) => r.state === 'running' && r.lease_expires_at !== null && r.lease_expires_at < now)
      .length,
  };
  const hosts = new Map<string, { host: string; pid: number; shards_done: number; last: number }>();
  for (const e of events) {
    const k = `${e.host}\u0000${e.pid}`;
    const h = hosts.get(k) ?? { host: e.host, pid: e.pid, shards_done: 0, last: 0 };
    if (e.type === 'committed') h.shards_done++;
    h.last = Math.max(h.last, Date.parse(e.time));
    hosts.set(k, h);
  }
  const commits = events.filter((e) => e.type === 'committed').map((e) => Date.parse(e.time));
  const created = events.find((e) => e.type === 'created');
  const start = created ? Date.parse(created.time) : commits[0];
  let throughput: number | null = null;
  let eta: number | null = null;
  if (commits.length > 0 && start !== undefined) {
    const span = (Math.max(...commits) - start) / 1000;
    if (span > 0) {
      throughput = Math.round((commits.length * shardBytes(desc)) / span);
      const left = shards.pending + shards.running;
      eta = left === 0 ? 0 : Math.round(((left * shardBytes(desc)) / throughput) * 10) / 10;
    }
  }
  const state =
    stored !== null || shards.done === shards.total
      ? 'done'
      : shards.pending + shards.running === 0
        ? 'failed'
        : 'running';
  const doc: StatusDoc = {
    run_id: run.runId,
    state,
    shards,
    hosts: [...hosts.values()].map((h) => ({
      host: h.host,
      pid: h.pid,
      shards_done: h.shards_done,
      last_seen: new Date(h.last).toISOString(),
    })),
    throughput_bytes_per_s: throughput,
    eta_seconds: eta,
    failed: rows
      .filter((r) => r.state === 'failed')
      .map((r) => ({ shard: r.shard, attempts: r.attempts, error: r.last_error })),
    result: stored === null ? null : JSON.parse(stored),
  };
  return { doc, rows, events };
}

/**
 * Why a run is degraded (empty: healthy): leases expired, shards failed for good, or no claim or
 * commit for more than `periods` lease periods of `leaseMs` (the hosts' lease) while shards remain.
 */
export function healthReasons(
  doc: StatusDoc,
  events: ManifestEvent[],
  leaseMs: number,
  periods: number,
  now: number,
): string[] {
  const reasons: string[] = [];
  if (doc.shards.expired > 0) reasons.push(`${doc.shards.expired} shard(s) held under expired leases`);
  if (doc.shards.failed > 0) reasons.push(`${doc.shards.failed} shard(s) failed after their last attempt`);
  if (doc.state === 'running') {
    const progress = events
      .filter((e) => e.type === 'committed' || e.type === 'claimed' || e.type === 'created')
      .map((e) => Date.parse(e.time));
    const last = progress.length ? Math.max(...progress) : 0;
    const idle = now - last;
    if (idle > periods * leaseMs)
      reasons.push(
        `no progress for ${Math.round(idle / 1000)} s (more than ${periods} lease periods of ${leaseMs / 1000} s)`,
      );
  }
  return reasons;
}
