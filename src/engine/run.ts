// The run loop: given a resolved layout and chunk plan, prepare the op (with any pre-pass it needs),
// run the main pass on the pool, check the file did not change underneath, commit --out, and return
// the finalized result with metrics. It knows nothing of what an op computes.
import { type Stats, statSync } from 'node:fs';
import type { Layout } from '../layout/types.js';
import type { ChunkPlan } from '../plan/chunks.js';
import type { AnyOp, OpOptions } from '../ops/types.js';
import { getOp } from '../ops/registry.js';
import type { Control } from './control.js';
import { acquireRunner, runsInline } from './pool.js';
import type { TaskRunner } from './protocol.js';
import { chunkWindow, InterruptedError, runPass, type PassResult } from './pass.js';
import { openFold } from './fold.js';
import { openOutTarget, type OutputTarget } from './output.js';
import { resolveOutTarget } from './out-target.js';
import type { CpuBackend } from './protocol.js';
import type { GpuRequest } from '../cli/backend.js';
import type { GpuRunner } from '../gpu/runner.js';
import type { ProgressBar } from '../report/progress.js';
import { runMetrics, type MemoryMetrics, type MetricsInput, type RunMetrics } from './metrics.js';
import { fitMemory, fitMemoryWithDevice, heldBytes, type MemoryFit } from './memory-bound.js';
import { rechunk } from '../plan/chunks.js';
import { BigprocError, EXIT, usage } from '../errors.js';
import type { StreamFeed } from './stream.js';
import { describeSystemError } from '../report/system-error.js';

export interface RunInput {
  file: string;
  layout: Layout;
  plan: ChunkPlan;
  op: AnyOp;
  options: OpOptions;
  /** the CPU backend: runs the pass, or what a GPU does not */
  backend: CpuBackend;
  /** e.g. 'avx2' for the native kernels' dispatch path */
  backendDetail?: string;
  /** a GPU to run the main pass on (--backend gpu|webgpu, or auto's pick): see gpu/pass-runner.ts */
  gpu?: GpuRequest;
  /** a warning line for stderr (the GPU circuit breaker's) */
  warn?: (line: string) => void;
  workers: number;
  out?: string;
  ctl: Control;
  progress: ProgressBar;
  /** identity of the file when it was planned (not for streams) */
  identity?: { size: number; mtimeMs: number };
  /** records read from a pipe instead of a mapped file; `plan` then only gives the record size */
  stream?: StreamFeed;
  allowPartial?: boolean;
  /** an op spec prepared by the caller (a static shard prepares it once for all parts); skips prepare */
  spec?: unknown;
  /** --max-memory in bytes: chunks and window made to fit (engine/memory-bound.ts) */
  maxMemory?: number;
  /** a static part of an op that folds every chunk (see cluster/chunk-partials.ts): `partial` is its chunks' list, `result` null */
  keepChunks?: boolean;
}

export interface RunOutcome {
  spec: unknown;
  result: unknown;
  /** the merged partial before finalize (a static shard prints it for `bigproc merge`); with keepChunks, the chunks' partials */
  partial: unknown;
  metrics: RunMetrics;
}

export function checkUnchanged(file: string, identity: { size: number; mtimeMs: number }): void {
  let now: Stats;
  try {
    now = statSync(file);
  } catch (e) {
    throw new BigprocError(
      `the file changed while it was being read: ${describeSystemError(e)}; results discarded`,
      EXIT.runtime,
      'FileChanged',
    );
  }
  if (now.size !== identity.size || now.mtimeMs !== identity.mtimeMs) {
    throw new BigprocError(
      `the file changed while it was being read (size ${identity.size} -> ${now.size}, mtime ${new Date(identity.mtimeMs).toISOString()} -> ${new Date(now.mtimeMs).toISOString()}); results discarded`,
      EXIT.runtime,
      'FileChanged',
    );
  }
}

/** --out as the op writes it (a directory of columns, say), else as resolveOutTarget says. */
function openOutput(op: AnyOp, spec: unknown, options: OpOptions, out: string): OutputTarget {
  const target = resolveOutTarget(out, { directory: op.writesDirectory?.(options) });
  return op.openOutput?.(spec, target.kind === 'directory' ? target.path : out) ?? openOutTarget(target);
}

