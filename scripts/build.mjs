// Bundle the CLI and the worker with esbuild: one file each, so start-up reads two files, not hundreds.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // No source maps: Node would look them up at every start, and start-up time is a budget.
  logLevel: 'warning',
  // piscina spawns workers from its own files; cli-progress is loaded lazily from node_modules.
  external: ['piscina', 'cli-progress'],
  banner: { js: "import { createRequire as __bigprocCreateRequire } from 'node:module'; const require = __bigprocCreateRequire(import.meta.url);" },
};
await Promise.all([
  build({ ...common, entryPoints: [join(root, 'src/cli/main.ts')], outfile: join(root, 'dist/cli.mjs') }),
  build({ ...common, entryPoints: [join(root, 'src/engine/worker.ts')], outfile: join(root, 'dist/worker.mjs') }),
]);
