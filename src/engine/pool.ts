// What runs the tasks: the piscina pool (threads = min(--workers, chunks)), or, for one worker's worth
// of chunks from a mapped file, the main thread itself (inline.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Piscina } from 'piscina';
import { runtime } from '../errors.js';
import { packageRoot } from '../package-root.js';
import type { Backend, TaskRunner } from './protocol.js';
import type { AnyOp } from '../ops/types.js';
import { prestartKernelHost } from './kernel-host.js';
import type { EarlyArgs } from '../config/run-args.js';

/** The package root, or a runtime error when bigproc's files cannot be found. */
function installedRoot(): string {
  const dir = packageRoot();
  if (dir === null) throw runtime('cannot find the bigproc package root');
  return dir;
}

export function workerFile(): string {
  const file = join(installedRoot(), 'dist', 'worker.cjs');
  if (!existsSync(file)) throw runtime(`missing ${file}: run "npm run build"`);
  return file;
}

/**
 * A pool that starts with one thread and grows on demand (piscina spawns while tasks queue) up to
 * maxThreads, so a one-chunk file never pays for more than one thread start.
 */
export async function createPool(maxThreads: number): Promise<Piscina> {
  const { Piscina } = await import('piscina');
  return new Piscina({
    filename: workerFile(),
    minThreads: 1,
    maxThreads,
    idleTimeout: 60_000,
    concurrentTasksPerWorker: 1,
    // Chunk latencies are measured by the workers themselves; piscina's histograms cost start-up time.
    recordTiming: false,
    workerHistogram: false,
  });
}

let early: Promise<Piscina> | null = null;

/**
 * Start the pool before the command line is even parsed: a worker thread takes tens of milliseconds
 * to boot, and that can overlap the main thread's own start-up. A command that then fails validation
 * simply exits.
 */
export function prestartPool(maxThreads: number): void {
  early = createPool(maxThreads);
  early.catch(() => {});
}

/** The pool started by prestartPool, or a new one. */
export function acquirePool(maxThreads: number): Promise<Piscina> {
  const p = early ?? createPool(maxThreads);
  early = null;
  return p;
}

/** Chunks above this size keep a worker thread even alone (see runsInline). */
export const INLINE_MAX_CHUNK_BYTES = 64 * 1024 * 1024;

export interface InlineCase {
  threads: number;
  /** null: not an op (gen) */
  op: Pick<AnyOp, 'load' | 'jsOnly'> | null;
  stream: boolean;
  backend: Backend;
  chunkBytes: number;
}

/**
 * Whether a job's chunks run on the main thread: one thread's worth of chunks from a mapped file
 * (--workers 1, or a one-chunk file), by native kernels on chunks of at most 64 MiB — tens to a few
 * hundred milliseconds each, the longest Ctrl-C (or a heartbeat) then waits for the main thread. The
 * JS kernels, a user's kernel (it may never return) and stdin keep a worker thread. See inline.ts.
 */
export function runsInline(c: InlineCase): boolean {
  return (
    c.threads === 1 &&
    !c.stream &&
    !c.op?.load &&
    !c.op?.jsOnly &&
    c.backend === 'native' &&
    c.chunkBytes <= INLINE_MAX_CHUNK_BYTES
  );
}

/**
 * The runner for a job: the main thread when `inline`, else the pool (the early one if started). A
 * pool started early but not needed is wound down without waiting: its thread may still be booting.
 */
export async function acquireRunner(threads: number, inline: boolean): Promise<TaskRunner> {
  if (!inline) return acquirePool(threads);
  const unused = early;
  early = null;
  if (unused) void unused.then((pool) => pool.destroy()).catch(() => {});
  const { inlineRunner } = await import('./inline.js');
  return inlineRunner();
}

/**
 * Wind down a pool started early but never used (the command failed first). Error exits wait for
 * this (bounded) rather than tearing down a thread mid-boot. That once crashed Node (require(esm) of
 * the worker module, see scripts/build.mjs); the worker is CommonJS now and
 * test/cli/interrupt-stress.test.ts exits at random moments, but an orderly wind-down costs an error
 * exit only the rest of one thread's start.
 */
export async function releaseEarlyPool(limitMs = 2000): Promise<void> {
  const p = early;
  early = null;
  if (!p) return;
  const done = p.then((pool) => pool.destroy()).catch(() => {});
  await Promise.race([done, new Promise((r) => setTimeout(r, limitMs).unref())]);
}

/**
 * Start what a command will need while the main thread still parses its command line (see
 * config/run-args.ts peekRunArgs): the pool for commands that scan or write records, the kernel host
 * thread for a user kernel.
 */
export function prestartFor(early: EarlyArgs): void {
  if (early.command !== 'run' && early.command !== 'gen') return;
  if (early.kernel) prestartKernelHost();
  // One worker on a mapped file usually runs on the main thread (runsInline): no pool to start, unless
  // a user kernel, stdin or the JS backend will need one after all.
  if (early.workers === 1 && !early.kernel && !early.stdin && !early.jsBackend) return;
  // So does a file of one chunk (a one-record file: the fixed cost of every run).
  if (early.smallFile && !early.kernel && !early.jsBackend) return;
  prestartPool(early.workers);
}
