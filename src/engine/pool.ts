// The piscina pool. Threads = min(--workers, chunks), so a one-chunk file starts one thread.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import { runtime } from '../errors.js';

let root: string | null = null;

/** The package root (the folder with bigproc's package.json), from wherever this module was bundled. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw runtime('cannot find the bigproc package root');
    dir = up;
  }
}

export function workerFile(): string {
  const file = join(packageRoot(), 'dist', 'worker.mjs');
  if (!existsSync(file)) throw runtime(`missing ${file}: run "npm run build"`);
  return file;
}

export async function createPool(threads: number): Promise<Piscina> {
  const { Piscina } = await import('piscina');
  return new Piscina({
    filename: workerFile(),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 60_000,
    concurrentTasksPerWorker: 1,
    // Workers never read stdin; keep them from holding the parent's.
    env: process.env,
  });
}
