// `bigproc run` across hosts: with --manifest (shards claimed under leases, merged by the host that
// commits last), with --shard-index/--shard-count (static parts for array jobs, merged later by
// `bigproc merge`), and the --exclusive single-instance guard.
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { Layout } from '../layout/types.js';
import type { ChunkPlan } from '../plan/chunks.js';
import { chunksPerShard, shardCount, staticRange } from '../plan/shards.js';
import type { AnyOp, OpOptions } from '../ops/types.js';
import type { Backend } from '../engine/protocol.js';
import type { Owner, RunDescriptor, ShardRow } from '../manifest/types.js';
import { openStore } from '../manifest/open.js';
import { FileStore } from '../manifest/file.js';
import { checkSameRun, defaultRunId, fileIdentity, runHash } from '../manifest/identity.js';
import { encodePartial } from '../engine/partial-codec.js';
import { handOver, partialFormat } from '../engine/chunk-partials.js';
import { runSharded, type StopRequest } from '../engine/sharded.js';
import { checkOutputDir, outKind } from '../engine/parts.js';
import { abortAllOutputs } from '../engine/output.js';
import { exitCodeFor, onStopSignals } from './signals.js';
import { layoutToJson } from '../layout/resolve.js';
import { parseDuration, parseLease, parseNonNegativeInt, parsePositiveInt, parseSize } from '../config/units.js';
import { formatSummary } from '../report/summary.js';
import { BigprocError, EXIT, errorLine, runtime, usage } from '../errors.js';
import { redact } from '../redact.js';

export interface ShardFlags extends Record<string, string | boolean | undefined> {
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
}

export function defineShardOptions(cmd: Command): void {
  cmd
    .option('--manifest <url>', 'share the run with other hosts: file:DIR (shared filesystem) or postgres://user@host/db')
    .option('--run-id <id>', 'name of the run in the manifest (default: derived from the file, the op and its options)')
    .option('--shard-size <size>', 'bytes per shard claimed by a host (a whole number of chunks)', '256MiB')
    .option('--lease <duration>', 'how long a claimed shard (or --exclusive guard) is held without a heartbeat', '30s')
    .option('--max-attempts <n>', 'attempts per shard before it is marked failed', '3')
    .option('--backoff <duration>', 'delay before the first retry of a failed shard (doubled per attempt, with jitter)', '1s')
    .option('--grace <duration>', 'on SIGTERM: time to finish the shard in hand before releasing it', '20s')
    .option('--exclusive <name>', 'refuse to run (exit 75) while another invocation holds this name')
    .option('--shard-index <i>', 'static sharding: process part I of --shard-count (default $JOB_COMPLETION_INDEX or $AWS_BATCH_JOB_ARRAY_INDEX) and print its partial as JSON')
    .option('--shard-count <n>', 'static sharding: the number of parts');
}

export function owner(): Owner {
  return { host: hostname(), pid: process.pid };
}

/** What a sharded run shares with every other host: the file, the op's prepared spec, the plans. */
export interface ShardContext {
  file: string;
  layout: Layout;
  plan: ChunkPlan;
  identity: { size: number; mtimeMs: number };
  op: AnyOp;
  options: OpOptions;
  backend: Backend;
  backendDetail?: string;
  workers: number;
  out?: string;
  json: boolean;
  quiet: boolean;
  allowPartial: boolean;
}

async function prepareSpec(ctx: ShardContext, how: string): Promise<unknown> {
  return ctx.op.prepare(ctx.options, ctx.layout, (name) => {
    throw usage(`--op ${ctx.op.name} needs a first pass over the whole file (${name}), which ${how} cannot share: give the missing option (e.g. --range for hist)`);
  });
}

/** The op's own flags with the values given, as typed on a command line (for messages only). */
function opArgs(op: AnyOp, options: OpOptions): string {
  const given = (op.flags ?? []).map((f) => new Option(f.flags)).filter((o) => options[o.attributeName()] !== undefined && options[o.attributeName()] !== false);
  return given.map((o) => (o.isBoolean() ? o.long! : `${o.long} ${JSON.stringify(String(options[o.attributeName()]))}`)).join(' ') || '(no options)';
}

