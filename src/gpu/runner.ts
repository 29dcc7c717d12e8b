// The GPU runner: a TaskRunner (as engine/inline.ts) that runs a pass's chunks on a GPU device in the
// main thread, one chunk at a time (the device overlaps upload, compute and readback inside a chunk).
// Its circuit breaker: a device lost, a shader that does not compile, or FAILURE_LIMIT chunk failures
// in a row → one warning line, and from then on every chunk (the failed one included) runs on the CPU
// backend through an ordinary task host, so the result stays bit-identical to a CPU run. A single
// failure below the limit sends just that chunk to the CPU. usage() says what really ran.
import { openSync, readSync, closeSync } from 'node:fs';
import { createTaskHost } from '../engine/tasks.js';
import { turnQueue } from '../engine/turn-queue.js';
import { Control } from '../engine/control.js';
import type { ChunkDone, ChunkTask, Task, TaskRunner, CpuBackend } from '../engine/protocol.js';
import type { GpuChunk, GpuChunkShape, GpuDevice } from './device.js';
import type { ChunkResult } from '../ops/types.js';
import { keptFramesChunk } from '../image/every.js';
import { chunkFaults, faultPlan, GpuFault } from './fault.js';

/** Consecutive chunk failures that open the breaker. */
export const FAILURE_LIMIT = 3;

export interface BackendCount {
  chunks: number;
  bytes: number;
}

/** What really ran a pass's chunks, for metrics. */
export interface BackendUsage {
  gpu: BackendCount;
  cpu: BackendCount;
}

export interface GpuRunner extends TaskRunner {
  readonly kind: GpuDevice['kind'];
  readonly detail: string;
  usage(): BackendUsage;
  /**
   * --max-memory: the bytes the device's buffers need at their smallest for this pass's chunks; null
   * when the device cannot bound them, 0 when nothing will run there (the breaker is open).
   */
  memoryNeed(shape: GpuChunkShape): Promise<number | null>;
  /** The device's share of --max-memory, given to every chunk from now on (GpuChunk.maxBytes). */
  setDeviceBudget(bytes: number | undefined): void;
  /** The most bytes the device's buffers held at once. */
  devicePeak(): number;
}

/** One chunk on the device; an image run's --every sends it only the frames the output keeps. */
async function runOnDevice(device: GpuDevice, c: GpuChunk): Promise<ChunkResult<unknown>> {
  const kept = keptFramesChunk(c);
  if (!kept) return device.run(c);
  const res = await device.run(kept.chunk);
  return { partial: { frames: kept.frames, values: [] }, output: res.output };
}

/** The chunk's bytes: the pipe's block, or read with pread (a file cut short is an error, not a SIGBUS). */
function readChunk(t: ChunkTask, fds: Map<string, number>): Uint8Array {
  const length = t.records * t.recordSize;
  if (t.buffer) return new Uint8Array(t.buffer, 0, length);
  let fd = fds.get(t.file);
  if (fd === undefined) {
    fd = openSync(t.file, 'r');
    fds.set(t.file, fd);
  }
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, t.offset + got);
    if (n === 0) throw Object.assign(new Error('the file shrank while it was being read'), { code: 'EFILECHANGED' });
    got += n;
  }
  return buf;
}

/** The breaker's state: open once tripped (one warning), and the failures in a row so far. */
class Breaker {
  open = false;
  private failures = 0;

  constructor(
    private readonly device: GpuDevice,
    private readonly cpu: CpuBackend,
    private readonly warn: (line: string) => void,
  ) {}

  trip(why: string): void {
    if (this.open) return;
    this.open = true;
    const { kind, detail } = this.device;
    this.warn(`warning: --backend ${kind} (${detail}): ${why}; the remaining chunks run on the ${this.cpu} backend`);
  }

  succeeded(): void {
    this.failures = 0;
  }

  /** A failed chunk: fatal faults (device lost, shader failure) and FAILURE_LIMIT in a row trip it. */
  failed(err: Error): void {
    this.failures++;
    if (!(err instanceof GpuFault) || err.fatal) this.trip(err.message);
    else if (this.failures >= FAILURE_LIMIT)
      this.trip(`${FAILURE_LIMIT} chunks failed in a row (last: ${err.message})`);
  }
}

