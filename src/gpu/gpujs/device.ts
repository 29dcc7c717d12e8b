// The gpu.js device (`--backend gpu`): image map chains and numeric `hist` as gpu.js kernels on
// headless-gl (a HeadlessGLKernel, checked on every call). Kernels are compiled once per spec and
// reused; each chunk runs in calls of several frames (or many values), f32 throughout, written so the
// results are the op's own to the bit (integer steps, hist) or within a level (blur, float convolve).
import type { ChunkResult } from '../../ops/types.js';
import type { HistSpec } from '../../ops/hist.js';
import type { ImagePartial } from '../../image/reduce.js';
import type { ImageSpec } from '../../image/op.js';
import { frameBytes, outShape } from '../../image/steps.js';
import type { GpuChunk, GpuDevice } from '../device.js';
import { gpuJsRefusesStep } from './image-kernels.js';
import { GpuJsImageChain } from './image-chain.js';
import { GpuJsHist, gpuJsRefusesHist } from './hist.js';
import { loadGpuJs, type GpuJs } from './load.js';

const OPS = 'image map chains (grey invert threshold levels blur convolve sobel downscale crop) and hist';

function refusesImage(spec: ImageSpec): string | null {
  if (spec.chain.reduce) return `gpu.js has no ${spec.chain.reduce} kernel yet (it runs ${OPS})`;
  for (const [i, step] of spec.chain.steps.entries()) {
    const why = gpuJsRefusesStep(step, spec.chain.shapes[i]!);
    if (why) return why;
  }
  return null;
}

class GpuJsDevice implements GpuDevice {
  readonly kind = 'gpu' as const;
  readonly detail: string;
  /** compiled kernels per spec, reused for every chunk of a run */
  private readonly chains = new Map<unknown, GpuJsImageChain>();
  private readonly hists = new Map<unknown, GpuJsHist>();

  constructor(private readonly lib: GpuJs) {
    this.detail = lib.detail;
  }

  refuses(op: string, spec: unknown): string | null {
    if (op === 'image') return refusesImage(spec as ImageSpec);
    if (op === 'hist') return gpuJsRefusesHist(spec as HistSpec);
    return `--backend gpu has no gpu.js kernel for ${op}; it runs ${OPS}`;
  }

  async run(chunk: GpuChunk): Promise<ChunkResult<unknown>> {
    const why = this.refuses(chunk.op, chunk.spec);
    if (why) throw new Error(why);
    if (chunk.op === 'hist') return { partial: await this.hist(chunk.spec as HistSpec).run(chunk) };
    return this.image(chunk);
  }

  private async image(chunk: GpuChunk): Promise<ChunkResult<ImagePartial>> {
    const spec = chunk.spec as ImageSpec;
    let chain = this.chains.get(spec);
    if (!chain) {
      chain = new GpuJsImageChain(this.lib, spec.chain);
      this.chains.set(spec, chain);
    }
    const size = frameBytes(outShape(spec.chain));
    const output = new Uint8Array(chunk.records * size);
    for (let f = 0; f < chunk.records; f += chain.framesPerCall) {
      const n = Math.min(chain.framesPerCall, chunk.records - f);
      const at = f * chunk.recordSize;
      const values = await chain.run(chunk.bytes.subarray(at), n, chunk.recordSize);
      output.set(values.subarray(0, n * size), f * size);
    }
    return {
      partial: { frames: chunk.records, values: [] },
      output: chunk.wantOutput ? output : undefined,
    };
  }

  private hist(spec: HistSpec): GpuJsHist {
    let h = this.hists.get(spec);
    if (!h) {
      h = new GpuJsHist(this.lib, spec);
      this.hists.set(spec, h);
    }
    return h;
  }

  close(): void {
    for (const c of this.chains.values()) c.close();
    for (const h of this.hists.values()) h.close();
    this.chains.clear();
    this.hists.clear();
    this.lib.gpu.destroy();
  }
}

export async function openGpuJs(): Promise<GpuDevice> {
  return new GpuJsDevice(loadGpuJs());
}
