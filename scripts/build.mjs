// Bundle the CLI and the pool with esbuild (code splitting, so the pool module that bin/bigproc.mjs
// starts early is the same instance the CLI later uses): a handful of files to read at start-up, not
// hundreds. The worker is one CommonJS file of its own: piscina loads it with require(), and
// require() of an ES module (Node 20.19+) aborts the whole process with a failed assertion when the
// process exits while a worker thread is still loading it (Ctrl-C as a second thread starts).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
rmSync(join(root, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: {
    cli: join(root, 'src/cli/main.ts'),
    pool: join(root, 'src/engine/pool.ts'),
  },
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // No source maps: Node would look them up at every start, and start-up time is a budget.
  // piscina spawns workers from its own files; cli-progress is loaded lazily from node_modules. pg is
  // bundled into the (lazily imported) postgres chunk: one file to compile instead of ~40 to resolve
  // and wrap, 20 -> 8 ms of CPU per process that opens a Postgres manifest. Its optional native
  // driver and Cloudflare socket are required only on those paths, which bigproc never takes.
  external: ['piscina', 'cli-progress', 'pg-native', 'pg-cloudflare'],
  banner: { js: "import { createRequire as __bigprocCreateRequire } from 'node:module'; const require = __bigprocCreateRequire(import.meta.url);" },
});
await build({
  entryPoints: [join(root, 'src/engine/worker.ts')],
  outfile: join(root, 'dist', 'worker.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  external: ['piscina'],
  define: { 'import.meta.url': '__bigprocModuleUrl' },
  banner: { js: "const __bigprocModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
