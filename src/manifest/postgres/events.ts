// The audit trail of a run, in order, optionally for one shard or one host.
import type { ManifestEvent } from '../types.js';
import type { Db } from './db.js';

// $1 run_id, $2 shard or null, $3 host or null.
export const EVENTS = `
select time, type, shard, host, pid, token::float8 as token, detail
from bigproc_events
where run_id = $1 and ($2::int is null or shard = $2::int) and ($3::text is null or host = $3::text)
order by id`;

export async function events(
  db: Db,
  runId: string,
  filter: { shard?: number; host?: string } = {},
): Promise<ManifestEvent[]> {
  const rows = await db.query('bigproc_events', EVENTS, [runId, filter.shard ?? null, filter.host ?? null]);
  return rows.map((r) => ({
    time: (r.time as Date).toISOString(),
    type: r.type as ManifestEvent['type'],
    shard: r.shard as ManifestEvent['shard'],
    host: r.host as ManifestEvent['host'],
    pid: r.pid as ManifestEvent['pid'],
    token: r.token as ManifestEvent['token'],
    detail: r.detail as ManifestEvent['detail'],
  }));
}
