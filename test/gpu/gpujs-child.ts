// Run under xvfb-run by gpujs-*.test.ts (vitest has no X display): the gpu.js device against the JS
// oracle. Prints one JSON line: the device's detail, the kernel class a plain gpu.js kernel got, and a
// list of failures (empty when every case matched). `image` or `hist` as argv[2] picks the cases.
import { openGpuJs } from '../../src/gpu/gpujs/device.js';
import { loadGpuJs } from '../../src/gpu/gpujs/load.js';
import type { GpuDevice } from '../../src/gpu/device.js';
import { image, type ImageSpec } from '../../src/image/op.js';
import { parseFrame } from '../../src/layout/frame.js';
import type { MapStep } from '../../src/image/steps.js';
import { BLUR_FRAC } from '../../src/image/oracle-blur.js';
import { blurTrapFrame } from './blur-traps.js';
import { hist, type HistSpec } from '../../src/ops/hist.js';
import { minmax, type MinMaxSpec } from '../../src/ops/minmax.js';
import type { NumericType } from '../../src/layout/types.js';
import { parseSchema } from '../../src/layout/schema.js';
import { filter } from '../../src/ops/filter.js';
import { count } from '../../src/ops/count.js';

const failures: string[] = [];

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

const noPrePass = () => Promise.reject(new Error('no pre-pass'));

function prepare(text: string, frame: string): ImageSpec {
  return image.prepare({ op: text }, parseFrame(frame), noPrePass) as ImageSpec;
}

const EXACT = [
  'grey',
  'invert',
  'threshold:100',
  'levels:20:230',
  'sobel',
  'downscale:1',
  'downscale:2',
  'crop:0,0,1,1',
  'convolve:1,2,1,2,4,2,1,2,1/16',
  'convolve:-1,0,1,-2,0,2,-1,0,1/1+128',
  'convolve:1,1,1,1,1,1,1,1,1/3',
  'convolve:0,-1,0,-1,5,-1,0,-1,0',
  `convolve:${Array.from({ length: 25 }, (_, i) => (i % 7) - 3).join(',')}/-7-3`,
  // blur is the integer definition (oracle-blur.ts): bit for bit too
  'blur:0.1',
  'blur:0.7',
  'blur:2',
  'blur:2.6',
  'blur:5',
];
const FLOAT = ['convolve:0.1,0.2,0.1,0.2,-0.25,0.2,0.1,0.2,0.1', `convolve:${Array(25).fill('0.04').join(',')}/1+0.5`];
const CHAINS = ['grey|blur:1|sobel', 'invert|downscale:2|threshold:120', 'blur:1|grey|convolve:1,2,1,2,4,2,1,2,1/16'];

async function onDevice(dev: GpuDevice, spec: ImageSpec, data: Uint8Array, recordSize: number) {
  const r = await dev.run({
    op: 'image',
    spec,
    bytes: data,
    records: data.length / recordSize,
    recordSize,
    firstRecord: 0,
    wantOutput: true,
  });
  return r.output!;
}

