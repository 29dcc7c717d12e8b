// Open: create the run (its shard rows and `created` event) or find the one there; read its descriptor.
import type { Owner, RunDescriptor } from '../types.js';
import { runtime } from '../../errors.js';
import type { Db } from './db.js';
import { EVENTS } from './events.js';

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

export async function openRun(
  db: Db,
  runId: string,
  desc: RunDescriptor,
  owner: Owner,
): Promise<{ created: boolean; stored: RunDescriptor }> {
  const detail = { shards: desc.shards, op: desc.op, file: desc.file.name };
  return db.retry(async (again) => {
    const ins = await db.once('bigproc_open', OPEN, [
      runId,
      JSON.stringify(desc),
      desc.shards,
      owner.host,
      owner.pid,
      detail,
    ]);
    if (ins.length === 1) return { created: true, stored: ins[0]!.descriptor as RunDescriptor };
    const rows = await db.once('bigproc_descriptor', DESCRIPTOR, [runId]);
    if (rows.length === 0) throw runtime(`run ${JSON.stringify(runId)} vanished from the manifest while opening it`);
    // a retry after a lost answer may find the run our own first try created: the trail says who
    let created = false;
    if (again) {
      const ev = await db.once('bigproc_events', EVENTS, [runId, null, owner.host]);
      created = ev.some((e) => e.type === 'created' && e.pid === owner.pid);
    }
    return { created, stored: rows[0]!.descriptor as RunDescriptor };
  });
}

export async function descriptor(db: Db, runId: string): Promise<RunDescriptor | null> {
  const rows = await db.query('bigproc_descriptor', DESCRIPTOR, [runId]);
  return rows.length ? (rows[0]!.descriptor as RunDescriptor) : null;
}
