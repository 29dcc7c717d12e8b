// `bigproc run`: flags → validated request → engine → report.
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { getOp, OPS } from '../ops/registry.js';
import { isStreamInput, openInput, openStream } from './input.js';
import { StreamFeed } from '../engine/stream.js';
import type { ChunkPlan } from '../plan/chunks.js';
import type { Layout } from '../layout/types.js';
import { chooseBackend, type BackendChoice } from './backend.js';
import { Control } from '../engine/control.js';
import { runJob } from '../engine/run.js';
import { keepsChunks } from '../cluster/chunk-partials.js';
import { createProgress } from '../report/progress.js';
import { layoutToJson } from '../layout/resolve.js';
import { formatSummary } from '../report/summary.js';
import { onInterrupt } from '../engine/signals.js';
import { usage } from '../errors.js';
import { readFileId, resolveOutTarget, type OutTarget, type ReadFile } from '../engine/out-target.js';
import { DEFAULT_CONFIG } from '../config/file.js';
import type { AnyOp } from '../ops/types.js';
import { guardOpFlags } from './op-flags.js';
import { installOpSettings } from './op-settings.js';
import { defineShardOptions } from './run-sharded.js';
import {
  isStaticPart,
  resolveExclusiveArgs,
  resolveManifestArgs,
  resolvePartArgs,
  resolveRunArgs,
  type RunArgs,
  type RunFlags,
} from '../config/run-args.js';
import type { ShardContext } from '../cluster/descriptor.js';

export function addLayoutOptions(cmd: Command): Command {
  return cmd
    .option(
      '--schema <spec>',
      "record layout: 'ts:i64,price:f64,…' (types i8…u64 f32 f64 bytes<N> pad<N>, leading > for big-endian) or @layout.json",
    )
    .option('--record-size <n>', 'opaque records of N bytes (or trailing padding after --schema)')
    .option('--header-bytes <n>', 'bytes to skip at the start of the file')
    .option('--frame <WxHxC>', 'records are W×H images with C channels (1, 3 or 4) of u8');
}

export function registerRun(program: Command): void {
  const cmd = program.command('run').description('scan a file of fixed-size records in parallel and print a result');
  defineRunOptions(cmd);
  cmd.action(async (flags: RunFlags) => {
    await runCommand(flags);
  });
}

/** The options of `run` (also shown by `bigproc config`). */
export function defineRunOptions(cmd: Command): void {
  cmd.option('--file <path>', 'the input file (an .npy needs no layout options)');
  addLayoutOptions(cmd)
    .option('--allow-partial', 'process the whole records of a file that ends in a partial one')
    .option('--op <name>', `what to compute: ${Object.keys(OPS).join(', ')}`, 'stats')
    .option('--out <path>', 'write the records an op produces here (atomically); - for stdout')
    .option('--workers <n>', 'worker threads', String(availableParallelism()))
    .option('--backend <name>', 'kernels: auto, native or js', 'auto')
    .option('--chunk-size <size>', 'bytes per chunk, rounded down to whole records', '64MiB')
    .option(
      '--max-memory <size>',
      'bound the records in flight (input + output bytes): smaller chunks, not more memory',
    )
    .option('--json', 'print one JSON document')
    .option('-q, --quiet', 'no progress bar and no summary on stderr')
    .option('--config <path>', `settings file (default ./bigproc.config.json when present)`);
  defineShardOptions(cmd);
  // Each op declares its own flags; one flag may serve several ops.
  const seen = new Set<string>();
  for (const op of Object.values(OPS)) {
    for (const f of op.flags ?? []) {
      if (seen.has(f.flags)) continue;
      seen.add(f.flags);
      cmd.option(f.flags, f.description);
    }
  }
  installOpSettings(cmd); // the settings file's per-op sections (run.ops.<op>), once the op is known
  guardOpFlags(cmd); // flags the chosen op (or run kind) would ignore are errors
}

export async function runCommand(flags: RunFlags): Promise<void> {
  const args = resolveRunArgs(flags);
  const exclusive = resolveExclusiveArgs(flags);
  if (!exclusive) return runMain(args);
  // Manifest and shard code (and the node:crypto it loads, ~5 ms) only for the runs that use them.
  const { withExclusive } = await import('../cluster/exclusive.js');
  return withExclusive({ ...exclusive, manifest: flags.manifest }, () => runMain(args));
}