function js(spec: ImageSpec, data: Uint8Array, recordSize: number): Uint8Array {
  const bytes = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return image.js(spec, { bytes, records: data.length / recordSize, recordSize }, true).output!;
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return 999;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function checkOp(dev: GpuDevice, text: string, frame: string, tolerance: number, given?: Uint8Array) {
  const spec = prepare(text, frame);
  const s = spec.chain.shapes[0]!;
  const size = s.width * s.height * s.channels;
  const data = given ?? frames(4, size, size * 31 + s.channels);
  const why = dev.refuses('image', spec);
  if (why) return failures.push(`${text} on ${frame}: refused (${why})`);
  const d = maxDiff(await onDevice(dev, spec, data, size), js(spec, data, size));
  if (d > tolerance) failures.push(`${text} on ${frame}: differs by ${d} from the JS oracle`);
}

/** A chain on the device equals its steps run on the device one at a time. */
async function checkChain(dev: GpuDevice, text: string, frame: string) {
  const spec = prepare(text, frame);
  const s = spec.chain.shapes[0]!;
  const data = frames(3, s.width * s.height * s.channels, 99);
  const whole = await onDevice(dev, spec, data, s.width * s.height * s.channels);
  let cur = data;
  let shape = frame;
  for (const step of text.split('|')) {
    const one = prepare(step, shape);
    const i = one.chain.shapes[0]!;
    cur = await onDevice(dev, one, cur, i.width * i.height * i.channels);
    const o = one.chain.shapes[1]!;
    shape = `${o.width}x${o.height}x${o.channels}`;
  }
  if (maxDiff(whole, cur) !== 0) failures.push(`chain ${text} on ${frame} differs from its steps one by one`);
}

async function images(dev: GpuDevice) {
  for (const size of ['1x1', '3x7', '17x5', '5x3'])
    for (const c of [1, 3, 4]) {
      const frame = `${size}x${c}`;
      for (const t of EXACT) if (!(t === 'downscale:2' && size === '1x1')) await checkOp(dev, t, frame, 0);
      for (const t of FLOAT) await checkOp(dev, t, frame, 1);
      if (size !== '1x1')
        for (const t of CHAINS) {
          await checkChain(dev, t, frame);
          await checkOp(dev, t, frame, 0);
        }
    }
  await blurs(dev);
  // frames too large for two per kernel call: the chunk runs in several calls
  await checkOp(dev, 'invert|crop:1,1,1020,1000', '1030x1030x4', 0);
}

/** blur bit for bit rounding per sum (radius 126, 135) and per term up to radius 48, and on 0/255 checkerboards. */
async function blurs(dev: GpuDevice) {
  for (const frame of ['7x3x4', '13x5x3', '281x277x1']) await checkOp(dev, 'blur:45', frame, 0);
  await checkOp(dev, 'blur:42', '300x9x1', 0);
  await checkOp(dev, 'blur:16', '120x9x1', 0);
  const board = new Uint8Array(2 * 33 * 31 * 3);
  for (let j = 0; j < board.length; j++) board[j] = (Math.floor(j / 3) + Math.floor(j / 99)) % 2 ? 255 : 0;
  for (const t of ['blur:0.7', 'blur:5', 'blur:45']) await checkOp(dev, t, '33x31x3', 0, board);
  // where x'·V rounded in f32 (the products reach 5.4e8) would change the byte: the Vh/Vl split must hold
  for (const sigma of ['0.7', '1', '2', '5']) {
    const step = prepare(`blur:${sigma}`, '1x1x1').chain.steps[0] as Extract<MapStep, { op: 'blur' }>;
    const trap = blurTrapFrame(step.taps, BLUR_FRAC, 3);
    await checkOp(dev, `blur:${sigma}`, `${trap.width}x2x1`, 0, trap.bytes);
  }
}

/** Random values of `type` with NaN, ±0, ±Inf, the range's ends and its edges mixed in. */
function histData(type: NumericType, n: number, lo: number, hi: number, bins: number): DataView {
  const size = { i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, f32: 4, f64: 8, i64: 8, u64: 8 }[type];
  const dv = new DataView(new ArrayBuffer(n * size));
  const step = (hi - lo) / bins;
  const special = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, lo, hi];
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const r = x / 2 ** 32;
    let v = i % 5 === 0 ? lo + Math.floor(r * (bins + 1)) * step : lo - (hi - lo) * 0.2 + r * (hi - lo) * 1.4;
    if (i % 11 === 0) v = special[i % special.length]!;
    const set = {
      f32: () => dv.setFloat32(i * 4, v, true),
      f64: () => dv.setFloat64(i * 8, v, true),
      i8: () => dv.setInt8(i, clampInt(v, -128, 127)),
      u8: () => dv.setUint8(i, clampInt(v, 0, 255)),
      i16: () => dv.setInt16(i * 2, clampInt(v, -32768, 32767), true),
      u16: () => dv.setUint16(i * 2, clampInt(v, 0, 65535), true),
      i32: () => dv.setInt32(i * 4, clampInt(v, -(2 ** 31), 2 ** 31 - 1), true),
      u32: () => dv.setUint32(i * 4, clampInt(v, 0, 2 ** 32 - 1), true),
    } as Record<string, () => void>;
    set[type]!();
  }
  return dv;
}

function clampInt(v: number, lo: number, hi: number): number {
  return Number.isNaN(v) ? 0 : Math.min(hi, Math.max(lo, Math.round(v)));
}

