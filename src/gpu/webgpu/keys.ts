// Order-preserving keys as WGSL sees them: a value's key is one u32 word (8/16/32-bit types) or two
// (f64, i64, u64: most significant first), and comparing keys as unsigned integers orders the values as
// numbers — integers with the sign bit flipped, floats with the sign bit flipped when positive and every
// bit flipped when negative, -0 made +0 (or kept just below it: signedZero), NaN told apart before any comparison. The thresholds come from
// gpu.js's 16-bit parts (gpujs/hist-keys.ts: the key of the smallest value of the type ≥ an edge), paired
// into words; 64-bit integers get theirs here, with BigInt, since their parts are not exact in f32.
import type { NumericType } from '../../layout/types.js';
import type { FieldSpec } from '../../ops/lib/fields.js';
import { keyOf, thresholdKey } from '../gpujs/hist-keys.js';

/** A key: one or two u32 words, most significant first; null: no value of the type reaches it. */
export type Key = number[] | null;

const BYTES: Record<NumericType, number> = {
  i8: 1,
  u8: 1,
  i16: 2,
  u16: 2,
  i32: 4,
  u32: 4,
  f32: 4,
  i64: 8,
  u64: 8,
  f64: 8,
};

export function wordsOf(type: NumericType): 1 | 2 {
  return BYTES[type] === 8 ? 2 : 1;
}

/** gpu.js's 16-bit parts (most significant first) as u32 words; a first part past 65535 is "never". */
function partsToWords(parts: number[]): Key {
  if (parts.length === 1) return parts;
  if (parts[0]! > 65535) return null;
  const words: number[] = [];
  for (let k = 0; k < parts.length; k += 2) words.push(parts[k]! * 65536 + parts[k + 1]!);
  return words;
}

/** The key of a 64-bit integer. */
export function bigKey(v: bigint, type: 'i64' | 'u64'): number[] {
  const u = type === 'i64' ? BigInt.asUintN(64, v) ^ (1n << 63n) : v;
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}

/** The key of a value of `type` (exact: 64-bit integers as BigInt). */
export function valueKey(v: number | bigint, type: NumericType): number[] {
  if (type === 'i64' || type === 'u64') return bigKey(BigInt(v), type);
  return partsToWords(keyOf(Number(v), type))!;
}

/** The smallest 64-bit integer whose double (as static_cast<double> rounds it) is ≥ e (strict: > e). */
function bigThreshold(e: number, type: 'i64' | 'u64', strict: boolean): Key {
  let lo = type === 'i64' ? -(2n ** 63n) : 0n;
  let hi = type === 'i64' ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  const ok = (v: bigint) => (strict ? Number(v) > e : Number(v) >= e);
  if (!ok(hi)) return null;
  while (lo < hi) {
    const mid = lo + (hi - lo) / 2n;
    if (ok(mid)) hi = mid;
    else lo = mid + 1n;
  }
  return bigKey(lo, type);
}

/**
 * The key T with key(x) ≥ T ⟺ x ≥ e (strict: x > e) for every non-NaN x of the field's type, where x is
 * compared as the CPU compares it (64-bit integers as their doubles); null when no x qualifies.
 */
export function thresholdWords(e: number, type: NumericType, strict: boolean): Key {
  if (type === 'i64' || type === 'u64') return bigThreshold(e, type, strict);
  return partsToWords(thresholdKey(e, type, strict));
}

/**
 * WGSL: `fn keyN(base: u32) -> K` reading the field at byte base + offset, and `fn nanN(base) -> bool`.
 * signedZero: −0's key just below +0's (minmax orders them as stats does), not equal to it.
 */