function descriptor(ctx: ShardContext, spec: unknown, perShard: number, shards: number, runId: string | undefined): RunDescriptor {
  const base: Omit<RunDescriptor, 'run_id'> = {
    version: partialFormat(ctx.op, spec),
    file: fileIdentity(ctx.file, ctx.identity.size, ctx.identity.mtimeMs),
    layout: layoutToJson(ctx.layout),
    op: ctx.op.name,
    spec: encodePartial(spec),
    args: opArgs(ctx.op, ctx.options),
    records_per_chunk: ctx.plan.recordsPerChunk,
    chunks: ctx.plan.chunks.length,
    shard_chunks: perShard,
    shards,
    out: outKind(ctx.out),
    // Hosts share one output: they must all name the same path (on the shared filesystem).
    ...(ctx.out ? { out_path: resolve(ctx.out) + (ctx.out.endsWith('/') ? '/' : '') } : {}),
  };
  return { ...base, run_id: runId ?? defaultRunId(base) };
}

function stopOnSignals(log: (s: string) => void, graceMs: number): { stop: StopRequest; signal: () => NodeJS.Signals | null; release: () => void } {
  const listeners = new Set<() => void>();
  let first: NodeJS.Signals | null = null;
  const stop: StopRequest = {
    requested: false,
    on(fn) {
      if (stop.requested) {
        fn();
        return () => {};
      }
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  const handler = (signal: NodeJS.Signals) => {
    if (stop.requested) {
      // The second signal: abort at once; held leases expire on their own.
      abortAllOutputs();
      process.stderr.write(`bigproc: aborted (${signal})\n`);
      process.exit(exitCodeFor(signal));
    }
    stop.requested = true;
    first = signal;
    log(`bigproc: ${signal}: claiming no more shards; finishing the one in hand within ${graceMs / 1000} s (again to abort)`);
    for (const fn of [...listeners]) fn();
    listeners.clear();
  };
  return { stop, signal: () => first, release: onStopSignals(handler) };
}

function failedMessage(failed: ShardRow[]): string {
  const list = failed.slice(0, 5).map((r) => `shard ${r.shard} (${r.attempts} attempts): ${r.last_error ?? 'unknown error'}`).join('; ');
  return `${failed.length} shard${failed.length === 1 ? '' : 's'} failed after the last attempt — ${list}${failed.length > 5 ? '; …' : ''} (bigproc retry resets them)`;
}

export async function manifestRun(ctx: ShardContext, flags: ShardFlags): Promise<void> {
  const shardSize = parseSize(flags.shardSize ?? '256MiB', '--shard-size');
  const leaseMs = parseLease(flags.lease ?? '30s');
  if (leaseMs < 30) throw usage(`Expected a duration of at least 30ms for --lease but received ${JSON.stringify(flags.lease)}`);
  const maxAttempts = parsePositiveInt(flags.maxAttempts ?? '3', '--max-attempts', 1000);
  const graceMs = parseDuration(flags.grace ?? '20s', '--grace');
  const backoffMs = parseDuration(flags.backoff ?? '1s', '--backoff');
  const perShard = chunksPerShard(ctx.plan, shardSize);
  const spec = await prepareSpec(ctx, '--manifest');
  const desc = descriptor(ctx, spec, perShard, shardCount(ctx.plan, perShard), flags.runId);
  // log lines can quote a store's errors, which can quote its URL: masked like every message
  const log = ctx.quiet ? () => {} : (line: string) => process.stderr.write(`${redact(line)}\n`);
  // before the run is created: a directory holding another run's output is refused up front
  const outOwner = { run_id: desc.run_id, fingerprint: runHash(desc).slice(0, 32) };
  if (ctx.out) checkOutputDir(ctx.out, outOwner);

  const store = await openStore(flags.manifest!);
  const me = owner();
  const { stop, signal, release } = stopOnSignals(log, graceMs);
  try {
    const run = store.run(desc.run_id);
    const { created, stored } = await run.open(desc, me);
    checkSameRun(stored, desc);
    log(`${created ? 'created' : 'joined'} run ${desc.run_id} in ${store.url} (${desc.shards} shards)`);
    const outcome = await runSharded({
      file: ctx.file, layout: ctx.layout, plan: ctx.plan, op: ctx.op, spec, backend: ctx.backend, backendDetail: ctx.backendDetail,
      workers: ctx.workers, out: ctx.out, outOwner, identity: ctx.identity, run, owner: me, perShard, leaseMs, maxAttempts, backoffMs, graceMs, stop, log,
    });
    const share = { ...outcome.share, of: desc.shards };
    const trailing = ctx.plan.trailingBytes;
    // A host that merged prints the result; so does one that arrives after the run is complete and
    // had nothing left to do (a cron job re-run). The others print their share.
    const showResult = outcome.result !== null && (outcome.merged || outcome.share.shards === 0);
    if (showResult) {
      const result = outcome.result as Record<string, unknown>;
      if (trailing && typeof result === 'object' && result) result.trailing_bytes = trailing;
      if (ctx.json) {
        process.stdout.write(`${JSON.stringify({ op: ctx.op.name, file: ctx.file, run_id: desc.run_id, layout: layoutToJson(ctx.layout), result, metrics: outcome.metrics, share })}\n`);
      } else {
        process.stdout.write(`${ctx.op.format(spec, result)}\n`);
        if (!ctx.quiet) process.stderr.write(`${formatSummary(outcome.metrics, ctx.out)} | run ${desc.run_id}: ${share.shards}/${desc.shards} shards here${outcome.merged ? ', merged here' : ''}\n`);
      }
    } else if (ctx.json) {
      process.stdout.write(`${JSON.stringify({ op: ctx.op.name, run_id: desc.run_id, share, result: null, metrics: outcome.metrics, ...(outcome.stopped ? { stopped: true } : {}) })}\n`);
    } else {
      const state = outcome.stopped ? 'stopped before the run finished' : outcome.failed.length ? 'run finished with failed shards' : 'another host merged the result';
      process.stdout.write(`run ${desc.run_id}: ${share.shards} of ${desc.shards} shards committed here (${share.records} records); ${state}\n`);
    }
    if (outcome.failed.length > 0) throw new BigprocError(failedMessage(outcome.failed), EXIT.partial);
    // Ctrl-C stops gracefully too, but the run was still interrupted (SIGTERM is an orderly stop: 0).
    if (outcome.stopped && signal() === 'SIGINT') throw new BigprocError('interrupted (SIGINT): the shards in hand were finished or released; run again to continue', EXIT.interrupted);
  } finally {
    release();
    await store.close();
  }
}

/** The part index for static sharding: the flag, else the array-job environment. */
function shardIndexFrom(flags: ShardFlags): string | undefined {
  return flags.shardIndex ?? process.env.JOB_COMPLETION_INDEX ?? process.env.AWS_BATCH_JOB_ARRAY_INDEX;
}

export function isStaticShard(flags: ShardFlags): boolean {
  return flags.shardCount !== undefined || flags.shardIndex !== undefined;
}

/** One static part: its chunks only, printed as a JSON partial for `bigproc merge`. */
export async function staticShardRun(
  ctx: ShardContext,
  flags: ShardFlags,
  run: (plan: ChunkPlan, spec: unknown, out: string | undefined) => Promise<{ partial: unknown; metrics: unknown }>,
): Promise<void> {
  if (flags.manifest) throw usage('--shard-index/--shard-count are for runs without a manifest (a manifest hands out shards itself)');
  if (flags.shardCount === undefined) throw usage('--shard-index needs --shard-count N (the number of parts)');
  const count = parsePositiveInt(flags.shardCount, '--shard-count', 1_000_000);
  const rawIndex = shardIndexFrom(flags);
  if (rawIndex === undefined) throw usage('--shard-count needs --shard-index I (or $JOB_COMPLETION_INDEX / $AWS_BATCH_JOB_ARRAY_INDEX)');
  const index = parseNonNegativeInt(rawIndex, '--shard-index');
  if (index >= count) throw usage(`Expected an index from 0 to ${count - 1} for --shard-index but received ${index}`);
  const spec = await prepareSpec(ctx, 'static sharding');
  const desc = descriptor(ctx, spec, 0, count, 'static');
  const range = staticRange(ctx.plan, index, count);
  const chunks = ctx.plan.chunks.slice(range.firstChunk, range.firstChunk + range.chunks).map((c, i) => ({ ...c, index: i }));
  const records = chunks.reduce((s, c) => s + c.records, 0);
  const sub: ChunkPlan = { ...ctx.plan, chunks, records, dataBytes: records * ctx.plan.recordSize };
  // Every part writes its own file, so parts of one array job never overwrite each other.
  const w = String(count - 1).length;
  const partOut = ctx.out ? `${ctx.out}.part-${String(index).padStart(w, '0')}-of-${count}` : undefined;
  const r = await run(sub, spec, partOut);
  const doc = {
    kind: 'bigproc-partial',
    // 2: the partial of an op that folds every chunk is its chunks' list (see engine/chunk-partials.ts)
    version: partialFormat(ctx.op, spec),
    op: ctx.op.name,
    file: ctx.file,
    part: {
      index, count, first_chunk: range.firstChunk, chunks: range.chunks, records, bytes: sub.dataBytes, ...(partOut ? { out: partOut } : {}),
      // the file's bytes after its last whole record (--allow-partial): merge reports them as a run does
      ...(ctx.plan.trailingBytes ? { trailing_bytes: ctx.plan.trailingBytes } : {}),
    },
    descriptor: desc,
    partial: JSON.parse(encodePartial(handOver(ctx.op, spec, r.partial))),
    metrics: r.metrics,
  };
  process.stdout.write(`${JSON.stringify(doc)}\n`);
}

/** Run fn while holding the named guard; a second invocation exits 75 saying who holds it. */
export async function withExclusive(flags: ShardFlags, fn: () => Promise<void>): Promise<void> {
  const name = flags.exclusive!;
  const leaseMs = parseLease(flags.lease ?? '30s');
  const store = flags.manifest
    ? await openStore(flags.manifest)
    : new FileStore(process.env.BIGPROC_LOCK_DIR ?? join(tmpdir(), 'bigproc-locks'), { label: 'the --exclusive lock directory (BIGPROC_LOCK_DIR)' });
  const me = owner();
  const g = await store.guard(name, me, leaseMs);
  if (g.kind === 'busy') {
    await store.close();
    throw new BigprocError(
      `--exclusive ${name}: another invocation holds it (host ${g.holder.host}, pid ${g.holder.pid}, since ${new Date(g.since).toISOString()})`,
      EXIT.locked,
    );
  }
  const timer = setInterval(() => {
    g.guard.renew().then(
      (ok) => {
        if (ok) return;
        abortAllOutputs();
        process.stderr.write(`bigproc: lost --exclusive ${name}: its lease expired and another invocation took it; stopping\n`);
        process.exit(EXIT.runtime);
      },
      (e) => process.stderr.write(errorLine(`warning: cannot renew --exclusive ${name}: ${(e as Error).message}`)),
    );
  }, Math.max(10, Math.floor(leaseMs / 3)));
  // An interrupted run gives the guard back too (the file store's release is synchronous).
  const onExit = () => void g.guard.release().catch(() => {});
  process.once('exit', onExit);
  try {
    await fn();
  } finally {
    clearInterval(timer);
    process.off('exit', onExit);
    await g.guard.release().catch((e) => {
      throw runtime(`cannot release --exclusive ${name}: ${(e as Error).message}`);
    });
    await store.close();
  }
}
