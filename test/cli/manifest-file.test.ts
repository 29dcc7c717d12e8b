// The multi-host CLI suite against a directory manifest (file:DIR).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manifestCliSuite } from './manifest-suite.js';

manifestCliSuite('file:DIR', async () => {
  const root = mkdtempSync(join(tmpdir(), 'bigproc-manifest-'));
  let n = 0;
  return {
    url: () => `file:${join(root, `m${n++}`)}`,
    cleanup: async () => rmSync(root, { recursive: true, force: true }),
  };
});
