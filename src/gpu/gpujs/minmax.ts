// `minmax` on gpu.js, exact: the CPU gathers each value's raw 16-bit parts (exact in f32) for every
// field; one kernel per field turns them into the value's order-preserving key (hist-keys.ts, with −0
// kept just below +0, as stats orders them) and, per segment of 256 values, finds the smallest and the
// largest key and counts NaNs — comparisons only, no f32 arithmetic on values. Each thread returns one
// word of its segment's result (a min part, a max part or the NaN count); the CPU folds the segments
// and decodes the keys. 64-bit integers are refused: their parts are not what a double holds.
import type { NumericType } from '../../layout/types.js';
import type { MinMaxAcc, MinMaxSpec } from '../../ops/minmax.js';
import type { GpuChunk } from '../device.js';
import { partsOf, readParts, type KeyedType } from './hist-keys.js';
import { isNaNKey, keyStatements } from './key-glsl.js';
import { IDIV } from './image-kernels.js';
import type { GpuJs, GpuJsKernel } from './load.js';

const SEGMENT = 256;
/** values per kernel call */
const VALUES_PER_CALL = 2 ** 22;

export function gpuJsRefusesMinMax(spec: MinMaxSpec): string | null {
  const wide = spec.fields.find((f) => f.type === 'i64' || f.type === 'u64');
  if (wide) return `gpu.js minmax cannot key ${wide.type} values exactly: use --backend native or webgpu`;
  return null;
}

/** a < b, lexicographically over n parts held in variables `${a}0…` and `${b}0…`. */
function lessSource(n: number, a: string, b: string): string {
  let expr = `${a}${n - 1} < ${b}${n - 1}`;
  for (let k = n - 2; k >= 0; k--) expr = `(${a}${k} < ${b}${k} || (${a}${k} == ${b}${k} && ${expr}))`;
  return expr;
}

/** Thread t = slot · segments + segment; slots 0…n-1 the min's parts, n…2n-1 the max's, 2n the NaN count. */
function kernelSource(type: KeyedType, n: number): string {
  const idx = Array.from({ length: n }, (_, k) => k);
  const nan = type === 'f32' || type === 'f64';
  const copy = (to: string) => idx.map((k) => `${to}${k} = p${k};`).join(' ');
  const pick = (from: string, base: number) =>
    idx.map((k) => `if (slot == ${base + k}) { return ${from}${k}; }`).join('\n  ');
  return `function (src, count, segments) {
  const t = this.thread.x;
  const slot = idiv(t, segments);
  const seg = t - slot * segments;
  ${idx.map((k) => `let m${k} = ${k === 0 ? 65536 : 0};`).join(' ')}
  ${idx.map((k) => `let x${k} = ${k === 0 ? -1 : 0};`).join(' ')}
  let nans = 0;
  for (let j = 0; j < ${SEGMENT}; j++) {
    const i = seg * ${SEGMENT} + j;
    if (i < count) {
      ${keyStatements(type, n, 'p', (k) => `src[i * ${n} + ${k}]`, true)}
      ${nan ? `if (${isNaNKey(type, n)}) { nans = nans + 1; } else {` : '{'}
        if (${lessSource(n, 'p', 'm')}) { ${copy('m')} }
        if (${lessSource(n, 'x', 'p')}) { ${copy('x')} }
      }
    }
  }
  ${pick('m', 0)}
  ${pick('x', n)}
  return nans;
}`;
}

/** Key parts (most significant first) back to the value: floats as numbers, integers as bigints. */
function decode(key: number[], type: KeyedType): number | bigint {
  const dv = new DataView(new ArrayBuffer(8));
  let raw = key;
  if (type === 'f32' || type === 'f64')
    raw = key[0]! >= 32768 ? [key[0]! - 32768, ...key.slice(1)] : key.map((p) => 65535 - p);
  else if (type === 'i8') raw = [key[0]! ^ 128];
  else if (type === 'i16' || type === 'i32') raw = [key[0]! ^ 32768, ...key.slice(1)];
  if (type === 'i8' || type === 'u8') {
    dv.setUint8(0, raw[0]!);
    return BigInt(type === 'i8' ? dv.getInt8(0) : dv.getUint8(0));
  }
  for (const [k, p] of raw.entries()) dv.setUint16(2 * k, p);
  const get: Record<Exclude<KeyedType, 'i8' | 'u8'>, () => number> = {
    i16: () => dv.getInt16(0),
    u16: () => dv.getUint16(0),
    i32: () => dv.getInt32(0),
    u32: () => dv.getUint32(0),
    f32: () => dv.getFloat32(0),
    f64: () => dv.getFloat64(0),
  };
  const v = get[type as Exclude<KeyedType, 'i8' | 'u8'>]();
  return type === 'f32' || type === 'f64' ? v : BigInt(v);
}

const less = (a: number[], b: number[]) => {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! < b[k]!;
  return false;
};

/** One field's kernel and its fold over a chunk. */
class FieldMinMax {
  private readonly parts: number;
  private readonly kernel: GpuJsKernel;

  constructor(
    private readonly lib: GpuJs,
    private readonly field: { type: NumericType; offset: number; bigEndian: boolean },
  ) {
    const type = field.type as KeyedType;
    this.parts = partsOf(type);
    const settings = { output: [1], precision: 'single', tactic: 'precision', dynamicOutput: true };
    this.kernel = lib.gpu.createKernel(kernelSource(type, this.parts), {
      ...settings,
      dynamicArguments: true,
      functions: [IDIV],
      asyncMode: true,
    });
  }

  async run(chunk: GpuChunk): Promise<MinMaxAcc> {
    const type = this.field.type as KeyedType;
    const n = this.parts;
    let min = [65536, ...new Array<number>(n - 1).fill(0)];
    let max = [-1, ...new Array<number>(n - 1).fill(0)];
    let nan = 0;
    const dv = new DataView(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
    for (let first = 0; first < chunk.records; first += VALUES_PER_CALL) {
      const count = Math.min(VALUES_PER_CALL, chunk.records - first);
      const src = new Float32Array(count * n);
      for (let i = 0, pos = first * chunk.recordSize + this.field.offset; i < count; i++, pos += chunk.recordSize)
        readParts(dv, pos, type, !this.field.bigEndian, src, i * n);
      const segments = Math.ceil(count / SEGMENT);
      this.kernel.setOutput([(2 * n + 1) * segments]);
      const out = (await this.kernel(src, count, segments)) as Float32Array;
      this.lib.check(this.kernel);
      for (let s = 0; s < segments; s++) {
        const at = (k: number) => out[k * segments + s]!;
        const mn = Array.from({ length: n }, (_, k) => at(k));
        const mx = Array.from({ length: n }, (_, k) => at(n + k));
        if (less(mn, min)) min = mn;
        if (less(max, mx)) max = mx;
        nan += at(2 * n);
      }
    }
    const values = chunk.records - nan;
    return {
      count: values,
      nan,
      min: values === 0 ? null : decode(min, type),
      max: values === 0 ? null : decode(max, type),
    };
  }

  close(): void {
    this.kernel.destroy?.(false);
  }
}

export class GpuJsMinMax {
  private readonly fields: FieldMinMax[];

  constructor(lib: GpuJs, spec: MinMaxSpec) {
    this.fields = spec.fields.map((f) => new FieldMinMax(lib, f));
  }

  async run(chunk: GpuChunk): Promise<MinMaxAcc[]> {
    const out: MinMaxAcc[] = [];
    for (const f of this.fields) out.push(await f.run(chunk));
    return out;
  }

  close(): void {
    for (const f of this.fields) f.close();
  }
}
