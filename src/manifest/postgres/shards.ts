// Shards: every shard's row, as `status` and the end of a run read them.
import type { ShardRow, ShardState } from '../types.js';
import { noRun, type Db } from './db.js';
import { ms } from './fragments.js';
import { descriptor } from './open-run.js';

export const SHARDS = `
select shard, state, token::float8 as token, owner_host, owner_pid, ${ms('lease_until')} as lease_until,
       attempts, last_error, ${ms('retry_at')} as retry_at, ${ms('committed_at')} as committed_at
from bigproc_shards where run_id = $1 order by shard`;

const at = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export async function shards(db: Db, runId: string): Promise<ShardRow[]> {
  const rows = await db.query('bigproc_shards', SHARDS, [runId]);
  if (rows.length === 0 && !(await descriptor(db, runId))) throw noRun(runId);
  return rows.map((r) => ({
    shard: r.shard as number,
    state: r.state as ShardState,
    token: r.token as number,
    owner: r.owner_host === null ? null : { host: r.owner_host as string, pid: r.owner_pid as number },
    lease_expires_at: r.state === 'running' ? at(r.lease_until) : null,
    attempts: r.attempts as number,
    last_error: r.state === 'done' ? null : (r.last_error as string | null),
    retry_at: r.state === 'pending' ? at(r.retry_at) : null,
    committed_at: r.state === 'done' ? at(r.committed_at) : null,
  }));
}