async function hists(dev: GpuDevice) {
  const cases: [NumericType, number, number, number][] = [
    ['f32', -3.7, 12.1, 10],
    ['f32', 0, 1, 7],
    ['f64', -1e-3, 2.5e6, 13],
    ['f64', 0.1, 0.7, 3],
    ['i32', -1000, 1000, 10],
    ['u32', 0, 4e9, 9],
    ['i16', -300, 301, 17],
    ['u16', 10, 60000, 100],
    ['i8', -100, 100, 8],
    ['u8', 0, 255, 256],
  ];
  for (const [type, lo, hi, bins] of cases) {
    const size = { i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, f32: 4, f64: 8 }[type as string]!;
    const n = 5003;
    const dv = histData(type, n, lo, hi, bins);
    const spec: HistSpec = { name: 'x', field: { offset: 0, type, bigEndian: false }, lo, hi, bins };
    const want = hist.js(spec, { bytes: dv, records: n, recordSize: size }, false).partial;
    const bytes = new Uint8Array(dv.buffer);
    const got = await dev.run({
      op: 'hist',
      spec,
      bytes,
      records: n,
      recordSize: size,
      firstRecord: 0,
      wantOutput: false,
    });
    if (JSON.stringify(got.partial) !== JSON.stringify(want))
      failures.push(
        `hist ${type} [${lo}, ${hi}] ${bins} bins: ${JSON.stringify(got.partial)} != ${JSON.stringify(want)}`,
      );
  }
}

const REDUCES = [
  'framestats',
  'histogram',
  'grey|framestats',
  'invert|downscale:2|histogram',
  'threshold:128|framestats',
];

/** The reduce chains' partial values (Σv, Σv², min, max; histograms summed and per frame) equal the JS op's. */
async function reduces(dev: GpuDevice) {
  const sizes = ['1x1', '3x7', '17x5', '70x61'];
  for (const size of sizes)
    for (const c of [1, 3, 4])
      for (const text of REDUCES)
        for (const perFrame of text.endsWith('histogram') ? [false, true] : [false]) {
          if (text.includes('downscale') && size === '1x1') continue;
          const frame = `${size}x${c}`;
          const spec = image.prepare({ op: text, perFrame }, parseFrame(frame), noPrePass) as ImageSpec;
          const s = spec.chain.shapes[0]!;
          const recordSize = s.width * s.height * s.channels;
          const data = frames(5, recordSize, recordSize * 7 + c);
          const dv = new DataView(data.buffer);
          const want = image.js(spec, { bytes: dv, records: 5, recordSize }, false).partial;
          const chunk = { op: 'image', spec, bytes: data, records: 5, recordSize, firstRecord: 0, wantOutput: false };
          const got = (await dev.run(chunk)).partial;
          if (JSON.stringify(got) !== JSON.stringify(want))
            failures.push(`${text}${perFrame ? ' --per-frame' : ''} on ${frame} differs from the JS op`);
        }
  // segments past 2^24 in total (Σv² of a 1030×1030 frame): the CPU adds them exactly
  const big = image.prepare({ op: 'framestats' }, parseFrame('1030x1030x1'), noPrePass) as ImageSpec;
  const data = frames(3, 1030 * 1030, 5);
  const want = image.js(big, { bytes: new DataView(data.buffer), records: 3, recordSize: 1030 * 1030 }, false);
  const chunk = {
    op: 'image',
    spec: big,
    bytes: data,
    records: 3,
    recordSize: 1030 * 1030,
    firstRecord: 0,
    wantOutput: false,
  };
  if (JSON.stringify((await dev.run(chunk)).partial) !== JSON.stringify(want.partial))
    failures.push('framestats on 1030x1030x1 differs from the JS op');
}

const WHERE_SCHEMA = 'a:f32,b:f64,c:i32,d:u32,e:i16,f:u16,g:i8,h:u8';
const WHERES = [
  'a < 1.5',
  'a >= 0.1',
  'a == 0',
  'a != 0',
  'a > -inf',
  'a < inf',
  'a != nan',
  'a == nan',
  '!(a < 2)',
  'b <= 0.1 || b > 1e300',
  'b == -0',
  'b > 0.30000000000000004',
  'c >= -5 && c < 7',
  'c == 2147483647 || c == -2147483648',
  'd > 4000000000',
  'd <= 3',
  'e != 300 && f > 65000',
  'g < -100 || h >= 250',
  'h == 2.5',
  'h < 2.5',
  'a > 1e39',
  '(a < 1 && b > 0.5) || !(c >= 0 || g == 3)',
  'true',
  'false || d == 0',
];

