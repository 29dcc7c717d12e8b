// One static part of an array job (--shard-index I --shard-count N): its chunks only, run as a
// single-host run, printed as a JSON partial for `bigproc merge`.
import type { PartArgs } from '../config/run-args.js';
import type { ChunkPlan } from '../plan/chunks.js';
import { staticRange } from '../plan/shards.js';
import { encodePartial } from './partial-codec.js';
import { handOver } from './chunk-partials.js';
import { descriptor, prepareSpec, type ShardContext } from './descriptor.js';

/** The JSON document a part prints; `bigproc merge` reads it. */
export const PART_KIND = 'bigproc-partial';
export const PART_VERSION = 1;

/** Runs the part's chunks on this host: its merged partial (or its chunks' list) and metrics. */
export type RunPart = (
  plan: ChunkPlan,
  spec: unknown,
  out: string | undefined,
) => Promise<{ partial: unknown; metrics: unknown }>;

export async function staticPartRun(ctx: ShardContext, args: PartArgs, run: RunPart): Promise<void> {
  const { index, count } = args;
  const spec = await prepareSpec(ctx, 'static sharding');
  const desc = descriptor(ctx, spec, 0, count, 'static');
  const range = staticRange(ctx.plan, index, count);
  const chunks = ctx.plan.chunks
    .slice(range.firstChunk, range.firstChunk + range.chunks)
    .map((c, i) => ({ ...c, index: i }));
  const records = chunks.reduce((s, c) => s + c.records, 0);
  const sub: ChunkPlan = { ...ctx.plan, chunks, records, dataBytes: records * ctx.plan.recordSize };
  // Every part writes its own file, so parts of one array job never overwrite each other.
  const w = String(count - 1).length;
  const partOut = ctx.out ? `${ctx.out}.part-${String(index).padStart(w, '0')}-of-${count}` : undefined;
  const r = await run(sub, spec, partOut);
  const doc = {
    kind: PART_KIND,
    version: PART_VERSION,
    op: ctx.op.name,
    file: ctx.file,
    part: {
      index,
      count,
      first_chunk: range.firstChunk,
      chunks: range.chunks,
      records,
      bytes: sub.dataBytes,
      ...(partOut ? { out: partOut } : {}),
      // the file's bytes after its last whole record (--allow-partial): merge reports them as a run does
      ...(ctx.plan.trailingBytes ? { trailing_bytes: ctx.plan.trailingBytes } : {}),
    },
    descriptor: desc,
    // an op that folds every chunk hands over its chunks' list (see chunk-partials.ts)
    partial: JSON.parse(encodePartial(handOver(ctx.op, spec, r.partial))),
    metrics: r.metrics,
  };
  process.stdout.write(`${JSON.stringify(doc)}\n`);
}
