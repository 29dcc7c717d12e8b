// The flags of `bigproc run` resolved once: defaults, limits and units applied here, so nothing
// downstream re-parses a flag or repeats its default. The CLI builds RunArgs from commander's values
// (flags > BIGPROC_* > config file > defaults); the pool's early start, which runs before commander,
// reads the few flags it needs with the same limits (peekRunArgs).
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseDuration, parseLease, parseNonNegativeInt, parsePositiveInt, parseSize } from './units.js';
import { usage } from '../errors.js';

/** --workers: at most this many threads. */
export const MAX_WORKERS = 1024;
/** --max-attempts: at most this many attempts per shard. */
export const MAX_ATTEMPTS = 1000;
/** --shard-count: at most this many static parts. */
export const MAX_PARTS = 1_000_000;

/** The defaults of the flags of a run shared between hosts, as commander shows them in --help. */
export const SHARD_DEFAULTS = {
  shardSize: '256MiB',
  lease: '30s',
  maxAttempts: '3',
  backoff: '1s',
  grace: '20s',
} as const;

/** Flags as commander hands them over (strings; booleans for switches; op flags besides). */
export interface RunFlags extends Record<string, string | boolean | undefined> {
  file?: string;
  schema?: string;
  recordSize?: string;
  headerBytes?: string;
  frame?: string;
  allowPartial?: boolean;
  op: string;
  out?: string;
  workers?: string;
  backend: string;
  chunkSize: string;
  json?: boolean;
  quiet?: boolean;
  manifest?: string;
  runId?: string;
  shardSize?: string;
  lease?: string;
  maxAttempts?: string;
  grace?: string;
  backoff?: string;
  exclusive?: string;
  shardIndex?: string;
  shardCount?: string;
  maxMemory?: string;
}

export interface LayoutArgs {
  schema?: string;
  recordSize?: number;
  headerBytes?: number;
  frame?: string;
}

/** A run shared through a manifest (--manifest). */
export interface ManifestArgs {
  url: string;
  runId?: string;
  shardSize: number;
  leaseMs: number;
  maxAttempts: number;
  backoffMs: number;
  graceMs: number;
}

/** One static part of an array job (--shard-index/--shard-count). */
export interface PartArgs {
  index: number;
  count: number;
}

export interface RunArgs {
  file: string;
  /** the op's name: --op, or the op that --kernel or --pipeline alone picks */
  op: string;
  layout: LayoutArgs;
  workers: number;
  chunkSize: number;
  backend: string;
  out?: string;
  json: boolean;
  quiet: boolean;
  allowPartial: boolean;
  /** --max-memory in bytes: a bound on the records held in flight (engine/memory-bound.ts) */
  maxMemory?: number;
  manifest?: ManifestArgs;
  part?: PartArgs;
  /** --exclusive NAME and the lease its guard is held under */
  exclusive?: { name: string; leaseMs: number };
  /** every flag as given, for the op's own options */
  flags: RunFlags;
}

export function resolveLayoutArgs(
  flags: Pick<RunFlags, 'schema' | 'recordSize' | 'headerBytes' | 'frame'>,
): LayoutArgs {
  return {
    schema: flags.schema,
    recordSize: flags.recordSize === undefined ? undefined : parsePositiveInt(flags.recordSize, '--record-size'),
    headerBytes: flags.headerBytes === undefined ? undefined : parseNonNegativeInt(flags.headerBytes, '--header-bytes'),
    frame: flags.frame,
  };
}

export function resolveWorkers(workers: string | undefined): number {
  return parsePositiveInt(workers ?? availableParallelism(), '--workers', MAX_WORKERS);
}

export function resolveRunArgs(flags: RunFlags): RunArgs {
  if (!flags.file) throw usage('bigproc run needs --file <path>');
  const workers = resolveWorkers(flags.workers);
  const chunkSize = parseSize(flags.chunkSize, '--chunk-size');
  if (chunkSize < 1) throw usage('Expected a positive size for --chunk-size but received 0');
  return {
    file: flags.file,
    op: flags.op !== 'stats' ? flags.op : flags.kernel ? 'kernel' : flags.pipeline ? 'pipeline' : 'stats',
    layout: resolveLayoutArgs(flags),
    workers,
    chunkSize,
    backend: flags.backend,
    out: flags.out,
    json: !!flags.json,
    quiet: !!flags.quiet,
    allowPartial: !!flags.allowPartial,
    ...(flags.maxMemory !== undefined ? { maxMemory: resolveMaxMemory(flags.maxMemory) } : {}),
    flags,
  };
}

function resolveMaxMemory(text: string): number {
  const bytes = parseSize(text, '--max-memory');
  if (bytes < 1) throw usage('Expected a positive size for --max-memory but received 0');
  return bytes;
}