/** Records of WHERE_SCHEMA with NaN, ±0, ±Inf, integers at their type's ends and values on the constants. */
function whereRecords(n: number, bigEndian: boolean): DataView {
  const dv = new DataView(new ArrayBuffer(n * 27));
  const le = !bigEndian;
  const floats = [
    Number.NaN,
    0,
    -0,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    1.5,
    0.1,
    2,
    1e300,
    0.30000000000000004,
    3.4e38,
  ];
  let x = 987;
  const rnd = () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x / 2 ** 32;
  };
  for (let i = 0, p = 0; i < n; i++, p += 27) {
    const r = rnd();
    const fl = i % 3 === 0 ? floats[i % floats.length]! : (r - 0.3) * 4;
    dv.setFloat32(p, fl, le);
    dv.setFloat64(p + 4, i % 4 === 0 ? floats[(i >> 2) % floats.length]! : (rnd() - 0.5) * 3, le);
    dv.setInt32(p + 12, i % 7 === 0 ? [2147483647, -2147483648, -5, 7, 0][i % 5]! : Math.floor((rnd() - 0.5) * 30), le);
    dv.setUint32(p + 16, i % 5 === 0 ? [0, 3, 4, 4000000000, 4294967295][i % 5]! : Math.floor(rnd() * 2 ** 32), le);
    dv.setInt16(p + 20, i % 2 ? 300 : Math.floor((rnd() - 0.5) * 65536), le);
    dv.setUint16(p + 22, Math.floor(rnd() * 65536), le);
    dv.setInt8(p + 24, Math.floor((rnd() - 0.5) * 256));
    dv.setUint8(p + 25, Math.floor(rnd() * 256));
    dv.setUint8(p + 26, i & 0xff);
  }
  return dv;
}

/** filter (matched and the records, in file order) and count --where equal the JS ops. */
async function wheres(dev: GpuDevice) {
  for (const bigEndian of [false, true]) {
    const layout = { ...parseSchema(`${WHERE_SCHEMA},pad:u8`), bigEndian };
    const n = 3001;
    const dv = whereRecords(n, bigEndian);
    const bytes = new Uint8Array(dv.buffer);
    for (const where of WHERES) {
      const spec = filter.prepare({ where }, layout, noPrePass) as Parameters<typeof filter.js>[0];
      const want = filter.js(spec, { bytes: dv, records: n, recordSize: 27 }, true);
      const chunk = { op: 'filter', spec, bytes, records: n, recordSize: 27, firstRecord: 0, wantOutput: true };
      const got = await dev.run(chunk);
      const same = Buffer.from(got.output as Uint8Array).equals(Buffer.from(want.output!));
      if (JSON.stringify(got.partial) !== JSON.stringify(want.partial) || !same)
        failures.push(
          `filter --where '${where}'${bigEndian ? ' (big-endian)' : ''}: ${JSON.stringify(got.partial)} != ${JSON.stringify(want.partial)}`,
        );
      const cspec = count.prepare({ where }, layout, noPrePass) as Parameters<typeof count.js>[0];
      const cwant = count.js(cspec, { bytes: dv, records: n, recordSize: 27 }, false).partial;
      const cgot = (await dev.run({ ...chunk, op: 'count', spec: cspec, wantOutput: false })).partial;
      if (JSON.stringify(cgot) !== JSON.stringify(cwant))
        failures.push(`count --where '${where}': ${JSON.stringify(cgot)} != ${JSON.stringify(cwant)}`);
    }
  }
}

/** −0 told from 0, bigints and NaN shown: a partial as text to compare. */
const show = (v: unknown) =>
  JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : Object.is(x, -0) ? '-0' : x));