interface PassShape {
  plan: ChunkPlan;
  window: number;
  /** input + output bytes per record, with --max-memory (the pass measures what it holds) */
  recordBytes?: number;
  memory?: MemoryMetrics;
  /** a GPU pass under --max-memory: the device's share of the bound (GpuChunk.maxBytes) */
  deviceBytes?: number;
}

/** A GPU pass under --max-memory: its device's buffers at their smallest (GpuRunner.memoryNeed) and its name. */
interface DeviceNeed {
  bytes: number;
  name: string;
}

/** A pass's chunks and window: the defaults, or smaller ones that fit --max-memory (memory-bound.ts). */
function passShape(p: {
  plan: ChunkPlan;
  threads: number;
  maxMemory?: number;
  op: AnyOp;
  spec: unknown;
  output?: OutputTarget;
  device?: DeviceNeed;
}): PassShape {
  const { plan, maxMemory, output, device } = p;
  const window = chunkWindow(p.threads, output !== undefined);
  if (maxMemory === undefined) return { plan, window };
  const outBytes = output ? (p.op.outputBytesPerRecord?.(p.spec, plan.recordSize) ?? plan.recordSize) : 0;
  const need = { inBytes: plan.recordSize, outBytes };
  const n = { maxBytes: maxMemory, recordsPerChunk: plan.recordsPerChunk, window, ...need };
  const fit: MemoryFit & { deviceBytes?: number } = device
    ? fitMemoryWithDevice(n, device.bytes, device.name)
    : fitMemory(n);
  const hostBound = heldBytes(need, fit.recordsPerChunk, fit.window);
  const memory: MemoryMetrics = {
    max_bytes: maxMemory,
    bound_bytes: hostBound + (fit.deviceBytes ?? 0),
    records_per_chunk: fit.recordsPerChunk,
    window: fit.window,
    peak_bytes: 0,
  };
  if (fit.deviceBytes !== undefined)
    Object.assign(memory, { device_bound_bytes: fit.deviceBytes, device_peak_bytes: 0 });
  return {
    plan: fit.recordsPerChunk === plan.recordsPerChunk ? plan : rechunk(plan, fit.recordsPerChunk),
    window: fit.window,
    recordBytes: plan.recordSize + outBytes,
    memory,
    deviceBytes: fit.deviceBytes,
  };
}

/** The op's result of a pass's fold (closed once its result is in). */
async function finalResult(r: Pick<PassResult, 'fold'>): Promise<unknown> {
  const result = await r.fold!.result();
  r.fold!.close();
  return result;
}

/** What ran the main pass, for metrics: the CPU backend, or the GPU and what its breaker moved to the CPU. */
function backendsRan(
  input: RunInput,
  gpu: GpuRunner | null,
): Pick<MetricsInput, 'backend' | 'backendDetail' | 'dispatch' | 'backends'> {
  const cpu = { backend: input.backend, backendDetail: input.backendDetail, dispatch: input.backendDetail };
  if (!gpu) return cpu;
  const used = gpu.usage();
  if (used.gpu.chunks === 0 && used.cpu.chunks > 0)
    return { ...cpu, backends: { [gpu.kind]: used.gpu, [input.backend]: used.cpu } };
  const ran = { backend: gpu.kind, backendDetail: gpu.detail };
  if (used.cpu.chunks === 0) return ran;
  return { ...ran, dispatch: input.backendDetail, backends: { [gpu.kind]: used.gpu, [input.backend]: used.cpu } };
}

/** What a job ran over: the plan's records, or what a stream delivered. */
function doneCounts(input: RunInput, chunksRun: number) {
  const { plan, stream } = input;
  const done = stream
    ? { ...stream.stats, recordSize: plan.recordSize }
    : { dataBytes: plan.dataBytes, records: plan.records, chunks: chunksRun, trailingBytes: plan.trailingBytes };
  if (stream && done.trailingBytes && !input.allowPartial) {
    throw new BigprocError(
      `stdin has ${done.trailingBytes} trailing bytes after ${done.records} whole records of ${plan.recordSize} bytes; pass --allow-partial to process the whole records`,
      EXIT.usage,
    );
  }
  return done;
}

