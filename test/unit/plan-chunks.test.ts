// planChunks: record-aligned chunks covering exactly the data region, from the file alone.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type ChunkPlan, type PlanInput, planChunks } from '../../src/plan/chunks.js';
import { BigprocError } from '../../src/errors.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function plan(p: Partial<PlanInput> & Pick<PlanInput, 'fileSize' | 'recordSize' | 'chunkSize'>): ChunkPlan {
  return planChunks({ headerBytes: 0, allowPartial: false, fileLabel: 'data.bin', ...p });
}

function thrown(fn: () => unknown): BigprocError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BigprocError);
    return e as BigprocError;
  }
  throw new Error('expected a BigprocError, nothing was thrown');
}

/** Every structural invariant of a plan, checked independently of how it was built. */
function checkPlan(input: PlanInput, p: ChunkPlan): void {
  const { fileSize, headerBytes, recordSize, chunkSize } = input;
  const region = fileSize - headerBytes;
  expect(p.recordSize).toBe(recordSize);
  expect(p.headerBytes).toBe(headerBytes);
  expect(p.records * recordSize + p.trailingBytes).toBe(region);
  expect(p.trailingBytes).toBeGreaterThanOrEqual(0);
  expect(p.trailingBytes).toBeLessThan(recordSize);
  expect(p.dataBytes).toBe(p.records * recordSize);
  if (!input.allowPartial) expect(p.trailingBytes).toBe(0);
  // recordsPerChunk: the most whole records that fit in chunkSize, at least one
  expect(Number.isInteger(p.recordsPerChunk)).toBe(true);
  expect(p.recordsPerChunk).toBeGreaterThanOrEqual(1);
  if (recordSize <= chunkSize) {
    expect(p.recordsPerChunk * recordSize).toBeLessThanOrEqual(chunkSize);
    expect((p.recordsPerChunk + 1) * recordSize).toBeGreaterThan(chunkSize);
  } else {
    expect(p.recordsPerChunk).toBe(1);
  }
  // chunks tile [headerBytes, headerBytes + dataBytes) in order, record-aligned (plain checks: fast
  // enough for thousands of chunks per property run)
  let offset = headerBytes;
  let first = 0;
  p.chunks.forEach((c, i) => {
    const bad = (what: string) => {
      throw new Error(`chunk ${i} of ${p.chunks.length}: ${what} in ${JSON.stringify(c)} for ${JSON.stringify(input)}`);
    };
    if (c.index !== i) bad('index');
    if (c.offset !== offset) bad(`offset (expected ${offset})`);
    if (c.firstRecord !== first) bad(`firstRecord (expected ${first})`);
    if ((c.offset - headerBytes) % recordSize !== 0) bad('not record-aligned');
    if (!(c.records > 0)) bad('empty chunk');
    if (c.bytes !== c.records * recordSize) bad('bytes');
    if (i < p.chunks.length - 1 ? c.records !== p.recordsPerChunk : c.records > p.recordsPerChunk) bad('records');
    offset += c.bytes;
    first += c.records;
  });
  expect(first).toBe(p.records);
  expect(offset).toBe(headerBytes + p.dataBytes);
  expect(p.chunks.length).toBe(Math.ceil(p.records / p.recordsPerChunk));
}

