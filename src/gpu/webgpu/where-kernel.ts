// --where on WebGPU (count, and filter's mask), exact: the program's comparisons become comparisons of
// the fields' order-preserving keys (keys.ts) with the keys of thresholds the CPU works out — for a
// float field, the smallest value of its type ≥ (or >) the literal, so `x < 2.5` on f32 is decided as
// the CPU decides it on the value widened to double; integers (64-bit too) compare with the literal's
// exact key. NaN compares false except with !=, as the native and JS predicates do. Each invocation
// tests 32 consecutive records: one mask word (bit i = record i matches) and its popcount, added in a
// workgroup-local counter, then to the batch's global count in word 0; mask words follow it.
import type { Instr } from '../../ops/lib/predicate.js';
import type { NumericType } from '../../layout/types.js';
import type { BatchKernel } from './batch-runner.js';
import { keyLiteral, keySource, KEY_PRELUDE, thresholdWords, valueKey, wordsOf } from './keys.js';

type Cmp = Extract<Instr, { op: 'cmp' }>;

/** WGSL bool for one comparison of field `f` (its key k{f}, its NaN flag n{f}). */
function cmpSource(ins: Cmp, f: number): string {
  const w = wordsOf(ins.type);
  const k = `k${f}`;
  const ge = (t: number[]) => `ge${w}(${k}, ${keyLiteral(t)})`;
  if (ins.type === 'f32' || ins.type === 'f64') {
    const v = Number(ins.value);
    if (Number.isNaN(v)) return ins.cmp === 'ne' ? 'true' : 'false';
    const atLeast = ge(thresholdWords(v, ins.type, false)!);
    const above = ge(thresholdWords(v, ins.type, true)!);
    const eq = `(${atLeast} && !${above})`;
    const ordered: Record<Cmp['cmp'], string> = {
      ge: atLeast,
      gt: above,
      lt: `!${atLeast}`,
      le: `!${above}`,
      eq,
      ne: `!${eq}`,
    };
    return ins.cmp === 'ne' ? `(n${f} || ${ordered.ne})` : `(!n${f} && ${ordered[ins.cmp]})`;
  }
  const key = keyLiteral(valueKey(ins.value, ins.type));
  const le = `ge${w}(${key}, ${k})`;
  const eq = `eq${w}(${k}, ${key})`;
  const ints: Record<Cmp['cmp'], string> = {
    ge: ge(valueKey(ins.value, ins.type)),
    le,
    gt: `!${le}`,
    lt: `!${ge(valueKey(ins.value, ins.type))}`,
    eq,
    ne: `!${eq}`,
  };
  return `(${ints[ins.cmp]})`;
}

/** The program as one WGSL expression, and the fields it reads (one key function each). */
function lower(program: readonly Instr[]): { expr: string; fields: Cmp[] } {
  const fields: Cmp[] = [];
  const fieldOf = (ins: Cmp) => {
    const at = fields.findIndex((f) => f.offset === ins.offset && f.type === ins.type);
    if (at >= 0) return at;
    fields.push(ins);
    return fields.length - 1;
  };
  const stack: string[] = [];
  for (const ins of program) {
    if (ins.op === 'const') stack.push(String(ins.value));
    else if (ins.op === 'not') stack.push(`!(${stack.pop()!})`);
    else if (ins.op === 'and' || ins.op === 'or') {
      const r = stack.pop()!;
      const l = stack.pop()!;
      stack.push(`(${l} ${ins.op === 'and' ? '&&' : '||'} ${r})`);
    } else stack.push(cmpSource(ins, fieldOf(ins)));
  }
  if (stack.length !== 1) throw new Error('internal: malformed predicate program');
  return { expr: stack[0]!, fields };
}

export function whereKernel(program: readonly Instr[], recordSize: number, mask: boolean): BatchKernel {
  const { expr, fields } = lower(program);
  const keyFns = fields
    .map((f, i) =>
      keySource(
        String(i),
        { offset: f.offset, type: f.type as NumericType, bigEndian: f.bigEndian === true },
        recordSize,
      ),
    )
    .join('\n');
  const lets = fields.map((_, i) => `let k${i} = key${i}(b);\n  let n${i} = nan${i}(b);`).join('\n  ');
  const source = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<atomic<u32>>;
struct P { n: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(2) var<uniform> p: P;
${KEY_PRELUDE}
${keyFns}
fn pred(b: u32) -> bool {
  ${lets}
  return ${expr};
}
var<workgroup> matched: atomic<u32>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wg: vec3u,
        @builtin(num_workgroups) nw: vec3u) {
  if (lid == 0u) { atomicStore(&matched, 0u); }
  workgroupBarrier();
  let word = (wg.x + wg.y * nw.x) * 64u + lid;
  var bits = 0u;
  for (var i = 0u; i < 32u; i++) {
    let r = word * 32u + i;
    if (r < p.n && pred(r * ${recordSize}u)) { bits |= 1u << i; }
  }
  ${mask ? 'if (word * 32u < p.n) { atomicStore(&dst[1u + word], bits); }' : ''}
  atomicAdd(&matched, countOneBits(bits));
  workgroupBarrier();
  if (lid == 0u) { atomicAdd(&dst[0], atomicLoad(&matched)); }
}`;
  return {
    source,
    table: new Uint32Array(1),
    groups: (n) => Math.ceil(n / (64 * 32)),
    outWords: (n) => (mask ? 1 + Math.ceil(n / 32) : 1),
  };
}

/** The records whose mask bits are set, copied in file order into out at `at` (bytes); the new `at`. */
export function gatherMatches(
  words: Uint32Array,
  first: number,
  n: number,
  bytes: Uint8Array,
  recordSize: number,
  out: Uint8Array,
  at: number,
): number {
  for (let w = 0; w * 32 < n; w++) {
    let bits = words[1 + w]!;
    while (bits !== 0) {
      const i = 31 - Math.clz32(bits & -bits);
      bits &= bits - 1;
      const from = (first + w * 32 + i) * recordSize;
      out.set(bytes.subarray(from, from + recordSize), at);
      at += recordSize;
    }
  }
  return at;
}
