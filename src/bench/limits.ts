// The hardware limits, measured by native/limits.c run as its own process (no Node start in the
// timing): the memory-read limit (map + sum 64-bit words on every core), the read(2) limit, and with
// --cold the storage limit after dropping the file from the page cache. The program is compiled with
// the system C compiler on first use into a cache directory keyed by its source.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { failureLine, runChild } from './child.js';
import { spreadOf } from './stats.js';
import type { Limit } from './types.js';

export function limitsSource(): string {
  return join(packageRoot() ?? '.', 'native', 'limits.c');
}

function cacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'bigproc');
}

/** The compiled program's path, compiling it first when needed; throws a one-line Error when it cannot. */
export async function limitsProgram(): Promise<string> {
  const source = limitsSource();
  if (!existsSync(source)) throw new Error(`${source} is missing from this installation`);
  const text = readFileSync(source);
  const compiler = process.env.CC || 'cc';
  const key = createHash('sha256').update(text).update(compiler).update(process.arch).digest('hex').slice(0, 16);
  const dir = cacheDir();
  const program = join(dir, `limits-${key}`);
  if (existsSync(program)) return program;
  mkdirSync(dir, { recursive: true });
  const tmp = `${program}.${process.pid}.tmp`;
  const r = await runChild(compiler, ['-O2', '-pthread', '-o', tmp, source, '-lpthread'], process.env);
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot compile ${source} with ${compiler} (set CC to a C compiler): ${failureLine(r)}`);
  }
  renameSync(tmp, program); // atomic: a concurrent bench sees the whole program or none
  return program;
}

interface RawLimit {
  kind: 'mem' | 'read' | 'cold';
  bytes: number;
  threads: number;
  seconds: number[];
  resident_after_drop?: number[];
}

/** A share of pages above this still resident after the drop means the cold figures are not cold. */
const RESIDENT_TOLERANCE = 0.05;

export async function measureLimit(
  program: string,
  kind: Limit['kind'],
  file: string,
  threads: number,
  reps: number,
): Promise<Limit> {
  const args = kind === 'mem' ? [kind, file, String(threads), String(reps)] : [kind, file, String(reps)];
  const r = await runChild(program, args);
  if (r.code !== 0) return { kind, ok: false, error: failureLine(r), threads, gbps: null };
  const raw = JSON.parse(r.stdout) as RawLimit;
  const limit: Limit = {
    kind,
    ok: true,
    error: null,
    threads: raw.threads,
    gbps: spreadOf(raw.seconds.map((s) => raw.bytes / s / 1e9)),
  };
  if (kind === 'cold') {
    limit.resident_after_drop = raw.resident_after_drop ?? [];
    const worst = Math.max(0, ...limit.resident_after_drop);
    limit.note =
      worst > RESIDENT_TOLERANCE
        ? `not cold: the kernel kept ${(worst * 100).toFixed(0)}% of the file's pages in the page cache after posix_fadvise(DONTNEED), so these figures are partly memory speed`
        : null;
  }
  return limit;
}

/** A limit that could not be measured at all (no compiler): reported, never silently absent. */
export function unmeasured(kind: Limit['kind'], threads: number, error: string): Limit {
  return { kind, ok: false, error, threads, gbps: null };
}