type Pass = (
  op: AnyOp,
  spec: unknown,
  label: string,
  output?: OutputTarget,
  keepChunks?: boolean,
  gpu?: GpuPass,
) => Promise<Omit<PassResult, 'cancelled'>>;

/** A pass on a GPU runner; `need` under --max-memory (the device's smallest buffers). */
interface GpuPass {
  runner: GpuRunner;
  need?: DeviceNeed;
}

/** The op's spec: the caller's, or prepare()'s, with a pre-pass over the file when the op asks for one. */
async function prepareSpec(input: RunInput, pass: Pass, threads: number): Promise<unknown> {
  if (input.spec !== undefined) return input.spec;
  return input.op.prepare(input.options, input.layout, async (name, options) => {
    if (input.stream)
      throw usage(
        `--op ${input.op.name} needs a first pass over the data (${name}), but a pipe is read only once: give the missing option (e.g. --range for hist)`,
      );
    const pre = getOp(name);
    const preSpec = await pre.prepare(options, input.layout, () => Promise.reject(new Error('nested pre-pass')));
    // the GPU asked for runs the pre-pass too where it has a kernel for it (hist's minmax range pass);
    // under --max-memory the pre-pass stays on the CPU (only the main pass's device buffers are sized)
    const gpu = input.maxMemory === undefined ? await gpuRunnerFor(input, name, preSpec, threads, false, true) : null;
    try {
      const onGpu = gpu ? { runner: gpu } : undefined;
      return await finalResult(await pass(pre, preSpec, `${name} (pre-pass)`, undefined, false, onGpu));
    } finally {
      await gpu?.destroy();
    }
  });
}

/** The GPU runner for a pass of op `op`, when a GPU was asked for (or auto picked one): see gpu/pass-runner.ts. */
async function gpuRunnerFor(
  input: RunInput,
  op: string,
  spec: unknown,
  threads: number,
  wantOutput: boolean,
  pre = false,
) {
  if (!input.gpu) return null;
  const { gpuPassRunner } = await import('../gpu/pass-runner.js');
  return gpuPassRunner(
    {
      gpu: input.gpu,
      op,
      spec,
      file: input.file,
      plan: input.plan,
      stream: input.stream !== undefined,
      cpu: input.backend,
      threads,
      wantOutput,
      warn: input.warn ?? ((line) => process.stderr.write(`${line}\n`)),
    },
    pre,
  );
}

/**
 * The main pass's GPU runner and, under --max-memory, what its device's buffers need at their smallest.
 * A device that cannot bound its buffers for this op (memoryNeed null: none of today's kernels) is
 * refused when asked for by name (exit 2); auto's pick then runs on the CPU instead.
 */
async function gpuPassFor(
  input: RunInput,
  gpu: GpuRunner,
  spec: unknown,
  wantOutput: boolean,
): Promise<GpuPass | undefined> {
  if (input.maxMemory === undefined) return { runner: gpu };
  const shape = { op: input.op.name, spec, recordSize: input.plan.recordSize, wantOutput };
  const bytes = await gpu.memoryNeed(shape);
  if (bytes === 0) return { runner: gpu }; // nothing runs on the device: the host has the whole bound
  if (bytes !== null) return { runner: gpu, need: { bytes, name: gpu.kind } };
  if (!input.gpu?.explicit) return undefined;
  throw usage(
    `--max-memory does not bound --backend ${gpu.kind}'s buffers for --op ${input.op.name} (${gpu.detail}); use --backend webgpu or native with --max-memory`,
  );
}

/**
 * One job's passes: each runs on the pool (started on first use, or the main thread, see runsInline) or
 * on a GPU runner, in the chunking --max-memory allows; it remembers what metrics need.
 */
class JobPasses {
  passes = 0;
  memory: MemoryMetrics | undefined;
  chunksRun: number;
  pool: TaskRunner | null = null;
  readonly threads: number;
  private readonly inline: boolean;

  constructor(private readonly input: RunInput) {
    const { plan, stream } = input;
    this.threads = stream ? input.workers : Math.max(1, Math.min(input.workers, plan.chunks.length));
    this.chunksRun = plan.chunks.length;
    this.inline = runsInline({
      threads: this.threads,
      op: input.op,
      stream: stream !== undefined,
      backend: input.backend,
      chunkBytes: plan.recordsPerChunk * plan.recordSize,
    });
  }

