// The flags of `bigproc run` resolved once: defaults and units applied, limits enforced, and the
// early start's reading of the raw command line agreeing with them.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MAX_WORKERS,
  peekRunArgs,
  SMALL_FILE_BYTES,
  resolveExclusiveArgs,
  resolveManifestArgs,
  resolvePartArgs,
  resolveRunArgs,
  type RunFlags,
} from '../../src/config/run-args.js';

const flags = (more: Partial<RunFlags> = {}): RunFlags => ({
  file: 'f.bin',
  op: 'stats',
  backend: 'auto',
  chunkSize: '64MiB',
  ...more,
});

describe('resolveRunArgs', () => {
  it('applies units and picks the op --kernel or --pipeline alone implies', () => {
    const a = resolveRunArgs(flags({ workers: '3', recordSize: '24', headerBytes: '0' }));
    expect(a).toMatchObject({
      file: 'f.bin',
      op: 'stats',
      workers: 3,
      chunkSize: 64 << 20,
      layout: { recordSize: 24, headerBytes: 0 },
      json: false,
      quiet: false,
    });
    expect(resolveRunArgs(flags({ kernel: 'k.mjs' })).op).toBe('kernel');
    expect(resolveRunArgs(flags({ pipeline: 'p.json' })).op).toBe('pipeline');
    expect(resolveRunArgs(flags({ op: 'count', kernel: 'k.mjs' })).op).toBe('count');
  });
  it('refuses what no run can use', () => {
    expect(() => resolveRunArgs(flags({ file: undefined }))).toThrow(/needs --file/);
    expect(() => resolveRunArgs(flags({ workers: String(MAX_WORKERS + 1) }))).toThrow(
      /an integer from 1 to 1024 for --workers/,
    );
    expect(() => resolveRunArgs(flags({ chunkSize: '0' }))).toThrow(/positive size for --chunk-size/);
  });
});

describe('the flags of runs across hosts', () => {
  it('--manifest: the defaults commander shows, in ms and bytes', () => {
    expect(resolveManifestArgs(flags())).toBeUndefined();
    expect(resolveManifestArgs(flags({ manifest: 'file:/m' }))).toEqual({
      url: 'file:/m',
      runId: undefined,
      shardSize: 256 << 20,
      leaseMs: 30_000,
      maxAttempts: 3,
      backoffMs: 1000,
      graceMs: 20_000,
    });
    expect(() => resolveManifestArgs(flags({ manifest: 'file:/m', lease: '10ms' }))).toThrow(
      /from 100ms to 24h for --lease/,
    );
  });
  it('a static part: index from the flag or the array-job environment, within the count', () => {
    expect(resolvePartArgs(flags())).toBeUndefined();
    expect(resolvePartArgs(flags({ shardIndex: '2', shardCount: '3' }))).toEqual({ index: 2, count: 3 });
    expect(() => resolvePartArgs(flags({ shardIndex: '3', shardCount: '3' }))).toThrow(/from 0 to 2 for --shard-index/);
    expect(() => resolvePartArgs(flags({ shardIndex: '0' }))).toThrow(/needs --shard-count/);
    expect(() => resolvePartArgs(flags({ shardCount: '2', manifest: 'file:/m' }))).toThrow(/without a manifest/);
  });
  it('--exclusive holds its guard under --lease', () => {
    expect(resolveExclusiveArgs(flags({ exclusive: 'nightly', lease: '3s' }))).toEqual({
      name: 'nightly',
      leaseMs: 3000,
    });
    expect(resolveExclusiveArgs(flags())).toBeUndefined();
  });
});

describe('peekRunArgs (the early start, before commander)', () => {
  it('reads --workers in both spellings, and a bad value as the default', () => {
    expect(peekRunArgs(['run', '--workers', '3']).workers).toBe(3);
    expect(peekRunArgs(['run', '--workers=5']).workers).toBe(5);
    expect(peekRunArgs(['run', '--workers', '0']).workers).toBe(peekRunArgs(['run']).workers);
    expect(peekRunArgs(['run', '--workers', String(MAX_WORKERS + 1)]).workers).toBe(peekRunArgs(['run']).workers);
  });
  it('notices a user kernel, stdin and the JS backend', () => {
    expect(peekRunArgs(['run', '--kernel', 'k.mjs', '--file', '-', '--backend=js'])).toMatchObject({
      command: 'run',
      kernel: true,
      stdin: true,
      jsBackend: true,
    });
    expect(peekRunArgs(['gen', '--file', 'x'])).toMatchObject({
      command: 'gen',
      kernel: false,
      stdin: false,
      jsBackend: false,
    });
  });
  it('notices a file small enough to be one chunk (no pool to start early)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bigproc-peek-'));
    try {
      const small = join(dir, 'small.bin');
      const big = join(dir, 'big.bin');
      writeFileSync(small, Buffer.alloc(24));
      writeFileSync(big, Buffer.alloc(SMALL_FILE_BYTES + 1));
      expect(peekRunArgs(['run', '--file', small]).smallFile).toBe(true);
      expect(peekRunArgs(['run', `--file=${small}`, '--op', 'stats']).smallFile).toBe(true);
      expect(peekRunArgs(['run', '--file', big]).smallFile).toBe(false);
      expect(peekRunArgs(['run', '--file', small, '--chunk-size', '8']).smallFile).toBe(false);
      expect(peekRunArgs(['run', '--file', join(dir, 'missing.bin')]).smallFile).toBe(false);
      expect(peekRunArgs(['run', '--file', dir]).smallFile).toBe(false);
      expect(peekRunArgs(['run', '--file', '-']).smallFile).toBe(false);
      expect(peekRunArgs(['gen', '--file', small]).smallFile).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
