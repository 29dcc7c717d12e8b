/// <reference types="@webgpu/types" />
// The WebGPU device (`--backend webgpu`): Dawn through the `webgpu` package, WGSL compute shaders of
// our own for image map chains (wgsl.ts), the image reduces (reduce-kernel.ts), numeric `hist`
// (hist-kernel.ts) and --where for count/filter (where-kernel.ts), exact through order-preserving keys.
// A pipeline per shader kind and the buffers per chain (per numeric spec and record size) are made
// once and reused for every chunk. A lost device, a shader that does not compile or a failed
// dispatch reject as GpuFault (fatal when the device cannot go on), for the runner's circuit breaker.
import { MAP_OPS, type ImageChain } from '../../image/steps.js';
import type { ImageSpec } from '../../image/op.js';
import { frameBytes, outShape } from '../../image/steps.js';
import type { HistSpec } from '../../ops/hist.js';
import type { ChunkResult } from '../../ops/types.js';
import { GpuUnavailable, type GpuChunk, type GpuChunkShape, type GpuDevice } from '../device.js';
import { BufferTally } from './tally.js';
import { GpuFault } from '../fault.js';
import { adapterName, openAdapter, type OpenedAdapter } from './adapter.js';
import { ChainRunner } from './chain-runner.js';
import { integerConvolveFits } from './passes.js';
import { shaderSource, type ShaderKind } from './wgsl.js';
import { BatchRunner, type BatchKernel } from './batch-runner.js';
import { NUMERIC_OPS, numericKernel, runNumeric } from './numeric.js';
import { reduceKernel, runReduce } from './reduce-kernel.js';

const KERNELS = `image map chains (${MAP_OPS.join(' ')}), framestats, histogram, ${NUMERIC_OPS.join(', ')}`;
/** hist's threshold table must fit one storage binding; a million bins is far more than anyone plots */
const MAX_HIST_BINS = 1 << 20;

/** null when the chain runs here, else why not (naming what does). */
function refusesChain(spec: ImageSpec): string | null {
  const chain: ImageChain = spec.chain;
  if (chain.steps.length === 0 && !chain.reduce)
    return `--op ${JSON.stringify(chain.text)} has no map step; WebGPU runs ${KERNELS}`;
  for (const step of chain.steps) {
    if (step.op === 'convolve' && step.integer && !integerConvolveFits(step))
      return `convolve: this kernel's sums overflow 32-bit integers on the GPU; run it with --backend native`;
  }
  return null;
}

class WebGpuDevice implements GpuDevice {
  readonly kind = 'webgpu' as const;
  readonly detail: string;
  private readonly pipelines = new Map<ShaderKind, GPUComputePipeline>();
  private readonly chains = new WeakMap<object, ChainRunner>();
  private readonly runners: ChainRunner[] = [];
  private lost: string | null = null;
  private closed = false;
  /** every buffer the runners make, for --max-memory's device peak */
  private readonly tally: BufferTally;

  constructor(
    /** held for the device's life: Dawn crashes once its create() object is collected */
    private readonly opened: OpenedAdapter,
    private readonly device: GPUDevice,
  ) {
    this.detail = adapterName(opened);
    this.tally = new BufferTally(device);
    void device.lost.then((info) => {
      this.lost = `the WebGPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''})`;
    });
  }

  refuses(op: string, spec: unknown): string | null {
    if (op === 'image') return refusesChain(spec as ImageSpec);
    if (op === 'hist' && (spec as HistSpec).bins > MAX_HIST_BINS)
      return `hist on WebGPU bins up to ${MAX_HIST_BINS} bins, not ${(spec as HistSpec).bins}: use --backend native`;
    if ((NUMERIC_OPS as readonly string[]).includes(op)) return null;
    return `--op ${op} has no WebGPU kernel; WebGPU runs ${KERNELS}`;
  }

  /** One layout for every shader (src, dst, parameters, table), so a shader that reads no table still binds one. */
  private layout: GPUPipelineLayout | null = null;

