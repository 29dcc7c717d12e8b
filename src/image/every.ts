// --every N on a chunk of frames: which of them the output keeps (frames 0, N, 2N… of the file), and,
// for a GPU device, the kept frames packed together so it runs an ordinary chain over just those.
import type { GpuChunk } from '../gpu/device.js';

/** The frames of a chunk that --every keeps: their places in the chunk. */
export function keptInChunk(every: number, records: number, firstRecord: number | undefined): number[] {
  if (every === 1) return Array.from({ length: records }, (_, i) => i);
  if (firstRecord === undefined) throw new Error("internal: --every needs the chunk's first frame number");
  const kept: number[] = [];
  for (let i = (every - (firstRecord % every)) % every; i < records; i += every) kept.push(i);
  return kept;
}

/**
 * A GPU chunk of an image run writing 1 frame in N: only the kept frames, packed, as a run with no
 * --every (the GPU computes N times less); the partial still counts every frame of the chunk, as the
 * CPU paths' do. Any other chunk is returned as it is.
 */
export function keptFramesChunk(c: GpuChunk): { chunk: GpuChunk; frames: number } | null {
  // an image op's spec (op.ts ImageSpec), of which only `every` matters here
  const spec = c.spec as { every: number };
  if (c.op !== 'image' || !c.wantOutput || !(spec.every > 1)) return null;
  const kept = keptInChunk(spec.every, c.records, c.firstRecord);
  const bytes = new Uint8Array(kept.length * c.recordSize);
  for (const [k, i] of kept.entries())
    bytes.set(c.bytes.subarray(i * c.recordSize, (i + 1) * c.recordSize), k * c.recordSize);
  return { chunk: { ...c, spec: { ...spec, every: 1 }, bytes, records: kept.length }, frames: c.records };
}
