// checksum and count through the real binary: same digests for any worker count, crc32c independent
// of the chunk size, --verify pass / mismatch (exit 1) / wrong chunk size or algo (exit 2), and count
// with and without --where, including opaque --record-size records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, genTicks, json, tempDir, TICKS } from './helpers.js';

let dir: string;
let cleanup: () => void;
let ticks: string;
const N = 20_011; // 24-byte records
const RS = 24;

beforeAll(() => {
  ({ dir, cleanup } = tempDir());
  ticks = join(dir, 'ticks.bin');
  genTicks(ticks, N, 5);
});
afterAll(() => cleanup());

const run = (args: string[], file = ticks) => cli(['run', '--file', file, '--schema', TICKS, '--quiet', ...args]);

describe('checksum', () => {
  it('xxh64: same result for workers 1, 2, 3 and both backends; chunk_size is whole records', () => {
    const results = new Set<string>();
    for (const w of ['1', '2', '3'])
      results.add(
        JSON.stringify(json(run(['--op', 'checksum', '--json', '--workers', w, '--chunk-size', '64KiB'])).result),
      );
    results.add(
      JSON.stringify(
        json(run(['--op', 'checksum', '--json', '--workers', '2', '--chunk-size', '64KiB', '--backend', 'js'])).result,
      ),
    );
    expect(results.size).toBe(1);
    const r = JSON.parse([...results][0]!);
    expect(r.algo).toBe('xxh64');
    expect(r.digest).toMatch(/^[0-9a-f]{16}$/);
    expect(r.chunk_size).toBe(Math.floor(65536 / RS) * RS);
    expect(r.chunks).toHaveLength(Math.ceil((N * RS) / r.chunk_size));
    for (const c of r.chunks) expect(c).toMatch(/^[0-9a-f]{16}$/);
  });

  it('crc32c: same whole digest across chunk sizes and workers; xxh64 depends on the chunk size', () => {
    const digests = new Set<string>();
    for (const [w, cs] of [
      ['1', '1KiB'],
      ['3', '7777'],
      ['2', '64MiB'],
    ] as const) {
      const r = json(
        run(['--op', 'checksum', '--algo', 'crc32c', '--json', '--workers', w, '--chunk-size', cs]),
      ).result;
      expect(r.digest).toMatch(/^[0-9a-f]{8}$/);
      digests.add(r.digest);
    }
    expect(digests.size).toBe(1);
    const a = json(run(['--op', 'checksum', '--json', '--chunk-size', '1KiB'])).result.digest;
    const b = json(run(['--op', 'checksum', '--json', '--chunk-size', '7777'])).result.digest;
    expect(a).not.toBe(b);
  });

  it('--verify passes on the same file, fails naming the chunk after a flipped byte, and wants the same chunk size and algo', () => {
    const saved = join(dir, 'sum.json');
    const r = run(['--op', 'checksum', '--json', '--chunk-size', '64KiB', '--workers', '2']);
    writeFileSync(saved, r.stdout);
    const ok = json(run(['--op', 'checksum', '--json', '--chunk-size', '64KiB', '--workers', '3', '--verify', saved]));
    expect(ok.result.verified).toBe(true);
    // the bare result object is accepted too
    const bare = join(dir, 'bare.json');
    writeFileSync(bare, JSON.stringify(JSON.parse(r.stdout).result));
    expect(json(run(['--op', 'checksum', '--json', '--chunk-size', '64KiB', '--verify', bare])).result.verified).toBe(
      true,
    );

    const chunkSize = Math.floor(65536 / RS) * RS;
    const copy = join(dir, 'copy.bin');
    copyFileSync(ticks, copy);
    const bytes = readFileSync(copy);
    const at = chunkSize * 2 + 100;
    bytes[at] ^= 0xff;
    writeFileSync(copy, bytes);
    const bad = run(['--op', 'checksum', '--chunk-size', '64KiB', '--verify', saved], copy);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`chunk 2 (bytes ${2 * chunkSize}..${3 * chunkSize}`);

    const other = run(['--op', 'checksum', '--chunk-size', '1MiB', '--verify', saved]);
    expect(other.status).toBe(2);
    expect(other.stderr).toContain(`--chunk-size ${chunkSize}`);
    expect(other.stderr.trim().split('\n')).toHaveLength(1);

    const algo = run(['--op', 'checksum', '--algo', 'crc32c', '--chunk-size', '64KiB', '--verify', saved]);
    expect(algo.status).toBe(2);
    expect(algo.stderr).toContain('--algo xxh64');
  });

  it('--verify on a file cut short at a chunk boundary exits 1 saying the chunk counts differ', () => {
    const saved = join(dir, 'sum-cut.json');
    writeFileSync(saved, run(['--op', 'checksum', '--json', '--algo', 'crc32c', '--chunk-size', '64KiB']).stdout);
    const chunkSize = Math.floor(65536 / RS) * RS;
    const cut = join(dir, 'cut.bin');
    writeFileSync(cut, readFileSync(ticks).subarray(0, 3 * chunkSize));
    const bad = run(['--op', 'checksum', '--algo', 'crc32c', '--chunk-size', '64KiB', '--verify', saved], cut);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/has \d+ chunks, the file has 3/);
    expect(bad.stderr).toContain('chunk 3');
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('works on opaque --record-size records; bad options exit 2 with one line', () => {
    const a = json(
      cli(['run', '--file', ticks, '--record-size', '8', '--op', 'checksum', '--algo', 'crc32c', '--json', '--quiet']),
    ).result;
    const b = json(run(['--op', 'checksum', '--algo', 'crc32c', '--json'])).result;
    expect(a.digest).toBe(b.digest); // the same bytes, whatever the record size
    const bad = run(['--op', 'checksum', '--algo', 'md5']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--algo');
    expect(bad.stderr).toContain('"md5"');
    const missing = run(['--op', 'checksum', '--verify', join(dir, 'nope.json')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--verify');
  });
});

describe('count', () => {
  it('counts records, and --where matches, identically for workers 1/2/3 and both backends', () => {
    const plain = new Set<string>();
    const where = new Set<string>();
    for (const w of ['1', '2', '3']) {
      plain.add(JSON.stringify(json(run(['--op', 'count', '--json', '--workers', w, '--chunk-size', '7777'])).result));
      where.add(
        JSON.stringify(
          json(
            run([
              '--op',
              'count',
              '--where',
              'price > 105 && qty < 500',
              '--json',
              '--workers',
              w,
              '--chunk-size',
              '7777',
            ]),
          ).result,
        ),
      );
    }
    where.add(
      JSON.stringify(
        json(run(['--op', 'count', '--where', 'price > 105 && qty < 500', '--json', '--backend', 'js'])).result,
      ),
    );
    expect([...plain]).toEqual([JSON.stringify({ records: N })]);
    expect(where.size).toBe(1);
    const w = JSON.parse([...where][0]!);
    expect(w.records).toBe(N);
    const f = json(run(['--op', 'filter', '--where', 'price > 105 && qty < 500', '--json'])).result;
    expect(w.matched).toBe(f.matched);
  });

  it('counts opaque --record-size records; a bad --where exits 2', () => {
    const r = json(cli(['run', '--file', ticks, '--record-size', '8', '--op', 'count', '--json', '--quiet'])).result;
    expect(r).toEqual({ records: (N * RS) / 8 });
    const bad = run(['--op', 'count', '--where', 'nosuch > 1']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});
