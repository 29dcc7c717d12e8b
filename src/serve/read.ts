// What the API answers with, computed from a run's descriptor, shard rows and audit trail as the
// stores give them (statusOf is the same function `bigproc status` prints). Pure functions of what was
// read plus `now`, so the REST routes, the SSE stream and /metrics agree on every number.
import type { ManifestEvent, RunDescriptor, ShardRow } from '../manifest/types.js';
import type { StatusDoc } from '../manifest/status.js';

/** Throughput is judged over this window (the last minute), or the run's age when it is younger. */
export const WINDOW_MS = 60_000;

/** A host counts as alive while it holds an unexpired lease or was heard from this recently. */
export const ALIVE_MS = 60_000;

/** Records in the whole file (after its header), as the chunk plan counts them. */
export function totalRecords(desc: RunDescriptor): number {
  const layout = desc.layout as { record_size?: number; header_bytes?: number };
  const size = layout.record_size ?? 0;
  return size > 0 ? Math.floor((desc.file.size - (layout.header_bytes ?? 0)) / size) : 0;
}

/** Records and bytes of one shard: shard i covers chunks [i*shard_chunks, (i+1)*shard_chunks), the last one cut short. */
export function shardSize(desc: RunDescriptor, shard: number): { records: number; bytes: number } {
  const total = totalRecords(desc);
  const first = Math.min(shard * desc.shard_chunks * desc.records_per_chunk, total);
  const end = Math.min(Math.min((shard + 1) * desc.shard_chunks, desc.chunks) * desc.records_per_chunk, total);
  const recordSize = (desc.layout as { record_size?: number }).record_size ?? 0;
  return { records: end - first, bytes: (end - first) * recordSize };
}

const ownerKey = (host: string, pid: number) => `${host}\u0000${pid}`;

export interface HostRow {
  host: string;
  pid: number;
  /** the latest event this process logged (claims, commits, late renewals): its last sign of life in the trail */
  last_seen: string;
  shards_done: number;
  bytes_done: number;
  bytes_per_s: number;
  /** the shards it holds now, with their fencing tokens and lease expiries */
  current: { shard: number; token: number; lease_expires_at: string | null }[];
  alive: boolean;
}

/** Bytes of the commits in the trail that fall inside the window ending at now, per second. */
function rate(desc: RunDescriptor, commits: ManifestEvent[], started: number, now: number): number {
  const from = now - WINDOW_MS;
  let bytes = 0;
  for (const e of commits) if (Date.parse(e.time) >= from && e.shard !== null) bytes += shardSize(desc, e.shard).bytes;
  const span = Math.max(1, Math.min(WINDOW_MS, now - started)) / 1000;
  return Math.round(bytes / span);
}

function runStart(events: ManifestEvent[]): number {
  const created = events.find((e) => e.type === 'created') ?? events[0];
  return created ? Date.parse(created.time) : Date.now();
}

/** One row per host process seen in the trail. */
export function hostRows(desc: RunDescriptor, rows: ShardRow[], events: ManifestEvent[], now: number): HostRow[] {
  const started = runStart(events);
  const hosts = new Map<string, { row: HostRow; commits: ManifestEvent[]; last: number }>();
  for (const e of events) {
    const k = ownerKey(e.host, e.pid);
    let h = hosts.get(k);
    if (!h) {
      h = {
        row: {
          host: e.host,
          pid: e.pid,
          last_seen: '',
          shards_done: 0,
          bytes_done: 0,
          bytes_per_s: 0,
          current: [],
          alive: false,
        },
        commits: [],
        last: 0,
      };
      hosts.set(k, h);
    }
    if (e.type === 'committed' && e.shard !== null) {
      h.row.shards_done++;
      h.row.bytes_done += shardSize(desc, e.shard).bytes;
      h.commits.push(e);
    }
    h.last = Math.max(h.last, Date.parse(e.time));
  }
  for (const r of rows) {
    if (r.state !== 'running' || !r.owner) continue;
    const h = hosts.get(ownerKey(r.owner.host, r.owner.pid));
    if (!h) continue;
    h.row.current.push({
      shard: r.shard,
      token: r.token,
      lease_expires_at: r.lease_expires_at === null ? null : new Date(r.lease_expires_at).toISOString(),
    });
    if (r.lease_expires_at !== null && r.lease_expires_at >= now) h.row.alive = true;
  }
  return [...hosts.values()].map(({ row, commits, last }) => ({
    ...row,
    last_seen: new Date(last).toISOString(),
    bytes_per_s: rate(desc, commits, started, now),
    alive: row.alive || now - last < ALIVE_MS,
  }));
}

