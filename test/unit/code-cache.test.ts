// bin/bigproc.mjs loads the CLI bundle through V8's code cache (dist/cli.cache, made by the build). The
// cache must be one V8 accepts — else every start silently compiles from source again — and a cache
// that does not belong to the bundle beside it (rebuilt, edited, corrupt) must be ignored, never run.
// The copy the second test edits sits in a folder whose name has a space (a URL path would hold %20).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { packageRoot } from '../../src/package-root.js';

const root = packageRoot()!;
const HEADER = 64;
let copy: string;

beforeAll(() => {
  // A copy of the installed CLI (bin/, dist/, package.json; node_modules linked by resolution from
  // the copy's own folder would be missing, so the copy sits inside the project).
  copy = mkdtempSync(join(root, 'test', '.code-cache- with space '));
  for (const d of ['bin', 'dist']) cpSync(join(root, d), join(copy, d), { recursive: true, preserveTimestamps: true });
  cpSync(join(root, 'package.json'), join(copy, 'package.json'));
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const version = (dir: string) =>
  spawnSync(process.execPath, [join(dir, 'bin', 'bigproc.mjs'), '--version'], { encoding: 'utf8' });

describe('the CLI code cache', () => {
  it('was made for this bundle, and V8 accepts it', () => {
    const file = join(root, 'dist', 'cli.cjs');
    const cache = readFileSync(join(root, 'dist', 'cli.cache'));
    const st = statSync(file);
    expect(cache.subarray(0, HEADER).toString('latin1').trim()).toBe(`bigproc-code-cache ${st.size} ${st.mtimeMs}`);
    const source = readFileSync(file, 'utf8');
    const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
      filename: file,
      cachedData: cache.subarray(HEADER),
    });
    expect(script.cachedDataRejected).toBe(false);
  });

  it('is ignored when the bundle changed after it was made, or when it is corrupt', () => {
    expect(version(copy).stdout.trim()).toBe('0.1.0');
    // The bundle edited in place, same length. V8 alone would take the old cache for it (it checks the
    // source's length, not its bytes) and run the old code: the header's size and mtime are what stop it.
    const bundle = join(copy, 'dist', 'cli.cjs');
    const edited = readFileSync(bundle, 'utf8').replace('"0.1.0"', '"9.1.0"');
    const cache = readFileSync(join(copy, 'dist', 'cli.cache'));
    const stale = new Script(`(function (exports, require, module, __filename, __dirname) {${edited}\n})`, {
      filename: bundle,
      cachedData: cache.subarray(HEADER),
    });
    expect(stale.cachedDataRejected).toBe(false);
    writeFileSync(bundle, edited);
    utimesSync(bundle, new Date(), new Date(Date.now() + 5_000));
    let r = version(copy);
    expect([r.status, r.stdout.trim(), r.stderr]).toEqual([0, '9.1.0', '']);
    // a header that matches over garbage: V8 refuses the data and compiles from source
    const st = statSync(bundle);
    writeFileSync(
      join(copy, 'dist', 'cli.cache'),
      Buffer.concat([
        Buffer.from(`bigproc-code-cache ${st.size} ${st.mtimeMs}`.padEnd(HEADER, ' '), 'latin1'),
        Buffer.alloc(4096, 7),
      ]),
    );
    r = version(copy);
    expect([r.status, r.stdout.trim(), r.stderr]).toEqual([0, '9.1.0', '']);
    // no cache at all
    rmSync(join(copy, 'dist', 'cli.cache'));
    r = version(copy);
    expect([r.status, r.stdout.trim(), r.stderr]).toEqual([0, '9.1.0', '']);
  });
});
