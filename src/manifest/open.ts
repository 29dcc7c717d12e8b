// `--manifest URL` → a store: `file:DIR` (or a bare path) for a shared directory, `postgres://…`
// (or `postgresql://…`, PG* environment variables filling in the rest) for a database.
import type { ManifestStore } from './types.js';
import { FileStore } from './file.js';
import { expected } from '../errors.js';

/**
 * retryMs: how long a database that does not answer is retried (a run rides out a restart; a health
 * probe should not). existing: a directory manifest must exist already (the commands that only look
 * at a run must not leave a directory behind where a mistyped path pointed).
 */
export async function openStore(
  url: string,
  opts: { retryMs?: number; existing?: boolean } = {},
): Promise<ManifestStore> {
  if (/^postgres(ql)?:/i.test(url)) {
    const { openPostgresStore } = await withNodeNavigator(() => import('./postgres/store.js'));
    return openPostgresStore(url, opts);
  }
  const m = /^file:(?:\/\/)?(.+)$/.exec(url);
  if (m) return new FileStore(m[1]!, { create: !opts.existing });
  throw expected('--manifest', 'file:DIR or postgres://user@host/db', url);
}

/**
 * pg checks at import whether it runs in Cloudflare Workers: where there is no global `navigator`
 * (Node < 21) it builds a fetch `Response` to find out, and that loads undici — about 17 ms of every
 * process's start-up, paid again by each of N hosts starting on one machine. Node 21+ defines
 * `navigator` (userAgent "Node.js/<version>"); this gives pg the same answer on Node 20, for the
 * duration of the import only.
 */
async function withNodeNavigator<T>(load: () => Promise<T>): Promise<T> {
  if ('navigator' in globalThis) return load();
  Object.defineProperty(globalThis, 'navigator', {
    value: { userAgent: `Node.js/${process.versions.node}` },
    configurable: true,
    writable: true,
  });
  try {
    return await load();
  } finally {
    delete (globalThis as { navigator?: unknown }).navigator;
  }
}
