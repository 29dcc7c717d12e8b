// npm run demo: generate a 1 GiB ticks sample once (sample/ticks.bin), then run the main job on it with
// the progress bar: stats, a filter count and a histogram; then the same groupby as two "hosts"
// sharing a manifest directory, and its status.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'bigproc.mjs');
const file = join(root, 'sample', 'ticks.bin');
const schema = 'ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16';
const records = String(Math.floor(2 ** 30 / 24));

function bigproc(...args) {
  console.error(`\n$ bigproc ${args.map((a) => (/[ '&|()<>]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync(file)) {
  mkdirSync(dirname(file), { recursive: true });
  bigproc(
    'gen',
    '--schema',
    schema,
    '--records',
    records,
    '--out',
    file,
    '--seed',
    '42',
    '--dist',
    'ts=seq:1700000000000000000:1000000,price=normal:100:10,qty=uniform:1:1000,side=uniform:0:1,flags=uniform:0:15,venue=uniform:0:31',
  );
}
bigproc('run', '--file', file, '--schema', schema);
bigproc(
  'run',
  '--file',
  file,
  '--schema',
  schema,
  '--op',
  'filter',
  '--where',
  'price > 110 && (side == 1 || qty < 5)',
);
bigproc(
  'run',
  '--file',
  file,
  '--schema',
  schema,
  '--op',
  'hist',
  '--field',
  'price',
  '--range',
  '80:120',
  '--bins',
  '8',
);

// Two processes stand in for two hosts: each claims shards from sample/run/, one merges and prints.
const manifest = join(root, 'sample', 'run');
rmSync(manifest, { recursive: true, force: true });
const hostArgs = [
  'run',
  '--file',
  file,
  '--schema',
  schema,
  '--op',
  'groupby',
  '--key',
  'side',
  '--agg',
  'count,mean(price)',
  '--manifest',
  `file:${manifest}`,
  '--run-id',
  'demo',
  '--shard-size',
  '128MiB',
  '--workers',
  '1',
  '--quiet',
];
console.error(`\n$ bigproc ${hostArgs.join(' ')} &   # twice, as two hosts`);
await Promise.all(
  [0, 1].map(
    () =>
      new Promise((resolve) => spawn(process.execPath, [bin, ...hostArgs], { stdio: 'inherit' }).on('close', resolve)),
  ),
);
bigproc('status', '--manifest', `file:${manifest}`, '--run-id', 'demo');
