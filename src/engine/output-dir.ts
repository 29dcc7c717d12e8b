// What the outputs that fill a directory (--out DIR/ of column files, of PNG frames) share: the one-line
// refusal, and putting the finished temp directory in place — rename(2) replaces an empty directory
// atomically and refuses a non-empty one — then making the rename durable.
import { closeSync, fsyncSync, openSync, renameSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BigprocError, EXIT, runtime } from '../errors.js';

/** `cannot write --out "DIR": what` as a usage error (exit 2). */
export function outDirError(path: string, what: string): BigprocError {
  return new BigprocError(`cannot write --out ${JSON.stringify(path)}: ${what}`, EXIT.usage);
}

/** Rename the filled temp directory to `path`; `beforeSync` runs between the rename and the fsync of its parent. */
export function renameDirIntoPlace(tempPath: string, path: string, beforeSync: () => void): void {
  try {
    renameSync(tempPath, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST')
      throw outDirError(path, 'the directory is not empty (it was filled while the run went on)');
    throw runtime(`cannot write --out ${JSON.stringify(path)}: ${code ?? String(e)}`);
  }
  beforeSync();
  // Make the rename durable (best effort: not every platform fsyncs directories).
  try {
    const d = openSync(dirname(resolve(path)), 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch {
    /* best effort */
  }
}
