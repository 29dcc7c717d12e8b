// Byte sources for streamed input: whatever the sizes of the blocks asked for and of the pieces the
// writer sends, the blocks filled from a pipe concatenate to exactly the bytes written, a block comes
// back short only at end of input, and after that every fill returns 0.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openByteSource } from '../../src/engine/byte-source.js';

const dir = mkdtempSync(join(tmpdir(), 'bigproc-bytes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A child process writes `data` into the FIFO in pieces of the given sizes, pausing between some. */
function writeInPieces(fifo: string, data: Buffer, pieces: number[]): void {
  const src = join(dir, `data-${Math.random()}`);
  writeFileSync(src, data);
  const code = `
    const fs = require('fs');
    const data = fs.readFileSync(${JSON.stringify(src)});
    const fd = fs.openSync(${JSON.stringify(fifo)}, 'w');
    const pieces = ${JSON.stringify(pieces)};
    let off = 0, i = 0;
    const step = () => {
      if (off >= data.length) return fs.closeSync(fd);
      const n = Math.min(pieces[i++ % pieces.length], data.length - off);
      fs.writeSync(fd, data, off, n);
      off += n;
      if (i % 5 === 0) setTimeout(step, 2); else step();
    };
    step();`;
  spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

describe.runIf(process.platform !== 'win32')('a FIFO as a byte source', () => {
  const data = Buffer.alloc(3 * 1024 * 1024 + 12345);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;

  for (const [name, pieces, blocks] of [
    ['small pieces, blocks smaller than one read', [1, 100, 4096, 7], [1, 7, 1000, 65536, 3]],
    ['large pieces, blocks larger than the pipe', [1 << 20, 300_000], [2_000_000, 5, 1 << 20]],
    ['mixed', [65536, 65537, 13], [65536, 10, 1 << 21, 65537]],
  ] as const) {
    it(`gives back exactly the bytes written (${name})`, async () => {
      const fifo = join(dir, `fifo-${Math.random()}`);
      execFileSync('mkfifo', [fifo]);
      writeInPieces(fifo, data, [...pieces]);
      const src = openByteSource(fifo);
      const got: Buffer[] = [];
      let total = 0;
      for (let i = 0; ; i++) {
        const block = new Uint8Array(new SharedArrayBuffer(blocks[i % blocks.length]!));
        const n = await src.fill(block);
        got.push(Buffer.from(block.subarray(0, n)));
        total += n;
        if (n < block.length) break;
        expect(n).toBe(block.length);
      }
      expect(total).toBe(data.length);
      expect(Buffer.concat(got).equals(data)).toBe(true);
      expect(await src.fill(new Uint8Array(10))).toBe(0);
    });
  }
});
