// `--manifest URL` → a store: `file:DIR` (or a bare path) for a shared directory, `postgres://…`
// (or `postgresql://…`, PG* environment variables filling in the rest) for a database.
import type { ManifestStore } from './types.js';
import { FileStore } from './file.js';
import { expected } from '../errors.js';

/** retryMs: how long a database that does not answer is retried (a run rides out a restart; a health probe should not). */
export async function openStore(url: string, opts: { retryMs?: number } = {}): Promise<ManifestStore> {
  if (/^postgres(ql)?:/i.test(url)) {
    const { openPostgresStore } = await import('./postgres.js');
    return openPostgresStore(url, opts);
  }
  const m = /^file:(?:\/\/)?(.+)$/.exec(url);
  if (m) return new FileStore(m[1]!);
  throw expected('--manifest', 'file:DIR or postgres://user@host/db', url);
}
