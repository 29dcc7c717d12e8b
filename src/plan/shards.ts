// Shards: runs of whole chunks, the unit a host claims in a multi-host run (or is given by a static
// --shard-index). Like the chunk plan they depend only on the file and the sizes, so every host
// computes the same shards and partials merge in the same order.
import type { ChunkPlan } from './chunks.js';
import { usage } from '../errors.js';

export interface Shard {
  index: number;
  firstChunk: number;
  /** chunks in this shard (the last shard may have fewer) */
  chunks: number;
  offset: number;
  records: number;
  bytes: number;
}

/** Chunks per shard for a --shard-size: at least one chunk. */
export function chunksPerShard(plan: ChunkPlan, shardSize: number): number {
  const chunkBytes = plan.recordsPerChunk * plan.recordSize;
  if (shardSize < chunkBytes && plan.chunks.length > 1) {
    throw usage(
      `--shard-size ${shardSize} is smaller than one chunk (${chunkBytes} bytes); give a larger --shard-size or a smaller --chunk-size`,
    );
  }
  return Math.max(1, Math.floor(shardSize / chunkBytes));
}

/** The shard covering chunks [index*perShard, …). */
export function shardAt(plan: ChunkPlan, perShard: number, index: number): Shard {
  const firstChunk = index * perShard;
  const last = Math.min(plan.chunks.length, firstChunk + perShard);
  const cs = plan.chunks.slice(firstChunk, last);
  return {
    index,
    firstChunk,
    chunks: cs.length,
    offset: cs[0]?.offset ?? plan.headerBytes,
    records: cs.reduce((s, c) => s + c.records, 0),
    bytes: cs.reduce((s, c) => s + c.bytes, 0),
  };
}

export function shardCount(plan: ChunkPlan, perShard: number): number {
  return Math.max(1, Math.ceil(plan.chunks.length / perShard));
}

/** Static sharding (--shard-index I --shard-count N): part I gets a contiguous run of chunks, sizes within one chunk of each other. */
export function staticRange(plan: ChunkPlan, index: number, count: number): { firstChunk: number; chunks: number } {
  const n = plan.chunks.length;
  const first = Math.floor((index * n) / count);
  const end = Math.floor(((index + 1) * n) / count);
  return { firstChunk: first, chunks: end - first };
}