describe('planChunks: examples', () => {
  it('splits 10 records of 24 bytes into chunks of 4,4,2 for a 100-byte chunk size', () => {
    const p = plan({ fileSize: 240, recordSize: 24, chunkSize: 100 });
    expect(p.records).toBe(10);
    expect(p.recordsPerChunk).toBe(4);
    expect(p.chunks).toEqual([
      { index: 0, offset: 0, firstRecord: 0, records: 4, bytes: 96 },
      { index: 1, offset: 96, firstRecord: 4, records: 4, bytes: 96 },
      { index: 2, offset: 192, firstRecord: 8, records: 2, bytes: 48 },
    ]);
    expect(p.trailingBytes).toBe(0);
    expect(p.dataBytes).toBe(240);
  });

  it('starts after the header', () => {
    const p = plan({ fileSize: 128 + 80, headerBytes: 128, recordSize: 8, chunkSize: 32 });
    expect(p.records).toBe(10);
    expect(p.chunks.map((c) => [c.offset, c.records])).toEqual([
      [128, 4],
      [160, 4],
      [192, 2],
    ]);
  });

  it('an exact multiple gives equal chunks', () => {
    const p = plan({ fileSize: 64, recordSize: 4, chunkSize: 16 });
    expect(p.chunks.map((c) => c.records)).toEqual([4, 4, 4, 4]);
  });

  it('an empty file (or a header-only file) has no chunks', () => {
    for (const p of [
      plan({ fileSize: 0, recordSize: 24, chunkSize: 64 * MiB }),
      plan({ fileSize: 128, headerBytes: 128, recordSize: 24, chunkSize: 64 * MiB }),
    ]) {
      expect(p.records).toBe(0);
      expect(p.dataBytes).toBe(0);
      expect(p.trailingBytes).toBe(0);
      expect(p.chunks).toEqual([]);
    }
  });

  it('a record larger than the chunk size gives one record per chunk', () => {
    const p = plan({ fileSize: 3 * 1000, recordSize: 1000, chunkSize: 100 });
    expect(p.recordsPerChunk).toBe(1);
    expect(p.chunks.map((c) => [c.offset, c.records, c.bytes])).toEqual([
      [0, 1, 1000],
      [1000, 1, 1000],
      [2000, 1, 1000],
    ]);
  });

  it('a chunk size not a multiple of the record size is rounded down to whole records', () => {
    const p = plan({ fileSize: 24 * 1000, recordSize: 24, chunkSize: 64 * MiB });
    expect(p.recordsPerChunk).toBe(Math.floor((64 * MiB) / 24));
    expect(p.chunks).toHaveLength(1);
    expect(p.chunks[0]!.records).toBe(1000);
    const q = plan({ fileSize: 24 * 10, recordSize: 24, chunkSize: 47 });
    expect(q.recordsPerChunk).toBe(1);
    expect(q.chunks).toHaveLength(10);
  });

  it('a trailing partial record is a usage error (exit 2) naming the trailing byte count', () => {
    const err = thrown(() => plan({ fileSize: 24 * 10 + 7, recordSize: 24, chunkSize: 100, fileLabel: 'ticks.bin' }));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/\b7 trailing bytes\b/);
    expect(err.message).toContain('ticks.bin');
    expect(err.message).toContain('--allow-partial');
    // with a header, the trailing count is of the data region
    const err2 = thrown(() => plan({ fileSize: 100 + 24 * 3 + 23, headerBytes: 100, recordSize: 24, chunkSize: 1000 }));
    expect(err2.exitCode).toBe(2);
    expect(err2.message).toMatch(/\b23 trailing bytes\b/);
    // a file smaller than one record
    const err3 = thrown(() => plan({ fileSize: 5, recordSize: 8, chunkSize: 1000 }));
    expect(err3.message).toMatch(/\b5 trailing bytes\b/);
  });

  it('allowPartial processes the whole records and reports trailingBytes', () => {
    const p = plan({ fileSize: 24 * 10 + 7, recordSize: 24, chunkSize: 100, allowPartial: true });
    expect(p.records).toBe(10);
    expect(p.trailingBytes).toBe(7);
    expect(p.dataBytes).toBe(240);
    const last = p.chunks[p.chunks.length - 1]!;
    expect(last.offset + last.bytes).toBe(240);
    const small = plan({ fileSize: 5, recordSize: 8, chunkSize: 1000, allowPartial: true });
    expect(small.records).toBe(0);
    expect(small.trailingBytes).toBe(5);
    expect(small.chunks).toEqual([]);
  });

  it('a file shorter than its header is a usage error', () => {
    const err = thrown(() =>
      plan({ fileSize: 10, headerBytes: 128, recordSize: 8, chunkSize: 64, fileLabel: 'x.npy' }),
    );
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('x.npy');
    expect(err.message).toContain('128');
  });

  it('handles files beyond 4 GiB exactly (offsets above 2^32)', () => {
    const recordSize = 24;
    const records = Math.floor((5 * GiB) / recordSize); // 223696213 records
    const fileSize = 128 + records * recordSize;
    const input: PlanInput = {
      fileSize,
      headerBytes: 128,
      recordSize,
      chunkSize: 64 * MiB,
      allowPartial: false,
      fileLabel: 'big',
    };
    const p = planChunks(input);
    expect(p.records).toBe(records);
    expect(p.recordsPerChunk).toBe(2796202);
    expect(p.chunks).toHaveLength(Math.ceil(records / 2796202));
    checkPlan(input, p);
    const last = p.chunks[p.chunks.length - 1]!;
    expect(last.offset).toBeGreaterThan(2 ** 32);
    expect(last.offset + last.bytes).toBe(fileSize);
  });

  it('handles a 1 TiB file with a 1 GiB chunk size and a 17-byte trailing remainder', () => {
    const fileSize = 2 ** 40 + 17;
    const err = thrown(() => plan({ fileSize, recordSize: 32, chunkSize: GiB }));
    expect(err.message).toMatch(/\b17 trailing bytes\b/);
    const input: PlanInput = {
      fileSize,
      headerBytes: 0,
      recordSize: 32,
      chunkSize: GiB,
      allowPartial: true,
      fileLabel: 'tb',
    };
    const p = planChunks(input);
    expect(p.records).toBe(2 ** 35);
    expect(p.trailingBytes).toBe(17);
    expect(p.chunks).toHaveLength(1024);
    expect(p.chunks[1023]!.offset).toBe(1023 * GiB);
    checkPlan(input, p);
  });

  it('files of 2^52 bytes: numbers stay exact', () => {
    const recordSize = 4096;
    const fileSize = 2 ** 52;
    const chunkSize = 2 ** 42; // 1024 chunks
    const input: PlanInput = {
      fileSize,
      headerBytes: 0,
      recordSize,
      chunkSize,
      allowPartial: false,
      fileLabel: 'huge',
    };
    const p = planChunks(input);
    expect(p.records).toBe(2 ** 40);
    expect(p.chunks).toHaveLength(1024);
    checkPlan(input, p);
  });
});