/** minmax of two fields per record (random bytes with NaN payloads, ±0, ±Inf, type ends) equal to the JS op; i64 refused. */
async function minmaxes(dev: GpuDevice) {
  const specials: Record<string, string[]> = {
    f64: [
      '0000000000000000',
      '8000000000000000',
      '7ff0000000000000',
      'fff0000000000000',
      '7ff8000000000001',
      'ffffffffffffffff',
      '0000000000000001',
    ],
    f32: ['00000000', '80000000', '7f800000', 'ff800000', '7fc00001', 'ffffffff', '80000001'],
  };
  for (const type of ['i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'f32', 'f64'] as NumericType[]) {
    for (const big of [false, true]) {
      const layout = parseSchema(`${big ? '>' : ''}a:${type},pad<1>,b:${type}`);
      const spec = minmax.prepare({}, layout, noPrePass) as MinMaxSpec;
      const w = (layout.recordSize - 1) / 2; // the type's bytes
      const list = specials[type] ?? [
        '00'.repeat(w),
        'ff'.repeat(w),
        `80${'00'.repeat(w - 1)}`,
        `7f${'ff'.repeat(w - 1)}`,
      ];
      for (const n of [1, 300, 5003]) {
        const bytes = new Uint8Array(n * layout.recordSize);
        let x = n * 7 + w;
        for (let i = 0; i < bytes.length; i++) {
          x = (x * 1103515245 + 12345) >>> 0;
          bytes[i] = x >>> 24;
        }
        for (let i = 0; i < n; i += 3) {
          const pat = list[i % list.length]!.match(/../g)!.map((h) => Number.parseInt(h, 16));
          bytes.set(big ? pat : pat.reverse(), i * layout.recordSize);
        }
        const dv = new DataView(bytes.buffer);
        const want = minmax.js(spec, { bytes: dv, records: n, recordSize: layout.recordSize }, false).partial;
        const chunk = {
          op: 'minmax',
          spec,
          bytes,
          records: n,
          recordSize: layout.recordSize,
          firstRecord: 0,
          wantOutput: false,
        };
        const got = (await dev.run(chunk)).partial;
        if (show(got) !== show(want))
          failures.push(`minmax ${type}${big ? ' (big-endian)' : ''} n=${n}: ${show(got)} != ${show(want)}`);
      }
    }
  }
  // zeros and NaNs only: −0 must be the min and +0 the max (a key that made −0 +0 would lose the −0)
  for (const type of ['f32', 'f64'] as const) {
    const layout = parseSchema(`a:${type}`);
    const spec = minmax.prepare({}, layout, noPrePass) as MinMaxSpec;
    const size = layout.recordSize;
    const dv = new DataView(new ArrayBuffer(600 * size));
    for (let i = 0; i < 600; i++) {
      const v = [0, -0, Number.NaN][i % 3]!;
      if (type === 'f32') dv.setFloat32(i * size, v, true);
      else dv.setFloat64(i * size, v, true);
    }
    const bytes = new Uint8Array(dv.buffer);
    const want = minmax.js(spec, { bytes: dv, records: 600, recordSize: size }, false).partial;
    const got = (
      await dev.run({ op: 'minmax', spec, bytes, records: 600, recordSize: size, firstRecord: 0, wantOutput: false })
    ).partial;
    if (show(got) !== show(want)) failures.push(`minmax ${type} zeros: ${show(got)} != ${show(want)}`);
  }
  const wide = minmax.prepare({}, parseSchema('a:i64'), noPrePass) as MinMaxSpec;
  if (dev.refuses('minmax', wide) === null) failures.push('minmax i64: not refused');
}

async function main() {
  const dev = await openGpuJs();
  const k = loadGpuJs().gpu.createKernel('function (a) { return a[this.thread.x] + 1; }', { output: [2] });
  k(new Float32Array([1, 2]));
  const cases = process.argv[2];
  if (cases === 'hist') await hists(dev);
  else if (cases === 'reduce') await reduces(dev);
  else if (cases === 'where') await wheres(dev);
  else if (cases === 'minmax') await minmaxes(dev);
  else await images(dev);
  dev.close();
  console.log(JSON.stringify({ detail: dev.detail, kernelClass: k.kernel.constructor.name, failures }));
}

main().catch((e: Error) => {
  console.log(JSON.stringify({ error: `${e.name}: ${e.message}` }));
  process.exitCode = 1;
});
