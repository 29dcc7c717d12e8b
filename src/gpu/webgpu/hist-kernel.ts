// `hist` on WebGPU, exact: each value's order-preserving key (keys.ts) is compared with the keys of
// NumPy's edges (binEdges, the same edges the CPU bins with) by a binary search — comparisons of u32
// words only, no float arithmetic on the values, so f64 and 64-bit integers bin exactly without f64 in
// WGSL. Codes: 0…bins-1 a bin, bins below the range, bins+1 above it, bins+2 NaN; counted in
// workgroup-local atomics, then added to the batch's global counts (the CPU adds the batches).
import { binEdges, type HistPartial, type HistSpec } from '../../ops/hist.js';
import type { BatchKernel } from './batch-runner.js';
import { keySource, KEY_PRELUDE, thresholdWords, wordsOf } from './keys.js';

/** Records per invocation: a workgroup of 64 counts 64 × PER records into its local bins. */
const PER = 16;
/** Counters a workgroup keeps locally (u32 each); more bins count straight into global atomics. */
export const LOCAL_COUNTERS = 2048;

/**
 * Threshold keys: edges 0…bins-1 (x ≥ edge), then "x > hi"; a value's bin is how many it reaches.
 * Thresholds no value reaches (an integer type's edges past its maximum) come last and are left out.
 */
function thresholds(spec: HistSpec): { words: Uint32Array; reachable: number } {
  const edges = binEdges(spec.lo, spec.hi, spec.bins);
  const type = spec.field.type;
  const keys = Array.from(edges.subarray(0, spec.bins), (e) => thresholdWords(e, type, false));
  keys.push(thresholdWords(spec.hi, type, true));
  const reachable = keys.indexOf(null);
  const valid = (reachable < 0 ? keys : keys.slice(0, reachable)) as number[][];
  return { words: Uint32Array.from(valid.flat().length ? valid.flat() : [0]), reachable: valid.length };
}

export function histKernel(spec: HistSpec, recordSize: number, localBytes: number): BatchKernel {
  const { bins } = spec;
  const w = wordsOf(spec.field.type);
  const { words, reachable } = thresholds(spec);
  const counters = bins + 3;
  const local = counters <= Math.min(LOCAL_COUNTERS, Math.floor(localBytes / 4));
  const thr = w === 2 ? 'vec2u(thr[2u * j], thr[2u * j + 1u])' : 'thr[j]';
  const source = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<atomic<u32>>;
struct P { n: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(2) var<uniform> p: P;
@group(0) @binding(3) var<storage, read> thr: array<u32>;
${KEY_PRELUDE}
${keySource('F', spec.field, recordSize)}
fn thrAt(j: u32) -> ${w === 2 ? 'vec2u' : 'u32'} { return ${thr}; }
fn code(base: u32) -> u32 {
  if (nanF(base)) { return ${bins + 2}u; }
  let k = keyF(base);
  var lo = 0u;
  var hi = ${reachable}u;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (ge${w}(k, thrAt(mid))) { lo = mid + 1u; } else { hi = mid; }
  }
  if (lo == 0u) { return ${bins}u; }
  if (lo == ${bins + 1}u) { return ${bins + 1}u; }
  return lo - 1u;
}
${local ? `var<workgroup> counts: array<atomic<u32>, ${counters}>;` : ''}
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3u,
        @builtin(num_workgroups) nw: vec3u) {
  ${local ? `for (var i = lid; i < ${counters}u; i += 64u) { atomicStore(&counts[i], 0u); }\n  workgroupBarrier();` : ''}
  let first = (wg.x + wg.y * nw.x) * ${64 * PER}u;
  for (var k = 0u; k < ${PER}u; k++) {
    let r = first + k * 64u + lid;
    if (r < p.n) { atomicAdd(&${local ? 'counts' : 'dst'}[code(r * ${recordSize}u)], 1u); }
  }
  ${
    local
      ? `workgroupBarrier();
  for (var i = lid; i < ${counters}u; i += 64u) {
    let v = atomicLoad(&counts[i]);
    if (v != 0u) { atomicAdd(&dst[i], v); }
  }`
      : ''
  }
}`;
  return {
    source,
    table: words,
    groups: (n) => Math.ceil(n / (64 * PER)),
    outWords: () => counters,
  };
}

/** Adds a batch's counts (from histKernel) into the partial. */
export function addHistCounts(p: HistPartial, words: Uint32Array): void {
  const bins = p.counts.length;
  for (let i = 0; i < bins; i++) p.counts[i]! += words[i]!;
  p.below += words[bins]!;
  p.above += words[bins + 1]!;
  p.nan += words[bins + 2]!;
}
