// Commit and claim in one statement, for a host that finished shards and wants more.
import type { BatchClaimResult, Commit, Owner } from '../types.js';
import type { Db, Row } from './db.js';
import { claimCtes, commitCtes, notifyCte } from './fragments.js';
import { claimBatch, claimed } from './claim.js';
import { commitItems, logRejected } from './commit.js';

// $1 run_id, $2 shards int[], $3 tokens bigint[], $4 partials text[], $5 host, $6 pid, $7 lease ms,
// $8 how many to claim. COMMIT and CLAIM in one statement, for a host that finished shards and wants
// more: one round trip and one durable write (the claim's) instead of two of each. The claim never
// picks a shard being committed here (were its lease expired, one statement would update the row
// twice). The commits' events come first in the trail.
export const COMMIT_CLAIM = `
with ${commitCtes('cupd', 'cev')}, ${notifyCte('$1', 'cupd', true)}, ${claimCtes({ run: '$1', host: '$5', pid: '$6', leaseMs: '$7', max: '$8', exclude: '$2::int[]', after: 'cev' })}
select array(select shard from cupd) as done, (select count(*) from notified) as notified,
       coalesce((select json_agg(json_build_object('shard', shard, 'token', token::float8, 'attempts', attempts, 'takeover', takeover,
                                                   'prev_host', prev_host, 'prev_pid', prev_pid) order by shard) from upd), '[]'::json) as claims`;

export async function commitAndClaim(
  db: Db,
  runId: string,
  owner: Owner,
  items: Commit[],
  leaseMs: number,
  max: number,
): Promise<{ verdicts: boolean[]; next: BatchClaimResult }> {
  if (items.length === 0) return { verdicts: [], next: await claimBatch(db, runId, owner, leaseMs, max) };
  const row = await db.retry(async (again) => {
    // A first try whose answer was lost may have committed and claimed: sort it out the careful
    // way below (its claims, unknown to us, simply expire, as a lost claimBatch answer's do).
    if (again) return null;
    return (
      await db.once('bigproc_commit_claim', COMMIT_CLAIM, [
        runId,
        items.map((it) => it.lease.shard),
        items.map((it) => it.lease.token),
        items.map((it) => it.partial),
        owner.host,
        owner.pid,
        leaseMs,
        Math.max(1, Math.floor(max)),
      ])
    )[0]!;
  });
  if (row === null) {
    const verdicts = await db.retry(() => commitItems(db, runId, owner, items, true));
    return { verdicts, next: await claimBatch(db, runId, owner, leaseMs, max) };
  }
  const done = new Set<number>(row.done as number[]);
  const verdicts = items.map((it) => done.has(it.lease.shard));
  await db.retry(() =>
    logRejected(
      db,
      runId,
      owner,
      items.filter((it) => !done.has(it.lease.shard)),
    ),
  );
  return { verdicts, next: await claimed(db, runId, row.claims as Row[], leaseMs) };
}
