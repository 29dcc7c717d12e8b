// Every image op on both backends against the JS oracle, on frames of odd sizes (1×1, 3×7, widths that
// are not a multiple of any vector width) with 1, 3 and 4 channels: integer ops bit for bit, blur and
// float convolution within one level. Chains equal their steps applied one by one.
import { describe, expect, it } from 'vitest';
import { loadAddon } from '../../src/native/addon.js';
import { parseFrame } from '../../src/layout/frame.js';
import { image, type ImageSpec } from '../../src/image/op.js';
import { parseChain } from '../../src/image/chain.js';
import { applyChain } from '../../src/image/oracle.js';
import { roundSqrt } from '../../src/image/oracle-filter.js';
import { parseConvolve } from '../../src/image/convolve-text.js';

const addon = loadAddon();

/** Deterministic bytes (xorshift), with a black and a white frame among the random ones. */
function frames(n: number, size: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * size);
  let x = seed | 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  if (n > 2) {
    out.fill(0, 0, size);
    out.fill(255, size, 2 * size);
  }
  return out;
}

// 70 and 129 pixels: rows longer than the widest vector loops (64 bytes, 32 u16 lanes) with a tail;
// 1x9: a one-pixel-wide column, where the first and last pixel of a row are the same one.
const SIZES = ['1x1', '3x7', '17x5', '33x9', '2x40', '70x6', '129x3', '1x9'];
const CHANNELS = [1, 3, 4];
const EXACT = [
  'grey',
  'invert',
  'threshold:100',
  'threshold:0',
  'levels:20:230',
  'levels:0:255',
  'sobel',
  'downscale:1',
  'crop:0,0,1,1',
  'convolve:1,2,1,2,4,2,1,2,1/16',
  'convolve:-1,0,1,-2,0,2,-1,0,1/1+128',
  'convolve:1,1,1,1,1,1,1,1,1/3',
  'convolve:0,-1,0,-1,5,-1,0,-1,0',
  // 3×3 on the 16-bit path with a negative divisor and an offset, and on the 32-bit shift path
  'convolve:1,2,1,2,4,2,1,2,1/-16+255',
  'convolve:100,200,100,200,-400,200,100,200,100/1024-7',
  `convolve:${Array.from({ length: 25 }, (_, i) => (i % 7) - 3).join(',')}/-7-3`,
  // the integer blur: the ring of widened rows (radius ≤ 8: σ 0.1 with a centre weight of ~1, radius 1,
  // 6, 8), any radius rounded per term (9, 15, 27), per sum (radius 51 and 135); kernels taller than the
  // frame clamp to its edges
  'blur:0.1',
  'blur:0.7',
  'blur:2',
  'blur:2.6',
  'blur:2.7',
  'blur:5',
  'blur:9',
  'blur:17',
  'blur:45',
  'grey|framestats',
  'framestats',
  'histogram',
];
const FLOAT = ['convolve:0.1,0.2,0.1,0.2,-0.25,0.2,0.1,0.2,0.1', `convolve:${Array(25).fill('0.04').join(',')}/1+0.5`];

function prepare(text: string, frame: string, perFrame = false): ImageSpec {
  return image.prepare({ op: text, perFrame }, parseFrame(frame), () =>
    Promise.reject(new Error('no pre-pass')),
  ) as ImageSpec;
}

