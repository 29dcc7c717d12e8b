// What `--out PATH` is, decided once before any work, so that an output can never destroy data:
//  - nothing, or a regular file: written to a temp file beside it and renamed into place at the end
//    (the old file's mode and owner kept); a symlink is followed and the rule applied to its target;
//  - `-`, /dev/stdout, /dev/fd/N, /proc/self/fd/N: the already-open descriptor, streamed;
//  - a FIFO, a character device or a socket: opened and written directly, streamed (renaming over
//    them would replace /dev/null with a regular file);
//  - a directory (unless the op writes one), a block device, an empty path, or the input itself or any
//    other file the run reads (same device and inode, through any link or `..`): refused, exit 2.
import { fstatSync, lstatSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { usage } from '../errors.js';

export type OutTarget =
  /** a descriptor that is already open: 1 for `-` and /dev/stdout */
  | { kind: 'fd'; fd: number; label: string }
  /** a FIFO, character device or socket: opened and streamed */
  | { kind: 'stream'; path: string; label: string }
  /** a regular file or nothing: temp + rename at `path` (symlinks resolved); `existing` when one is there */
  | { kind: 'file'; path: string; label: string; existing?: { mode: number; uid: number; gid: number } }
  /** a directory the op fills itself (project --format columns, a manifest run's `--out DIR/`) */
  | { kind: 'directory'; path: string; label: string };

/** A file the run reads, to compare with the output by device and inode. */
export interface ReadFile {
  /** what the user called it: `--file`, `--schema @`, … */
  role: string;
  dev: number;
  ino: number;
}

/** The descriptor behind /dev/stdout, /dev/stderr, /dev/fd/N or /proc/self/fd/N, if the path is one. */
function descriptorPath(path: string): number | null {
  if (path === '-' || path === '/dev/stdout') return 1;
  if (path === '/dev/stderr') return 2;
  const m = /^\/(?:dev\/fd|proc\/(?:self|thread-self|(\d+))\/fd)\/(\d+)$/.exec(path);
  if (!m || (m[1] !== undefined && Number(m[1]) !== process.pid)) return null;
  return Number(m[2]);
}

/**
 * Follow a chain of symlinks to the path they name (which need not exist: a dangling link makes a new
 * file there). Stops at the first component that is not a link.
 */
function followLinks(path: string, label: string): string {
  let p = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch {
      return p;
    }
    // /proc/self/fd/N is a link to "pipe:[…]" or a deleted file: the descriptor itself is the target.
    if (!st.isSymbolicLink() || descriptorPath(p) !== null) return p;
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw usage(
    `Expected a writable path for --out but received ${JSON.stringify(label)} (too many levels of symbolic links)`,
  );
}

function fstatOrNull(fd: number): Stats | null {
  try {
    return fstatSync(fd);
  } catch {
    return null;
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * Decide what --out PATH is and refuse what it must not be, before any work. `directory`: the op writes
 * a directory there (else a directory is refused). `reads`: the files the run reads.
 */
export function resolveOutTarget(raw: string, opts: { directory?: boolean; reads?: ReadFile[] } = {}): OutTarget {
  if (raw === '') throw usage('Expected a path or - for --out but received "" (an empty path)');
  const path = descriptorPath(raw) !== null ? raw : followLinks(raw, raw);
  const fd = descriptorPath(path);
  if (fd !== null) {
    const st = fstatOrNull(fd);
    if (!st) throw usage(`cannot write --out ${JSON.stringify(raw)}: descriptor ${fd} is not open`);
    refuseInput(raw, st, opts.reads ?? []);
    return { kind: 'fd', fd, label: raw };
  }
  const st = statOrNull(path);
  if (st) refuseInput(raw, st, opts.reads ?? []);
  if (opts.directory) {
    if (st && !st.isDirectory())
      throw usage(
        `Expected a directory (or nothing) for --out but received ${JSON.stringify(raw)}, which is ${kindOf(st)}, not a directory`,
      );
    checkParent(path, raw);
    return { kind: 'directory', path, label: raw };
  }
  if (!st) {
    // "out/" names a directory: writing one file there would create a file called "out" instead
    if (raw.endsWith('/'))
      throw usage(
        `Expected a file path for --out but received ${JSON.stringify(raw)}, which ends in / (a directory); this output is one file: name it without the /`,
      );
    checkParent(path, raw);
    return { kind: 'file', path, label: raw };
  }
  if (st.isFile())
    return { kind: 'file', path, label: raw, existing: { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } };
  if (st.isFIFO() || st.isCharacterDevice() || st.isSocket()) return { kind: 'stream', path, label: raw };
  throw usage(
    `Expected a file path for --out but received ${JSON.stringify(raw)}, which is ${kindOf(st)}${st.isDirectory() ? ' (name a file inside it)' : ''}`,
  );
}

/** The output must not be a file the run reads: writing it would destroy the input. */
function refuseInput(raw: string, st: Stats, reads: ReadFile[]): void {
  const same = reads.find((r) => r.dev === st.dev && r.ino === st.ino);
  if (same && !st.isCharacterDevice() && !st.isFIFO()) {
    throw usage(
      `--out ${JSON.stringify(raw)} is the same file as ${same.role}: refusing to overwrite what the run reads (choose another --out)`,
    );
  }
}

function checkParent(path: string, raw: string): void {
  const parent = statOrNull(dirname(path));
  if (!parent)
    throw usage(
      `cannot write --out ${JSON.stringify(raw)}: the directory ${JSON.stringify(dirname(path))} does not exist`,
    );
  if (!parent.isDirectory())
    throw usage(`cannot write --out ${JSON.stringify(raw)}: ${JSON.stringify(dirname(path))} is not a directory`);
}

export function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'a regular file';
}

/** Identify a file the run reads (nothing when it is not there: its own check reports that). */
export function readFileId(role: string, path: string | number): ReadFile | null {
  try {
    const st = typeof path === 'number' ? fstatSync(path) : statSync(path);
    return { role, dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}
