-- bigproc manifest schema, version 1: runs, their shards, the audit trail, --exclusive guards.
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
