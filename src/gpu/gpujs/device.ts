// The gpu.js device (`--backend gpu`): image chains (map steps, framestats, histogram) and numeric
// `hist`, `minmax`, `filter` and `count --where` as gpu.js kernels on headless-gl (a HeadlessGLKernel, checked on
// every call). Kernels are compiled once per spec and reused; each chunk runs in calls of several frames
// (or many values), f32 throughout, written so the results are the op's own to the bit (integer steps,
// blur's integer definition, reduces, hist, predicates) or within a level (float convolve).
import type { ChunkResult } from '../../ops/types.js';
import type { HistSpec } from '../../ops/hist.js';
import type { MinMaxSpec } from '../../ops/minmax.js';
import type { ImagePartial } from '../../image/reduce.js';
import type { FilterSpec } from '../../ops/filter.js';
import type { CountSpec } from '../../ops/count.js';
import type { ImageSpec } from '../../image/op.js';
import { frameBytes, outShape } from '../../image/steps.js';
import type { GpuChunk, GpuChunkShape, GpuDevice } from '../device.js';
import { GpuFault } from '../fault.js';
import { gpuJsRefusesShape, gpuJsRefusesStep } from './image-kernels.js';
import { GpuJsImageChain } from './image-chain.js';
import { GpuJsHist, gpuJsRefusesHist } from './hist.js';
import { GpuJsMinMax, gpuJsRefusesMinMax } from './minmax.js';
import { GpuJsPredicate, gpuJsRefusesWhere } from './predicate.js';
import { foldFramestats, foldHistogram } from './image-reduce.js';
import type { Instr } from '../../ops/lib/predicate.js';
import { loadGpuJs, type GpuJs } from './load.js';

const OPS =
  'image chains (grey invert threshold levels blur convolve sobel downscale crop | framestats histogram), hist, minmax, filter and count --where';

function refusesImage(spec: ImageSpec): string | null {
  for (const [i, step] of spec.chain.steps.entries()) {
    const why = gpuJsRefusesStep(step, spec.chain.shapes[i]!);
    if (why) return why;
  }
  // the reduce reads the last shape's frames as a step would
  const last = spec.chain.shapes[spec.chain.shapes.length - 1]!;
  return spec.chain.reduce ? gpuJsRefusesShape(last) : null;
}

class GpuJsDevice implements GpuDevice {
  readonly kind = 'gpu' as const;
  readonly detail: string;
  /** compiled kernels per spec, reused for every chunk of a run */
  private readonly chains = new Map<unknown, GpuJsImageChain>();
  private readonly hists = new Map<unknown, GpuJsHist>();
  private readonly minmaxes = new Map<unknown, GpuJsMinMax>();
  private readonly predicates = new Map<unknown, GpuJsPredicate>();
  /** the GL context is gone: gpu.js would half-recreate it and fail later, so every run fails at once */
  private closed = false;

  constructor(private readonly lib: GpuJs) {
    this.detail = lib.detail;
  }

  refuses(op: string, spec: unknown): string | null {
    if (op === 'image') return refusesImage(spec as ImageSpec);
    if (op === 'hist') return gpuJsRefusesHist(spec as HistSpec);
    if (op === 'minmax') return gpuJsRefusesMinMax(spec as MinMaxSpec);
    if (op === 'filter' || op === 'count') return gpuJsRefusesWhere((spec as CountSpec).program);
    return `--backend gpu has no gpu.js kernel for ${op}; it runs ${OPS}`;
  }

  /** What one record's call needs: its textures, upload and readback arrays at their smallest. */
  async memoryNeed(c: GpuChunkShape): Promise<number | null> {
    if (c.op === 'image') return this.chainFor(c.spec as ImageSpec).bytesFor(1);
    if (c.op === 'hist') return this.hist(c.spec as HistSpec).bytesFor(1);
    if (c.op === 'filter' || c.op === 'count') return this.predicate((c.spec as CountSpec).program!).bytesFor(1, c.op);
    return null;
  }

