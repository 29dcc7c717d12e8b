// bigproc serve over a directory manifest (file:DIR).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveSuite } from './serve-suite.js';
import { TICKS, cli, genTicks, tempDir } from '../cli/helpers.js';
import { get, serve } from './helpers.js';

serveSuite('file:DIR', async () => {
  const root = mkdtempSync(join(tmpdir(), 'bigproc-serve-'));
  let n = 0;
  return {
    url: async () => `file:${join(root, `m${n++}`)}`,
    secret: null,
    cleanup: async () => rmSync(root, { recursive: true, force: true }),
  };
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

describe('bigproc serve over several manifests', () => {
  it('names runs by manifest position and run id, and answers for each', async () => {
    const { dir, cleanup } = tempDir();
    const server: { stop?: () => Promise<number | null> } = {};
    try {
      const file = join(dir, 't.bin');
      genTicks(file, 20_000, 4);
      const urls = [`file:${join(dir, 'a')}`, `file:${join(dir, 'b')}`];
      for (const url of urls) {
        const r = cli([
          'run',
          '--file',
          file,
          '--schema',
          TICKS,
          '--quiet',
          '--chunk-size',
          '64KiB',
          '--shard-size',
          '128KiB',
          '--manifest',
          url,
          '--run-id',
          'same',
        ]);
        expect(r.status, r.stderr).toBe(0);
      }
      const s = await serve(['--manifest', urls[0]!, '--manifest', urls[1]!]);
      server.stop = s.stop;
      const runs = (await get(new URL('/api/runs', s.url).href)).json().runs;
      expect(runs.map((r: any) => [r.id, r.manifest]).sort()).toEqual([
        ['0~same', 'file:a'],
        ['1~same', 'file:b'],
      ]);
      expect((await get(new URL('/api/runs/1~same', s.url).href)).json().state).toBe('done');
      expect((await get(new URL('/api/runs/same', s.url).href)).status).toBe(404);
      expect((await get(new URL('/api/runs/2~same', s.url).href)).status).toBe(404);
    } finally {
      await server.stop?.();
      cleanup();
    }
  }, 60_000);
});
