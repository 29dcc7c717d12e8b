// Commit: each shard whose token is still current becomes done with its partial; a refused commit is
// logged with what the shard looked like instead. A retry after a lost answer first asks which of its
// shards the lost try committed.
import type { Commit, Owner } from '../types.js';
import type { Db } from './db.js';
import { commitCtes, notifyCte } from './fragments.js';

// $1 run_id, $2 shards int[], $3 tokens bigint[], $4 partials text[], $5 host, $6 pid. Commits each
// shard whose token is still current and running; returns the shards it committed.
export const COMMIT = `
with ${commitCtes('upd', 'ev')}, ${notifyCte('$1', 'upd', true)}
-- Asynchronous commit for this transaction only: the one fsync a shard needs is its claim's. Losing an
-- acknowledged commit in a database crash is harmless: the shard is still running under the
-- committer's token, its lease expires and another host recomputes it; and a later synchronous commit
-- (any claim, the merged result) flushes the WAL before it, so nothing can rely on a lost commit.
select array(select shard from upd) as done, (select count(*) from notified) as notified,
       set_config('synchronous_commit', 'off', true) as async`;

// $1 run_id, $2 shard, $3 token, $4 host, $5 pid. A refused commit (rare): log it with what the
// shard looked like instead.
export const COMMIT_REJECTED = `
insert into bigproc_events (run_id, type, shard, host, pid, token, detail)
select $1, 'commit_rejected', $2::int, $4, $5::int, $3::bigint,
       jsonb_build_object('current_token', cur.token, 'state', cur.state)
from (select 1) one left join bigproc_shards cur on cur.run_id = $1 and cur.shard = $2::int`;

// $1 run_id, $2 shards int[]: the shards as commit's retry needs them (was the lost answer a success?).
export const SHARD = `
select shard, state, token::float8 as token, owner_host, owner_pid, partial
from bigproc_shards where run_id = $1 and shard = any($2::int[])`;

export async function commitBatch(db: Db, runId: string, owner: Owner, items: Commit[]): Promise<boolean[]> {
  if (items.length === 0) return [];
  return db.retry((again) => commitItems(db, runId, owner, items, again));
}

/** One try of commitBatch. `again`: an earlier try may have committed and only its answer was lost. */
export async function commitItems(
  db: Db,
  runId: string,
  owner: Owner,
  items: Commit[],
  again: boolean,
): Promise<boolean[]> {
  const verdict = new Map<number, boolean>();
  // what an earlier try committed is ours (checked first, so the retry does not log a
  // commit_rejected against our own commit)
  if (again) for (const shard of await committedBy(db, runId, owner, items)) verdict.set(shard, true);
  const todo = items.filter((it) => !verdict.has(it.lease.shard));
  if (todo.length) {
    const [row] = await db.once('bigproc_commit', COMMIT, [
      runId,
      todo.map((it) => it.lease.shard),
      todo.map((it) => it.lease.token),
      todo.map((it) => it.partial),
      owner.host,
      owner.pid,
    ]);
    const done = new Set<number>(row!.done as number[]);
    for (const it of todo) verdict.set(it.lease.shard, done.has(it.lease.shard));
    await logRejected(
      db,
      runId,
      owner,
      todo.filter((it) => !done.has(it.lease.shard)),
    );
  }
  return items.map((it) => verdict.get(it.lease.shard)!);
}

export async function logRejected(db: Db, runId: string, owner: Owner, items: Commit[]): Promise<void> {
  for (const it of items)
    await db.once('bigproc_commit_rejected', COMMIT_REJECTED, [
      runId,
      it.lease.shard,
      it.lease.token,
      owner.host,
      owner.pid,
    ]);
}

/** Which of these shards are done under our token with our partial (so an earlier try committed them). */
async function committedBy(db: Db, runId: string, owner: Owner, items: Commit[]): Promise<number[]> {
  const rows = await db.once('bigproc_shard', SHARD, [runId, items.map((it) => it.lease.shard)]);
  const byShard = new Map(rows.map((r) => [r.shard as number, r]));
  return items
    .filter((it) => {
      const r = byShard.get(it.lease.shard);
      return (
        !!r &&
        r.state === 'done' &&
        r.token === it.lease.token &&
        r.owner_host === owner.host &&
        r.owner_pid === owner.pid &&
        r.partial === it.partial
      );
    })
    .map((it) => it.lease.shard);
}
