// What a shard (a host's share of a multi-host run, or a static part) hands over for the final merge,
// and that merge. A single host folds its chunks' partials left to right: ((c0 + c1) + c2) + c3. For
// an op whose merge is associative (every built-in op: exact integer sums, counts, ordered lists)
// a shard may merge its own chunks first and hand over one partial: (c0 + c1) + (c2 + c3) is the same
// value. A user's kernel may add floats, where it is not: such a shard hands over its chunks'
// partials as a list, and the final merge folds every chunk in file order, so the result is the same,
// bit for bit, whatever the number of hosts, parts or shards.
import type { AnyOp } from '../ops/types.js';
import { runtime } from '../errors.js';
import { openFold, type Fold } from '../engine/fold.js';

/** Whether a shard of this op hands over its chunks' partials (a list) rather than their merge. */
export function keepsChunks(op: AnyOp, spec: unknown): boolean {
  return op.foldsEveryChunk?.(spec) === true;
}

/** A shard's hand-over from its pass's partial (with keepChunks, the list of its chunks' partials). */
export function handOver(op: AnyOp, spec: unknown, partial: unknown): unknown {
  return keepsChunks(op, spec) ? { chunk_partials: partial } : partial;
}

/** Fold one shard's hand-over (in shard order) into `fold`: its merged partial, or each of its chunks' in order. */
export function foldShard(fold: Fold, op: AnyOp, spec: unknown, shard: unknown): void {
  if (!keepsChunks(op, spec)) {
    fold.add(shard);
    return;
  }
  const chunks = (shard as { chunk_partials?: unknown } | null)?.chunk_partials;
  if (!Array.isArray(chunks)) {
    throw runtime(
      `a shard of --op ${op.name} handed over a merged partial, not its chunks' partials: the manifest or part file holds data bigproc did not write`,
    );
  }
  for (const chunk of chunks) fold.add(chunk);
}

/** The op's result of every shard's hand-over, folded in shard order. */
export async function foldShards(op: AnyOp, spec: unknown, shards: Iterable<unknown>): Promise<unknown> {
  const fold = openFold(op, spec);
  try {
    for (const shard of shards) foldShard(fold, op, spec, shard);
    return await fold.result();
  } finally {
    fold.close();
  }
}
