// Shards are runs of whole chunks computed from the plan alone; static parts cover every chunk once.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planChunks } from '../../src/plan/chunks.js';
import { chunksPerShard, shardAt, shardCount, staticRange } from '../../src/plan/shards.js';

const plan = (records: number, recordSize: number, chunkSize: number) =>
  planChunks({
    fileSize: records * recordSize + 16,
    headerBytes: 16,
    recordSize,
    chunkSize,
    allowPartial: false,
    fileLabel: 'f',
  });

describe('shard plan', () => {
  it('shards tile the chunks in order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 20 }),
        (records, rs, chunk, mult) => {
          const p = plan(records, rs, chunk);
          const per = chunksPerShard(p, p.recordsPerChunk * rs * mult);
          expect(per).toBe(mult);
          const n = shardCount(p, per);
          let next = 0;
          let recs = 0;
          for (let i = 0; i < n; i++) {
            const s = shardAt(p, per, i);
            expect(s.firstChunk).toBe(next);
            next += s.chunks;
            recs += s.records;
            if (s.chunks > 0) expect(s.offset).toBe(p.chunks[s.firstChunk]!.offset);
          }
          expect(next).toBe(p.chunks.length);
          expect(recs).toBe(records);
        },
      ),
    );
  });

  it('a shard smaller than a chunk is a usage error', () => {
    const p = plan(1000, 8, 1024);
    expect(() => chunksPerShard(p, 512)).toThrow(/--shard-size 512 is smaller than one chunk \(1024 bytes\)/);
  });

  it('static parts are contiguous, cover every chunk once and differ by at most one chunk', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 50 }), (records, count) => {
        const p = plan(records, 4, 64);
        let next = 0;
        const sizes: number[] = [];
        for (let i = 0; i < count; i++) {
          const r = staticRange(p, i, count);
          expect(r.firstChunk).toBe(next);
          next += r.chunks;
          sizes.push(r.chunks);
        }
        expect(next).toBe(p.chunks.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });
});
