// Pieces shared by several statements: time conversions, the NOTIFY that wakes waiting hosts, and the
// CTEs of a claim and of a commit (the claim, the commit and commit-and-claim are built from them).
//
// Every shard-changing statement is a single statement (data-modifying CTEs) that also appends its
// audit event, so one round trip both changes the shard and records why, and nothing can sit in
// between. Times compare against the database clock (`now()`), never the hosts'.

/** Milliseconds since the epoch of a timestamptz expression, as a float8 (pg hands those back as numbers). */
export const ms = (x: string) => `round(extract(epoch from ${x}) * 1000)::float8`;
/**
 * Hosts waiting for other hosts' last shards (or for the merged result) LISTEN on this channel; a
 * statement that ends a shard's epoch (a commit once no shard is pending, a release, a failure, a
 * reset) or stores the result notifies it with the run id, so they look again at once rather than at
 * their next poll. Delivered when the transaction commits, and only to listeners.
 */
export const CHANNEL = 'bigproc';
/**
 * A CTE notifying the run's listeners when `changedCte` has rows; the final select must reference it.
 * `completing` (commits): only when these commits leave no shard of the run pending or running — a
 * commit frees nothing a waiting host could claim, and NOTIFY is not free (at commit it takes a
 * database-wide lock held through the WAL flush, which would serialize every host's commits). Two
 * hosts committing the last two shards at the same moment may each see the other's still running:
 * neither notifies, but each asks right after its commit whether the run is finished (CLAIM_NEXT, a
 * statement of its own), so one of them merges, and storing the result notifies.
 */
export const notifyCte = (run: string, changedCte: string, completing = false) =>
  `notified as (select pg_notify('${CHANNEL}', ${run}) from (select 1) one where exists (select 1 from ${changedCte})${
    completing
      ? `
    and not exists (select 1 from bigproc_shards where run_id = ${run} and state in ('pending', 'running')
                    and shard <> all(array(select shard from ${changedCte})))`
      : ''
  })`;

/** A float8 parameter of milliseconds as an interval. */
export const interval = (p: string) => `(${p}::float8 * interval '1 millisecond')`;

/**
 * The claim's CTEs (pick, upd, ev): the lowest claimable shards (skipping rows another claimer has
 * locked this instant, and any in `exclude`), their tokens bumped, and `expired` (on takeover) and
 * `claimed` logged for each. `after`: a CTE whose rows must exist before these events are written, so
 * the trail lists them after it.
 */
export function claimCtes(p: {
  run: string;
  host: string;
  pid: string;
  leaseMs: string;
  max: string;
  exclude?: string;
  after?: string;
}): string {
  return `pick as (
  select ctid, shard, state, token, owner_host, owner_pid, lease_until
  from bigproc_shards
  where run_id = ${p.run} and state in ('pending', 'running')
    and ((state = 'pending' and (retry_at is null or retry_at <= now())) or (state = 'running' and lease_until < now()))${
      p.exclude
        ? `
    and shard <> all(${p.exclude})`
        : ''
    }
  order by shard
  limit ${p.max}::int
  for update skip locked
), upd as (
  update bigproc_shards s
  set state = 'running', token = s.token + 1, owner_host = ${p.host}, owner_pid = ${p.pid}::int,
      lease_until = now() + ${interval(p.leaseMs)}, retry_at = null
  from pick
  where s.ctid = pick.ctid -- the row pick just locked: no second index lookup
  returning s.shard, s.token, s.attempts, pick.state = 'running' as takeover, pick.token as prev_token,
            pick.owner_host as prev_host, pick.owner_pid as prev_pid, pick.lease_until as prev_until
), ev as (
  insert into bigproc_events (run_id, type, shard, host, pid, token, detail)
  select ${p.run}, e.type, upd.shard, ${p.host}, ${p.pid}::int, e.token, e.detail
  from upd cross join lateral (values
    (1, 'expired', upd.prev_token, jsonb_build_object(
        'holder', jsonb_build_object('host', upd.prev_host, 'pid', upd.prev_pid),
        'expired_ms_ago', ${ms('now()')} - ${ms('upd.prev_until')})),
    (2, 'claimed', upd.token, case when upd.takeover then jsonb_build_object(
        'takeover', true, 'previous', jsonb_build_object('host', upd.prev_host, 'pid', upd.prev_pid)) end)
  ) as e (ord, type, token, detail)
  where (e.ord = 2 or upd.takeover)${p.after ? ` and (select count(*) from ${p.after}) >= 0` : ''}
  order by upd.shard, e.ord
)`;
}

/**
 * The commit's CTEs (item, `upd`, `ev`) for $1 run_id, $2 shards int[], $3 tokens bigint[], $4 partials
 * text[], $5 host, $6 pid: each shard whose token is still current and running becomes done with its
 * partial, and `committed` is logged for it. `ev` returns the events' ids (so a later CTE can wait
 * for them).
 */
export function commitCtes(upd: string, ev: string): string {
  return `item as (
  select * from unnest($2::int[], $3::bigint[], $4::text[]) as t (shard, token, partial)
), ${upd} as (
  update bigproc_shards s
  set state = 'done', partial = item.partial, committed_at = now(), lease_until = null, owner_host = $5, owner_pid = $6::int
  from item
  where s.run_id = $1 and s.shard = item.shard and s.token = item.token and s.state = 'running'
  returning s.shard, s.token
), ${ev} as (
  insert into bigproc_events (run_id, type, shard, host, pid, token, detail)
  select $1, 'committed', shard, $5, $6::int, token, null from ${upd} order by shard
  returning id
)`;
}
