// The runner for a run's main pass when a GPU was asked for (or auto may pick one): the GPU runner
// over the device gpu/select.ts opens, or null when the CPU runs the pass as usual.
import { closeSync, openSync, readSync } from 'node:fs';
import type { GpuRequest } from '../cli/backend.js';
import type { CpuBackend } from '../engine/protocol.js';
import type { ChunkPlan } from '../plan/chunks.js';
import { gpuRunner, type GpuRunner } from './runner.js';
import { selectGpu } from './select.js';
import { gpuRuns, SAMPLE_BYTES } from './auto.js';

export interface GpuPassInput {
  gpu: GpuRequest;
  op: string;
  spec: unknown;
  file: string;
  plan: ChunkPlan;
  /** a pipe: no sample to calibrate on (auto then stays on the CPU) */
  stream: boolean;
  cpu: CpuBackend;
  threads: number;
  wantOutput: boolean;
  warn: (line: string) => void;
}

/** Up to `max` bytes of whole records from the start of the data, for auto's calibration. */
function sampleOf(file: string, plan: ChunkPlan, max: number): Uint8Array {
  const first = plan.chunks[0];
  if (!first) return new Uint8Array(0);
  const want = Math.min(plan.dataBytes, Math.max(plan.recordSize, max - (max % plan.recordSize)));
  const buf = new Uint8Array(want);
  const fd = openSync(file, 'r');
  try {
    let got = 0;
    while (got < want) {
      const n = readSync(fd, buf, got, want - got, first.offset + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got - (got % plan.recordSize));
  } finally {
    closeSync(fd);
  }
}

/**
 * pre: a pre-pass (hist's range pass, minmax): it runs on the GPU asked for only where that has a
 * kernel for it and this spec (gpu.js refuses i64) — else on the CPU, silently: the main pass's op is
 * what --backend names, and refuses in its own words.
 */
export async function gpuPassRunner(i: GpuPassInput, pre = false): Promise<GpuRunner | null> {
  if (!i.gpu.explicit && (i.stream || i.plan.chunks.length === 0)) return null;
  if (pre && (i.stream || i.plan.chunks.length === 0 || !gpuRuns(i.gpu.kind, i.op))) return null;
  const sel = await selectGpu(
    i.gpu,
    {
      op: i.op,
      spec: i.spec,
      recordSize: i.plan.recordSize,
      sample: () => sampleOf(i.file, i.plan, SAMPLE_BYTES),
      cpu: i.cpu,
      threads: i.threads,
      wantOutput: i.wantOutput,
      warn: i.warn,
    },
    pre,
  );
  return sel ? gpuRunner(sel.device, i.cpu, i.warn, sel.openFailure) : null;
}