  private async getPool(): Promise<TaskRunner> {
    this.pool ??= await acquireRunner(this.threads, this.inline);
    return this.pool;
  }

  readonly run: Pass = async (op, spec, label, output, keepChunks = false, gpu) => {
    const { input } = this;
    const { plan, stream, ctl } = input;
    this.passes++;
    if (!stream && plan.chunks.length === 0) {
      if (keepChunks) return { partial: [], fold: null, chunkMs: [], peakBytes: 0 };
      const fold = openFold(op, spec);
      return { partial: await fold.state(), fold, chunkMs: [], peakBytes: 0 };
    }
    ctl.resetProgress();
    // A stream's length is unknown: no bar for it.
    if (!stream) input.progress.start(label, plan.dataBytes);
    const fit = passShape({
      plan,
      threads: this.threads,
      maxMemory: input.maxMemory,
      op,
      spec,
      output,
      device: gpu?.need,
    });
    gpu?.runner.setDeviceBudget(fit.deviceBytes);
    // the main pass's chunking; the peak over every pass
    if (fit.memory) this.memory = { ...fit.memory, peak_bytes: this.memory?.peak_bytes ?? 0 };
    try {
      const r = await runPass({
        pool: gpu?.runner ?? (await this.getPool()),
        file: input.file,
        plan: fit.plan,
        feed: stream,
        op,
        spec,
        backend: input.backend,
        ctl,
        output,
        window: fit.window,
        recordBytes: fit.recordBytes,
        keepChunks,
      });
      if (r.cancelled) throw new InterruptedError();
      if (this.memory) this.memory.peak_bytes = Math.max(this.memory.peak_bytes, r.peakBytes);
      if (this.memory?.device_peak_bytes !== undefined && gpu) this.memory.device_peak_bytes = gpu.runner.devicePeak();
      this.chunksRun = fit.plan.chunks.length;
      return r;
    } finally {
      input.progress.stop();
    }
  };
}

export async function runJob(input: RunInput): Promise<RunOutcome> {
  const t0 = performance.now();
  const job = new JobPasses(input);
  let out: OutputTarget | undefined;
  let gpu: GpuRunner | null = null;
  const folds: { fold: PassResult['fold'] }[] = [];
  try {
    const spec = await prepareSpec(input, job.run, job.threads);
    out = input.out === undefined ? input.op.ownOutput?.(spec) : openOutput(input.op, spec, input.options, input.out);
    gpu = await gpuRunnerFor(input, input.op.name, spec, job.threads, out !== undefined);
    const gpuPass = gpu ? await gpuPassFor(input, gpu, spec, out !== undefined) : undefined;
    // auto's pick that cannot bound its buffers: the CPU runs the pass, and metrics say so
    if (gpu && !gpuPass) {
      void gpu.destroy().catch(() => {});
      gpu = null;
    }
    const r = await job.run(input.op, spec, input.op.name, out, input.keepChunks, gpuPass);
    folds.push(r);
    if (input.identity) checkUnchanged(input.file, input.identity);
    const done = doneCounts(input, job.chunksRun);
    await out?.commit();
    // A part that keeps its chunks' partials is merged later, with the other parts (merging them here
    // could also change them: a kernel's merge may update its arguments in place).
    const result = input.keepChunks ? null : ((await finalResult(r)) as Record<string, unknown>);
    if (result && done.trailingBytes) result.trailing_bytes = done.trailingBytes;
    const metrics = runMetrics({
      bytes: done.dataBytes,
      records: done.records,
      t0,
      workers: done.chunks ? (gpu ? 1 : job.threads) : 0,
      chunks: done.chunks,
      chunkMs: r.chunkMs,
      passes: job.passes,
      ...backendsRan(input, gpu),
    });
    return { spec, result, partial: r.partial, metrics: job.memory ? { ...metrics, memory: job.memory } : metrics };
  } finally {
    for (const r of folds) r.fold?.close();
    out?.abort();
    // Not awaited: terminating threads takes a few ms the caller need not wait for (the CLI exits anyway).
    if (job.pool) void job.pool.destroy().catch(() => {});
    if (gpu) void (gpu as GpuRunner).destroy().catch(() => {});
  }
}