describe('planChunks: properties', () => {
  // Inputs with at most ~2000 chunks so a run stays fast; sizes up to 2^50 bytes.
  const inputs = fc
    .record({
      recordSize: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 1 << 20 })),
      headerBytes: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 4096 })),
      records: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 2 ** 29 })),
      trailing: fc.nat(),
      chunkDiv: fc.integer({ min: 1, max: 2000 }),
      chunkJitter: fc.integer({ min: -3, max: 3 }),
      allowPartial: fc.boolean(),
    })
    .map((r) => {
      const trailing = r.trailing % r.recordSize;
      const fileSize = r.headerBytes + r.records * r.recordSize + trailing;
      const chunkSize = Math.max(1, Math.ceil((r.records * r.recordSize) / r.chunkDiv) + r.chunkJitter);
      return {
        fileSize,
        headerBytes: r.headerBytes,
        recordSize: r.recordSize,
        chunkSize,
        allowPartial: r.allowPartial,
        fileLabel: 'f',
        trailing,
        records: r.records,
      };
    });

  it('chunks are record-aligned and tile exactly the data region', () => {
    fc.assert(
      fc.property(inputs, (inp) => {
        const { trailing, records, ...input } = inp;
        if (trailing !== 0 && !input.allowPartial) {
          const err = thrown(() => planChunks(input));
          expect(err.exitCode).toBe(2);
          expect(err.message).toContain(`${trailing} trailing bytes`);
          return;
        }
        const p = planChunks(input);
        expect(p.records).toBe(records);
        expect(p.trailingBytes).toBe(trailing);
        checkPlan(input, p);
      }),
      { numRuns: 300 },
    );
  });

  it('the plan depends only on (fileSize, headerBytes, recordSize, chunkSize)', () => {
    fc.assert(
      fc.property(inputs, fc.string(), (inp, label) => {
        const { trailing: _t, records: _r, ...input } = inp;
        const a = planChunks({ ...input, allowPartial: true });
        const b = planChunks({ ...input, allowPartial: true, fileLabel: label });
        expect(b).toEqual(a);
        if (input.fileSize - input.headerBytes === a.dataBytes) {
          // no trailing bytes: allowPartial makes no difference either
          expect(planChunks({ ...input, allowPartial: false, fileLabel: label })).toEqual(a);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('any chunk size within the same whole-record count gives the same plan', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 99 }),
        (recordSize, records, perChunk, extra) => {
          const base = {
            fileSize: records * recordSize,
            headerBytes: 0,
            recordSize,
            allowPartial: false,
            fileLabel: 'f',
          };
          const a = planChunks({ ...base, chunkSize: perChunk * recordSize });
          const b = planChunks({ ...base, chunkSize: perChunk * recordSize + (extra % recordSize) });
          expect(b).toEqual(a);
          expect(a.recordsPerChunk).toBe(perChunk);
        },
      ),
      { numRuns: 200 },
    );
  });
});
