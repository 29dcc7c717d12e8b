/// <reference types="@webgpu/types" />
// The WebGPU device (`--backend webgpu`): Dawn through the `webgpu` package, WGSL compute shaders of
// our own (wgsl.ts) for image map chains. A pipeline per shader kind and the buffers per chain are
// made once and reused for every chunk. A lost device, a shader that does not compile or a failed
// dispatch reject as GpuFault (fatal when the device cannot go on), for the runner's circuit breaker.
import { MAP_OPS, type ImageChain } from '../../image/steps.js';
import type { ImageSpec } from '../../image/op.js';
import { GpuUnavailable, type GpuChunk, type GpuDevice } from '../device.js';
import { GpuFault } from '../fault.js';
import { adapterName, openAdapter, type OpenedAdapter } from './adapter.js';
import { ChainRunner } from './chain-runner.js';
import { integerConvolveFits } from './passes.js';
import { shaderSource, type ShaderKind } from './wgsl.js';

const KERNELS = `image map chains (${MAP_OPS.join(' ')})`;

/** null when the chain runs here, else why not (naming what does). */
function refusesChain(spec: ImageSpec): string | null {
  const chain: ImageChain = spec.chain;
  if (chain.reduce) return `${chain.reduce} has no WebGPU kernel yet; WebGPU runs ${KERNELS}`;
  if (chain.steps.length === 0) return `--op ${JSON.stringify(chain.text)} has no map step; WebGPU runs ${KERNELS}`;
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
    if (op !== 'image') return `--op ${op} has no WebGPU kernel; WebGPU runs ${KERNELS}`;
    return refusesChain(spec as ImageSpec);
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

  async run(chunk: GpuChunk) {
    if (this.closed) throw new GpuFault('the WebGPU device was closed', true);
    if (this.lost) throw new GpuFault(this.lost, true);
    const spec = chunk.spec as ImageSpec;
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
    return { partial: { frames: chunk.records, values: [] }, output: chunk.wantOutput ? frames : undefined };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.runners) r.destroy();
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
