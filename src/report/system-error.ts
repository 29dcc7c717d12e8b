// System errors (ENOSPC, EACCES, …) in words a user reads: "no space left on device (ENOSPC)".
const PHRASES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EXDEV: 'not on the same file system',
  EBUSY: 'device or resource busy',
  ETXTBSY: 'text file busy',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  EINVAL: 'invalid argument',
  EPIPE: 'the reader closed the pipe',
  EAGAIN: 'resource temporarily unavailable',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
};

/** "no space left on device (ENOSPC)" for an errno error; its message for anything else. */
export function describeSystemError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (code && PHRASES[code]) return `${PHRASES[code]} (${code})`;
  if (code) return code;
  return err instanceof Error ? err.message : String(e);
}
