// setPipeSize: a FIFO's kernel buffer grows to the size asked for (Linux); anything that is not a pipe
// answers -1 rather than throwing, so stdin of any kind can be offered to it.
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '../../src/native/addon.js';

const addon = loadAddon()!;
const dir = mkdtempSync(join(tmpdir(), 'bigproc-pipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(process.platform === 'linux')('setPipeSize', () => {
  it('grows a pipe to at least the size asked for, and reports it', () => {
    const fifo = join(dir, 'p');
    execFileSync('mkfifo', [fifo]);
    // O_RDWR: Linux opens a FIFO without waiting for the other end.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      expect(addon.setPipeSize(fd, 1 << 18)).toBeGreaterThanOrEqual(1 << 18);
    } finally {
      closeSync(fd);
    }
  });

  it('answers -1 for a regular file and for a closed descriptor', () => {
    const f = join(dir, 'f');
    writeFileSync(f, 'x');
    const fd = openSync(f, 'r');
    closeSync(fd);
    const open = openSync(f, 'r');
    try {
      expect(addon.setPipeSize(open, 1 << 18)).toBe(-1);
    } finally {
      closeSync(open);
    }
    expect(addon.setPipeSize(fd, 1 << 18)).toBe(-1);
  });
});
