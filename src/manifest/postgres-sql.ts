// The Postgres manifest's schema and statements. Migrations are numbered and only ever appended: a
// database created by an older bigproc is brought forward at open, all pending steps in ONE
// transaction under an advisory lock, so hosts that start at the same moment do not race (the
// first applies them, the others wait on the lock and then find nothing left to do).
//
// Every shard-changing statement is a single statement (data-modifying CTEs) that also appends its
// audit event, so one round trip both changes the shard and records why, and nothing can sit in
// between. Times compare against the database clock (`now()`), never the hosts'.

/** pg_advisory_xact_lock key for migrations: "bigp" in ASCII, so it is recognisable in pg_locks. */
export const MIGRATION_LOCK = 0x62696770;

export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
create table bigproc_runs (
  run_id     text primary key,
  -- json, not jsonb: jsonb reorders object keys, and checkSameRun compares the layout as JSON text
  descriptor json not null,
  shards     int not null check (shards >= 0),
  created_at timestamptz not null default clock_timestamp(),
  result     text,
  merged_by  text,
  merged_at  timestamptz
);

create table bigproc_shards (
  run_id       text not null references bigproc_runs (run_id) on delete cascade,
  shard        int not null,
  state        text not null default 'pending' check (state in ('pending', 'running', 'done', 'failed')),
  token        bigint not null default 0,
  owner_host   text,
  owner_pid    int,
  lease_until  timestamptz,
  attempts     int not null default 0,
  last_error   text,
  retry_at     timestamptz,
  partial      text,
  committed_at timestamptz,
  primary key (run_id, shard)
);
-- claim scans only the shards still in play, in shard order; done and failed ones drop out of it
create index bigproc_shards_open on bigproc_shards (run_id, shard) where state in ('pending', 'running');

create table bigproc_events (
  id     bigserial,
  run_id text not null,
  time   timestamptz not null default clock_timestamp(),
  type   text not null,
  shard  int,
  host   text not null,
  pid    int not null,
  token  bigint,
  detail jsonb,
  -- the trail is always read per run in id order; one index, not two, per event written
  primary key (run_id, id)
);

