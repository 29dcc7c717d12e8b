// WGSL compute shaders for the image map steps, one module per step kind. Frames are packed bytes in
// u32 words (WGSL has no u8): an invocation writes one output word, its four bytes computed
// independently (a word may straddle two frames). Every integer step, blur included (its integer
// definition, oracle-blur.ts), is exact integer arithmetic as the JS oracle (src/image/oracle-*.ts);
// float convolve runs in f32, within one level of the float64 oracle. Workgroups of 64 (llvmpipe
// allows at most 128), laid out in two dimensions past 65535 workgroups.

/** Parameters shared by every step: input and output shapes, frames in the batch, up to 6 step arguments. */
const PRELUDE = /* wgsl */ `
struct P { inW: u32, inH: u32, inC: u32, outW: u32, outH: u32, outC: u32, frames: u32, a0: u32,
           a1: u32, a2: u32, a3: u32, a4: u32 }
@group(0) @binding(2) var<uniform> p: P;
@group(0) @binding(3) var<storage, read> tab: array<u32>;
fn inFrame() -> u32 { return p.inW * p.inH * p.inC; }
fn clampi(v: i32, n: u32) -> u32 { return u32(clamp(v, 0, i32(n) - 1)); }
fn flat(g: vec3u, n: vec3u) -> u32 { return g.x + g.y * n.x * 64u; }
`;

const BYTE_SRC = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<u32>;
fn ld(i: u32) -> u32 { return (src[i >> 2u] >> ((i & 3u) * 8u)) & 255u; }
fn at(f: u32, x: i32, y: i32, ch: u32) -> u32 {
  return ld(f * inFrame() + (clampi(y, p.inH) * p.inW + clampi(x, p.inW)) * p.inC + ch);
}
`;

/** The byte-writing main: `value(f, x, y, ch)` gives output value (f, x, y, ch). */
const BYTE_MAIN = /* wgsl */ `
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  let word = flat(g, n);
  let fo = p.outW * p.outH * p.outC;
  let total = fo * p.frames;
  if (word * 4u >= total) { return; }
  var v = 0u;
  for (var k = 0u; k < 4u; k++) {
    let o = word * 4u + k;
    if (o < total) {
      let f = o / fo;
      let r = o % fo;
      let px = r / p.outC;
      v |= (value(f, i32(px % p.outW), i32(px / p.outW), r % p.outC) & 255u) << (k * 8u);
    }
  }
  dst[word] = v;
}
`;

/** A float as a level: clamped to 0…255, rounded half up (the oracle's level()). */
const LEVEL = /* wgsl */ `
fn level(v: f32) -> u32 { if (v <= 0.0) { return 0u; } if (v >= 255.0) { return 255u; } return u32(floor(v + 0.5)); }
`;

const VALUES: Record<string, string> = {
  grey: /* wgsl */ `
fn value(f: u32, x: i32, y: i32, ch: u32) -> u32 {
  if (p.inC == 1u) { return at(f, x, y, 0u); }
  return (19595u * at(f, x, y, 0u) + 38470u * at(f, x, y, 1u) + 7471u * at(f, x, y, 2u) + 32768u) >> 16u;
}`,
  // a0: keep alpha (C = 4)
  lut: /* wgsl */ `
fn value(f: u32, x: i32, y: i32, ch: u32) -> u32 {
  let v = at(f, x, y, ch);
  if (p.a0 == 1u && ch == 3u) { return v; }
  return tab[v];
}`,
  // a0: factor
  downscale: /* wgsl */ `
fn value(f: u32, x: i32, y: i32, ch: u32) -> u32 {
  let k = p.a0;
  var sum = 0u;
  for (var dy = 0u; dy < k; dy++) {
    for (var dx = 0u; dx < k; dx++) { sum += at(f, x * i32(k) + i32(dx), y * i32(k) + i32(dy), ch); }
  }
  let area = k * k;
  return (2u * sum + area) / (2u * area);
}`,
  // a0, a1: x, y
  crop: /* wgsl */ `
fn value(f: u32, x: i32, y: i32, ch: u32) -> u32 { return at(f, x + i32(p.a0), y + i32(p.a1), ch); }`,
  // exact: round half up of √n by integer correction of the f32 estimate
  sobel: /* wgsl */ `