function run(spec: ImageSpec, data: Uint8Array, recordSize: number, backend: 'js' | 'native') {
  const records = data.length / recordSize;
  if (backend === 'js')
    return image.js(
      spec,
      { bytes: new DataView(data.buffer, data.byteOffset, data.byteLength), records, recordSize },
      true,
    );
  const ctl = new SharedArrayBuffer(16);
  return image.native(spec, { addon: addon!, mapping: data, byteOffset: 0, records, recordSize, ctl }, true)!;
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.skipIf(!addon)('image ops: native against the JS oracle', () => {
  for (const size of SIZES) {
    for (const c of CHANNELS) {
      const frame = `${size}x${c}`;
      it(`${frame}: integer ops are identical, float ops within one level`, () => {
        const spec0 = prepare('invert', frame);
        const recordSize = spec0.chain.shapes[0]!.width * spec0.chain.shapes[0]!.height * c;
        const data = frames(4, recordSize, recordSize * 31 + c);
        for (const text of [...EXACT, ...FLOAT]) {
          const fits = !(text.startsWith('downscale:3') && recordSize < 9);
          if (!fits) continue;
          const spec = prepare(text, frame);
          const js = run(spec, data, recordSize, 'js');
          const nat = run(spec, data, recordSize, 'native');
          expect(nat.partial, text).toEqual(js.partial);
          expect(nat.output!.length, text).toBe(js.output!.length);
          if (EXACT.includes(text))
            expect(Buffer.from(nat.output!).equals(Buffer.from(js.output!)), `${text} on ${frame}`).toBe(true);
          else expect(maxDiff(nat.output!, js.output!), `${text} on ${frame}`).toBeLessThanOrEqual(1);
        }
      });
    }
  }

  it('downscale averages boxes and drops what does not fill one, the same on both backends', () => {
    for (const [frame, f] of [
      ['17x5x3', 2],
      ['33x9x4', 4],
      ['5x5x1', 5],
      ['7x3x1', 3],
    ] as const) {
      const spec = prepare(`downscale:${f}`, frame);
      const s = spec.chain.shapes[0]!;
      const data = frames(3, s.width * s.height * s.channels, 7);
      const js = run(spec, data, s.width * s.height * s.channels, 'js');
      const nat = run(spec, data, s.width * s.height * s.channels, 'native');
      expect(Buffer.from(nat.output!).equals(Buffer.from(js.output!))).toBe(true);
      expect(spec.chain.shapes[1]).toEqual({
        width: Math.floor(s.width / f),
        height: Math.floor(s.height / f),
        channels: s.channels,
      });
    }
    // round half up: a 2×2 box of 0, 0, 0, 2 averages 0.5 → 1; of 0, 0, 1, 2 averages 0.75 → 1; 0, 0, 0, 1 → 0
    const spec = prepare('downscale:2', '2x2x1');
    for (const [box, want] of [
      [[0, 0, 0, 2], 1],
      [[0, 0, 1, 2], 1],
      [[0, 0, 0, 1], 0],
      [[255, 255, 255, 255], 255],
    ] as const) {
      expect(run(spec, Uint8Array.from(box), 4, 'native').output![0]).toBe(want);
      expect(run(spec, Uint8Array.from(box), 4, 'js').output![0]).toBe(want);
    }
  });

  it("every loop body of the blur (BIGPROC_IMAGE_ISA=avx2|base as well as the CPU's own) equals the JS definition", () => {
    const BLURS = EXACT.filter((t) => t.startsWith('blur:'));
    for (const isa of ['avx2', 'base', undefined]) {
      if (isa) process.env.BIGPROC_IMAGE_ISA = isa;
      else delete process.env.BIGPROC_IMAGE_ISA;
      try {
        for (const frame of ['129x3x4', '70x6x3', '33x9x1', '1x9x4', '300x20x4']) {
          const spec0 = prepare('invert', frame);
          const s0 = spec0.chain.shapes[0]!;
          const recordSize = s0.width * s0.height * s0.channels;
          const data = frames(2, recordSize, recordSize + 5);
          for (const text of BLURS) {
            const spec = prepare(text, frame);
            const js = run(spec, data, recordSize, 'js');
            const nat = run(spec, data, recordSize, 'native');
            expect(
              Buffer.from(nat.output!).equals(Buffer.from(js.output!)),
              `${text} on ${frame} (${isa ?? 'cpu'})`,
            ).toBe(true);
          }
        }
      } finally {
        delete process.env.BIGPROC_IMAGE_ISA;
      }
    }
  });

  it("every loop body of framestats and the lookup ops (BIGPROC_IMAGE_ISA=avx512|avx2|base as well as the CPU's own) equals the oracle", () => {
    // 4000-byte rows: vectors of 64 bytes, groups of 192 (C = 3) with a tail; 300x20: more than 256
    // groups (a flush of the 16-bit sums); 1100x1000x4 and 2100x2100x3: more than 65 536 groups of the
    // widest body (a flush of the 32-bit squares), where a white frame overflows any later flush
    const cases = [
      ...['1x1', '3x7', '17x5', '70x6', '1000x1', '300x20'].flatMap((size) => [1, 3, 4].map((c) => `${size}x${c}`)),
      '1100x1000x4',
      '2100x2100x3',
    ];
    const OPS = ['framestats', 'invert', 'threshold:100', 'levels:20:230'];
    for (const frame of cases) {
      const s0 = prepare('invert', frame).chain.shapes[0]!;
      const recordSize = s0.width * s0.height * s0.channels;
      const data = frames(3, recordSize, recordSize + 11);
      for (const text of recordSize > 1e6 ? ['framestats'] : OPS) {
        const spec = prepare(text, frame);
        const js = run(spec, data, recordSize, 'js');
        for (const isa of ['avx512', 'avx2', 'base', undefined]) {
          if (isa) process.env.BIGPROC_IMAGE_ISA = isa;
          try {
            const nat = run(spec, data, recordSize, 'native');
            const what = `${text} on ${frame} (${isa ?? 'cpu'})`;
            expect(nat.partial, what).toEqual(js.partial);
            if (js.output) expect(Buffer.from(nat.output!).equals(Buffer.from(js.output)), what).toBe(true);
          } finally {
            delete process.env.BIGPROC_IMAGE_ISA;
          }
        }
      }
    }
  });

  it('histogram per frame and framestats agree on both backends, per channel', () => {
    const spec = prepare('histogram', '33x9x3', true);
    const data = frames(5, 33 * 9 * 3, 99);
    const js = run(spec, data, 33 * 9 * 3, 'js');
    expect(run(spec, data, 33 * 9 * 3, 'native').partial).toEqual(js.partial);
    const r = image.finalize(spec, js.partial) as { frames: { counts: number[][] }[] };
    expect(r.frames).toHaveLength(5);
    expect(r.frames[1]!.counts[2]![255]).toBe(33 * 9); // the white frame
    expect(r.frames[0]!.counts[0]![0]).toBe(33 * 9); // the black frame
  });
});

describe('image ops: known values', () => {
  it('grey is BT.601 in 16-bit fixed point, rounded half up', () => {
    const spec = prepare('grey', '4x1x3');
    const px = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 100, 50]);
    const want = [
      (19595 * 255 + 32768) >>> 16,
      (38470 * 255 + 32768) >>> 16,
      (7471 * 255 + 32768) >>> 16,
      (19595 * 200 + 38470 * 100 + 7471 * 50 + 32768) >>> 16,
    ];
    expect([...run(spec, px, 12, 'js').output!]).toEqual(want);
    expect([76, 150, 29, 124]).toEqual(want);
    if (addon) expect([...run(spec, px, 12, 'native').output!]).toEqual(want);
  });

  it('point ops keep the alpha channel; levels rounds half up', () => {
    const px = Uint8Array.from([10, 100, 200, 7]);
    expect([...run(prepare('invert', '1x1x4'), px, 4, 'js').output!]).toEqual([245, 155, 55, 7]);
    expect([...run(prepare('threshold:100', '1x1x4'), px, 4, 'js').output!]).toEqual([0, 0, 255, 7]);
    // (100 − 10)·255/190 = 120.789… → 121; (200 − 10)… → 255
    expect([...run(prepare('levels:10:200', '1x1x4'), px, 4, 'js').output!]).toEqual([0, 121, 255, 7]);
  });

  it('sobel rounds √n half up exactly: ⌊√n + ½⌋ is the k with k² − k < n ≤ k² + k for every n it can meet', () => {
    for (let n = 1; n <= 2 * 1020 * 1020; n++) {
      const k = roundSqrt(n);
      if (!(k * k - k < n && n <= k * k + k)) throw new Error(`roundSqrt(${n}) = ${k}`);
    }
    expect(roundSqrt(0)).toBe(0);
  });

  it('native sobel takes ⌊sqrtf(min(n, 65281)) + ½⌋ in float32: √n rounded half up (capped at 255) for every n', () => {
    // Math.fround(Math.sqrt(n)) is sqrtf(n) (double rounding is harmless for sqrt from 53 to 24 bits)
    for (let n = 0; n <= 2 * 1020 * 1020; n++) {
      const k = Math.floor(Math.fround(Math.fround(Math.sqrt(Math.min(n, 65281))) + 0.5));
      if (Math.min(k, 255) !== Math.min(roundSqrt(n), 255)) throw new Error(`n = ${n}: ${k} against ${roundSqrt(n)}`);
    }
  });

  it('a chain equals its steps applied one by one, on both backends', () => {
    const text = 'grey|blur:2|sobel|levels:5:250|downscale:2|crop:1,1,5,2';
    const chain = parseChain(text, { width: 17, height: 9, channels: 4 });
    const data = frames(3, 17 * 9 * 4, 5);
    const spec = prepare(text, '17x9x4');
    for (const backend of addon ? (['js', 'native'] as const) : (['js'] as const)) {
      let cur = data;
      let size = 17 * 9 * 4;
      for (const [i, stage] of text.split('|').entries()) {
        const s = chain.shapes[i]!;
        const one = prepare(stage, `${s.width}x${s.height}x${s.channels}`);
        cur = run(one, cur, size, backend).output!;
        size = one.chain.shapes[1]!.width * one.chain.shapes[1]!.height * one.chain.shapes[1]!.channels;
      }
      expect(Buffer.from(run(spec, data, 17 * 9 * 4, backend).output!).equals(Buffer.from(cur)), backend).toBe(true);
    }
    expect(applyChain(chain, data.subarray(0, 17 * 9 * 4)).length).toBe(5 * 2);
  });

  it('refuses bad stages with one line naming the stage and what was expected', () => {
    const bad: [string, RegExp][] = [
      ['blur:0', /sigma above 0/],
      ['blur:x', /sigma/],
      ['threshold', /threshold:T/],
      ['threshold:256', /from 0 to 255/],
      ['levels:200:100', /HI above LO/],
      ['crop:0,0,9,1', /X \+ W within 8/],
      ['crop:1,2', /crop:X,Y,W,H/],
      ['downscale:0', /factor F/],
      ['downscale:9', /factor F no larger than the 8×4 frame/],
      ['convolve:1,2,3', /9 or 25 coefficients \(found 3\)/],
      ['convolve:1,1,1,1,1,1,1,1,1/0', /not 0/],
      ['convolve:1,1,1,1,1,1,1,1,x', /coefficient \(a number\)/],
      ['convolve:@/nonexistent/k.txt', /cannot read the convolve kernel file/],
      ['histogram|grey', /must be the last stage/],
      ['grey|nope', /an image op .* at stage 2/],
    ];
    for (const [text, re] of bad) expect(() => prepare(text, '8x4x3'), text).toThrow(re);
    expect(() => prepare('grey|framestats', '8x4x3', true)).toThrow(
      /--per-frame is used only by a chain ending in histogram/,
    );
  });

  it('reads convolve kernels with divisor and offset, integer or not', () => {
    expect(parseConvolve('1,2,1,2,4,2,1,2,1')).toMatchObject({ size: 3, divisor: 16, offset: 0, integer: true });
    expect(parseConvolve('-1,0,1,-2,0,2,-1,0,1')).toMatchObject({ divisor: 1, integer: true });
    expect(parseConvolve('1,2,1,2,4,2,1,2,1/-16+128')).toMatchObject({ divisor: -16, offset: 128, integer: true });
    expect(parseConvolve('1,2,1,2,4,2,1,2,1/16-5')).toMatchObject({ divisor: 16, offset: -5 });
    expect(parseConvolve('1,1,1,1,1,1,1,1,1/4.5')).toMatchObject({ divisor: 4.5, integer: false });
  });
});
