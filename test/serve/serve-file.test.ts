// bigproc serve over a directory manifest (file:DIR).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveSuite } from './serve-suite.js';
import { cli, tempDir } from '../cli/helpers.js';

serveSuite('file:DIR', async () => {
  const root = mkdtempSync(join(tmpdir(), 'bigproc-serve-'));
  let n = 0;
  return { url: async () => `file:${join(root, `m${n++}`)}`, secret: null, cleanup: async () => rmSync(root, { recursive: true, force: true }) };
});

describe('bigproc serve: flags', () => {
  it('binding off loopback without a token is exit 2, one line, before anything is opened', () => {
    const { dir, cleanup } = tempDir();
    try {
      for (const host of ['0.0.0.0', '::', '192.0.2.1']) {
        const r = cli(['serve', '--manifest', `file:${dir}`, '--host', host, '--port', '0']);
        expect(r.status, host).toBe(2);
        expect(r.stderr).toMatch(/^bigproc: --host \S+ lets other machines connect: give --token/);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
      const none = cli(['serve', '--port', '0']);
      expect(none.status).toBe(2);
      expect(none.stderr).toMatch(/--manifest <url> is required/);
      const missing = cli(['serve', '--manifest', `file:${join(dir, 'not-there')}`, '--port', '0']);
      expect(missing.status).toBe(2);
      expect(missing.stderr).toMatch(/does not exist/);
      expect(cli(['serve', '--manifest', `file:${dir}`, '--port', '70000']).status).toBe(2);
    } finally {
      cleanup();
    }
  });
});
