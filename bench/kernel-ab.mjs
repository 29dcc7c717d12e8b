// Kernel A/B without the process around it: the addon's stats, groupby, hist or filter called directly on the first
// N records of a tick file (ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16), one thread, mapping
// warm, CPU time of each call, two addon builds alternating call by call; checks both give the same
// result. On a shared machine CPU time moves less than wall time.
//   node bench/kernel-ab.mjs A.node B.node [stats|groupby|groupby-count|hist|filter|image:CHAIN] [runs]   (FILE=…, N=… in the environment)
// hist: price, 64 bins over 80:120 (bench/core.mjs's case); filter: count of price > 110; groupby: by venue,
// count and mean(price) (bench/core.mjs's case); groupby-count: by venue, count only.
// Image chains: `image:CHAIN` (e.g. image:blur:2) on the first N frames of FILE, frames of FRAME (default
// 1024x1024x4, bench/images.mjs's file), output into a buffer; N/ns per record are then frames.
import { createRequire } from 'node:module';
import { image } from './image-spec.mjs';

const require = createRequire(import.meta.url);
const [a, b, op = 'stats', runs = '9'] = process.argv.slice(2);
const file = process.env.FILE ?? 'bench/data/ticks.bin';
const N = Number(process.env.N ?? 20_000_000);
const addons = [a, b].filter(Boolean).map((p) => require(p));
const le = (offset, type) => ({ offset, type, bigEndian: false });
const fields = [le(0, 'i64'), le(8, 'f64'), le(16, 'i32'), le(20, 'u8'), le(21, 'u8'), le(22, 'u16')];
const groupbySpec = {
  keys: [{ offset: 22, size: 2, kind: 'int', type: 'u16', bigEndian: false }],
  fields: [{ ...le(8, 'f64'), sum: true, sq: false }],
  maxGroups: 1_000_000,
};
const filterProgram = [{ op: 'cmp', ...le(8, 'f64'), cmp: 'gt', value: 110 }];
const calls = {
  stats: (addon, m) => addon.stats(m, 0, N, 24, fields),
  groupby: (addon, m) => addon.groupby(m, 0, N, 24, groupbySpec, null),
  'groupby-count': (addon, m) => addon.groupby(m, 0, N, 24, { ...groupbySpec, fields: [] }, null),
  hist: (addon, m) => addon.hist(m, 0, N, 24, le(8, 'f64'), 80, 120, 64, null),
  filter: (addon, m) => addon.filter(m, 0, N, 24, filterProgram, false, null),
};
if (op.startsWith('image:')) calls[op] = await image(op.slice('image:'.length), process.env.FRAME ?? '1024x1024x4', N);
const call = calls[op];
if (!call) {
  console.error(`bigproc: unknown kernel ${op}; expected one of ${Object.keys(calls).join(', ')}`);
  process.exit(2);
}
const maps = addons.map((addon) => new addon.Mapping(file));
const show = (v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
const results = addons.map((addon, i) => show(call(addon, maps[i])));
if (results.length === 2 && results[0] !== results[1]) {
  console.error('bigproc: the two builds give different results');
  process.exit(1);
}
const times = addons.map(() => []);
for (let r = 0; r < Number(runs); r++) {
  addons.forEach((addon, i) => {
    const t = process.cpuUsage();
    call(addon, maps[i]);
    const d = process.cpuUsage(t);
    times[i].push((d.user + d.system) / 1e3);
  });
}
const median = (x) => [...x].sort((p, q) => p - q)[x.length >> 1];
times.forEach((t, i) => {
  const ms = median(t);
  console.log(
    `${i ? 'B' : 'A'} ${op}: CPU median ${ms.toFixed(1)} ms, ${((ms * 1e6) / N).toFixed(3)} ns/record, min ${Math.min(...t).toFixed(1)} ms`,
  );
});
for (const m of maps) m.close();