fn value(f: u32, x: i32, y: i32, ch: u32) -> u32 {
  let gx = i32(at(f, x + 1, y - 1, ch)) + 2 * i32(at(f, x + 1, y, ch)) + i32(at(f, x + 1, y + 1, ch))
         - i32(at(f, x - 1, y - 1, ch)) - 2 * i32(at(f, x - 1, y, ch)) - i32(at(f, x - 1, y + 1, ch));
  let gy = i32(at(f, x - 1, y + 1, ch)) + 2 * i32(at(f, x, y + 1, ch)) + i32(at(f, x + 1, y + 1, ch))
         - i32(at(f, x - 1, y - 1, ch)) - 2 * i32(at(f, x, y - 1, ch)) - i32(at(f, x + 1, y - 1, ch));
  let n4 = 4u * u32(gx * gx + gy * gy);
  var r = u32(floor(sqrt(f32(n4 / 4u)) + 0.5));
  loop { if (n4 >= (2u * r + 1u) * (2u * r + 1u)) { r++; } else { break; } }
  loop { if (r > 0u && n4 < (2u * r - 1u) * (2u * r - 1u)) { r--; } else { break; } }
  return min(r, 255u);
}`,
  // a0: size, a1: integer?, a2: |divisor| (integer) , a3: sign (1 or 0xffffffff), a4: offset (i32 bits);
  // float kernels: tab = size² kernel floats, then divisor and offset as f32 bits
  convolve: /* wgsl */ `
fn floordiv(a: i32, b: i32) -> i32 { let q = a / b; if ((a % b != 0) && (a < 0)) { return q - 1; } return q; }
fn value(f: u32, x: i32, y: i32, ch: u32) -> u32 {
  let size = i32(p.a0);
  let half = (size - 1) / 2;
  if (p.a1 == 1u) {
    var s = 0;
    for (var j = 0; j < size; j++) {
      for (var i = 0; i < size; i++) { s += bitcast<i32>(tab[u32(j * size + i)]) * i32(at(f, x + i - half, y + j - half, ch)); }
    }
    let d = i32(p.a2);
    let v = floordiv(2 * (bitcast<i32>(p.a3) * s + bitcast<i32>(p.a4) * d) + d, 2 * d);
    return u32(clamp(v, 0, 255));
  }
  var s = 0.0;
  for (var j = 0; j < size; j++) {
    for (var i = 0; i < size; i++) { s += bitcast<f32>(tab[u32(j * size + i)]) * f32(at(f, x + i - half, y + j - half, ch)); }
  }
  let n = u32(size * size);
  return level(s / bitcast<f32>(tab[n]) + bitcast<f32>(tab[n + 1u]));
}`,
  // blur's second pass, rows: blurCols' integers → bytes; a0: radius, a1: 1 to round the sum (else each
  // term), tab: the taps V_0…V_r. x'_k ≤ 32766 and V_k ≤ 2^14: each product and the whole sum (≤ 255·2^21)
  // fit u32 exactly.
  blurRows: /* wgsl */ `
@group(0) @binding(0) var<storage, read> cols: array<u32>;
fn s1(f: u32, x: i32, y: i32, ch: u32) -> u32 { return cols[f * inFrame() + (u32(y) * p.inW + clampi(x, p.inW)) * p.inC + ch]; }
fn value(f: u32, x: i32, y: i32, ch: u32) -> u32 {
  let r = i32(p.a0);
  var sum = 0u;
  for (var k = 0; k <= r; k++) {
    let a = (s1(f, x - k, y, ch) + s1(f, x + k, y, ch)) * tab[u32(k)];
    if (p.a1 == 1u) { sum += a; } else { sum += (a + 16384u) >> 15u; }
  }
  if (p.a1 == 1u) { return (sum + (1u << 20u)) >> 21u; }
  return min(255u, (sum + 32u) >> 6u);
}`,
};

/**
 * Blur's first pass, columns: bytes → one u32 per value, S1 = Σ ⌊(x_k·V_k + 2^8) / 2^9⌋ per term, or
 * ⌊(Σ x_k·V_k + 2^8) / 2^9⌋ per sum (x_k ≤ 510: exact in u32; S1 ≤ 16383), one value per invocation.
 * a0: radius, a1: 1 to round the sum, tab: the taps.
 */
const BLUR_COLS = /* wgsl */ `
@group(0) @binding(1) var<storage, read_write> cols: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  let o = flat(g, n);
  let fo = inFrame();
  if (o >= fo * p.frames) { return; }
  let f = o / fo;
  let rr = o % fo;
  let ch = rr % p.inC;
  let px = rr / p.inC;
  let x = i32(px % p.inW);
  let y = i32(px / p.inW);
  let r = i32(p.a0);
  var sum = 0u;
  for (var k = 0; k <= r; k++) {
    let a = (at(f, x, y - k, ch) + at(f, x, y + k, ch)) * tab[u32(k)];
    if (p.a1 == 1u) { sum += a; } else { sum += (a + 256u) >> 9u; }
  }
  if (p.a1 == 1u) { sum = (sum + 256u) >> 9u; }
  cols[o] = sum;
}
`;

export type ShaderKind = 'grey' | 'lut' | 'downscale' | 'crop' | 'sobel' | 'convolve' | 'blurCols' | 'blurRows';

export function shaderSource(kind: ShaderKind): string {
  if (kind === 'blurCols') return PRELUDE + BYTE_SRC + BLUR_COLS;
  if (kind === 'blurRows') return PRELUDE + VALUES.blurRows + BYTE_MAIN;
  return PRELUDE + BYTE_SRC + LEVEL + VALUES[kind] + BYTE_MAIN;
}
