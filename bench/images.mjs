// Image chains, whole process including writing the output frames: grey, blur:2, a 3×3 convolve and
// sobel on 256 frames of 1024×1024 RGBA (1 GiB, generated once under bench/data/), native against
// sharp (libvips, bench/images-sharp.mjs in its own process: the same raw frames in, raw frames out,
// --sharp-inflight frames in flight) run by run, interleaved, medians of --runs; and against the JS
// oracle on the first --js-frames frames only (default 32, 0 to skip; it is the exactness reference,
// not a fast path). Rates are MB/s of input frames; NODE_EXTRA_CA_CERTS is unset for every child.
// sobel's sharp figure is its two-kernel equivalent (the Sobel x and y kernels as two convolves).
//
//   node bench/images.mjs [--runs 3] [--js-frames 32] [--workers N] [--chunk-size 8M] [--sharp-inflight 4]
//                         [--out-dir /dev/shm] [--ops grey,sobel] [--save]
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
const runs = Number(opt('--runs', 3));
const sharpInflight = opt('--sharp-inflight', '4');
// Where both write their output: bench/data/ (the disk's page cache, whose writeback may throttle
// writers on a busy machine) unless --out-dir names another place, e.g. /dev/shm (tmpfs: no writeback).
const outDir = opt('--out-dir', null);
const chunkSize = opt('--chunk-size', null);
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
const jsFrames = Number(opt('--js-frames', 32));
const workers = opt('--workers', String(availableParallelism()));
const OPS = {
  // the floor of any op whose output is as large as its input: read, copy, write (an identity crop)
  copy: `crop:0,0,${W},${H}`,
  grey: 'grey',
  'blur:2': 'blur:2',
  'convolve 3x3': 'convolve:1,2,1,2,4,2,1,2,1/16',
  sobel: 'sobel',
};
/** sharp's version of each op (bench/images-sharp.mjs), and the target: native ≥ 5× it. */
const SHARP = { copy: 'copy', grey: 'grey', 'blur:2': 'blur:2', 'convolve 3x3': 'convolve3', sobel: 'sobel2' };
const TARGET = 5;
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
    ...timed([
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
      ...(chunkSize ? ['--chunk-size', chunkSize] : []),
    ]),
    { encoding: 'utf8', maxBuffer: 1 << 24, env },
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${op} ${backend}: ${r.stderr}`);
  return { seconds: s, cpu: cpuOf(r.stderr), doc: JSON.parse(r.stdout) };
}

/** sharp on the same frames, whole process (start-up and loading libvips included). */
function timeSharp(file, op, out) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    ...timed([join(root, 'bench', 'images-sharp.mjs'), file, `${W}x${H}x${C}`, op, out, sharpInflight]),
    { encoding: 'utf8', env },
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`sharp ${op}: ${r.stderr}`);
  return { seconds: s, cpu: cpuOf(r.stderr), doc: JSON.parse(r.stdout.trim().split('\n').pop()) };
}

/** [command, args] run under /usr/bin/time (when there) so each run's CPU seconds are known too. */
const TIME = existsSync('/usr/bin/time');
const timed = (args) =>
  TIME ? ['/usr/bin/time', ['-f', 'cpu %U %S', process.execPath, ...args]] : [process.execPath, args];
/** user + system CPU seconds of a finished run (NaN without /usr/bin/time). */
function cpuOf(stderr) {
  const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr ?? '');
  return m ? Number(m[1]) + Number(m[2]) : NaN;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const big = join(dataDir, `frames-${W}x${H}x${C}-256.raw`);
const small = join(dataDir, `frames-${W}x${H}x${C}-${jsFrames}.raw`);
generate(big, 256);
if (jsFrames > 0) generate(small, jsFrames);
const out = join(outDir ?? dataDir, 'images-out.raw');
const rows = [];
const table = [];
console.log(
  `# ${cpus()[0]?.model ?? 'cpu'} · ${availableParallelism()} cores · load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(
      ' ',
    )} · --workers ${workers}${chunkSize ? ` --chunk-size ${chunkSize}` : ''} · output in ${outDir ?? 'bench/data'} · sharp ${sharpInflight} frames in flight · median of ${runs}, interleaved`,
);
const row = (name, backend, frames, times, extra = {}) => {
  const best = median(times.map((t) => t.seconds));
  const cpu = median(times.map((t) => t.cpu));
  const mbps = (frames * FRAME) / 1e6 / best;
  // MB per CPU second: what the run would reach with its CPUs to itself (less noisy on a shared machine)
  const perCpu = (frames * FRAME) / 1e6 / cpu;
  rows.push({
    op: name,
    backend,
    frames,
    seconds: Math.round(best * 1000) / 1000,
    cpu_seconds: Math.round(cpu * 1000) / 1000,
    mb_per_s: Math.round(mbps),
    mb_per_cpu_s: Math.round(perCpu),
    ...extra,
  });
  console.log(
    `${name.padEnd(13)} ${backend.padEnd(6)} ${String(frames).padStart(4)} frames  ${best.toFixed(2).padStart(7)} s  ${Math.round(mbps).toString().padStart(6)} MB/s  cpu ${cpu.toFixed(2)} s (${Math.round(perCpu)} MB/cpu-s)${extra.dispatch ? `  (${extra.dispatch})` : ''}`,
  );
  return { mbps, perCpu };
};
for (const [name, op] of Object.entries(OPS)) {
  if (only && !only.includes(name)) continue;
  const native = [];
  const sharp = [];
  for (let i = 0; i < runs; i++) {
    native.push(timeRun(big, op, 'native', out));
    sharp.push(timeSharp(big, SHARP[name], out));
  }
  const m = native[0].doc.metrics;
  const n = row(name, 'native', 256, native, { dispatch: m.dispatch ?? null });
  const sh = row(name, 'sharp', 256, sharp, { sharp_op: SHARP[name] });
  table.push({ op: name, native: n, sharp: sh });
  if (jsFrames > 0) row(name, 'js', jsFrames, [timeRun(small, op, 'js', out)]);
}
console.log(
  '\n| op | native MB/s | sharp MB/s | ratio | target | native MB/cpu-s | sharp MB/cpu-s | cpu ratio |\n|---|---|---|---|---|---|---|---|',
);
for (const t of table) {
  const ratio = t.native.mbps / t.sharp.mbps;
  console.log(
    `| ${t.op} | ${Math.round(t.native.mbps)} | ${Math.round(t.sharp.mbps)}${t.op === 'sobel' ? ' (2 kernels)' : ''} | ${ratio.toFixed(2)}× | ${t.op === 'copy' ? 'floor, no target' : `≥ ${TARGET}× ${ratio >= TARGET ? 'met' : 'not met'}`} | ${Math.round(t.native.perCpu)} | ${Math.round(t.sharp.perCpu)} | ${(t.native.perCpu / t.sharp.perCpu).toFixed(2)}× |`,
  );
}
// No op that writes a frame as large as its input runs faster than the copy: its ratio to sharp's blur is
// the most any same-size op could reach here, kernel or no kernel.
const copy = table.find((t) => t.op === 'copy');
const blur = table.find((t) => t.op === 'blur:2');
if (copy && blur)
  console.log(
    `\ncopy floor ${Math.round(copy.native.mbps)} MB/s ÷ sharp blur:2 ${Math.round(blur.sharp.mbps)} MB/s = ${(copy.native.mbps / blur.sharp.mbps).toFixed(2)}×: the ceiling for blur's ratio with this output`,
  );
rmSync(out, { force: true });
if (args.includes('--save'))
  writeFileSync(
    join(root, 'bench', 'results-images.json'),
    `${JSON.stringify({ date: new Date().toISOString(), load: loadavg(), workers, sharp_inflight: Number(sharpInflight), chunk_size: chunkSize, out_dir: outDir ?? 'bench/data', rows, table }, null, 2)}\n`,
  );