/** The input as planned: a mapped file's chunk plan, or a pipe's feed. */
interface PlannedInput {
  file: string;
  layout: Layout;
  plan: ChunkPlan;
  identity?: { size: number; mtimeMs: number };
  stream?: StreamFeed;
}

async function runMain(args: RunArgs): Promise<void> {
  const { flags } = args;
  const op = getOp(args.op);
  if (args.out !== undefined && !op.writesRecords)
    throw usage(
      `--out is not supported by --op ${op.name} (only by: ${Object.values(OPS)
        .filter((o) => o.writesRecords)
        .map((o) => o.name)
        .join(', ')})`,
    );
  const manifest = resolveManifestArgs(flags);
  const part = resolvePartArgs(flags);
  const input: PlannedInput = isStreamInput(args.file)
    ? await streamInput(args.file, args.layout, args.chunkSize, args.workers)
    : openInput(args.file, args.layout, args.chunkSize, args.allowPartial);
  const outTarget = args.out === undefined ? undefined : checkOut(flags, op);
  if (args.maxMemory !== undefined && (input.stream || manifest !== undefined || part !== undefined))
    throw usage(
      `--max-memory is for a run on one host over a file${input.stream ? ' (a pipe is read in blocks sized before the op is known: use --chunk-size)' : ' (a shared run plans its chunks for every host: use --chunk-size)'}`,
    );
  const warn = (line: string) => process.stderr.write(`${line}\n`);
  const { backend, detail, gpu } = chooseBackend(args.backend, warn, true, op.imageKernels === true);
  if (manifest === undefined && part === undefined)
    return runHere(args, op, input, { backend, detail, gpu }, outTarget);
  if (gpu?.explicit && manifest !== undefined)
    throw usage(`--backend ${gpu.kind} runs on one host: a --manifest run takes --backend auto, native or js`);
  if (input.stream)
    throw usage(
      `--file ${args.file} is a pipe, read once: ${manifest !== undefined ? '--manifest' : '--shard-index'} needs a file every host can map`,
    );
  const ctx: ShardContext = {
    file: input.file,
    layout: input.layout,
    plan: input.plan,
    identity: input.identity!,
    op,
    options: flags,
    backend,
    backendDetail: detail,
    workers: args.workers,
    out: args.out,
    json: args.json,
    quiet: args.quiet,
    allowPartial: args.allowPartial,
  };
  if (outTarget && outTarget.kind !== 'file' && outTarget.kind !== 'directory') {
    throw usage(
      `--out ${args.out === '-' ? '-' : JSON.stringify(args.out)} cannot be shared between hosts: give --out a path (a file, or a directory ending in /)`,
    );
  }
  if (manifest !== undefined) {
    const { manifestRun } = await import('../cluster/manifest-run.js');
    return manifestRun(ctx, manifest);
  }
  const { staticPartRun } = await import('../cluster/static-part.js');
  return staticPartRun(ctx, part!, (plan, spec, partOut) => runPart(args, ctx, plan, spec, partOut));
}

/** A static part's chunks, run as a single-host run that keeps its partial for `bigproc merge`. */
async function runPart(args: RunArgs, ctx: ShardContext, plan: ChunkPlan, spec: unknown, partOut: string | undefined) {
  const ctl = new Control();
  const release = onInterrupt(() => ctl.cancel());
  try {
    const o = await runJob({
      file: ctx.file,
      layout: ctx.layout,
      plan,
      op: ctx.op,
      backend: ctx.backend,
      backendDetail: ctx.backendDetail,
      workers: args.workers,
      out: partOut,
      ctl,
      progress: await createProgress(ctl, !args.quiet && !args.json),
      identity: ctx.identity,
      allowPartial: args.allowPartial,
      options: args.flags,
      spec,
      keepChunks: keepsChunks(ctx.op, spec),
      ...(args.backend === 'gpu' || args.backend === 'webgpu' ? { gpu: { kind: args.backend, explicit: true } } : {}),
    });
    return { partial: o.partial, metrics: o.metrics };
  } finally {
    release();
  }
}

