#!/usr/bin/env node
// Load the CLI bundle (dist/cli.cjs) with V8's code cache (dist/cli.cache, made by the build): compiling
// the bundle from source costs ~10 ms more CPU at every start. The cache is used only if it was made
// from this very bundle (its size and mtime are in the cache's header; V8 itself also checks its own
// version and flags and ignores a cache that does not match), else the bundle is compiled as usual.
// Then start the worker pool early (a thread takes ~40 ms to boot) and run the CLI.
// Built-ins through require(): importing node:fs as an ES module builds its facade by reading every
// export, which loads the whole streams stack (~2 ms at every start) for nothing.
import { createRequire } from 'node:module';

// SIGUSR1 would make Node open its inspector on 127.0.0.1:9229: a production CLI must not open a debug
// port on a signal. A listener of our own (installed first of all) keeps Node from doing it.
process.on('SIGUSR1', () => {});

const require = createRequire(import.meta.url);
const { readFileSync, statSync, writeFileSync, renameSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');
const { fileURLToPath } = require('node:url');

const HEADER = 64;
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const file = join(dist, 'cli.cjs');
const stamp = (st) => `bigproc-code-cache ${st.size} ${st.mtimeMs}`.padEnd(HEADER, ' ');

const source = readFileSync(file, 'utf8');
const writeTo = process.env.BIGPROC_WRITE_CODE_CACHE;
let cachedData;
if (!writeTo) {
  try {
    const cache = readFileSync(join(dist, 'cli.cache'));
    if (cache.subarray(0, HEADER).toString('latin1') === stamp(statSync(file))) cachedData = cache.subarray(HEADER);
  } catch {
    // no cache: compile from source
  }
}
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: file,
  cachedData,
});
const mod = { exports: {} };
script.runInThisContext()(mod.exports, createRequire(file), mod, file, dist);
// import() in the bundle has no module loader (see src/esm-import.ts): user kernels load through ours.
mod.exports.setImporter((url) => import(url));

if (writeTo) {
  // Build time only (scripts/build.mjs): run the warm-up jobs given as a JSON list of command lines
  // (else this one command line), one after the other, then save what V8 compiled for them. Any
  // failure: no cache, and its exit code.
  const jobs = process.env.BIGPROC_CODE_CACHE_JOBS
    ? JSON.parse(process.env.BIGPROC_CODE_CACHE_JOBS)
    : [process.argv.slice(2)];
  for (const job of jobs) {
    const code = await mod.exports.main(job);
    if (code !== 0) process.exit(code);
  }
  writeFileSync(
    `${writeTo}.tmp`,
    Buffer.concat([Buffer.from(stamp(statSync(file)), 'latin1'), script.createCachedData()]),
  );
  renameSync(`${writeTo}.tmp`, writeTo);
  process.exit(0);
}

const args = process.argv.slice(2);
mod.exports.prestartForArgs(args);
process.exit(await mod.exports.main(args));
