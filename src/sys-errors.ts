// System errors (Node's ErrnoException: a code such as EACCES, the syscall, the path) as the one-line
// messages every other error is: what bigproc was doing, on which path, and why in words — never
// "internal error: EACCES …". main.ts maps whatever reaches it; a site that knows what a path is for
// (`--out`) can say so with atPath(). The words for each code: describeSystemError.
import { BigprocError, EXIT, show } from './errors.js';
import { describeSystemError } from './report/system-error.js';

export type SystemError = NodeJS.ErrnoException & { dest?: string; label?: string };

/** A path that can never work as given (exit 2); anything else may work another time (exit 1). */
const PERMANENT = new Set([
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'EACCES',
  'EPERM',
  'EROFS',
  'ENAMETOOLONG',
  'ELOOP',
  'ENXIO',
  'ENODEV',
  'EEXIST',
]);

/** The operation, by syscall, as a verb phrase. */
const DOING: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write to',
  ftruncate: 'resize',
  rename: 'replace',
  mkdir: 'create the directory',
  rmdir: 'remove the directory',
  unlink: 'remove',
  stat: 'look at',
  lstat: 'look at',
  fstat: 'look at',
  scandir: 'list the directory',
  opendir: 'list the directory',
  fsync: 'flush',
  copyfile: 'copy',
  link: 'link',
  symlink: 'link',
  realpath: 'resolve',
  access: 'access',
  close: 'close',
  utime: 'touch',
  chmod: 'change the mode of',
  fdatasync: 'flush',
};

/** Whether e is a system error (a code like ENOSPC), as opposed to a bug or a message of ours. */
export function isSystemError(e: unknown): e is SystemError {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && !(e instanceof BigprocError);
}

/** The exit code for a failed system call: 2 for a path that can never work, else 1. */
export function exitFor(e: SystemError): typeof EXIT.usage | typeof EXIT.runtime {
  return PERMANENT.has(e.code ?? '') ? EXIT.usage : EXIT.runtime;
}

/** A system error as bigproc's one line: `cannot <do> [<label>] "<path>": <why>`. */
export function systemError(e: SystemError): BigprocError {
  const doing = DOING[e.syscall ?? ''] ?? (e.syscall ? `${e.syscall}` : 'use');
  // rename(temp, target): the target is what the user named
  const path = e.syscall === 'rename' && e.dest ? e.dest : e.path;
  const what = [e.label, path === undefined ? undefined : show(path)].filter(Boolean).join(' ') || 'a file';
  return new BigprocError(`cannot ${doing} ${what}: ${describeSystemError(e)}`, exitFor(e));
}

/**
 * Run fn; a system error it throws without a path (ftruncate, write on a descriptor) gets this one
 * and the label saying what it is for (e.g. "--out"), so the message can name them.
 */
export function atPath<T>(path: string, label: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isSystemError(e)) {
      e.path ??= path;
      e.label ??= label;
    }
    throw e;
  }
}
