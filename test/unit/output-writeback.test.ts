// --out files start their disk writes as the run goes (native/writeback.cc via AtomicFile): the hint is
// taken for a regular file, refused where it means nothing, and a file written across several starts
// comes out whole and in order.
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '../../src/native/addon.js';
import { openAtomicFile } from '../../src/engine/output.js';

const addon = loadAddon();
const dir = mkdtempSync(join(tmpdir(), 'bigproc-writeback-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(addon && process.platform === 'linux')('startWriteback', () => {
  it('is taken for a regular file and refused for a descriptor that is not open', () => {
    const path = join(dir, 'plain.bin');
    writeFileSync(path, Buffer.alloc(1 << 20, 7));
    const fd = openSync(path, 'r+');
    try {
      expect(addon!.startWriteback(fd, 0, 1 << 20)).toBe(true);
    } finally {
      closeSync(fd);
    }
    expect(addon!.startWriteback(fd, 0, 1 << 20)).toBe(false);
  });

  it('an --out file asks for each 8 MiB or more it wrote since the last time, and comes out whole and in order', () => {
    const path = join(dir, 'out.bin');
    const seen: number[][] = [];
    const real = addon!.startWriteback;
    addon!.startWriteback = (fd, offset, bytes) => {
      seen.push([offset, bytes]);
      return real.call(addon, fd, offset, bytes);
    };
    try {
      const out = openAtomicFile(path);
      const pieces = [5, 9, 3, 12, 1].map((mib, i) => Buffer.alloc(mib << 20, i + 1));
      for (const p of pieces) out.write(p);
      out.commit();
      expect(readFileSync(path).equals(Buffer.concat(pieces))).toBe(true);
    } finally {
      addon!.startWriteback = real;
    }
    const MiB = 1 << 20;
    expect(seen).toEqual([
      [0, 14 * MiB],
      [14 * MiB, 15 * MiB],
    ]);
  });
});
