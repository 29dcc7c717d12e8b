// What a shard hands over for the final merge, and that merge: every chunk in file order for an op
// whose merge may not be associative, refusing a hand-over of the other format.
import { describe, expect, it } from 'vitest';
import { foldShard, handOver, keepsChunks } from '../../src/cluster/chunk-partials.js';
import { localFold } from '../../src/engine/fold.js';
import type { AnyOp } from '../../src/ops/types.js';

// merge as a polynomial hash: not associative, so the fold order shows in the result
const hashOp = (folds: boolean) =>
  ({
    name: 'h',
    init: () => 0,
    merge: (_s: unknown, a: number, b: number) => a * 31 + b,
    ...(folds ? { foldsEveryChunk: () => true } : {}),
  }) as unknown as AnyOp;

describe('chunk partials', () => {
  it("an op that folds every chunk: the shards' lists fold to the single-host value", async () => {
    const op = hashOp(true);
    const chunks = [3, 1, 4, 1, 5, 9, 2, 6];
    const single = chunks.reduce((a, c) => a * 31 + c, 0);
    const fold = localFold(op, null);
    for (const shard of [chunks.slice(0, 3), chunks.slice(3, 5), chunks.slice(5)])
      foldShard(fold, op, null, handOver(op, null, shard));
    expect(await fold.state()).toBe(single);
    expect(keepsChunks(op, null)).toBe(true);
    expect(keepsChunks(hashOp(false), null)).toBe(false);
  });

  it('a merged partial where a list of chunk partials belongs is refused, not misread', () => {
    expect(() => foldShard(localFold(hashOp(true), null), hashOp(true), null, 42)).toThrow(
      /handed over a merged partial, not its chunks' partials/,
    );
    expect(() => foldShard(localFold(hashOp(true), null), hashOp(true), null, [1, 2])).toThrow(
      /handed over a merged partial, not its chunks' partials/,
    );
  });
});
