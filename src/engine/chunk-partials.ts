// What a shard (a host's share of a multi-host run, or a static part) hands over for the final merge,
// and that merge. A single host folds its chunks' partials left to right: ((c0 + c1) + c2) + c3. For
// an op whose merge is associative (every built-in op: exact integer sums, counts, ordered lists)
// a shard may merge its own chunks first and hand over one partial: (c0 + c1) + (c2 + c3) is the same
// value. A user's kernel may add floats, where it is not: such a shard hands over its chunks'
// partials as a list, and the final merge folds every chunk in file order, so the result is the same,
// bit for bit, whatever the number of hosts, parts or shards.
import type { AnyOp } from '../ops/types.js';

/** Whether a shard of this op hands over its chunks' partials (a list) rather than their merge. */
export function keepsChunks(op: AnyOp): boolean {
  return op.foldsEveryChunk === true;
}

/** Fold one shard's hand-over (in shard order) into the accumulated partial. */
export function mergeShard(op: AnyOp, spec: unknown, acc: unknown, shard: unknown): unknown {
  if (!keepsChunks(op)) return op.merge(spec, acc, shard);
  if (!Array.isArray(shard)) throw new Error(`internal: a shard of --op ${op.name} should hand over a list of chunk partials`);
  for (const chunk of shard) acc = op.merge(spec, acc, chunk);
  return acc;
}