  peakBytes(): number {
    const kernels = [...this.chains.values(), ...this.hists.values(), ...this.predicates.values()];
    return Math.max(0, ...kernels.map((k) => k.peak));
  }

  private chainFor(spec: ImageSpec): GpuJsImageChain {
    let chain = this.chains.get(spec);
    if (!chain) {
      chain = new GpuJsImageChain(this.lib, spec.chain);
      this.chains.set(spec, chain);
    }
    return chain;
  }

  async run(chunk: GpuChunk): Promise<ChunkResult<unknown>> {
    if (this.closed) throw new GpuFault('the gpu.js device was closed (its GL context is gone)', true);
    const why = this.refuses(chunk.op, chunk.spec);
    if (why) throw new Error(why);
    if (chunk.op === 'hist') return { partial: await this.hist(chunk.spec as HistSpec).run(chunk) };
    if (chunk.op === 'minmax') return { partial: await this.minmax(chunk.spec as MinMaxSpec).run(chunk) };
    if (chunk.op === 'count') {
      const matched = await this.predicate((chunk.spec as CountSpec).program!).count(chunk);
      return { partial: { records: chunk.records, matched } };
    }
    if (chunk.op === 'filter') {
      const r = await this.predicate((chunk.spec as FilterSpec).program).filter(chunk);
      return { partial: { matched: r.matched }, output: r.output };
    }
    return this.image(chunk);
  }

  private async image(chunk: GpuChunk): Promise<ChunkResult<ImagePartial>> {
    const spec = chunk.spec as ImageSpec;
    const chain = this.chainFor(spec);
    // under --max-memory: as many frames per call as fit the device's share (the run checked one does)
    const perCall = Math.max(1, chain.callFrames(chunk.maxBytes));
    const budgeted = chunk.maxBytes !== undefined;
    const shape = outShape(spec.chain);
    const size = frameBytes(shape);
    const { reduce } = spec.chain;
    const output = reduce ? null : new Uint8Array(chunk.records * size);
    const summed = reduce === 'histogram' && !spec.perFrame;
    const values: number[] = summed && chunk.records > 0 ? new Array(256 * shape.channels).fill(0) : [];
    for (let f = 0; f < chunk.records; f += perCall) {
      const n = Math.min(perCall, chunk.records - f);
      const got = await chain.run(chunk.bytes.subarray(f * chunk.recordSize), n, chunk.recordSize, budgeted);
      if (output) output.set(got.subarray(0, n * size), f * size);
      else if (reduce === 'framestats') foldFramestats(got, n, shape, values);
      else
        for (let k = 0; k < n; k++) {
          if (!summed) values.push(...new Array<number>(256 * shape.channels).fill(0));
          foldHistogram(got, k, shape, values, summed ? 0 : values.length - 256 * shape.channels);
        }
    }
    return {
      partial: { frames: chunk.records, values },
      output: chunk.wantOutput && output ? output : undefined,
    };
  }

  private predicate(program: Instr[]): GpuJsPredicate {
    let p = this.predicates.get(program);
    if (!p) {
      p = new GpuJsPredicate(this.lib, program);
      this.predicates.set(program, p);
    }
    return p;
  }

  private hist(spec: HistSpec): GpuJsHist {
    let h = this.hists.get(spec);
    if (!h) {
      h = new GpuJsHist(this.lib, spec);
      this.hists.set(spec, h);
    }
    return h;
  }

  private minmax(spec: MinMaxSpec): GpuJsMinMax {
    let m = this.minmaxes.get(spec);
    if (!m) {
      m = new GpuJsMinMax(this.lib, spec);
      this.minmaxes.set(spec, m);
    }
    return m;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.chains.values()) c.close();
    for (const h of this.hists.values()) h.close();
    for (const m of this.minmaxes.values()) m.close();
    for (const p of this.predicates.values()) p.close();
    this.chains.clear();
    this.hists.clear();
    this.minmaxes.clear();
    this.predicates.clear();
    this.lib.gpu.destroy();
  }
}

export async function openGpuJs(): Promise<GpuDevice> {
  return new GpuJsDevice(loadGpuJs());
}
