// `minmax` on WebGPU, exact: each value's order-preserving key (keys.ts, with −0 kept below +0, as
// stats orders them) is reduced as a pair of u32 words (most significant first; one-word keys
// with a zero high word) — a two-level reduce: each invocation folds its records in registers, the
// workgroup folds its 64 invocations in workgroup memory, and writes one {min, max, NaN count} per
// field; the CPU folds the workgroups and decodes the keys. Comparisons of u32 words only, so f64 and
// 64-bit integers are exact without f64 or 64-bit integers in WGSL. A NaN is counted and takes the
// identity keys (min ~0, max 0), which no other float value has, so it never wins.
import type { NumericType } from '../../layout/types.js';
import type { MinMaxAcc, MinMaxSpec } from '../../ops/minmax.js';
import type { BatchKernel } from './batch-runner.js';
import { keySource, KEY_PRELUDE, wordsOf } from './keys.js';

/** Records per invocation. */
const PER = 16;
/** Output words per field per workgroup: min (hi, lo), max (hi, lo), NaN count. */
const SLOT = 5;

const LESS = /* wgsl */ `
fn lt2(a: vec2u, b: vec2u) -> bool { return a.x < b.x || (a.x == b.x && a.y < b.y); }
`;

/** WGSL folding field i (key function keyI) of record r into mn/mx/nan. */
function foldField(i: number, type: NumericType): string {
  const key = wordsOf(type) === 2 ? `key${i}(r * RS)` : `vec2u(0u, key${i}(r * RS))`;
  return `    if (nan${i}(r * RS)) { nans[${i}]++; } else {
      let k = ${key};
      if (lt2(k, mn[${i}])) { mn[${i}] = k; }
      if (lt2(mx[${i}], k)) { mx[${i}] = k; }
    }`;
}

export function minmaxKernel(spec: MinMaxSpec, recordSize: number): BatchKernel {
  const fields = spec.fields;
  const nf = fields.length;
  const keys = fields.map((f, i) => keySource(String(i), f, recordSize, true)).join('');
  const source = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
struct P { n: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(2) var<uniform> p: P;
@group(0) @binding(3) var<storage, read> thr: array<u32>;
const RS = ${recordSize}u;
${KEY_PRELUDE}
${LESS}
${keys}
var<workgroup> wmn: array<vec2u, 64>;
var<workgroup> wmx: array<vec2u, 64>;
var<workgroup> wnan: array<u32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3u,
        @builtin(num_workgroups) nw: vec3u) {
  let g = wg.x + wg.y * nw.x;
  let first = g * ${64 * PER}u;
  var mn: array<vec2u, ${nf}>;
  var mx: array<vec2u, ${nf}>;
  var nans: array<u32, ${nf}>;
  for (var f = 0u; f < ${nf}u; f++) { mn[f] = vec2u(0xffffffffu, 0xffffffffu); mx[f] = vec2u(0u, 0u); nans[f] = 0u; }
  for (var k = 0u; k < ${PER}u; k++) {
    let r = first + k * 64u + lid;
    if (r < p.n) {
${fields.map((f, i) => foldField(i, f.type)).join('\n')}
    }
  }
  for (var f = 0u; f < ${nf}u; f++) {
    wmn[lid] = mn[f];
    wmx[lid] = mx[f];
    wnan[lid] = nans[f];
    workgroupBarrier();
    for (var s = 32u; s > 0u; s >>= 1u) {
      if (lid < s) {
        if (lt2(wmn[lid + s], wmn[lid])) { wmn[lid] = wmn[lid + s]; }
        if (lt2(wmx[lid], wmx[lid + s])) { wmx[lid] = wmx[lid + s]; }
        wnan[lid] += wnan[lid + s];
      }
      workgroupBarrier();
    }
    if (lid == 0u && first < p.n) {
      let o = (g * ${nf}u + f) * ${SLOT}u;
      dst[o] = wmn[0].x;
      dst[o + 1u] = wmn[0].y;
      dst[o + 2u] = wmx[0].x;
      dst[o + 3u] = wmx[0].y;
      dst[o + 4u] = wnan[0];
    }
    workgroupBarrier();
  }
}`;
  const groups = (n: number) => Math.ceil(n / (64 * PER));
  return { source, table: new Uint32Array(1), groups, outWords: (n) => groups(n) * nf * SLOT };
}

/** A running fold of key pairs per field (hi, lo words), before decoding. */
export interface MinMaxKeys {
  min: number[][];
  max: number[][];
  nan: number[];
}

export function emptyKeys(spec: MinMaxSpec): MinMaxKeys {
  const n = spec.fields.length;
  return {
    min: Array.from({ length: n }, () => [0xffffffff, 0xffffffff]),
    max: Array.from({ length: n }, () => [0, 0]),
    nan: new Array<number>(n).fill(0),
  };
}

const less = (a: number[], b: number[]) => a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!);

/** Folds a batch's per-workgroup words (from minmaxKernel) for n records into keys. */
export function addMinMaxWords(keys: MinMaxKeys, words: Uint32Array, n: number): void {
  const nf = keys.nan.length;
  const groups = Math.ceil(n / (64 * PER));
  for (let g = 0; g < groups; g++) {
    for (let f = 0; f < nf; f++) {
      const o = (g * nf + f) * SLOT;
      const mn = [words[o]!, words[o + 1]!];
      const mx = [words[o + 2]!, words[o + 3]!];
      if (less(mn, keys.min[f]!)) keys.min[f] = mn;
      if (less(keys.max[f]!, mx)) keys.max[f] = mx;
      keys.nan[f]! += words[o + 4]!;
    }
  }
}

const scratch = new DataView(new ArrayBuffer(8));

/** A key (hi, lo words) back to its value: floats as numbers (f32 widened exactly), integers as bigints. */
function decode(key: number[], type: NumericType): number | bigint {
  const [hi, lo] = key as [number, number];
  if (type === 'f32' || type === 'f64') {
    // a key with its top bit clear is a negative value (every bit was flipped), else the sign bit was
    const top = type === 'f32' ? lo : hi;
    const neg = (top & 0x80000000) === 0;
    if (type === 'f32') {
      scratch.setUint32(0, neg ? ~lo >>> 0 : (lo ^ 0x80000000) >>> 0);
      return scratch.getFloat32(0);
    }
    scratch.setUint32(0, neg ? ~hi >>> 0 : (hi ^ 0x80000000) >>> 0);
    scratch.setUint32(4, neg ? ~lo >>> 0 : lo);
    return scratch.getFloat64(0);
  }
  const u = (BigInt(hi) << 32n) | BigInt(lo);
  const bits = { i8: 8n, i16: 16n, i32: 32n, i64: 64n } as Record<string, bigint>;
  const b = bits[type];
  return b === undefined ? u : u - (1n << (b - 1n));
}

/** The chunk's partial from its folded keys (count: records less NaNs; min/max null when none). */
export function minmaxPartial(spec: MinMaxSpec, keys: MinMaxKeys, records: number): MinMaxAcc[] {
  return spec.fields.map((f, i) => {
    const count = records - keys.nan[i]!;
    const none = count === 0;
    return {
      count,
      nan: keys.nan[i]!,
      min: none ? null : decode(keys.min[i]!, f.type),
      max: none ? null : decode(keys.max[i]!, f.type),
    };
  });
}