  private pipelineLayout(): GPUPipelineLayout {
    const entry = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type },
    });
    this.layout ??= this.device.createPipelineLayout({
      bindGroupLayouts: [
        this.device.createBindGroupLayout({
          entries: [
            entry(0, 'read-only-storage'),
            entry(1, 'storage'),
            entry(2, 'uniform'),
            entry(3, 'read-only-storage'),
          ],
        }),
      ],
    });
    return this.layout;
  }

  private pipelineFor = (kind: ShaderKind): GPUComputePipeline => {
    let p = this.pipelines.get(kind);
    if (!p) {
      const module = this.device.createShaderModule({ code: shaderSource(kind) });
      p = this.device.createComputePipeline({ layout: this.pipelineLayout(), compute: { module, entryPoint: 'main' } });
      this.pipelines.set(kind, p);
    }
    return p;
  };

  /** The chain's runner, made (pipelines compiled, buffers allocated) on its first chunk; a failure is fatal. */
  private async runnerFor(spec: ImageSpec): Promise<ChainRunner> {
    const known = this.chains.get(spec);
    if (known) return known;
    this.device.pushErrorScope('validation');
    const runner = new ChainRunner(this.device, spec.chain, this.pipelineFor, this.tally);
    const err = await this.device.popErrorScope();
    if (err) {
      runner.destroy();
      throw new GpuFault(`a WebGPU shader or pipeline failed: ${err.message.split('\n')[0]}`, true);
    }
    this.chains.set(spec, runner);
    this.runners.push(runner);
    return runner;
  }

  private readonly batches = new WeakMap<object, Map<string, BatchRunner>>();
  private readonly batchList: BatchRunner[] = [];

  /** The kernel's runner for this spec and variant (record size, reduce), compiled on first use; a failure is fatal. */
  private async batchFor(spec: object, variant: string, kernel: () => BatchKernel): Promise<BatchRunner> {
    let bySpec = this.batches.get(spec);
    if (!bySpec) {
      bySpec = new Map();
      this.batches.set(spec, bySpec);
    }
    const known = bySpec.get(variant);
    if (known) return known;
    this.device.pushErrorScope('validation');
    let runner: BatchRunner | null = null;
    let thrown: unknown = null;
    try {
      runner = new BatchRunner(this.device, this.pipelineLayout(), kernel(), this.tally);
    } catch (e) {
      thrown = e;
    }
    const err = await this.device.popErrorScope();
    if (err || thrown || !runner) {
      runner?.destroy();
      const why = err ? err.message : (thrown as Error).message;
      throw new GpuFault(`a WebGPU shader or pipeline failed: ${why.split('\n')[0]}`, true);
    }
    bySpec.set(variant, runner);
    this.batchList.push(runner);
    return runner;
  }

  /** `work` inside a validation scope: a failed dispatch or readback rejects as GpuFault. */
  private async guarded<T>(work: () => Promise<T>): Promise<T> {
    this.device.pushErrorScope('validation');
    let result: T;
    try {
      result = await work();
    } catch (e) {
      await this.device.popErrorScope().catch(() => null);
      if (e instanceof GpuFault) throw e;
      throw new GpuFault(
        this.lost ?? `a WebGPU dispatch failed: ${(e as Error).message.split('\n')[0]}`,
        this.lost !== null,
      );
    }
    const err = await this.device.popErrorScope();
    if (err) throw new GpuFault(`a WebGPU dispatch failed: ${err.message.split('\n')[0]}`, false);
    if (this.lost) throw new GpuFault(this.lost, true);
    return result;
  }

  peakBytes(): number {
    return this.tally.peak;
  }

  /** The smallest buffers (one record per batch) of the runners such chunks use; made here, reused by run. */
  async memoryNeed(c: GpuChunkShape): Promise<number> {
    const why = this.refuses(c.op, c.spec);
    if (why) throw new Error(why);
    if (c.op !== 'image') return (await this.numericRunner(c)).bytesFor(1, c.recordSize);
    const image = c.spec as ImageSpec;
    if (!image.chain.reduce) return (await this.runnerFor(image)).bytesFor(1);
    const [map, reduce] = await this.reduceRunners(image, c.recordSize);
    return (map?.bytesFor(1) ?? 0) + reduce.bytesFor(1, this.reducedRecordSize(image, c.recordSize));
  }

  private numericRunner(c: GpuChunkShape): Promise<BatchRunner> {
    const local = this.device.limits.maxComputeWorkgroupStorageSize;
    const chunk = { ...c, bytes: new Uint8Array(0), records: 0, firstRecord: 0 };
    return this.batchFor(c.spec as object, `${c.recordSize}:${c.wantOutput}`, () => numericKernel(chunk, local));
  }

  /** The record size the reduce kernel reads: the map steps' frame when there are any. */
  private reducedRecordSize(spec: ImageSpec, recordSize: number): number {
    return spec.chain.steps.length > 0 ? frameBytes(outShape(spec.chain)) : recordSize;
  }

  /** A reduce chain's runners: its map steps' (null without any) and the reduce kernel's. */
  private async reduceRunners(spec: ImageSpec, recordSize: number): Promise<[ChainRunner | null, BatchRunner]> {
    const map = spec.chain.steps.length > 0 ? await this.runnerFor(this.mapPart(spec)) : null;
    const size = this.reducedRecordSize(spec, recordSize);
    const shape = outShape(spec.chain);
    const reduce = await this.batchFor(spec, `reduce:${size}`, () => reduceKernel(spec.chain.reduce!, shape, size));
    return [map, reduce];
  }

  async run(chunk: GpuChunk): Promise<ChunkResult<unknown>> {
    if (this.closed) throw new GpuFault('the WebGPU device was closed', true);
    if (this.lost) throw new GpuFault(this.lost, true);
    const why = this.refuses(chunk.op, chunk.spec);
    if (why) throw new Error(why);
    const spec = chunk.spec as object;
    if (chunk.op !== 'image') {
      const runner = await this.numericRunner(chunk);
      return this.guarded(() => runNumeric(runner, chunk));
    }
    const image = spec as ImageSpec;
    if (image.chain.reduce) return this.reduce(chunk, image);
    const frames = await this.mapFrames(chunk, image, chunk.maxBytes);
    return { partial: { frames: chunk.records, values: [] }, output: chunk.wantOutput ? frames : undefined };
  }

  /**
   * A reduce chain: its map steps (when any) as a map chain, then the reduce kernel over their frames.
   * Both runners keep their buffers: under --max-memory each gets the share its smallest batch needs
   * of the whole, so the two together stay within chunk.maxBytes.
   */
  private async reduce(chunk: GpuChunk, spec: ImageSpec): Promise<ChunkResult<unknown>> {
    const [map, runner] = await this.reduceRunners(spec, chunk.recordSize);
    const recordSize = this.reducedRecordSize(spec, chunk.recordSize);
    let mapShare: number | undefined;
    let reduceShare = chunk.maxBytes;
    if (map && chunk.maxBytes !== undefined) {
      const m1 = map.bytesFor(1);
      mapShare = Math.floor((chunk.maxBytes * m1) / (m1 + runner.bytesFor(1, recordSize)));
      reduceShare = chunk.maxBytes - mapShare;
    }
    const bytes = map ? await this.mapFrames(chunk, this.mapPart(spec), mapShare) : chunk.bytes;
    const values = await this.guarded(() => runReduce(runner, spec, bytes, chunk.records, recordSize, reduceShare));
    return { partial: { frames: chunk.records, values } };
  }

  /** The map steps of a reduce chain as a spec of their own (cached: its runner is kept per spec object). */
  private readonly mapParts = new WeakMap<ImageSpec, ImageSpec>();
  private mapPart(spec: ImageSpec): ImageSpec {
    let part = this.mapParts.get(spec);
    if (!part) {
      part = { ...spec, chain: { ...spec.chain, reduce: null } };
      this.mapParts.set(spec, part);
    }
    return part;
  }

  /** The chunk's frames through a map chain, packed. */
  private async mapFrames(chunk: GpuChunk, spec: ImageSpec, maxBytes: number | undefined): Promise<Uint8Array> {
    const runner = await this.runnerFor(spec);
    this.device.pushErrorScope('validation');
    let frames: Uint8Array;
    try {
      frames = await runner.run(chunk.bytes, chunk.records, chunk.recordSize, maxBytes);
    } catch (e) {
      await this.device.popErrorScope().catch(() => null);
      throw new GpuFault(
        this.lost ?? `a WebGPU dispatch failed: ${(e as Error).message.split('\n')[0]}`,
        this.lost !== null,
      );
    }
    const err = await this.device.popErrorScope();
    if (err) throw new GpuFault(`a WebGPU dispatch failed: ${err.message.split('\n')[0]}`, false);
    if (this.lost) throw new GpuFault(this.lost, true);
    return frames;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.runners) r.destroy();
    for (const r of this.batchList) r.destroy();
    this.device.destroy();
    void this.opened;
  }
}

export async function openWebGpu(): Promise<GpuDevice> {
  const opened = await openAdapter();
  let device: GPUDevice;
  try {
    device = await opened.adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: opened.adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: opened.adapter.limits.maxBufferSize,
      },
    });
  } catch (e) {
    throw new GpuFault(`the WebGPU device did not open: ${(e as Error).message.split('\n')[0]}`, true);
  }
  return new WebGpuDevice(opened, device);
}

export { GpuUnavailable };
