// `mkdir -p` that always ends. Node's mkdirSync(path, { recursive: true }) (Node 20) spins forever at
// 100% CPU where mkdir(2) says ENOENT although the parent exists (/proc/nope: procfs refuses new
// entries that way): it takes ENOENT to mean "make the parent first", the parent exists, and it tries
// again, forever. Here each level is tried at most twice, and every error but "the parent is missing"
// is final, so a directory that cannot be created fails at once with the system's reason.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Create dir and its missing parents; throws the system error (code, syscall, path) when one cannot be made. */
export function makeDirs(dir: string, mode?: number): void {
  const path = resolve(dir);
  try {
    mkdirSync(path, mode);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && isDir(path)) return;
    const parent = dirname(path);
    // ENOENT is retryable once, after making the parent; any other error (EACCES, EROFS, ENOTDIR, a
    // file in the way) is permanent, and so is ENOENT at the root or when the parent was there already
    if (code !== 'ENOENT' || parent === path || isDir(parent)) throw e;
    makeDirs(parent, mode);
  }
  try {
    mkdirSync(path, mode);
  } catch (e) {
    // made meanwhile by another host or process sharing the directory: fine
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && isDir(path)) return;
    throw e;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