create table bigproc_guards (
  name        text primary key,
  token       bigint not null,
  owner_host  text not null,
  owner_pid   int not null,
  lease_until timestamptz not null,
  since       timestamptz not null
);
`,
  },
];

/** Milliseconds since the epoch of a timestamptz expression, as a float8 (pg hands those back as numbers). */
const ms = (x: string) => `round(extract(epoch from ${x}) * 1000)::float8`;
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
const notifyCte = (run: string, changedCte: string, completing = false) =>
  `notified as (select pg_notify('${CHANNEL}', ${run}) from (select 1) one where exists (select 1 from ${changedCte})${completing
    ? `
    and not exists (select 1 from bigproc_shards where run_id = ${run} and state in ('pending', 'running')
                    and shard <> all(array(select shard from ${changedCte})))` : ''})`;

/** A float8 parameter of milliseconds as an interval. */
const interval = (p: string) => `(${p}::float8 * interval '1 millisecond')`;

/**
 * The claim's CTEs (pick, upd, ev): the lowest claimable shards (skipping rows another claimer has
 * locked this instant, and any in `exclude`), their tokens bumped, and `expired` (on takeover) and
 * `claimed` logged for each. `after`: a CTE whose rows must exist before these events are written, so
 * the trail lists them after it.
 */
function claimCtes(p: { run: string; host: string; pid: string; leaseMs: string; max: string; exclude?: string; after?: string }): string {
  return `pick as (
  select ctid, shard, state, token, owner_host, owner_pid, lease_until
  from bigproc_shards
  where run_id = ${p.run} and state in ('pending', 'running')
    and ((state = 'pending' and (retry_at is null or retry_at <= now())) or (state = 'running' and lease_until < now()))${p.exclude ? `
    and shard <> all(${p.exclude})` : ''}
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

/**
 * The commit's CTEs (item, `upd`, `ev`) for $1 run_id, $2 shards int[], $3 tokens bigint[], $4 partials
 * text[], $5 host, $6 pid: each shard whose token is still current and running becomes done with its
 * partial, and `committed` is logged for it. `ev` returns the events' ids (so a later CTE can wait
 * for them).
 */
function commitCtes(upd: string, ev: string): string {
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

// $1 run_id, $2 shard, $3 token, $4 host, $5 pid. A refused commit (rare): log it with what the
// shard looked like instead.
export const COMMIT_REJECTED = `
insert into bigproc_events (run_id, type, shard, host, pid, token, detail)
select $1, 'commit_rejected', $2::int, $4, $5::int, $3::bigint,
       jsonb_build_object('current_token', cur.token, 'state', cur.state)
from (select 1) one left join bigproc_shards cur on cur.run_id = $1 and cur.shard = $2::int`;

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

// $1 run_id, $2 descriptor (json text), $3 shards, $4 host, $5 pid, $6 created-event detail.
// One statement, so creating the run, its shard rows and the `created` event is all or nothing;
// a concurrent opener waits on the primary key and then finds the run there (on conflict do nothing).
export const OPEN = `
with ins as (
  insert into bigproc_runs (run_id, descriptor, shards) values ($1, $2::json, $3::int)
  on conflict (run_id) do nothing
  returning run_id, shards, descriptor
), sh as (
  insert into bigproc_shards (run_id, shard)
  select ins.run_id, g from ins cross join generate_series(0, ins.shards - 1) g
), ev as (
  insert into bigproc_events (run_id, type, shard, host, pid, token, detail)
  select ins.run_id, 'created', null, $4, $5::int, null, $6::jsonb from ins
)
select descriptor from ins`;

export const DESCRIPTOR = `select descriptor from bigproc_runs where run_id = $1`;

export const SHARDS = `
select shard, state, token::float8 as token, owner_host, owner_pid, ${ms('lease_until')} as lease_until,
       attempts, last_error, ${ms('retry_at')} as retry_at, ${ms('committed_at')} as committed_at
from bigproc_shards where run_id = $1 order by shard`;

// $1 run_id, $2 shards int[]: the shards as commit's retry needs them (was the lost answer a success?).
export const SHARD = `
select shard, state, token::float8 as token, owner_host, owner_pid, partial
from bigproc_shards where run_id = $1 and shard = any($2::int[])`;

export const PARTIALS = `select shard, state, partial from bigproc_shards where run_id = $1 order by shard`;

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

// $1 run_id, $2 shard or null, $3 host or null.
export const EVENTS = `
select time, type, shard, host, pid, token::float8 as token, detail
from bigproc_events
where run_id = $1 and ($2::int is null or shard = $2::int) and ($3::text is null or host = $3::text)
order by id`;

export const RUNS = `select run_id from bigproc_runs order by created_at, run_id`;

// $1 name, $2 host, $3 pid, $4 lease ms. Takes the guard when it is free or its lease expired; the
// token keeps counting up across holders, so an old holder's renew can never match again. (Release
// expires the row rather than deleting it, for the same reason: a deleted row would restart at 1.)
export const GUARD_TAKE = `
insert into bigproc_guards as g (name, token, owner_host, owner_pid, lease_until, since)
values ($1, 1, $2, $3::int, now() + ${interval('$4')}, now())
on conflict (name) do update
  set token = g.token + 1, owner_host = excluded.owner_host, owner_pid = excluded.owner_pid,
      lease_until = excluded.lease_until, since = excluded.since
  where g.lease_until < now()
returning token::float8 as token`;

export const GUARD_HOLDER = `
select owner_host, owner_pid, ${ms('since')} as since from bigproc_guards where name = $1 and lease_until >= now()`;

// $1 name, $2 token, $3 lease ms. A released guard (lease -infinity) is not renewed back to life.
export const GUARD_RENEW = `
update bigproc_guards set lease_until = now() + ${interval('$3')}
where name = $1 and token = $2::bigint and lease_until > '-infinity'
returning token`;

export const GUARD_RELEASE = `
update bigproc_guards set lease_until = '-infinity' where name = $1 and token = $2::bigint`;
