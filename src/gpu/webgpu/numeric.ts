// The numeric ops on WebGPU: which kernel a chunk of `hist`, `minmax`, `count` or `filter` needs, and how its
// batches' results become the op's partial (and filter's --out records, gathered on the CPU from the
// GPU's mask, in file order).
import type { HistPartial, HistSpec } from '../../ops/hist.js';
import type { MinMaxSpec } from '../../ops/minmax.js';
import type { FilterSpec } from '../../ops/filter.js';
import type { CountSpec } from '../../ops/count.js';
import type { ChunkResult } from '../../ops/types.js';
import type { GpuChunk } from '../device.js';
import type { BatchKernel, BatchRunner } from './batch-runner.js';
import { addHistCounts, histKernel } from './hist-kernel.js';
import { gatherMatches, whereKernel } from './where-kernel.js';
import { addMinMaxWords, emptyKeys, minmaxKernel, minmaxPartial } from './minmax-kernel.js';

export const NUMERIC_OPS = ['hist', 'minmax', 'count', 'filter'] as const;

/** The kernel for this chunk's op and spec at its record size (`localBytes`: the workgroup memory limit). */
export function numericKernel(chunk: GpuChunk, localBytes: number): BatchKernel {
  if (chunk.op === 'hist') return histKernel(chunk.spec as HistSpec, chunk.recordSize, localBytes);
  if (chunk.op === 'minmax') return minmaxKernel(chunk.spec as MinMaxSpec, chunk.recordSize);
  const program = (chunk.spec as FilterSpec | CountSpec).program;
  // count without --where reads no value: the kernel still runs (a constant), so the device stays honest
  return whereKernel(program ?? [{ op: 'const', value: false }], chunk.recordSize, chunk.wantOutput);
}

export async function runNumeric(runner: BatchRunner, chunk: GpuChunk): Promise<ChunkResult<unknown>> {
  const { bytes, records, recordSize } = chunk;
  if (chunk.op === 'hist') {
    const bins = (chunk.spec as HistSpec).bins;
    const p: HistPartial = { counts: new Array<number>(bins).fill(0), below: 0, above: 0, nan: 0 };
    await runner.run(bytes, records, recordSize, (words) => addHistCounts(p, words), chunk.maxBytes);
    return { partial: p };
  }
  if (chunk.op === 'minmax') {
    const spec = chunk.spec as MinMaxSpec;
    const keys = emptyKeys(spec);
    await runner.run(bytes, records, recordSize, (words, _first, n) => addMinMaxWords(keys, words, n));
    return { partial: minmaxPartial(spec, keys, records) };
  }
  let matched = 0;
  const out = chunk.wantOutput ? new Uint8Array(records * recordSize) : undefined;
  let at = 0;
  await runner.run(
    bytes,
    records,
    recordSize,
    (words, first, n) => {
      matched += words[0]!;
      if (out) at = gatherMatches(words, first, n, bytes, recordSize, out, at);
    },
    chunk.maxBytes,
  );
  if (chunk.op === 'count') return { partial: { records, matched } };
  return { partial: { matched }, output: out ? out.slice(0, at) : undefined };
}
