// Bundle the CLI and the worker with esbuild, then make the CLI's V8 code cache.
//  - dist/cli.cjs: the whole CLI in one CommonJS file (pg included; piscina and cli-progress are
//    loaded from node_modules when needed). One file to read at start-up, not hundreds.
//  - dist/cli.cache: V8's compiled code for it, made by running a small job once (see makeCodeCache);
//    bin/bigproc.mjs loads the bundle through it, which saves ~10 ms of CPU at every start — paid by
//    each of N hosts starting on one machine, and by every cron job and pipeline stage.
//  - dist/kernel-host.cjs: the thread that runs a user kernel's init, merge and finalize.
//  - dist/worker.cjs: the worker thread's code, also CommonJS: piscina loads it with require(), and
//    require() of an ES module (Node 20.19+) aborts the whole process with a failed assertion when the
//    process exits while a worker thread is still loading it (Ctrl-C as a second thread starts).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const cjs = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  // No source maps: Node would look them up at every start, and start-up time is a budget.
  define: { 'import.meta.url': '__bigprocModuleUrl' },
  // the manifest's schema migrations (src/manifest/postgres/migrations/*.sql) are inlined as text
  loader: { '.sql': 'text' },
  banner: { js: "const __bigprocModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
};
/**
 * commander requires node:child_process at its top (~3–5 ms of every start: it loads net, streams,
 * dgram) for executable subcommands alone, which bigproc does not have; it gets a stand-in that loads
 * the real module on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'child_process', namespace: 'lazy-child-process' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      contents:
        "let real;\nmodule.exports = new Proxy({}, { get: (_t, k) => (real ??= require('node:child_process'))[k] });\n",
      loader: 'js',
    }));
  },
};
await build({
  ...cjs,
  plugins: [lazyChildProcess],
  entryPoints: [join(root, 'src/cli/entry.ts')],
  outfile: join(dist, 'cli.cjs'),
  // pg's optional native driver and Cloudflare socket are required only on paths bigproc never takes.
  // gpu.js and gl (--backend gpu), webgpu and sharp are optional packages, loaded only when a run asks for them.
  external: ['piscina', 'cli-progress', 'pg-native', 'pg-cloudflare', 'webgpu', 'gpu.js', 'gl', 'sharp'],
  // import() inside a script run from the code cache has no module loader behind it: lazy imports of
  // bundled code and CommonJS packages become require(); a user's ES module goes through esm-import.ts.
  supported: { 'dynamic-import': false },
});
await build({
  ...cjs,
  entryPoints: [join(root, 'src/engine/worker.ts')],
  outfile: join(dist, 'worker.cjs'),
  external: ['piscina', 'gpu.js', 'gl', 'sharp'],
});
// The kernel host thread: a user kernel's init, merge and finalize, away from the main thread (see
// src/engine/kernel-host.ts). CommonJS for the same reason as the worker.
await build({
  ...cjs,
  entryPoints: [join(root, 'src/engine/kernel-host-worker.ts')],
  outfile: join(dist, 'kernel-host.cjs'),
});

/**
 * Run small jobs (stats over two records: a plain run, then one through a directory manifest) with
 * BIGPROC_WRITE_CODE_CACHE set: bin/bigproc.mjs runs them in one process and then writes the code V8
 * compiled for the bundle — its top level and every function the jobs called. Code only other jobs
 * reach is compiled when first called, as without a cache. Without a cache (no native addon yet, say)
 * bigproc still runs; it compiles the bundle at each start.
 */
function makeCodeCache() {
  const tmp = mkdtempSync(join(tmpdir(), 'bigproc-build-'));
  try {
    const file = join(tmp, 'two.bin');
    writeFileSync(file, Buffer.alloc(48));
    const run = ['run', '--file', file, '--schema', 'ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16', '--quiet'];
    const jobs = [run, [...run, '--json', '--workers', '1', '--manifest', `file:${join(tmp, 'manifest')}`]];
    // The builder's own BIGPROC_* settings are not the warm-up's business.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BIGPROC_')));
    const r = spawnSync(process.execPath, [join(root, 'bin', 'bigproc.mjs')], {
      env: { ...env, BIGPROC_WRITE_CODE_CACHE: join(dist, 'cli.cache'), BIGPROC_CODE_CACHE_JOBS: JSON.stringify(jobs) },
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.status !== 0) {
      rmSync(join(dist, 'cli.cache'), { force: true });
      console.warn(`build: no code cache (the warm-up run failed: ${(r.stderr || r.error?.message || '').trim()})`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
makeCodeCache();
