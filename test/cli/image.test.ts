// Image chains through the real binary: raw frames (--frame, --header-bytes) and .npy stacks in, raw and
// .npy frames out (read back by NumPy when python3 has it, else by our own header parser), reduce
// results, identical bytes and numbers for any --workers and --chunk-size, and the usage errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, cli, json, tempDir } from './helpers.js';
import { parseNpyHeader, writeNpy } from '../../src/layout/npy.js';
import { applyChain } from '../../src/image/oracle.js';
import { parseChain } from '../../src/image/chain.js';

let dir: string;
let cleanup: () => void;
beforeAll(() => ({ dir, cleanup } = tempDir()));
afterAll(() => cleanup());

const W = 13;
const H = 7;
const C = 3;
const N = 40;
const FRAME = W * H * C;

function randomFrames(n: number, size: number, seed: number): Buffer {
  const b = Buffer.alloc(n * size);
  let x = seed;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

/** An .npy's shape and data: through NumPy when it is importable, else through our parser. */
function loadNpy(path: string): { shape: number[]; data: Buffer } {
  if (hasNumpy) {
    const py =
      'import numpy as np, sys, json; a = np.load(sys.argv[1]); assert a.dtype == np.uint8; print(json.dumps(list(a.shape))); sys.stdout.flush(); sys.stdout.buffer.write(a.tobytes())';
    const r = spawnSync('python3', ['-c', py, path], { maxBuffer: 1 << 26 });
    expect(r.status, r.stderr.toString()).toBe(0);
    const nl = r.stdout.indexOf(10);
    return { shape: JSON.parse(r.stdout.subarray(0, nl).toString()), data: r.stdout.subarray(nl + 1) };
  }
  const bytes = readFileSync(path);
  const h = parseNpyHeader(bytes, path);
  return { shape: h.shape, data: bytes.subarray(h.layout.headerBytes) };
}

describe('image chains', () => {
  let raw: string;
  let data: Buffer;
  beforeAll(() => {
    raw = join(dir, 'frames.raw');
    data = randomFrames(N, FRAME, 3);
    writeFileSync(raw, data);
  });

  it('writes the chain output in file order, the same bytes for any workers, chunk size and (exact chains) backend', () => {
    const text = 'grey|sobel|levels:10:240|crop:1,1,11,5';
    const chain = parseChain(text, { width: W, height: H, channels: C });
    const want = Buffer.concat(
      Array.from({ length: N }, (_, i) => applyChain(chain, data.subarray(i * FRAME, (i + 1) * FRAME))),
    );
    for (const [workers, chunk, backend] of [
      ['1', '64MiB', 'native'],
      ['3', String(FRAME * 3), 'native'],
      ['2', String(FRAME), 'js'],
      ['2', '1000', 'native'],
    ]) {
      const out = join(dir, `o-${workers}-${chunk}-${backend}.raw`);
      const doc = json(
        cli([
          'run',
          '--file',
          raw,
          '--frame',
          `${W}x${H}x${C}`,
          '--op',
          text,
          '--out',
          out,
          '--workers',
          workers!,
          '--chunk-size',
          chunk!,
          '--backend',
          backend!,
          '--json',
        ]),
      );
      expect(doc.op).toBe('image');
      expect(doc.result).toMatchObject({
        chain: text,
        frames_in: N,
        frames_out: N,
        shape: [N, 5, 11, 1],
        frame_bytes: 55,
        bytes_out: N * 55,
      });
      expect(doc.metrics.backend).toBe(backend);
      expect(readFileSync(out).equals(want), `${workers} ${chunk} ${backend}`).toBe(true);
    }
  });

  it('writes one-frame chunks through reused output buffers to a file and streamed to stdout, in file order', () => {
    // A file takes the bytes synchronously, so the pass lends each chunk a buffer it reuses; stdout
    // (a stream that may hold the bytes) is never handed a buffer that is lent again.
    const text = 'blur:1|convolve:1,2,1,2,4,2,1,2,1/16';
    const chain = parseChain(text, { width: W, height: H, channels: C });
    const want = Buffer.concat(
      Array.from({ length: N }, (_, i) => applyChain(chain, data.subarray(i * FRAME, (i + 1) * FRAME))),
    );
    const args = ['run', '--file', raw, '--frame', `${W}x${H}x${C}`, '--op', text, '--workers', '2'];
    const out = join(dir, 'reuse.raw');
    json(cli([...args, '--chunk-size', String(FRAME), '--out', out, '--json']));
    const got = readFileSync(out);
    const r = spawnSync(process.execPath, [BIN, ...args, '--chunk-size', String(FRAME), '--out', '-'], {
      maxBuffer: 1 << 24,
    });
    expect(r.status, r.stderr?.toString()).toBe(0);
    for (const bytes of [got, r.stdout]) {
      expect(bytes.length).toBe(want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(bytes[i]! - want[i]!));
      expect(worst).toBeLessThanOrEqual(1);
    }
    expect(r.stdout.equals(got)).toBe(true);
  });

  it('blur and float kernels give the same bytes for any workers and chunk size; js is within one level', () => {
    const outs = [
      ['1', '64MiB', 'native'],
      ['2', String(FRAME * 7), 'native'],
      ['2', '64MiB', 'js'],
    ].map(([w, chunk, backend]) => {
      const out = join(dir, `b-${w}-${chunk}-${backend}.raw`);
      const r = cli([
        'run',
        '--file',
        raw,
        '--frame',
        `${W}x${H}x${C}`,
        '--op',
        'blur:1.5|convolve:0.1,0.1,0.1,0.1,0.2,0.1,0.1,0.1,0.1',
        '--out',
        out,
        '--workers',
        w!,
        '--chunk-size',
        chunk!,
        '--backend',
        backend!,
        '--quiet',
      ]);
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(out);
    });
    expect(outs[1]!.equals(outs[0]!)).toBe(true);
    let diff = 0;
    for (let i = 0; i < outs[0]!.length; i++) diff = Math.max(diff, Math.abs(outs[0]![i]! - outs[2]![i]!));
    expect(diff).toBeLessThanOrEqual(2); // two float steps, at most one level each
  });

  it("names the image kernels' own instruction set (metrics.dispatch), which BIGPROC_IMAGE_ISA lowers", () => {
    const args = ['run', '--file', raw, '--frame', `${W}x${H}x${C}`, '--op', 'grey|framestats', '--json'];
    const own = json(cli(args)).metrics;
    expect(own.dispatch).toMatch(/^(avx512vbmi|avx512bw|avx2|neon|default)$/);
    expect(own.backend_detail).toBe(own.dispatch);
    const base = json(cli(args, { env: { BIGPROC_IMAGE_ISA: 'base' } })).metrics;
    expect(base.dispatch).toBe('default');
    expect(json(cli(args, { env: { BIGPROC_IMAGE_ISA: 'base' } })).result).toEqual(json(cli(args)).result);
    // a numeric op keeps the clone name of the numeric kernels
    const numeric = json(cli(['run', '--file', raw, '--schema', 'a:u8', '--json'])).metrics;
    expect(numeric.dispatch).toMatch(/^(avx512f|avx2|neon|default)$/);
  });

  it('skips --header-bytes before the first frame', () => {
    const file = join(dir, 'with-header.raw');
    writeFileSync(file, Buffer.concat([Buffer.from('HEADER'), data]));
    const a = join(dir, 'h.raw');
    const b = join(dir, 'noh.raw');
    expect(
      cli([
        'run',
        '--file',
        file,
        '--header-bytes',
        '6',
        '--frame',
        `${W}x${H}x${C}`,
        '--op',
        'invert',
        '--out',
        a,
        '--quiet',
      ]).status,
    ).toBe(0);
    expect(
      cli(['run', '--file', raw, '--frame', `${W}x${H}x${C}`, '--op', 'invert', '--out', b, '--quiet']).status,
    ).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(readFileSync(a)[0]).toBe(255 - data[0]!);
  });

  it(`reads an .npy stack and writes an .npy ${hasNumpy ? 'that NumPy loads' : '(NumPy absent: read by our parser)'}`, () => {
    const npy = join(dir, 'stack.npy');
    writeFileSync(npy, writeNpy('|u1', [N, H, W, C], data));
    for (const [text, shape] of [
      ['downscale:2', [N, 3, 6, 3]],
      ['grey', [N, H, W]],
      ['invert', [N, H, W, C]],
    ] as const) {
      const out = join(dir, `out-${text.replace(':', '')}.npy`);
      const doc = json(
        cli([
          'run',
          '--file',
          npy,
          '--op',
          text,
          '--out',
          out,
          '--workers',
          '2',
          '--chunk-size',
          String(FRAME * 3),
          '--json',
        ]),
      );
      const got = loadNpy(out);
      expect(got.shape).toEqual(shape);
      const chain = parseChain(text, { width: W, height: H, channels: C });
      const want = Buffer.concat(
        Array.from({ length: N }, (_, i) => applyChain(chain, data.subarray(i * FRAME, (i + 1) * FRAME))),
      );
      expect(got.data.equals(want), text).toBe(true);
      expect(doc.result.bytes_out).toBe(readFileSync(out).length);
      if (text === 'downscale:2') expect(doc.result.dropped).toEqual([{ stage: 'downscale:2', columns: 1, rows: 1 }]);
    }
    // (N, H, W) is frames of one channel, read back in
    const grey = json(cli(['run', '--file', join(dir, 'out-grey.npy'), '--op', 'framestats', '--json']));
    expect(grey.result.channels).toBe(1);
    expect(grey.result.frames).toHaveLength(N);
  });

  it('framestats: one row per frame, equal on both backends and any chunking, and to NumPy where present', () => {
    const docs = [
      ['native', '1', '64MiB'],
      ['js', '2', String(FRAME * 3)],
      ['native', '2', String(FRAME)],
    ].map(([backend, w, chunk]) =>
      json(
        cli([
          'run',
          '--file',
          raw,
          '--frame',
          `${W}x${H}x${C}`,
          '--op',
          'framestats',
          '--backend',
          backend!,
          '--workers',
          w!,
          '--chunk-size',
          chunk!,
          '--json',
        ]),
      ),
    );
    expect(docs[1].result).toEqual(docs[0].result);
    expect(docs[2].result).toEqual(docs[0].result);
    const rows = docs[0].result.frames;
    expect(rows).toHaveLength(N);
    expect(Object.keys(rows[0])).toEqual([
      'index',
      'mean',
      'mean_r',
      'mean_g',
      'mean_b',
      'min_r',
      'min_g',
      'min_b',
      'max_r',
      'max_g',
      'max_b',
      'std_r',
      'std_g',
      'std_b',
    ]);
    expect(rows[5].index).toBe(5);
    if (hasNumpy) {
      const py = `import numpy as np, sys, json; a = np.fromfile(sys.argv[1], np.uint8).reshape(${N}, ${H}, ${W}, ${C}).astype(np.float64)
print(json.dumps([[float(x) for x in (a[i].mean((0, 1)).tolist() + a[i].std((0, 1)).tolist() + a[i].min((0, 1)).tolist() + a[i].max((0, 1)).tolist())] for i in range(${N})]))`;
      const r = spawnSync('python3', ['-c', py, raw], { encoding: 'utf8' });
      const ref = JSON.parse(r.stdout) as number[][];
      ref.forEach((v, i) => {
        const row = rows[i];
        const ours = [
          row.mean_r,
          row.mean_g,
          row.mean_b,
          row.std_r,
          row.std_g,
          row.std_b,
          row.min_r,
          row.min_g,
          row.min_b,
          row.max_r,
          row.max_g,
          row.max_b,
        ];
        ours.forEach((x: number, j: number) => {
          expect(Math.abs(x - v[j]!)).toBeLessThan(1e-9);
        });
      });
    }
  });

  it('histogram over the file and --per-frame, equal on both backends', () => {
    const run = (backend: string, extra: string[]) =>
      json(
        cli([
          'run',
          '--file',
          raw,
          '--frame',
          `${W}x${H}x${C}`,
          '--op',
          'grey|histogram',
          '--backend',
          backend,
          '--chunk-size',
          String(FRAME * 7),
          ...extra,
          '--json',
        ]),
      ).result;
    const file = run('native', []);
    expect(run('js', [])).toEqual(file);
    expect(file.counts).toHaveLength(1);
    expect(file.counts[0].reduce((a: number, b: number) => a + b, 0)).toBe(N * W * H);
    const per = run('native', ['--per-frame']);
    expect(run('js', ['--per-frame'])).toEqual(per);
    expect(per.frames).toHaveLength(N);
    const summed = per.frames.reduce(
      (acc: number[], f: { counts: number[][] }) => acc.map((v, i) => v + f.counts[0]![i]!),
      new Array(256).fill(0),
    );
    expect(summed).toEqual(file.counts[0]);
  });

  it('framestats of two static parts merge to the one-run result, frame indexes in file order', () => {
    const one = json(
      cli([
        'run',
        '--file',
        raw,
        '--frame',
        `${W}x${H}x${C}`,
        '--op',
        'grey|framestats',
        '--chunk-size',
        String(FRAME * 3),
        '--json',
      ]),
    ).result;
    const parts = [0, 1].map((i) => {
      const r = cli([
        'run',
        '--file',
        raw,
        '--frame',
        `${W}x${H}x${C}`,
        '--op',
        'grey|framestats',
        '--chunk-size',
        String(FRAME * 3),
        '--shard-count',
        '2',
        '--shard-index',
        String(i),
        '--json',
      ]);
      expect(r.status, r.stderr).toBe(0);
      const file = join(dir, `part${i}.json`);
      writeFileSync(file, r.stdout);
      return file;
    });
    expect(json(cli(['merge', ...parts, '--json'])).result).toEqual(one);
  });

  it('refuses an .npy stream whose frame count is not known before the frames', () => {
    const fifo = join(dir, 'out.npy');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = cli(['run', '--file', raw, '--frame', `${W}x${H}x${C}`, '--op', 'grey', '--out', fifo]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/an \.npy stream needs the frame count before the frames/);
  });

  it('prints a human summary and the dropped columns', () => {
    const r = cli(['run', '--file', raw, '--frame', `${W}x${H}x${C}`, '--op', 'downscale:2', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`downscale:2: ${N} frames 13x7x3 -> ${N} frames 6x3x3`);
    expect(r.stdout).toContain('dropped the last 1 columns and 1 rows');
  });

  it('refuses what it cannot do with exit 2 and one line', () => {
    const cases: [string[], RegExp][] = [
      [['--schema', 'a:u8', '--op', 'grey'], /works on frames: give --frame WxHxC/],
      [['--frame', `${W}x${H}x${C}`, '--op', 'framestats', '--out', join(dir, 'x.raw')], /--out writes frames/],
      [
        ['--frame', `${W}x${H}x${C}`, '--op', 'grey', '--per-frame'],
        /--per-frame is used only by a chain ending in histogram/,
      ],
      [['--frame', `${W}x${H}x${C}`, '--op', 'stats', '--per-frame'], /--per-frame is not used by --op stats/],
      [
        ['--frame', `${W}x${H}x${C}`, '--op', 'grey|blurr:2'],
        /an image op .* at stage 2 of the chain for --op but received "blurr:2"/,
      ],
      [['--frame', `${W}x${H}x${C}`, '--op', 'crop:0,0,14,1'], /X \+ W within 13/],
      [['--frame', `${W}x${H}x${C}`, '--op', 'image'], /needs the chain itself/],
    ];
    for (const [args, re] of cases) {
      const r = cli(['run', '--file', raw, ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
