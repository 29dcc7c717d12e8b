// Image output through the real binary: PNG files (decoded back by sharp, equal to the raw frames),
// --every N on raw, .npy and PNG, the message without sharp, and framestats rows narrowed by --where
// and ranked by --by/-k.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { cli, cliAsync, json, tempDir } from './helpers.js';
import { parseNpyHeader } from '../../src/layout/npy.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const W = 13;
const H = 7;
const N = 23;

function randomFrames(n: number, size: number, seed: number): Buffer {
  const b = Buffer.alloc(n * size);
  let x = seed;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function framesFile(c: number): string {
  const path = join(dir, `frames-${c}.raw`);
  if (!existsSync(path)) writeFileSync(path, randomFrames(N, W * H * c, 7 + c));
  return path;
}

function run(args: string[], env?: NodeJS.ProcessEnv) {
  return cli(['run', ...args, '--quiet'], env ? { env: { ...process.env, ...env } } : {});
}

/** The raw output of `chain` over every frame, through the binary. */
function rawOut(file: string, c: number, chain: string): Buffer {
  const out = join(dir, `all-${c}-${chain.replace(/\W/g, '_')}.raw`);
  const r = run(['--file', file, '--frame', `${W}x${H}x${c}`, '--op', chain, '--out', out]);
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(out);
}

describe('PNG output', () => {
  it.each([1, 3, 4])(
    'C=%i: one PNG per kept frame, named by its index, decoded back equal to the raw frame',
    async (c) => {
      const file = framesFile(c);
      const chain = c === 1 ? 'invert|crop:1,1,11,5' : 'levels:20:200|crop:1,1,11,5';
      const all = rawOut(file, c, chain);
      const size = 11 * 5 * c;
      for (const [every, workers, chunk] of [
        ['1', '2', String(W * H * c * 4)],
        ['3', '2', String(W * H * c * 5)],
        ['5', '1', '64MiB'],
      ]) {
        const out = join(dir, `png-${c}-${every}-${workers}`);
        const doc = json(
          run([
            ...['--file', file, '--frame', `${W}x${H}x${c}`, '--op', chain, '--out', `${out}/`, '--format', 'png'],
            ...['--every', every, '--workers', workers!, '--chunk-size', chunk!, '--json'],
          ]),
        );
        const kept = Array.from({ length: N }, (_, i) => i).filter((i) => i % Number(every) === 0);
        const names = kept.map((i) => `frame-${String(i).padStart(6, '0')}.png`);
        expect(readdirSync(out).sort()).toEqual(names);
        expect(doc.result).toMatchObject({ frames_in: N, frames_out: kept.length, shape: [kept.length, 5, 11, c] });
        expect(doc.result.format).toBe('png');
        expect(doc.result.bytes_out).toBe(names.reduce((s, n) => s + statSync(join(out, n)).size, 0));
        for (const [k, i] of kept.entries()) {
          const png = join(out, names[k]!);
          const meta = await sharp(png).metadata();
          expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 11, 5, c]);
          // sharp decodes to sRGB unless asked: a greyscale file is read back as one band
          const img = c === 1 ? sharp(png).toColourspace('b-w') : sharp(png);
          const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
          expect(info.channels).toBe(c);
          expect(Buffer.compare(data, all.subarray(i * size, (i + 1) * size))).toBe(0);
        }
      }
      // nothing left beside the directory: the temp directory was renamed into place
      expect(readdirSync(dir).filter((n) => n.includes('.bigproc-'))).toEqual([]);
    },
  );

  it('refuses a non-empty directory and a missing sharp with exit 2, writing nothing', () => {
    const file = framesFile(3);
    const full = join(dir, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.txt'), 'mine');
    let r = run(['--file', file, '--frame', `${W}x${H}x3`, '--op', 'grey', '--out', `${full}/`, '--format', 'png']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/the directory is not empty/);
    expect(readdirSync(full)).toEqual(['keep.txt']);
    r = run(['--file', file, '--frame', `${W}x${H}x3`, '--op', 'grey', '--out', '-', '--format', 'png']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/PNG files go into a directory/);
    r = run(['--file', file, '--frame', `${W}x${H}x3`, '--op', 'grey', '--out', file, '--format', 'png']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/same file as --file/);
    const fresh = join(dir, 'nosharp');
    r = run(['--file', file, '--frame', `${W}x${H}x3`, '--op', 'grey', '--out', `${fresh}/`, '--format', 'png'], {
      BIGPROC_SHARP_MODULE: 'sharp-that-is-not-installed',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bigproc: --format png needs the optional package sharp.*npm install sharp/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(fresh)).toBe(false);
  });
});

describe('PNG output interrupted', () => {
  it('Ctrl-C mid-run exits 130 and leaves neither the directory nor its temp directory', async () => {
    const side = 128;
    const frames = 600;
    const file = join(dir, 'slow.raw');
    writeFileSync(file, randomFrames(frames, side * side * 3, 11));
    const out = join(dir, 'interrupted');
    const child = cliAsync([
      ...['run', '--file', file, '--frame', `${side}x${side}x3`, '--op', 'blur:20', '--out', `${out}/`],
      ...['--format', 'png', '--workers', '1', '--chunk-size', String(side * side * 3 * 4), '--quiet'],
    ]);
    const temps = () => readdirSync(dir).filter((n) => n.startsWith('.interrupted.bigproc-'));
    // wait until PNG files are being written into the temp directory, then interrupt
    for (let i = 0; i < 200 && !temps().some((t) => readdirSync(join(dir, t)).length > 0); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(temps()).toHaveLength(1);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(130);
    expect(existsSync(out)).toBe(false);
    expect(temps()).toEqual([]);
  });
});

describe('--every on raw and .npy output', () => {
  it('keeps frames 0, N, 2N… for any chunking and backend', () => {
    const file = framesFile(3);
    const chain = 'grey|blur:1';
    const size = W * H;
    const all = rawOut(file, 3, chain);
    const want = (every: number) =>
      Buffer.concat(
        Array.from({ length: N }, (_, i) => i)
          .filter((i) => i % every === 0)
          .map((i) => all.subarray(i * size, (i + 1) * size)),
      );
    for (const [every, chunk, backend] of [
      [3, W * H * 3 * 7, 'native'],
      [4, W * H * 3 * 2, 'js'],
      [2, W * H * 3, 'native'],
    ] as const) {
      const raw = join(dir, `every-${every}-${backend}.raw`);
      const npy = join(dir, `every-${every}-${backend}.npy`);
      for (const out of [raw, npy]) {
        const doc = json(
          run([
            ...['--file', file, '--frame', `${W}x${H}x3`, '--op', chain, '--out', out, '--every', String(every)],
            ...['--chunk-size', String(chunk), '--backend', backend, '--workers', '2', '--json'],
          ]),
        );
        expect(doc.result.frames_out).toBe(Math.ceil(N / every));
        expect(doc.result.every).toBe(every);
        expect(doc.result.bytes_out).toBe(statSync(out).size);
      }
      expect(Buffer.compare(readFileSync(raw), want(every))).toBe(0);
      const bytes = readFileSync(npy);
      const h = parseNpyHeader(bytes, npy);
      expect(h.shape).toEqual([Math.ceil(N / every), H, W]);
      expect(Buffer.compare(bytes.subarray(h.layout.headerBytes), want(every))).toBe(0);
    }
  });
});

describe('framestats rows: --where and --by', () => {
  it('keeps the matching rows and ranks them, the same on both backends', () => {
    const file = framesFile(3);
    const base = ['--file', file, '--frame', `${W}x${H}x3`, '--op', 'framestats', '--json'];
    const all = json(run(base)).result.frames as Record<string, number>[];
    expect(Object.keys(all[0]!).slice(0, 3)).toEqual(['index', 'mean', 'mean_r']);
    for (const row of all) expect(row.mean).toBeCloseTo((row.mean_r! + row.mean_g! + row.mean_b!) / 3, 9);
    const means = all.map((r) => r.mean!).sort((a, b) => a - b);
    const cut = means[Math.floor(N / 3)]!;
    for (const backend of ['native', 'js']) {
      const dark = json(run([...base, '--where', `mean < ${cut} || min_g > 250`, '--backend', backend])).result;
      expect(dark.frames).toEqual(all.filter((r) => r.mean! < cut || r.min_g! > 250));
      expect(dark.frames.length).toBeGreaterThan(0);
      expect(dark.frames_in).toBe(N);
      const top = json(run([...base, '--by', 'mean', '-k', '5', '--backend', backend])).result;
      expect(top.frames).toEqual([...all].sort((a, b) => b.mean! - a.mean! || a.index! - b.index!).slice(0, 5));
      const low = json(run([...base, '--by', 'max_b', '--top-k', '3', '--asc', '--where', 'index >= 10'])).result;
      expect(low.frames).toEqual(
        all
          .filter((r) => r.index! >= 10)
          .sort((a, b) => a.max_b! - b.max_b! || a.index! - b.index!)
          .slice(0, 3),
      );
    }
  });

  it('refuses what it cannot do with exit 2 and one line', () => {
    const file = framesFile(1);
    const frame = ['--file', file, '--frame', `${W}x${H}x1`];
    const cases: [string[], RegExp][] = [
      [['--op', 'grey', '--every', '2'], /--every is used only with --out/],
      [['--op', 'grey', '--out', join(dir, 'e0.raw'), '--every', '0'], /--every/],
      [['--op', 'grey', '--out', join(dir, 'f.raw'), '--format', 'bmp'], /one of raw, npy, png/],
      [['--op', 'grey', '--where', 'mean < 3'], /selects framestats rows, but --op "grey" does not end in framestats/],
      [['--op', 'framestats', '--by', 'mean_r'], /a framestats column \(index, mean, min, max, std\)/],
      [['--op', 'framestats', '--top-k', '3'], /give --by COLUMN too/],
      [['--op', 'framestats', '--where', 'brightness < 3'], /brightness/],
    ];
    for (const [args, re] of cases) {
      const r = run([...frame, ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('image chains as pipeline sinks', () => {
  it('writes and reduces in one pass what each chain gives alone', async () => {
    const file = framesFile(3);
    const frame = ['--file', file, '--frame', `${W}x${H}x3`];
    const pipe = join(dir, 'images.json');
    const npy = join(dir, 'sink-g.npy');
    const pngs = join(dir, 'sink-png');
    writeFileSync(
      pipe,
      JSON.stringify({
        sinks: [
          { name: 'g', op: 'grey|blur:2', out: npy },
          { name: 'dark', op: 'framestats', options: { where: 'mean < 128' } },
          { name: 'thumbs', op: 'invert|downscale:2', out: `${pngs}/`, options: { format: 'png', every: 4 } },
          { name: 'bright', op: 'grey|framestats', options: { by: 'mean', 'top-k': 2 } },
          { name: 'hist', op: 'grey|histogram' },
        ],
      }),
    );
    const alone = (args: string[]) => json(run([...frame, ...args, '--json'])).result;
    const aloneNpy = join(dir, 'alone-g.npy');
    const want = {
      g: alone(['--op', 'grey|blur:2', '--out', aloneNpy]),
      dark: alone(['--op', 'framestats', '--where', 'mean < 128']),
      hist: alone(['--op', 'grey|histogram']),
      bright: alone(['--op', 'grey|framestats', '--by', 'mean', '-k', '2']),
    };
    for (const [workers, chunk, backend] of [
      ['1', '64MiB', 'native'],
      ['2', String(W * H * 3 * 3), 'js'],
    ]) {
      cleanupOuts(npy, pngs);
      const doc = json(
        run([
          ...frame,
          '--pipeline',
          pipe,
          '--workers',
          workers!,
          '--chunk-size',
          chunk!,
          '--backend',
          backend!,
          '--json',
        ]),
      );
      expect(doc.result.g).toEqual(want.g);
      expect(doc.result.dark).toEqual(want.dark);
      expect(doc.result.hist).toEqual(want.hist);
      expect(doc.result.bright).toEqual(want.bright);
      expect(doc.result.bright.frames).toHaveLength(2);
      expect(doc.result.dark.frames.length).toBeGreaterThan(0);
      expect(doc.result.thumbs).toMatchObject({ frames_in: N, frames_out: 6, shape: [6, 3, 6, 3], every: 4 });
      expect(Buffer.compare(readFileSync(npy), readFileSync(aloneNpy))).toBe(0);
      expect(readdirSync(pngs)).toHaveLength(6);
      const thumbs = rawOut(file, 3, 'invert|downscale:2');
      const { data } = await sharp(join(pngs, 'frame-000008.png')).raw().toBuffer({ resolveWithObject: true });
      expect(Buffer.compare(data, thumbs.subarray(8 * 54, 9 * 54))).toBe(0);
    }
  });

  it('refuses a sink out that cannot be written, with exit 2 and nothing written', () => {
    const file = framesFile(1);
    const pipe = join(dir, 'bad-images.json');
    const cases: [unknown[], RegExp][] = [
      [[{ name: 'a', op: 'framestats', out: join(dir, 'x.raw') }], /--out writes frames/],
      [[{ name: 'a', op: 'stats', out: join(dir, 'x.raw') }], /op stats writes no records/],
      [[{ name: 'a', op: 'grey', out: file }], /same file as --file/],
      [
        [
          { name: 'a', op: 'grey', out: join(dir, 'same.raw') },
          { name: 'b', op: 'invert', out: join(dir, 'same.raw') },
        ],
        /two sinks write "out"/,
      ],
      [
        [{ name: 'a', op: 'grey', out: join(dir, 'e.raw'), where: 'pixels == pixels', options: { every: 2 } }],
        /--every/,
      ],
    ];
    for (const [sinks, re] of cases) {
      writeFileSync(pipe, JSON.stringify({ sinks }));
      const r = run(['--file', file, '--frame', `${W}x${H}x1`, '--pipeline', pipe]);
      expect(r.status, JSON.stringify(sinks)).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(join(dir, 'same.raw'))).toBe(false);
  });
});

function cleanupOuts(...paths: string[]): void {
  for (const p of paths) rmSync(p, { recursive: true, force: true });
}
