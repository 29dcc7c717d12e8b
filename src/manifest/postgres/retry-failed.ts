// `bigproc retry`: failed shards pending again, their attempts reset.
import type { Owner } from '../types.js';
import type { Db } from './db.js';
import { notifyCte } from './fragments.js';

// $1 run_id, $2 host, $3 pid. The old attempts and error go into each `retried` event (the row keeps
// last_error, so `status` can still say why it failed before).
export const RETRY_FAILED = `
with cur as (
  select shard, token, attempts, last_error from bigproc_shards
  where run_id = $1 and state = 'failed'
  for update
), upd as (
  update bigproc_shards s set state = 'pending', attempts = 0, retry_at = null, lease_until = null
  from cur where s.run_id = $1 and s.shard = cur.shard and s.state = 'failed'
  returning s.shard, s.token, cur.attempts, cur.last_error
), ev as (
  insert into bigproc_events (run_id, type, shard, host, pid, token, detail)
  select $1, 'retried', shard, $2, $3::int, token, jsonb_build_object('attempts', attempts, 'last_error', last_error)
  from upd order by shard
), ${notifyCte('$1', 'upd')}
select count(*)::int as n, (select count(*) from notified) as notified from upd`;

export async function retryFailed(db: Db, runId: string, owner: Owner): Promise<number> {
  const rows = await db.query('bigproc_retry_failed', RETRY_FAILED, [runId, owner.host, owner.pid]);
  return rows[0]!.n as number;
}
