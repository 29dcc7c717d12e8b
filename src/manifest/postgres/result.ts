// The merged result: stored once (the first host to store it wins), read by every other host.
import type { Owner } from '../types.js';
import type { Db } from './db.js';
import { notifyCte } from './fragments.js';

// $1 run_id, $2 result, $3 merged_by ("host:pid"), $4 host, $5 pid.
export const STORE_RESULT = `
with upd as (
  update bigproc_runs set result = $2, merged_by = $3, merged_at = now()
  where run_id = $1 and result is null
  returning run_id
), ev as (
  insert into bigproc_events (run_id, type, shard, host, pid, token, detail)
  select $1, 'merged', null, $4, $5::int, null, null from upd
), ${notifyCte('$1', 'upd')}
select count(*)::int as ok, (select count(*) from notified) as notified from upd`;

export const RESULT = `select result, merged_by from bigproc_runs where run_id = $1`;

export async function storeResult(db: Db, runId: string, result: string, owner: Owner): Promise<boolean> {
  const by = `${owner.host}:${owner.pid}`;
  return db.retry(async (again) => {
    const rows = await db.once('bigproc_store_result', STORE_RESULT, [runId, result, by, owner.host, owner.pid]);
    if (rows[0]!.ok === 1) return true;
    if (!again) return false;
    const r = (await db.once('bigproc_result', RESULT, [runId]))[0];
    return r?.merged_by === by && r?.result === result;
  });
}

export async function result(db: Db, runId: string): Promise<string | null> {
  const rows = await db.query('bigproc_result', RESULT, [runId]);
  return rows.length ? (rows[0]!.result as string | null) : null;
}
