// Reading the small files a command is given (--config, --pipeline, --schema @FILE, --verify, the parts
// of `merge`): capped, and only from a regular file or a pipe, so that `--pipeline /dev/zero` is one
// line and exit 2 instead of gigabytes read into memory and a crash.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { usage } from '../errors.js';
import { kindOf } from '../engine/out-target.js';
import { describeSystemError } from '../report/system-error.js';

/** Larger than any settings, pipeline, layout or report file; small enough to read at once. */
export const SMALL_FILE_LIMIT = 16 * 1024 * 1024;

/**
 * The whole text of `path` (`-` or fd 0: stdin) for the option `what` (e.g. '--pipeline'). A file
 * larger than `limit`, a directory or a device is a usage error naming the option and the path.
 */
export function readSmallFile(path: string, what: string, limit = SMALL_FILE_LIMIT): string {
  const label = `${what} ${JSON.stringify(path)}`;
  let fd: number;
  try {
    fd = path === '-' ? 0 : openSync(path, 'r');
  } catch (e) {
    throw usage(`cannot read ${label}: ${describeSystemError(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() && !st.isFIFO())
      throw usage(`Expected a regular file for ${what} but received ${JSON.stringify(path)}, which is ${kindOf(st)}`);
    if (st.isFile() && st.size > limit)
      throw usage(`${label} is ${st.size} bytes; expected at most ${limit} (is it the right file?)`);
    return readCapped(fd, label, limit);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/** Read to the end, but never more than `limit` bytes (a file can grow, a pipe has no size). */
function readCapped(fd: number, label: string, limit: number): string {
  const buf = Buffer.allocUnsafe(Math.min(limit + 1, 1 << 20));
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw usage(`cannot read ${label}: ${describeSystemError(e)}`);
    }
    if (n === 0) break;
    total += n;
    if (total > limit)
      throw usage(`${label} holds more than ${limit} bytes; expected a small file (is it the right file?)`);
    parts.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(parts).toString('utf8');
}