export interface RunSummary {
  id: string;
  run_id: string;
  manifest: string;
  op: string;
  file: string;
  file_bytes: number;
  created: string | null;
  state: StatusDoc['state'];
  shards: StatusDoc['shards'];
  hosts: number;
  hosts_alive: number;
  bytes_done: number;
  records_done: number;
  bytes_per_s: number;
  eta_seconds: number | null;
  last_commit: string | null;
}

/** The run list's row: counts, progress and throughput over the last minute. */
export function runSummary(
  id: string,
  manifest: string,
  desc: RunDescriptor,
  status: StatusDoc,
  rows: ShardRow[],
  events: ManifestEvent[],
  now: number,
): RunSummary {
  let bytes = 0;
  let records = 0;
  for (const r of rows) {
    if (r.state !== 'done') continue;
    const s = shardSize(desc, r.shard);
    bytes += s.bytes;
    records += s.records;
  }
  const commits = events.filter((e) => e.type === 'committed');
  const perSecond = rate(desc, commits, runStart(events), now);
  const left = rows
    .filter((r) => r.state === 'pending' || r.state === 'running')
    .reduce((s, r) => s + shardSize(desc, r.shard).bytes, 0);
  const hosts = hostRows(desc, rows, events, now);
  const created = events.find((e) => e.type === 'created');
  return {
    id,
    run_id: status.run_id,
    manifest,
    op: desc.op,
    file: desc.file.name,
    file_bytes: desc.file.size,
    created: created ? created.time : null,
    state: status.state,
    shards: status.shards,
    hosts: hosts.length,
    hosts_alive: hosts.filter((h) => h.alive).length,
    bytes_done: bytes,
    records_done: records,
    bytes_per_s: perSecond,
    eta_seconds: left === 0 ? 0 : perSecond > 0 ? Math.round((left / perSecond) * 10) / 10 : null,
    last_commit: commits.length ? commits[commits.length - 1]!.time : null,
  };
}

/** A shard row as the API shows it: times as ISO-8601. */
export function shardJson(r: ShardRow): Record<string, unknown> {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    shard: r.shard,
    state: r.state,
    token: r.token,
    owner: r.owner,
    attempts: r.attempts,
    last_error: r.last_error,
    lease_expires_at: iso(r.lease_expires_at),
    retry_at: iso(r.retry_at),
    committed_at: iso(r.committed_at),
  };
}

/** The trail numbered from 1 in the store's order: the number is the cursor (`after`) and the SSE event id. */
export function numbered(events: ManifestEvent[]): (ManifestEvent & { id: number })[] {
  return events.map((e, i) => ({ id: i + 1, ...e }));
}

/**
 * A directory manifest's trail can hold, for an instant, an event recovered from an epoch file whose
 * process has not appended its own line yet (it makes the file first, then logs): the logged event
 * replaces it on the next read, with its real time and detail. The trail the API numbers stops before
 * the first such event younger than this, so a cursor (and an SSE id) never points at an event that
 * is about to change; a process that really died leaves its recovered event settled after it.
 */
export const RECOVERY_GRACE_MS = 2000;

/** The settled trail (see RECOVERY_GRACE_MS), and whether anything was held back. */
export function settledTrail(events: ManifestEvent[], now: number): { events: ManifestEvent[]; heldBack: boolean } {
  const i = events.findIndex((e) => e.detail?.recovered === true && now - Date.parse(e.time) < RECOVERY_GRACE_MS);
  return i < 0 ? { events, heldBack: false } : { events: events.slice(0, i), heldBack: true };
}
