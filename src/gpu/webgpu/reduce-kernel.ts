// The image reduces on WebGPU, exact integers throughout. A workgroup of 64 takes a block of 64 × PER
// pixels of one frame. framestats: per channel Σv, Σv², min and max in workgroup-local atomics (a block's
// Σv² ≤ 16384 × 255² < 2^32), one row of 4 words per channel per block; the CPU adds a frame's blocks
// exactly and the op's finalize computes mean and std as for every backend. histogram: 256 local
// counters per channel, added into the frame's global counters; the CPU sums frames unless --per-frame.
import type { ImageSpec } from '../../image/op.js';
import { outShape, type ReduceName, type Shape } from '../../image/steps.js';
import type { BatchKernel, BatchRunner } from './batch-runner.js';

const PER = 256;
const BLOCK = 64 * PER;

const HEAD = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<atomic<u32>>;
struct P { n: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(2) var<uniform> p: P;
fn ld(i: u32) -> u32 { return (src[i >> 2u] >> ((i & 3u) * 8u)) & 255u; }
`;

function statsSource(s: Shape, recordSize: number, blocks: number): string {
  const c = s.channels;
  const pixels = s.width * s.height;
  return `${HEAD}
var<workgroup> acc: array<atomic<u32>, ${4 * c}>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3u,
        @builtin(num_workgroups) nw: vec3u) {
  if (lid < ${c}u) {
    atomicStore(&acc[lid * 4u], 0u);
    atomicStore(&acc[lid * 4u + 1u], 0u);
    atomicStore(&acc[lid * 4u + 2u], 255u);
    atomicStore(&acc[lid * 4u + 3u], 0u);
  }
  workgroupBarrier();
  let group = wg.x + wg.y * nw.x;
  let f = group / ${blocks}u;
  let first = (group % ${blocks}u) * ${BLOCK}u;
  var sum: array<u32, 4>;
  var sq: array<u32, 4>;
  var lo = array<u32, 4>(255u, 255u, 255u, 255u);
  var hi: array<u32, 4>;
  if (f < p.n) {
    for (var k = 0u; k < ${PER}u; k++) {
      let px = first + k * 64u + lid;
      if (px < ${pixels}u) {
        for (var ch = 0u; ch < ${c}u; ch++) {
          let v = ld(f * ${recordSize}u + px * ${c}u + ch);
          sum[ch] += v;
          sq[ch] += v * v;
          lo[ch] = min(lo[ch], v);
          hi[ch] = max(hi[ch], v);
        }
      }
    }
  }
  for (var ch = 0u; ch < ${c}u; ch++) {
    atomicAdd(&acc[ch * 4u], sum[ch]);
    atomicAdd(&acc[ch * 4u + 1u], sq[ch]);
    atomicMin(&acc[ch * 4u + 2u], lo[ch]);
    atomicMax(&acc[ch * 4u + 3u], hi[ch]);
  }
  workgroupBarrier();
  if (lid < ${4 * c}u) { atomicStore(&dst[group * ${4 * c}u + lid], atomicLoad(&acc[lid])); }
}`;
}

function histogramSource(s: Shape, recordSize: number, blocks: number): string {
  const c = s.channels;
  const bins = 256 * c;
  return `${HEAD}
var<workgroup> counts: array<atomic<u32>, ${bins}>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3u,
        @builtin(num_workgroups) nw: vec3u) {
  for (var i = lid; i < ${bins}u; i += 64u) { atomicStore(&counts[i], 0u); }
  workgroupBarrier();
  let group = wg.x + wg.y * nw.x;
  let f = group / ${blocks}u;
  let first = (group % ${blocks}u) * ${BLOCK}u;
  if (f < p.n) {
    for (var k = 0u; k < ${PER}u; k++) {
      let px = first + k * 64u + lid;
      if (px < ${s.width * s.height}u) {
        for (var ch = 0u; ch < ${c}u; ch++) {
          atomicAdd(&counts[ch * 256u + ld(f * ${recordSize}u + px * ${c}u + ch)], 1u);
        }
      }
    }
  }
  workgroupBarrier();
  if (f < p.n) {
    for (var i = lid; i < ${bins}u; i += 64u) {
      let v = atomicLoad(&counts[i]);
      if (v != 0u) { atomicAdd(&dst[f * ${bins}u + i], v); }
    }
  }
}`;
}

/** The reduce over frames of shape `s`, one frame per record of `recordSize` bytes (the frame first). */
export function reduceKernel(reduce: ReduceName, s: Shape, recordSize: number): BatchKernel {
  const blocks = Math.max(1, Math.ceil((s.width * s.height) / BLOCK));
  const stats = reduce === 'framestats';
  const per = stats ? blocks * 4 * s.channels : 256 * s.channels;
  return {
    source: stats ? statsSource(s, recordSize, blocks) : histogramSource(s, recordSize, blocks),
    table: new Uint32Array(1),
    groups: (n) => n * blocks,
    outWords: (n) => n * per,
  };
}

/** A batch's framestats blocks → per frame, per channel [Σv, Σv², min, max], appended to values. */
export function addFrameStats(words: Uint32Array, frames: number, s: Shape, values: number[]): void {
  const c = s.channels;
  const blocks = Math.max(1, Math.ceil((s.width * s.height) / BLOCK));
  for (let f = 0; f < frames; f++) {
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      let sq = 0;
      let lo = 255;
      let hi = 0;
      for (let b = 0; b < blocks; b++) {
        const at = ((f * blocks + b) * c + ch) * 4;
        sum += words[at]!;
        sq += words[at + 1]!;
        lo = Math.min(lo, words[at + 2]!);
        hi = Math.max(hi, words[at + 3]!);
      }
      values.push(sum, sq, lo, hi);
    }
  }
}

/** A chunk's frames through the reduce: the partial's values as the op's js() gives them. */
export async function runReduce(
  runner: BatchRunner,
  spec: ImageSpec,
  bytes: Uint8Array,
  frames: number,
  recordSize: number,
  maxBytes?: number,
): Promise<number[]> {
  const shape = outShape(spec.chain);
  const summed = spec.chain.reduce === 'histogram' && !spec.perFrame;
  const values: number[] = summed && frames > 0 ? new Array<number>(256 * shape.channels).fill(0) : [];
  await runner.run(
    bytes,
    frames,
    recordSize,
    (words, _first, n) => {
      if (spec.chain.reduce === 'framestats') addFrameStats(words, n, shape, values);
      else if (!summed) for (const v of words) values.push(v);
      else for (let i = 0; i < words.length; i++) values[i % values.length]! += words[i]!;
    },
    maxBytes,
  );
  return values;
}
