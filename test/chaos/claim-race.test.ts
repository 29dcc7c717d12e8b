// Claim races between processes (not just promises in one process): 8 processes hammer one run of
// 300 shards with claim → commit loops through the real store code, for both backends. Every shard
// must be claimed exactly once and committed exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { build } from 'esbuild';
import { ROOT } from '../cli/helpers.js';
import { startPostgres, type PgServer } from '../manifest/pg-server.js';

let outdir: string;
let server: PgServer;
let fileRoot: string;

beforeAll(async () => {
  // Inside the project so the bundle's `import 'pg'` resolves from node_modules.
  outdir = mkdtempSync(join(ROOT, 'test', '.race-'));
  await build({
    entryPoints: { open: join(ROOT, 'src/manifest/open.ts') },
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    external: ['pg'],
    logLevel: 'warning',
    loader: { '.sql': 'text' },
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  writeFileSync(
    join(outdir, 'claimer.mjs'),
    `
    import { openStore } from './open.mjs';
    const [url, id] = process.argv.slice(2);
    const store = await openStore(url);
    const run = store.run('race');
    const me = { host: 'racer', pid: process.pid };
    const got = [];
    // Everyone starts claiming at once (a claim takes well under a millisecond, less than a process
    // takes to start): say ready, wait for the go.
    process.stderr.write('ready\\n');
    await new Promise((r) => process.stdin.once('data', r));
    process.stdin.pause();
    for (;;) {
      const c = await run.claim(me, 30000);
      if (c.kind === 'finished') break;
      if (c.kind === 'wait') { await new Promise((r) => setTimeout(r, 20)); continue; }
      got.push([c.lease.shard, c.lease.token]);
      if (!(await run.commit(c.lease, me, JSON.stringify({ shard: c.lease.shard, by: id })))) throw new Error('commit rejected');
    }
    await store.close();
    process.stdout.write(JSON.stringify(got));
  `,
  );
  server = await startPostgres();
  fileRoot = mkdtempSync(join(tmpdir(), 'bigproc-race-'));
}, 60_000);

afterAll(async () => {
  rmSync(outdir, { recursive: true, force: true });
  rmSync(fileRoot, { recursive: true, force: true });
  await server?.stop();
});

const SHARDS = 300;

async function race(url: string): Promise<void> {
  const { openStore } = await import(join(outdir, 'open.mjs'));
  const store = await openStore(url);
  const run = store.run('race');
  await run.open(
    {
      run_id: 'race',
      file: { name: 'x', size: 0, mtime_ms: 0, sample_hash: '' },
      layout: {},
      op: 'count',
      spec: '{}',
      records_per_chunk: 1,
      chunks: SHARDS,
      shard_chunks: 1,
      shards: SHARDS,
      out: 'none',
    },
    { host: 'setup', pid: 0 },
  );
  // Every claimer says "ready" once its store is open; the go goes to all at once when all have (or
  // at once to the rest when one dies first, so none is left waiting).
  let ready = 0;
  const procs = Array.from({ length: 8 }, (_, i) =>
    spawn(process.execPath, [join(outdir, 'claimer.mjs'), url, String(i)], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const go = () => {
    for (const p of procs) if (p.stdin!.writable) p.stdin!.end('go\n');
  };
  let outs: [number, number][][];
  try {
    outs = await Promise.all(
      procs.map(
        (p) =>
          new Promise<[number, number][]>((resolve, reject) => {
            let out = '';
            let err = '';
            let said = false;
            p.stdout!.on('data', (d) => (out += d));
            p.stderr!.on('data', (d) => {
              err += d;
              if (!said && err.includes('ready\n')) {
                said = true;
                if (++ready === procs.length) go();
              }
            });
            p.on('close', (code) =>
              code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`claimer exited ${code}: ${err}`)),
            );
          }),
      ),
    );
  } finally {
    go();
  }
  const claims = outs.flat();
  expect(claims).toHaveLength(SHARDS);
  expect(new Set(claims.map(([s]) => s)).size).toBe(SHARDS);
  expect(claims.every(([, t]) => t === 1)).toBe(true);
  // More than one process got work: it was a race, not a queue.
  expect(outs.filter((o) => o.length > 0).length).toBeGreaterThan(1);
  const events = await run.events();
  const commits = events.filter((e: { type: string }) => e.type === 'committed');
  expect(commits).toHaveLength(SHARDS);
  const partials: string[] = await run.partials();
  expect(partials.map((p) => JSON.parse(p).shard)).toEqual([...Array(SHARDS).keys()]);
  await store.close();
}

describe('claim races between 8 processes', () => {
  it('directory manifest', () => race(`file:${join(fileRoot, 'm')}`), 60_000);
  it('postgres manifest', async () => race(await server.newDatabase()), 60_000);
});