export function keySource(name: string, f: FieldSpec, recordSize: number, signedZero = false): string {
  const [fkey, dkey] = signedZero ? ['fkeyz', 'dkeyz'] : ['fkey', 'dkey'];
  const n = BYTES[f.type];
  const aligned = !f.bigEndian && n >= 4 && f.offset % 4 === 0 && recordSize % 4 === 0;
  // a 32-bit word of the value at byte p: the more significant one at p for big-endian
  const word = (at: string) => (aligned ? `src[(${at}) >> 2u]` : f.bigEndian ? `ldBE(${at})` : `ldLE(${at})`);
  const p = `base + ${f.offset}u`;
  let body: string;
  let nan = 'false';
  if (n === 1) body = `let v = ld(${p});\n  return ${f.type === 'i8' ? 'v ^ 0x80u' : 'v'};`;
  else if (n === 2) {
    const v = f.bigEndian ? `(ld(${p}) << 8u) | ld(${p} + 1u)` : `ld(${p}) | (ld(${p} + 1u) << 8u)`;
    body = `let v = ${v};\n  return ${f.type === 'i16' ? 'v ^ 0x8000u' : 'v'};`;
  } else if (n === 4) {
    body = `let v = ${word(p)};\n  return ${f.type === 'i32' ? 'v ^ 0x80000000u' : f.type === 'f32' ? `${fkey}(v)` : 'v'};`;
    if (f.type === 'f32') nan = `(${word(p)} & 0x7fffffffu) > 0x7f800000u`;
  } else {
    const [hiAt, loAt] = f.bigEndian ? [p, `${p} + 4u`] : [`${p} + 4u`, p];
    const pair = `vec2u(${word(hiAt)}, ${word(loAt)})`;
    body = `let v = ${pair};\n  return ${f.type === 'i64' ? 'v ^ vec2u(0x80000000u, 0u)' : f.type === 'f64' ? `${dkey}(v)` : 'v'};`;
    if (f.type === 'f64') nan = `dnan(${pair})`;
  }
  const k = n === 8 ? 'vec2u' : 'u32';
  return `fn key${name}(base: u32) -> ${k} {\n  ${body}\n}\nfn nan${name}(base: u32) -> bool { return ${nan}; }\n`;
}

/** WGSL helpers the key functions use (src is the records' words). */
export const KEY_PRELUDE = /* wgsl */ `
fn ld(i: u32) -> u32 { return (src[i >> 2u] >> ((i & 3u) * 8u)) & 255u; }
fn ldLE(i: u32) -> u32 { return ld(i) | (ld(i + 1u) << 8u) | (ld(i + 2u) << 16u) | (ld(i + 3u) << 24u); }
fn ldBE(i: u32) -> u32 { return (ld(i) << 24u) | (ld(i + 1u) << 16u) | (ld(i + 2u) << 8u) | ld(i + 3u); }
fn fkey(v: u32) -> u32 {
  if (v == 0x80000000u) { return 0x80000000u; }
  if ((v & 0x80000000u) != 0u) { return ~v; }
  return v ^ 0x80000000u;
}
fn dkey(v: vec2u) -> vec2u {
  if (v.x == 0x80000000u && v.y == 0u) { return vec2u(0x80000000u, 0u); }
  if ((v.x & 0x80000000u) != 0u) { return ~v; }
  return vec2u(v.x ^ 0x80000000u, v.y);
}
fn fkeyz(v: u32) -> u32 { if ((v & 0x80000000u) != 0u) { return ~v; } return v ^ 0x80000000u; }
fn dkeyz(v: vec2u) -> vec2u { if ((v.x & 0x80000000u) != 0u) { return ~v; } return vec2u(v.x ^ 0x80000000u, v.y); }
fn dnan(v: vec2u) -> bool { let h = v.x & 0x7fffffffu; return h > 0x7ff00000u || (h == 0x7ff00000u && v.y != 0u); }
fn ge1(a: u32, b: u32) -> bool { return a >= b; }
fn ge2(a: vec2u, b: vec2u) -> bool { return a.x > b.x || (a.x == b.x && a.y >= b.y); }
fn eq1(a: u32, b: u32) -> bool { return a == b; }
fn eq2(a: vec2u, b: vec2u) -> bool { return all(a == b); }
`;

/** A key as a WGSL constant of its width. */
export function keyLiteral(k: number[]): string {
  return k.length === 2 ? `vec2u(${k[0]}u, ${k[1]}u)` : `${k[0]}u`;
}
