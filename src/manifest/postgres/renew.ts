// Renew: extend a held lease; late when it had expired already (nobody took it meanwhile).
import type { Lease, Owner, RenewResult } from '../types.js';
import type { Db } from './db.js';
import { interval, ms } from './fragments.js';

// $1 run_id, $2 shard, $3 token, $4 lease ms, $5 host, $6 pid. Locks the row first so `late` is
// judged on the lease it actually extends.
export const RENEW = `
with cur as (
  select lease_until < now() as late, ${ms('now()')} - ${ms('lease_until')} as late_ms
  from bigproc_shards
  where run_id = $1 and shard = $2::int and token = $3::bigint and state = 'running'
  for update
), upd as (
  update bigproc_shards s
  set lease_until = now() + ${interval('$4')}
  from cur
  where s.run_id = $1 and s.shard = $2::int
  returning cur.late, cur.late_ms
), ev as (
  insert into bigproc_events (run_id, type, shard, host, pid, token, detail)
  select $1, 'renewed_late', $2::int, $5, $6::int, $3::bigint, jsonb_build_object('late_ms', late_ms)
  from upd where late
)
select late from upd`;

export async function renew(db: Db, runId: string, lease: Lease, owner: Owner): Promise<RenewResult> {
  const rows = await db.query('bigproc_renew', RENEW, [
    runId,
    lease.shard,
    lease.token,
    lease.leaseMs,
    owner.host,
    owner.pid,
  ]);
  if (rows.length === 0) return 'lost';
  return rows[0]!.late ? 'late' : 'ok';
}
