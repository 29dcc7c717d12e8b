// `bigproc run --manifest`: join (or create) the run in the manifest, run this host's part of it
// (ShardHost) and print what this host saw: the result where it merged or found the run complete,
// else its share.
import type { ManifestArgs } from '../config/run-args.js';
import type { RunDescriptor, ShardRow } from '../manifest/types.js';
import { openStore } from '../manifest/open.js';
import { checkSameRun, runHash } from '../manifest/identity.js';
import { chunksPerShard, shardCount } from '../plan/shards.js';
import { layoutToJson } from '../layout/resolve.js';
import { formatSummary } from '../report/summary.js';
import { BigprocError, EXIT } from '../errors.js';
import { redact } from '../redact.js';
import { checkOutputDir } from './parts.js';
import { descriptor, prepareSpec, type ShardContext } from './descriptor.js';
import { owner } from './owner.js';
import { runSharded, type ShardedOutcome } from './shard-host.js';
import { stopOnSignals } from './stop-signals.js';

function failedMessage(failed: ShardRow[]): string {
  const list = failed
    .slice(0, 5)
    .map((r) => `shard ${r.shard} (${r.attempts} attempts): ${r.last_error ?? 'unknown error'}`)
    .join('; ');
  return `${failed.length} shard${failed.length === 1 ? '' : 's'} failed after the last attempt — ${list}${failed.length > 5 ? '; …' : ''} (bigproc retry resets them)`;
}

export async function manifestRun(ctx: ShardContext, args: ManifestArgs): Promise<void> {
  const perShard = chunksPerShard(ctx.plan, args.shardSize);
  const spec = await prepareSpec(ctx, '--manifest');
  const desc = descriptor(ctx, spec, perShard, shardCount(ctx.plan, perShard), args.runId);
  // log lines can quote a store's errors, which can quote its URL: masked like every message
  const log = ctx.quiet ? () => {} : (line: string) => process.stderr.write(`${redact(line)}\n`);
  // before the run is created: a directory holding another run's output is refused up front
  const outOwner = { run_id: desc.run_id, fingerprint: runHash(desc).slice(0, 32) };
  if (ctx.out) checkOutputDir(ctx.out, outOwner);

  const store = await openStore(args.url);
  const me = owner();
  const { stop, signal, release } = stopOnSignals(log, args.graceMs);
  try {
    const run = store.run(desc.run_id);
    const { created, stored } = await run.open(desc, me);
    checkSameRun(stored, desc);
    log(`${created ? 'created' : 'joined'} run ${desc.run_id} in ${store.url} (${desc.shards} shards)`);
    const outcome = await runSharded({
      file: ctx.file,
      layout: ctx.layout,
      plan: ctx.plan,
      op: ctx.op,
      spec,
      backend: ctx.backend,
      backendDetail: ctx.backendDetail,
      workers: ctx.workers,
      out: ctx.out,
      outOwner,
      identity: ctx.identity,
      run,
      owner: me,
      perShard,
      leaseMs: args.leaseMs,
      maxAttempts: args.maxAttempts,
      backoffMs: args.backoffMs,
      graceMs: args.graceMs,
      stop,
      log,
    });
    report(ctx, desc, spec, outcome);
    if (outcome.failed.length > 0) throw new BigprocError(failedMessage(outcome.failed), EXIT.partial);
    // Ctrl-C stops gracefully too, but the run was still interrupted (SIGTERM is an orderly stop: 0).
    if (outcome.stopped && signal() === 'SIGINT')
      throw new BigprocError(
        'interrupted (SIGINT): the shards in hand were finished or released; run again to continue',
        EXIT.interrupted,
      );
  } finally {
    release();
    await store.close();
  }
}

/**
 * A host that merged prints the result; so does one that arrives after the run is complete and had
 * nothing left to do (a cron job re-run). The others print their share.
 */
function report(ctx: ShardContext, desc: RunDescriptor, spec: unknown, outcome: ShardedOutcome): void {
  const share = { ...outcome.share, of: desc.shards };
  const showResult = outcome.result !== null && (outcome.merged || outcome.share.shards === 0);
  if (showResult) {
    const result = outcome.result as Record<string, unknown>;
    const trailing = ctx.plan.trailingBytes;
    if (trailing && typeof result === 'object' && result) result.trailing_bytes = trailing;
    if (ctx.json) {
      process.stdout.write(
        `${JSON.stringify({ op: ctx.op.name, file: ctx.file, run_id: desc.run_id, layout: layoutToJson(ctx.layout), result, metrics: outcome.metrics, share })}\n`,
      );
    } else {
      process.stdout.write(`${ctx.op.format(spec, result)}\n`);
      if (!ctx.quiet)
        process.stderr.write(
          `${formatSummary(outcome.metrics, ctx.out)} | run ${desc.run_id}: ${share.shards}/${desc.shards} shards here${outcome.merged ? ', merged here' : ''}\n`,
        );
    }
  } else if (ctx.json) {
    process.stdout.write(
      `${JSON.stringify({ op: ctx.op.name, run_id: desc.run_id, share, result: null, metrics: outcome.metrics, ...(outcome.stopped ? { stopped: true } : {}) })}\n`,
    );
  } else {
    const state = outcome.stopped
      ? 'stopped before the run finished'
      : outcome.failed.length
        ? 'run finished with failed shards'
        : 'another host merged the result';
    process.stdout.write(
      `run ${desc.run_id}: ${share.shards} of ${desc.shards} shards committed here (${share.records} records); ${state}\n`,
    );
  }
}
