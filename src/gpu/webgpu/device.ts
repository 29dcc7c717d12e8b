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
import { GpuUnavailable, type GpuChunk, type GpuDevice } from '../device.js';
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

  constructor(
    /** held for the device's life: Dawn crashes once its create() object is collected */
    private readonly opened: OpenedAdapter,
    private readonly device: GPUDevice,
  ) {
    this.detail = adapterName(opened);
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
    const runner = new ChainRunner(this.device, spec.chain, this.pipelineFor);
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
      runner = new BatchRunner(this.device, this.pipelineLayout(), kernel());
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

  async run(chunk: GpuChunk): Promise<ChunkResult<unknown>> {
    if (this.closed) throw new GpuFault('the WebGPU device was closed', true);
    if (this.lost) throw new GpuFault(this.lost, true);
    const why = this.refuses(chunk.op, chunk.spec);
    if (why) throw new Error(why);
    const spec = chunk.spec as object;
    if (chunk.op !== 'image') {
      const local = this.device.limits.maxComputeWorkgroupStorageSize;
      const runner = await this.batchFor(spec, `${chunk.recordSize}:${chunk.wantOutput}`, () =>
        numericKernel(chunk, local),
      );
      return this.guarded(() => runNumeric(runner, chunk));
    }
    const image = spec as ImageSpec;
    if (image.chain.reduce) return this.reduce(chunk, image);
    const frames = await this.mapFrames(chunk, image);
    return { partial: { frames: chunk.records, values: [] }, output: chunk.wantOutput ? frames : undefined };
  }

  /** A reduce chain: its map steps (when any) as a map chain, then the reduce kernel over their frames. */
  private async reduce(chunk: GpuChunk, spec: ImageSpec): Promise<ChunkResult<unknown>> {
    const chain = spec.chain;
    let bytes = chunk.bytes;
    let recordSize = chunk.recordSize;
    if (chain.steps.length > 0) {
      bytes = await this.mapFrames(chunk, this.mapPart(spec));
      recordSize = frameBytes(outShape(chain));
    }
    const shape = outShape(chain);
    const runner = await this.batchFor(spec, `reduce:${recordSize}`, () =>
      reduceKernel(chain.reduce!, shape, recordSize),
    );
    const values = await this.guarded(() => runReduce(runner, spec, bytes, chunk.records, recordSize));
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
  private async mapFrames(chunk: GpuChunk, spec: ImageSpec): Promise<Uint8Array> {
    const runner = await this.runnerFor(spec);
    this.device.pushErrorScope('validation');
    let frames: Uint8Array;
    try {
      frames = await runner.run(chunk.bytes, chunk.records, chunk.recordSize);
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
