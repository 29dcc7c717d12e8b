// piscina loads the worker with require(). Were it an ES module, Node would load it through
// require(esm), which aborts the whole process (a failed native assertion) when the process exits
// while a worker thread is still loading it — Ctrl-C just as the pool grows. The worker is therefore
// built as CommonJS; this checks that it loads with require(esm) switched off.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { workerFile } from '../../src/engine/pool.js';

describe('the worker file', () => {
  it('is CommonJS: require() loads it without require(esm) and finds the task handler', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--no-experimental-require-module',
        '-e',
        `const m = require(${JSON.stringify(workerFile())}); process.stdout.write(typeof m.default)`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('function');
  });
});
