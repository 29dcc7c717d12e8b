// Run identity: what a run in a manifest was created for, and the check a joining host makes against
// it. The file is identified by size, mtime and a hash of sampled blocks (cheap on a 100 GB file, yet
// it catches a different file of the same size); the op by its prepared spec.
import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { createHash } from 'node:crypto';
import type { RunDescriptor } from './types.js';
import { usage } from '../errors.js';

const SAMPLES = 16;
const BLOCK = 4096;

/** sha256 of SAMPLES blocks of 4 KiB spread evenly over the file (the first and the last included). */
export function sampleHash(file: string, size: number): string {
  const h = createHash('sha256');
  const buf = Buffer.alloc(BLOCK);
  const fd = openSync(file, 'r');
  try {
    for (let i = 0; i < SAMPLES; i++) {
      const at = size <= BLOCK ? 0 : Math.floor(((size - BLOCK) * i) / (SAMPLES - 1));
      const n = readSync(fd, buf, 0, Math.min(BLOCK, size), at);
      h.update(buf.subarray(0, n));
      if (size <= BLOCK) break;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex').slice(0, 32);
}

export function fileIdentity(file: string, size: number, mtimeMs: number): RunDescriptor['file'] {
  return { name: basename(file), size, mtime_ms: mtimeMs, sample_hash: sampleHash(file, size) };
}

/** The default --run-id: the same file, op and options give the same id on every host. */
export function defaultRunId(d: Omit<RunDescriptor, 'run_id'>): string {
  const stem = d.file.name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40);
  return `${stem}-${d.op}-${runHash(d).slice(0, 12)}`;
}

/**
 * A hash of everything a run is for (file identity, layout, op, options, plan, output) — what makes
 * two runs the same run, whatever --run-id they were given.
 */
export function runHash(d: Omit<RunDescriptor, 'run_id'>): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        d.file.size,
        d.file.mtime_ms,
        d.file.sample_hash,
        d.layout,
        d.op,
        d.spec,
        d.records_per_chunk,
        d.shard_chunks,
        d.out,
        d.out_path ?? null,
      ]),
    )
    .digest('hex');
}

/**
 * How a mismatch names its two sides: a run in a manifest against this invocation, or (merge) one
 * part file against another — no manifest there.
 */
export interface Sides {
  /** "run "r1" in the manifest was created", "part "b.json" was printed" */
  subject: string;
  there: string;
  here: string;
}

export function manifestSides(runId: string): Sides {
  return { subject: `run ${JSON.stringify(runId)} in the manifest was created`, there: 'there', here: 'here' };
}

/** Throws a usage error (exit 2) naming the first part of `mine` that differs from `stored`. */
export function checkSameRun(
  stored: RunDescriptor,
  mine: RunDescriptor,
  sides: Sides = manifestSides(stored.run_id),
): void {
  const differ = (what: string, a: unknown, b: unknown) => {
    const [x, y] = around(text(a), text(b));
    return usage(`${sides.subject} for a different ${what}: ${x} ${sides.there}, ${y} ${sides.here}`);
  };
  const f = stored.file;
  const g = mine.file;
  if (f.size !== g.size) throw differ('file (size)', f.size, g.size);
  if (f.mtime_ms !== g.mtime_ms)
    throw differ('file (mtime)', new Date(f.mtime_ms).toISOString(), new Date(g.mtime_ms).toISOString());
  if (f.sample_hash !== g.sample_hash) throw differ('file (content sample)', f.sample_hash, g.sample_hash);
  if (JSON.stringify(stored.layout) !== JSON.stringify(mine.layout)) throw differ('layout', stored.layout, mine.layout);
  if (stored.op !== mine.op) throw differ('op', stored.op, mine.op);
  // the user's flags, as typed, where they differ; the compiled spec only when they read the same
  // (an edited --kernel file)
  if (stored.spec !== mine.spec) {
    const typed = stored.args !== undefined && mine.args !== undefined && stored.args !== mine.args;
    throw differ(
      `set of options for --op ${mine.op}`,
      typed ? stored.args : stored.spec,
      typed ? mine.args : mine.spec,
    );
  }
  if (stored.records_per_chunk !== mine.records_per_chunk)
    throw differ('--chunk-size (records per chunk)', stored.records_per_chunk, mine.records_per_chunk);
  if (stored.shard_chunks !== mine.shard_chunks)
    throw differ('--shard-size (chunks per shard)', stored.shard_chunks, mine.shard_chunks);
  if (stored.out !== mine.out) throw differ('--out kind', stored.out, mine.out);
  if ((stored.out_path ?? null) !== (mine.out_path ?? null))
    throw differ('--out path', stored.out_path ?? 'none', mine.out_path ?? 'none');
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Two long values cut to the same window around their first difference (a layout of 30 fields that
 * differs in the last one must show that field, not two identical first 120 characters).
 */
export function around(a: string, b: string, width = 120): [string, string] {
  if (a.length <= width && b.length <= width) return [a, b];
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 40);
  const cut = (s: string) =>
    `${from > 0 ? '…' : ''}${s.slice(from, from + width)}${from + width < s.length ? '…' : ''}`;
  return [cut(a), cut(b)];
}
