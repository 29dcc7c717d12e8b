// Image chains, whole process including writing the output frames: grey, blur:2, a 3×3 convolve and
// sobel on 256 frames of 1024×1024 RGBA (1 GiB, generated once under bench/data/), native against the
// JS oracle. The JS backend runs on the first --js-frames frames only (default 32; it is the
// exactness reference, not a fast path), and rates are MB/s of input frames either way.
//
//   node bench/images.mjs [--runs 1] [--js-frames 32] [--workers N] [--ops grey,sobel] [--save]
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism, cpus, loadavg } from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'bigproc.mjs');
const dataDir = join(root, 'bench', 'data');
const W = 1024,
  H = 1024,
  C = 4,
  FRAME = W * H * C;

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('--runs', 1));
const jsFrames = Number(opt('--js-frames', 32));
const workers = opt('--workers', String(availableParallelism()));
const OPS = {
  grey: 'grey',
  'blur:2': 'blur:2',
  'convolve 3x3': 'convolve:1,2,1,2,4,2,1,2,1/16',
  sobel: 'sobel',
};
const only = opt('--ops', null)?.split(',');

/** Frames of a smooth gradient with noise, so blur and sobel see both edges and flat areas. */
function generate(path, frames) {
  if (existsSync(path) && statSync(path).size === frames * FRAME) return;
  mkdirSync(dataDir, { recursive: true });
  const fd = openSync(`${path}.tmp`, 'w');
  const buf = Buffer.alloc(FRAME);
  let x = 12345;
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < FRAME; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const p = i >> 2,
        px = p % W,
        py = (p / W) | 0;
      buf[i] = ((px + py + f * 3) & 255) ^ (x & 15);
    }
    writeSync(fd, buf);
  }
  closeSync(fd);
  spawnSync('mv', [`${path}.tmp`, path]);
}

function timeRun(file, op, backend, out) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    process.execPath,
    [
      bin,
      'run',
      '--file',
      file,
      '--frame',
      `${W}x${H}x${C}`,
      '--op',
      op,
      '--backend',
      backend,
      '--workers',
      workers,
      '--out',
      out,
      '--json',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${op} ${backend}: ${r.stderr}`);
  return { seconds: s, doc: JSON.parse(r.stdout) };
}

const big = join(dataDir, `frames-${W}x${H}x${C}-256.raw`);
const small = join(dataDir, `frames-${W}x${H}x${C}-${jsFrames}.raw`);
generate(big, 256);
generate(small, jsFrames);
const out = join(dataDir, 'images-out.raw');
const rows = [];
console.log(
  `# ${cpus()[0]?.model ?? 'cpu'} · ${availableParallelism()} cores · load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} · --workers ${workers}`,
);
for (const [name, op] of Object.entries(OPS)) {
  if (only && !only.includes(name)) continue;
  for (const [backend, file, frames] of [
    ['native', big, 256],
    ['js', small, jsFrames],
  ]) {
    const times = Array.from({ length: runs }, () => timeRun(file, op, backend, out));
    const best = times.map((t) => t.seconds).sort((a, b) => a - b)[Math.floor(runs / 2)];
    const mbps = (frames * FRAME) / 1e6 / best;
    const m = times[0].doc.metrics;
    rows.push({
      op: name,
      backend: m.backend,
      dispatch: m.dispatch ?? null,
      frames,
      seconds: Math.round(best * 1000) / 1000,
      mb_per_s: Math.round(mbps),
    });
    console.log(
      `${name.padEnd(13)} ${backend.padEnd(6)} ${String(frames).padStart(4)} frames  ${best.toFixed(2).padStart(7)} s  ${Math.round(mbps).toString().padStart(6)} MB/s${m.dispatch ? `  (${m.dispatch})` : ''}`,
    );
  }
}
rmSync(out, { force: true });
if (args.includes('--save'))
  writeFileSync(
    join(root, 'bench', 'results-images.json'),
    `${JSON.stringify({ date: new Date().toISOString(), load: loadavg(), workers, rows }, null, 2)}\n`,
  );
