// The multi-host CLI suite against a directory manifest (file:DIR).
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manifestCliSuite } from './manifest-suite.js';
import { cli } from './helpers.js';

manifestCliSuite('file:DIR', async () => {
  const root = mkdtempSync(join(tmpdir(), 'bigproc-manifest-'));
  let n = 0;
  return {
    url: () => `file:${join(root, `m${n++}`)}`,
    cleanup: async () => rmSync(root, { recursive: true, force: true }),
  };
});

describe('--lease out of range', () => {
  it('is refused with exit 2 (from 100ms to 24h), before anything is created', () => {
    const root = mkdtempSync(join(tmpdir(), 'bigproc-lease-'));
    try {
      const file = join(root, 'one.bin');
      writeFileSync(file, Buffer.alloc(24));
      for (const lease of ['720h', '10ms']) {
        const r = cli([
          'run',
          '--file',
          file,
          '--schema',
          'ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16',
          '--manifest',
          `file:${join(root, 'm')}`,
          '--lease',
          lease,
        ]);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/from 100ms to 24h for --lease/);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
      expect(existsSync(join(root, 'm'))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('looking at a directory manifest that is not there', () => {
  it('status, events and health do not create it; health says unreachable (exit 2)', () => {
    const root = mkdtempSync(join(tmpdir(), 'bigproc-nomanifest-'));
    try {
      const missing = join(root, 'not', 'there');
      for (const cmd of ['status', 'events']) {
        const r = cli([cmd, '--manifest', `file:${missing}`, '--json']);
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/does not exist/);
      }
      const h = cli(['health', '--manifest', `file:${missing}`, '--json']);
      expect(h.status).toBe(2);
      expect(JSON.parse(h.stdout).health).toBe('unreachable');
      expect(existsSync(join(root, 'not'))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
