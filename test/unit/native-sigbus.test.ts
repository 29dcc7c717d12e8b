// Native SIGBUS guard: a file truncated under its mapping makes the kernels throw EFILECHANGED
// (instead of killing the process), and the guard keeps working afterwards.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKernels } from './kernels.js';

const addon = loadKernels();
// Created on first use (a skipped file leaves nothing behind), removed after the file's tests.
let tempDir: string | undefined;
const dir = (): string => (tempDir ??= mkdtempSync(join(tmpdir(), 'bigproc-native-sigbus-')));
afterAll(() => {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

describe.runIf(addon)('native SIGBUS guard', () => {
  it('turns a truncated mapping into an EFILECHANGED error', () => {
    const a = addon!;
    const n = 100_000;
    const p = join(dir(), 'shrinks.bin');
    writeFileSync(p, Buffer.alloc(n * 16, 1));
    const m = new a.Mapping(p);
    const f = { offset: 0, type: 'u64' as const };
    expect(a.stats(m, 0, n, 16, [f])![0]!.count).toBe(n);

    truncateSync(p, 4096);
    expect(m.stat().size).toBe(4096);
    const changed = expect.objectContaining({
      code: 'EFILECHANGED',
      message: 'the file shrank while it was being read',
    });
    expect(() => a.stats(m, 0, n, 16, [f])).toThrow(changed);
    expect(() => a.hist(m, 0, n, 16, f, 0, 1, 4)).toThrow(changed);
    expect(() => a.filter(m, 0, n, 16, [{ op: 'cmp', ...f, cmp: 'eq', value: 1n }], true)).toThrow(changed);
    // what is still inside the file reads fine
    expect(a.stats(m, 0, 4096 / 16, 16, [f])![0]!.count).toBe(256);

    truncateSync(p, 0);
    expect(() => a.stats(m, 0, 10, 16, [f])).toThrow(changed);
    m.close();

    // other mappings are unaffected
    const q = join(dir(), 'fine.bin');
    writeFileSync(q, Buffer.alloc(160, 2));
    const m2 = new a.Mapping(q);
    expect(a.stats(m2, 0, 10, 16, [f])![0]!.sum).toBe(10n * 0x0202020202020202n);
    m2.close();
  });
});