/** A run on this host alone: the result on stdout (stderr when the records own stdout), the summary on stderr. */
async function runHere(
  args: RunArgs,
  op: AnyOp,
  input: PlannedInput,
  choice: BackendChoice,
  outTarget: OutTarget | undefined,
): Promise<void> {
  const ctl = new Control();
  const progress = await createProgress(ctl, !args.quiet && !args.json);
  const release = onInterrupt(() => {
    progress.stop();
    ctl.cancel();
  });
  try {
    const outcome = await runJob({
      file: input.file,
      layout: input.layout,
      plan: input.plan,
      op,
      backend: choice.backend,
      backendDetail: choice.detail,
      gpu: choice.gpu,
      workers: args.workers,
      out: args.out,
      ctl,
      progress,
      identity: input.identity,
      stream: input.stream,
      allowPartial: args.allowPartial,
      options: args.flags,
      maxMemory: args.maxMemory,
    });
    // With --out - the records own stdout, so the result goes to stderr.
    const recordsOnStdout = outTarget?.kind === 'fd' && outTarget.fd === 1;
    const resultStream = recordsOnStdout ? process.stderr : process.stdout;
    if (args.json) {
      const doc = {
        op: op.name,
        file: args.file,
        layout: layoutToJson(input.layout),
        result: outcome.result,
        metrics: outcome.metrics,
      };
      resultStream.write(`${JSON.stringify(doc)}\n`);
    } else if (!recordsOnStdout || !args.quiet) {
      resultStream.write(`${op.format(outcome.spec, outcome.result)}\n`);
      if (!args.quiet) process.stderr.write(`${formatSummary(outcome.metrics, args.out)}\n`);
    }
  } finally {
    release();
  }
}

/**
 * --out checked before any work: an empty path, a directory (unless the op or a manifest run writes
 * one), a block device, or any file the run reads is refused (see engine/out-target.ts).
 */
function checkOut(flags: RunFlags, op: AnyOp): OutTarget {
  const sharded = flags.manifest !== undefined || isStaticPart(flags);
  const directory = !!op.writesDirectory?.(flags) || (sharded && flags.out!.endsWith('/'));
  return resolveOutTarget(flags.out!, { directory, reads: filesReadBy(flags) });
}

/** Every file a run reads, by what the user called it: --out must be none of them. */
function filesReadBy(flags: RunFlags): ReadFile[] {
  const config = (flags.config as string | undefined) ?? process.env.BIGPROC_CONFIG ?? DEFAULT_CONFIG;
  const reads: [string, string | number | undefined][] = [
    ['--file', flags.file === '-' ? 0 : flags.file],
    ['the --schema file', flags.schema?.startsWith('@') ? flags.schema.slice(1) : undefined],
    ['--kernel', flags.kernel as string | undefined],
    ['--pipeline', flags.pipeline as string | undefined],
    ['--verify', flags.verify as string | undefined],
    ['the --config file', config],
    // an image chain's kernel files: --op 'convolve:@sharpen.txt|…'
    ...[...String(flags.op ?? '').matchAll(/convolve:@([^|]+)/g)].map((m): [string, string] => [
      'the convolve kernel file',
      m[1]!.trim(),
    ]),
  ];
  return reads.flatMap(([role, path]) => (path === undefined ? [] : (readFileId(role, path) ?? [])));
}

/** stdin or a FIFO: a feed of blocks instead of a chunk plan; the plan stub carries the record size. */
async function streamInput(
  file: string,
  layoutOpts: Parameters<typeof openStream>[1],
  chunkSize: number,
  workers: number,
) {
  const s = await openStream(file, layoutOpts, chunkSize);
  const recordSize = s.layout.recordSize;
  const plan: ChunkPlan = {
    recordSize,
    headerBytes: s.layout.headerBytes,
    records: 0,
    dataBytes: 0,
    trailingBytes: 0,
    recordsPerChunk: s.recordsPerChunk,
    chunks: [],
  };
  // Memory held: workers + 2 blocks of one chunk each.
  const stream = new StreamFeed(s.source, recordSize, s.recordsPerChunk * recordSize, workers + 2, s.prefix);
  return { file, layout: s.layout, plan, identity: undefined, stream };
}