/** --manifest's flags, with their defaults (commander fills them in; a caller without commander gets the same). */
export function resolveManifestArgs(flags: RunFlags): ManifestArgs | undefined {
  if (flags.manifest === undefined) return undefined;
  return {
    url: flags.manifest,
    runId: flags.runId,
    shardSize: parseSize(flags.shardSize ?? SHARD_DEFAULTS.shardSize, '--shard-size'),
    leaseMs: parseLease(flags.lease ?? SHARD_DEFAULTS.lease),
    maxAttempts: parsePositiveInt(flags.maxAttempts ?? SHARD_DEFAULTS.maxAttempts, '--max-attempts', MAX_ATTEMPTS),
    graceMs: parseDuration(flags.grace ?? SHARD_DEFAULTS.grace, '--grace'),
    backoffMs: parseDuration(flags.backoff ?? SHARD_DEFAULTS.backoff, '--backoff'),
  };
}

/** Whether the flags ask for one static part of an array job. */
export function isStaticPart(flags: Pick<RunFlags, 'shardIndex' | 'shardCount'>): boolean {
  return flags.shardCount !== undefined || flags.shardIndex !== undefined;
}

/** The static part: --shard-index (else the array-job environment) of --shard-count. */
export function resolvePartArgs(flags: RunFlags): PartArgs | undefined {
  if (!isStaticPart(flags)) return undefined;
  if (flags.manifest)
    throw usage('--shard-index/--shard-count are for runs without a manifest (a manifest hands out shards itself)');
  if (flags.shardCount === undefined) throw usage('--shard-index needs --shard-count N (the number of parts)');
  const count = parsePositiveInt(flags.shardCount, '--shard-count', MAX_PARTS);
  const rawIndex = flags.shardIndex ?? process.env.JOB_COMPLETION_INDEX ?? process.env.AWS_BATCH_JOB_ARRAY_INDEX;
  if (rawIndex === undefined)
    throw usage('--shard-count needs --shard-index I (or $JOB_COMPLETION_INDEX / $AWS_BATCH_JOB_ARRAY_INDEX)');
  const index = parseNonNegativeInt(rawIndex, '--shard-index');
  if (index >= count) throw usage(`Expected an index from 0 to ${count - 1} for --shard-index but received ${index}`);
  return { index, count };
}

export function resolveExclusiveArgs(flags: RunFlags): RunArgs['exclusive'] {
  if (flags.exclusive === undefined) return undefined;
  return { name: flags.exclusive, leaseMs: parseLease(flags.lease ?? SHARD_DEFAULTS.lease) };
}

/** What the early start needs to know, read from the raw command line before commander parses it. */
export interface EarlyArgs {
  command: string | undefined;
  /** --workers if it is valid, else the default (commander reports a bad value later) */
  workers: number;
  kernel: boolean;
  stdin: boolean;
  jsBackend: boolean;
  /** `run --file F` with F a regular file of at most SMALL_FILE_BYTES and no --chunk-size flag */
  smallFile: boolean;
}

/**
 * At most this many bytes make one chunk at any chunk size a user is likely to set (the default is
 * 64 MiB), so the run goes inline (pool.ts runsInline) and a pool started early would be thrown away.
 * A smaller --chunk-size from the environment or a config file only starts the pool later.
 */
export const SMALL_FILE_BYTES = 1024 * 1024;

/** The value of `flag` in either spelling (`--flag v`, `--flag=v`), or undefined. */
function flagValue(args: string[], flag: string): string | undefined {
  const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  if (i < 0) return undefined;
  return args[i]!.includes('=') ? args[i]!.slice(flag.length + 1) : args[i + 1];
}

function isSmallFile(path: string | undefined): boolean {
  if (path === undefined || path === '-') return false;
  try {
    const st = statSync(path);
    return st.isFile() && st.size <= SMALL_FILE_BYTES;
  } catch {
    return false; // commander and the run report a missing file
  }
}

export function peekRunArgs(args: string[]): EarlyArgs {
  const i = args.findIndex((a) => a === '--workers' || a.startsWith('--workers='));
  const v = i < 0 ? undefined : args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1];
  const n = Number(v);
  const given = (flag: string, value?: string) =>
    args.some((a, j) =>
      value === undefined
        ? a === flag || a.startsWith(`${flag}=`)
        : (a === flag && args[j + 1] === value) || a === `${flag}=${value}`,
    );
  return {
    command: args[0],
    workers: Number.isSafeInteger(n) && n >= 1 && n <= MAX_WORKERS ? n : availableParallelism(),
    kernel: given('--kernel'),
    stdin: given('--file', '-'),
    jsBackend: given('--backend', 'js'),
    smallFile: args[0] === 'run' && !given('--chunk-size') && isSmallFile(flagValue(args, '--file')),
  };
}
