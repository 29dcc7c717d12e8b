// `hist` on gpu.js, exact: the CPU gathers each value's raw 16-bit parts (exact in f32); one kernel turns
// them into the value's order-preserving key (hist-keys.ts) and finds its bin by a binary search of the
// edges' threshold keys — comparisons only, no f32 arithmetic on the values — and a second kernel counts
// each bin's values per segment of 1024 (counts below 2^24, exact); the CPU adds the segments.
// Codes: 0…bins-1 a bin, bins below the range, bins+1 above it, bins+2 NaN. Under --max-memory a call
// takes as many values as its textures, upload and readback arrays fit in the device's share (bytesFor).
import { binEdges, type HistPartial, type HistSpec } from '../../ops/hist.js';
import type { GpuChunk } from '../device.js';
import { partsOf, readParts, thresholdKey, type KeyedType } from './hist-keys.js';
import { isNaNKey, keyStatements } from './key-glsl.js';
import { IDIV } from './image-kernels.js';
import type { GpuJs, GpuJsKernel } from './load.js';
import { largestFitting } from '../fit.js';
import { arrayArgumentBytes, kernelHeldBytes, outputTextureBytes } from './texture-bytes.js';

const MAX_BINS = 1024;
const SEGMENT = 1024;
/** values per kernel call: the codes and the counts both stay under 2^23 values */
const VALUES_PER_CALL = 2 ** 22;

export function gpuJsRefusesHist(spec: HistSpec): string | null {
  if (spec.field.type === 'i64' || spec.field.type === 'u64')
    return `gpu.js hist cannot key ${spec.field.type} values exactly (they are binned as rounded doubles): use --backend native`;
  if (spec.bins > MAX_BINS) return `gpu.js hist counts up to ${MAX_BINS} bins, not ${spec.bins}`;
  return null;
}

/** key ≥ threshold j, lexicographically over the parts. */
function geSource(n: number, j: string): string {
  let expr = `p${n - 1} >= thr[${j} * ${n} + ${n - 1}]`;
  for (let k = n - 2; k >= 0; k--)
    expr = `(p${k} > thr[${j} * ${n} + ${k}] || (p${k} == thr[${j} * ${n} + ${k}] && ${expr}))`;
  return expr;
}

/** Kernel 1: each value's code. Thresholds 0…bins-1 are the edges (≥), threshold bins is "above hi" (>). */
function codeKernel(spec: HistSpec, type: KeyedType, n: number, nan: boolean): string {
  const steps = Math.ceil(Math.log2(spec.bins + 2)) + 1;
  return `function (src, thr) {
  const i = this.thread.x;
  ${keyStatements(type, n, 'p', (k) => `src[i * ${n} + ${k}]`)}
  ${nan ? `if (${isNaNKey(type, n)}) { return ${spec.bins + 2}; }` : ''}
  let lo = 0;
  let hi = ${spec.bins + 1};
  for (let s = 0; s < ${steps}; s++) {
    if (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (${geSource(n, 'mid')}) { lo = mid + 1; } else { hi = mid; }
    }
  }
  if (lo == 0) { return ${spec.bins}; }
  if (lo == ${spec.bins + 1}) { return ${spec.bins + 1}; }
  return lo - 1;
}`;
}

/** Kernel 2: per (code, segment), how many of the segment's values have that code. */
function countKernel(): string {
  return `function (codes, n, segments) {
  const t = this.thread.x;
  const code = idiv(t, segments);
  const seg = t - code * segments;
  let c = 0;
  for (let j = 0; j < ${SEGMENT}; j++) {
    const at = seg * ${SEGMENT} + j;
    if (at < n) {
      if (codes[at] == code) { c = c + 1; }
    }
  }
  return c;
}`;
}

export class GpuJsHist {
  private readonly type: KeyedType;
  private readonly parts: number;
  private readonly thresholds: Float32Array;
  private readonly codes: GpuJsKernel;
  private readonly counts: GpuJsKernel;
  /** the most bytes a call held (textures, upload and readback arrays), from gpu.js's own objects */
  peak = 0;

  constructor(
    private readonly lib: GpuJs,
    private readonly spec: HistSpec,
  ) {
    this.type = spec.field.type as KeyedType;
    this.parts = partsOf(this.type);
    const edges = binEdges(spec.lo, spec.hi, spec.bins);
    const keys = [...Array.from(edges.subarray(0, spec.bins), (e) => thresholdKey(e, this.type, false))];
    keys.push(thresholdKey(spec.hi, this.type, true));
    this.thresholds = Float32Array.from(keys.flat());
    // NaNs lie outside [key(-Inf), key(+Inf)]
    const nan = this.type === 'f32' || this.type === 'f64';
    const settings = { output: [1], precision: 'single', tactic: 'precision', dynamicOutput: true };
    const source = codeKernel(spec, this.type, this.parts, nan);
    this.codes = lib.gpu.createKernel(source, { ...settings, pipeline: true, dynamicArguments: true });
    this.counts = lib.gpu.createKernel(countKernel(), {
      ...settings,
      dynamicArguments: true,
      functions: [IDIV],
      asyncMode: true,
    });
  }

  /** What a call of `n` values allocates: the parts (ours, gpu.js's copy, its texture), the thresholds, the codes, the counts and their readback. */
  bytesFor(n: number): number {
    const counts = outputTextureBytes((this.spec.bins + 3) * Math.ceil(n / SEGMENT));
    const parts = n * this.parts;
    return (
      4 * parts +
      arrayArgumentBytes(parts) +
      arrayArgumentBytes(this.thresholds.length) +
      outputTextureBytes(n) +
      2 * counts
    );
  }

  /** Values per call: VALUES_PER_CALL, or fewer so that bytesFor fits `maxBytes` (0 when one value does not). */
  callValues(maxBytes?: number): number {
    if (maxBytes === undefined) return VALUES_PER_CALL;
    return largestFitting(VALUES_PER_CALL, maxBytes, (n) => this.bytesFor(n));
  }

  async run(chunk: GpuChunk): Promise<HistPartial> {
    const { bins } = this.spec;
    const total = new Array<number>(bins + 3).fill(0);
    const dv = new DataView(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
    const le = !this.spec.field.bigEndian;
    // under --max-memory: as many values per call as fit the device's share (the run checked one does)
    const perCall = Math.max(1, this.callValues(chunk.maxBytes));
    for (let first = 0; first < chunk.records; first += perCall) {
      const n = Math.min(perCall, chunk.records - first);
      const src = new Float32Array(n * this.parts);
      for (let i = 0, pos = first * chunk.recordSize + this.spec.field.offset; i < n; i++, pos += chunk.recordSize)
        readParts(dv, pos, this.type, le, src, i * this.parts);
      const segments = Math.ceil(n / SEGMENT);
      this.codes.setOutput([n]);
      const codes = this.codes(src, this.thresholds);
      this.lib.check(this.codes);
      this.counts.setOutput([(bins + 3) * segments]);
      const counts = (await this.counts(codes, n, segments)) as Float32Array;
      this.lib.check(this.counts);
      const held = kernelHeldBytes(this.codes.kernel) + kernelHeldBytes(this.counts.kernel);
      this.peak = Math.max(this.peak, src.byteLength + held + counts.buffer.byteLength);
      for (let code = 0; code < bins + 3; code++)
        for (let s = 0; s < segments; s++) total[code] += counts[code * segments + s]!;
    }
    return { counts: total.slice(0, bins), below: total[bins]!, above: total[bins + 1]!, nan: total[bins + 2]! };
  }

  close(): void {
    this.codes.destroy?.(false);
    this.counts.destroy?.(false);
  }
}
