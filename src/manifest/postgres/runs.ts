// The runs a manifest holds, oldest first.
import type { Db } from './db.js';

export const RUNS = `select run_id from bigproc_runs order by created_at, run_id`;

export async function runs(db: Db): Promise<string[]> {
  return (await db.query('bigproc_runs', RUNS, [])).map((r) => r.run_id as string);
}
