// Fail: an attempt at a shard failed — pending again after a delay, or failed for good.
import type { FailOptions, Lease, Owner } from '../types.js';
import type { Db } from './db.js';
import { interval, notifyCte } from './fragments.js';
import { EVENTS } from './events.js';

// $1 run_id, $2 shard, $3 token, $4 error, $5 permanent, $6 max attempts, $7 retry ms, $8 host, $9 pid.
export const FAIL = `
with upd as (
  update bigproc_shards s
  set attempts = s.attempts + 1,
      state = case when $5::boolean or s.attempts + 1 >= $6::int then 'failed' else 'pending' end,
      retry_at = case when $5::boolean or s.attempts + 1 >= $6::int then null else now() + ${interval('$7')} end,
      lease_until = null, last_error = $4
  where s.run_id = $1 and s.shard = $2::int and s.token = $3::bigint and s.state = 'running'
  returning s.state, s.attempts
), ev as (
  insert into bigproc_events (run_id, type, shard, host, pid, token, detail)
  select $1, 'failed', $2::int, $8, $9::int, $3::bigint, jsonb_build_object(
    'error', $4::text, 'attempts', upd.attempts, 'permanent', $5::boolean, 'final', upd.state = 'failed')
  from upd
), ${notifyCte('$1', 'upd')}
select state, attempts, (select count(*) from notified) as notified from upd`;

export async function fail(
  db: Db,
  runId: string,
  lease: Lease,
  owner: Owner,
  error: string,
  opts: FailOptions,
): Promise<'retry' | 'failed' | 'lost'> {
  return db.retry(async (again) => {
    const rows = await db.once('bigproc_fail', FAIL, [
      runId,
      lease.shard,
      lease.token,
      error,
      opts.permanent,
      opts.maxAttempts,
      opts.retryInMs,
      owner.host,
      owner.pid,
    ]);
    if (rows.length) return rows[0]!.state === 'failed' ? 'failed' : 'retry';
    if (again) {
      // did the first try record it? the trail has our `failed` event for this token
      const ev = await db.once('bigproc_events', EVENTS, [runId, lease.shard, owner.host]);
      const mine = ev.filter((e) => e.type === 'failed' && e.token === lease.token && e.pid === owner.pid).pop();
      if (mine) return (mine.detail as { final?: boolean } | null)?.final ? 'failed' : 'retry';
    }
    return 'lost';
  });
}
