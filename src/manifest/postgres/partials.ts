// Partials: every shard's committed partial, in shard order, for the end-of-run merge.
import { runtime } from '../../errors.js';
import { noRun, type Db } from './db.js';
import { descriptor } from './open-run.js';

export const PARTIALS = `select shard, state, partial from bigproc_shards where run_id = $1 order by shard`;

export async function partials(db: Db, runId: string): Promise<string[]> {
  const rows = await db.query('bigproc_partials', PARTIALS, [runId]);
  if (rows.length === 0 && !(await descriptor(db, runId))) throw noRun(runId);
  return rows.map((r) => {
    if (r.state !== 'done') throw runtime(`shard ${r.shard} is ${r.state}, not done: cannot merge yet`);
    return r.partial as string;
  });
}
