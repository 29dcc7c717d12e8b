// What a run shared between hosts (or split into static parts) is for: the run's descriptor, which
// every host compares with its own (checkSameRun), built from what the hosts share.
import { resolve } from 'node:path';
import { Option } from 'commander';
import type { Layout } from '../layout/types.js';
import type { ChunkPlan } from '../plan/chunks.js';
import type { AnyOp, OpOptions } from '../ops/types.js';
import type { CpuBackend } from '../engine/protocol.js';
import type { RunDescriptor } from '../manifest/types.js';
import { defaultRunId, fileIdentity } from '../manifest/identity.js';
import { layoutToJson } from '../layout/resolve.js';
import { usage } from '../errors.js';
import { encodePartial } from './partial-codec.js';
import { outKind } from './parts.js';

/** What a sharded run shares with every other host: the file, the op and its options, the plans. */
export interface ShardContext {
  file: string;
  layout: Layout;
  plan: ChunkPlan;
  identity: { size: number; mtimeMs: number };
  op: AnyOp;
  options: OpOptions;
  backend: CpuBackend;
  backendDetail?: string;
  workers: number;
  out?: string;
  json: boolean;
  quiet: boolean;
  allowPartial: boolean;
}

/** The op's spec, prepared once here: an op that needs a pre-pass over the whole file cannot share one. */
export async function prepareSpec(ctx: ShardContext, how: string): Promise<unknown> {
  return ctx.op.prepare(ctx.options, ctx.layout, (name) => {
    throw usage(
      `--op ${ctx.op.name} needs a first pass over the whole file (${name}), which ${how} cannot share: give the missing option (e.g. --range for hist)`,
    );
  });
}

/** The op's own flags with the values given, as typed on a command line (for messages only). */
function opArgs(op: AnyOp, options: OpOptions): string {
  const given = (op.flags ?? [])
    .map((f) => new Option(f.flags))
    .filter((o) => options[o.attributeName()] !== undefined && options[o.attributeName()] !== false);
  return (
    given
      .map((o) => (o.isBoolean() ? o.long! : `${o.long} ${JSON.stringify(String(options[o.attributeName()]))}`))
      .join(' ') || '(no options)'
  );
}

export function descriptor(
  ctx: ShardContext,
  spec: unknown,
  perShard: number,
  shards: number,
  runId: string | undefined,
): RunDescriptor {
  const base: Omit<RunDescriptor, 'run_id'> = {
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
