// The chaos test against a directory manifest.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chaosSuite } from './chaos-suite.js';

chaosSuite('file:DIR', async () => {
  const root = mkdtempSync(join(tmpdir(), 'bigproc-chaos-'));
  let n = 0;
  return {
    url: () => `file:${join(root, `m${n++}`)}`,
    cleanup: async () => rmSync(root, { recursive: true, force: true }),
  };
});
