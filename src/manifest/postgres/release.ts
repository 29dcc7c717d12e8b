// Release: give a held shard back, untouched, for any host to claim at once.
import type { Lease, Owner } from '../types.js';
import type { Db } from './db.js';
import { notifyCte } from './fragments.js';

// $1 run_id, $2 shard, $3 token, $4 host, $5 pid.
export const RELEASE = `
with upd as (
  update bigproc_shards
  set state = 'pending', lease_until = null, retry_at = null
  where run_id = $1 and shard = $2::int and token = $3::bigint and state = 'running'
  returning shard
), ev as (
  insert into bigproc_events (run_id, type, shard, host, pid, token, detail)
  select $1, 'released', $2::int, $4, $5::int, $3::bigint, null from upd
), ${notifyCte('$1', 'upd')}
select count(*)::int as ok, (select count(*) from notified) as notified from upd`;

export async function release(db: Db, runId: string, lease: Lease, owner: Owner): Promise<void> {
  await db.query('bigproc_release', RELEASE, [runId, lease.shard, lease.token, owner.host, owner.pid]);
}
