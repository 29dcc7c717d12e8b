// Issue 4 benchmarks on the ticks file (generate it with `npm run bench` first): a pipeline of
// stats + hist + filter-count against the three run separately (target: < 0.6 of their sum), and the
// stdin path (`cat file | bigproc run --file -`) against the mapped path. Whole processes, median.
//
//   node bench/pipeline.mjs [file] [runs] [--cache warm|cold|both]   (default: both)
//
// warm: the file stays in the page cache, so every run reads it from memory and only compute differs.
// cold: before each timed run the file's pages are dropped from the page cache (posix_fadvise
// DONTNEED, through `dd iflag=nocache count=0`; no privileges needed), so every run reads it from the
// disk, as it does when the file is larger than memory: the case a one-pass pipeline is for.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'bigproc.mjs');
const args = process.argv.slice(2);
const cacheAt = args.indexOf('--cache');
const cache = cacheAt >= 0 ? args.splice(cacheAt, 2)[1] : 'both';
if (!['warm', 'cold', 'both'].includes(cache)) {
  console.error('--cache is warm, cold or both');
  process.exit(2);
}
const file = args[0] ?? join(root, 'bench', 'data', 'ticks.bin');
const runs = Number(args[1] ?? 3);
if (!existsSync(file)) {
  console.error(`${file} is missing: run "npm run bench" once to generate it`);
  process.exit(1);
}
const schema = 'ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16';
const pipeFile = join(mkdtempSync(join(tmpdir(), 'bigproc-bench-')), 'pipeline.json');
writeFileSync(
  pipeFile,
  JSON.stringify({
    sinks: [
      { name: 'stats', op: 'stats' },
      { name: 'hist', op: 'hist', options: { field: 'price', range: '80:120' } },
      { name: 'expensive', op: 'filter', options: { where: 'price > 110' } },
    ],
  }),
);

function time(cmd) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd}\n${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
function evict() {
  const r = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot drop ${file} from the page cache: ${r.stderr}`);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const run = (args) =>
  `"${process.execPath}" "${bin}" run --file "${file}" --schema '${schema}' --quiet --json ${args} > /dev/null`;
const cases = {
  stats: run(''),
  hist: run('--op hist --field price --range 80:120'),
  filter: run("--op filter --where 'price > 110'"),
  pipeline: run(`--pipeline ${pipeFile}`),
  'stdin stats': `cat "${file}" | "${process.execPath}" "${bin}" run --file - --schema '${schema}' --quiet --json > /dev/null`,
};
const gb = statSync(file).size / 1e9;
for (const mode of cache === 'both' ? ['warm', 'cold'] : [cache]) {
  if (mode === 'warm') time(cases.stats); // fill the page cache
  const t = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [k, c] of Object.entries(cases)) {
      if (mode === 'cold') evict();
      t[k].push(time(c));
    }
  }
  const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
  console.log(`${mode} page cache, ${runs} runs, median:`);
  for (const [k, s] of Object.entries(m))
    console.log(`  ${k.padEnd(12)} ${s.toFixed(3)} s  ${(gb / s).toFixed(2)} GB/s`);
  const sep = m.stats + m.hist + m.filter;
  console.log(
    `  pipeline / (stats + hist + filter run separately) = ${(m.pipeline / sep).toFixed(3)}  (target < 0.6: ${m.pipeline / sep < 0.6 ? 'met' : 'MISSED'})`,
  );
  console.log(`  stdin / mapped (stats) = ${(m['stdin stats'] / m.stats).toFixed(2)}x the time`);
}
