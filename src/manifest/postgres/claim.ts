// Claim: the lowest claimable shards (pending and due, or running under an expired lease) taken
// under a new lease; none claimable — whether to wait, and how long, or stop.
import type { BatchClaimResult, Claimed, Owner } from '../types.js';
import { noRun, type Db, type Row } from './db.js';
import { claimCtes, ms } from './fragments.js';

// $1 run_id, $2 host, $3 pid, $4 lease ms, $5 how many. One statement, one WAL flush, however many
// shards it takes.
export const CLAIM = `
with ${claimCtes({ run: '$1', host: '$2', pid: '$3', leaseMs: '$4', max: '$5' })}
select shard, token::float8 as token, attempts, takeover, prev_host, prev_pid from upd order by shard`;

// $1 run_id. Nothing was claimable: is anything still pending or running, and when could it be?
export const CLAIM_NEXT = `
select (select count(*) from bigproc_runs where run_id = $1)::int as run,
       count(*)::int as open,
       ${ms(`min(case when state = 'running' then lease_until else coalesce(retry_at, now()) end)`)} - ${ms('now()')} as wait_ms
from bigproc_shards
where run_id = $1 and state in ('pending', 'running')`;

export async function claimBatch(
  db: Db,
  runId: string,
  owner: Owner,
  leaseMs: number,
  max: number,
): Promise<BatchClaimResult> {
  // Retried like any statement: if a claim went through but its answer was lost, the retry claims
  // other shards and the first ones' leases simply expire (expiry costs no attempt).
  const rows = await db.query('bigproc_claim', CLAIM, [
    runId,
    owner.host,
    owner.pid,
    leaseMs,
    Math.max(1, Math.floor(max)),
  ]);
  return claimed(db, runId, rows, leaseMs);
}

/** Claimed rows as a claim result; none: whether to wait (and how long) or stop. */
export async function claimed(db: Db, runId: string, rows: Row[], leaseMs: number): Promise<BatchClaimResult> {
  if (rows.length) {
    const claims: Claimed[] = rows.map((r) => ({
      lease: { shard: r.shard as number, token: r.token as number, leaseMs },
      takeover: r.takeover as boolean,
      attempts: r.attempts as number,
      previous: r.takeover ? { host: r.prev_host as string, pid: r.prev_pid as number } : null,
    }));
    return { kind: 'claimed', claims };
  }
  const next = (await db.query('bigproc_claim_next', CLAIM_NEXT, [runId]))[0]!;
  if (next.run === 0) throw noRun(runId);
  if (next.open === 0) return { kind: 'finished' };
  const wait = next.wait_ms === null ? 0 : Math.ceil(next.wait_ms as number);
  return { kind: 'wait', ms: Math.max(50, Math.min(leaseMs, wait)) };
}