/** Runs chunks one at a time on the device, or on the CPU once the breaker is open; counts both. */
class GpuChunkRunner {
  readonly host = createTaskHost();
  readonly fds = new Map<string, number>();
  readonly usage: BackendUsage = { gpu: { chunks: 0, bytes: 0 }, cpu: { chunks: 0, bytes: 0 } };
  private readonly faults = faultPlan();
  /** the device's share of --max-memory (GpuChunk.maxBytes) */
  deviceBudget: number | undefined;

  constructor(
    readonly device: GpuDevice,
    private readonly cpu: CpuBackend,
    private readonly breaker: Breaker,
  ) {}

  runOne(t: ChunkTask): Promise<ChunkDone> {
    if (new Control(t.ctl).cancelled()) return Promise.resolve({ index: t.index, ms: 0, cancelled: true });
    // An op the device has no kernel for (a pre-pass such as hist's range) runs on the CPU, uncounted.
    if (this.device.refuses(t.op, t.spec) !== null) return this.host.run({ ...t, backend: this.cpu });
    return this.breaker.open ? this.onCpu(t) : this.onGpu(t);
  }

  private async onCpu(t: ChunkTask): Promise<ChunkDone> {
    const d = await this.host.run({ ...t, backend: this.cpu });
    if (!d.error && !d.cancelled) {
      this.usage.cpu.chunks++;
      this.usage.cpu.bytes += t.records * t.recordSize;
    }
    return d;
  }

  private async onGpu(t: ChunkTask): Promise<ChunkDone> {
    const start = performance.now();
    let bytes: Uint8Array;
    try {
      bytes = readChunk(t, this.fds);
    } catch (e) {
      const err = e as Error & { code?: string };
      return { index: t.index, ms: 0, error: { message: err.message, code: err.code } };
    }
    try {
      if (this.faults.lostAt === t.index) this.device.close();
      if (chunkFaults(this.faults, t.index))
        throw new GpuFault(`injected fault in chunk ${t.index} (BIGPROC_GPU_FAULT)`, false);
      const { op, spec, records, recordSize, firstRecord, wantOutput } = t;
      const c = { op, spec, bytes, records, recordSize, firstRecord, wantOutput, maxBytes: this.deviceBudget };
      const res = await runOnDevice(this.device, c);
      this.breaker.succeeded();
      this.usage.gpu.chunks++;
      this.usage.gpu.bytes += bytes.length;
      new Control(t.ctl).addBytes(bytes.length);
      const done: ChunkDone = { index: t.index, partial: res.partial, ms: performance.now() - start };
      if (res.output) done.output = res.output;
      return done;
    } catch (e) {
      this.breaker.failed(e as Error);
      return this.onCpu(t);
    }
  }
}

/**
 * `openFailure`: the device did not open though its adapter answered (the breaker is open from the
 * start: one warning, every chunk on the CPU); `device` is then a stand-in that only names the kind.
 * Chunks queue and run one per turn of the event loop (engine/turn-queue.ts).
 */
export function gpuRunner(
  device: GpuDevice,
  cpu: CpuBackend,
  warn: (line: string) => void,
  openFailure: string | null = null,
): GpuRunner {
  const breaker = new Breaker(device, cpu, warn);
  if (openFailure !== null) breaker.trip(openFailure);
  const chunks = new GpuChunkRunner(device, cpu, breaker);
  const queue = turnQueue<ChunkTask>((task) => chunks.runOne(task));
  let closed = false;

  return {
    kind: device.kind,
    detail: device.detail,
    usage: () => chunks.usage,
    async memoryNeed(shape) {
      if (breaker.open || device.refuses(shape.op, shape.spec) !== null) return 0;
      if (!device.memoryNeed) return null;
      try {
        return await device.memoryNeed(shape);
      } catch (e) {
        // a shader that does not compile, a lost device: the chunks go to the CPU, as on a failed first chunk
        breaker.trip((e as Error).message);
        return 0;
      }
    },
    setDeviceBudget(bytes) {
      chunks.deviceBudget = bytes;
    },
    devicePeak: () => device.peakBytes?.() ?? 0,
    run(task: Task) {
      if (closed) return Promise.reject(new Error('the GPU runner is closed'));
      if (task.kind !== 'chunk') return chunks.host.run({ ...task, backend: cpu });
      return queue.push(task);
    },
    async destroy() {
      closed = true;
      queue.cancelAll();
      chunks.host.closeAll();
      for (const fd of chunks.fds.values()) closeSync(fd);
      chunks.fds.clear();
      device.close();
    },
  };
}
