// What --out is written through. A regular file is written to a temp name in the same folder and
// renamed into place only when the run succeeds, so an interrupted or failed run never leaves a
// half-written file behind, and the file it replaces keeps its mode and owner. FIFOs, character
// devices and open descriptors (stdout) are written directly, streamed, with backpressure.
// Temp names carry the host and pid (`.<name>.bigproc-<host>-<pid>-<hex>.tmp`), so a later run can
// find and remove those left by a process that was killed (SIGKILL runs no handler).
import {
  closeSync,
  createWriteStream,
  fchmodSync,
  fchownSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
  type WriteStream,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BigprocError, EXIT, runtime } from '../errors.js';
import { describeSystemError } from '../report/system-error.js';
import { flushStdout, stdoutDrained, stdoutError } from '../report/stdout-guard.js';
import { resolveOutTarget, type OutTarget } from './out-target.js';
import { loadAddon } from '../native/addon.js';

/**
 * Bytes an AtomicFile lets pile up before asking the kernel to start writing them to the disk: without
 * that, a fast run leaves its whole output dirty in the page cache and then waits for the disk in the
 * final fsync (1 GiB of frames: 0.7 s of work, then 2 s of fsync on the development VM's disk).
 */
const WRITEBACK_EVERY = 8 << 20;

/** What a run writes --out PATH through: the chunks' output bytes in file order, then commit or abort. */
export interface OutputTarget {
  /** false: full; wait for drained() before writing more */
  write(bytes: Uint8Array): boolean | undefined;
  drained?(): Promise<void>;
  /** make the output final (rename into place, or flush a stream) */
  commit(): void | Promise<void>;
  /** remove whatever was written; synchronous and idempotent (called from signal handlers) */
  abort(): void;
}

const open = new Set<OutputTarget>();

/** Register an output so abortAllOutputs() removes it (on SIGINT or a fatal error) until untracked. */
export function trackOutput(o: OutputTarget): void {
  open.add(o);
}

/** The output is committed or aborted: nothing left to remove. Returns whether it was still tracked. */
export function untrackOutput(o: OutputTarget): boolean {
  return open.delete(o);
}

/** Remove every temp file still open (on SIGINT or a fatal error). Synchronous: safe in signal handlers. */
export function abortAllOutputs(): void {
  for (const f of [...open]) f.abort();
}

/** A closed pipe downstream: the run ends quietly with exit 0, as `| head` expects. */
export function closedPipe(): BigprocError {
  return new BigprocError('the reader closed the pipe', EXIT.ok);
}

function writeError(label: string, e: unknown): BigprocError {
  if ((e as NodeJS.ErrnoException)?.code === 'EPIPE') return closedPipe();
  return runtime(`cannot write --out ${JSON.stringify(label)}: ${describeSystemError(e)}`);
}

const HOST = hostname().replace(/[^A-Za-z0-9.]/g, '_') || 'host';
const TEMP = /^\.(.*)\.bigproc-([A-Za-z0-9._]+)-(\d+)-[0-9a-f]{8}\.tmp$/;

/**
 * 8 hex digits that keep two temp names of one process apart. Not a secret (host and pid already make
 * the name unique between processes), so Math.random: node:crypto costs ~5 ms to load at every start.
 */
function tempSuffix(): string {
  return Math.floor(Math.random() * 0x100000000)
    .toString(16)
    .padStart(8, '0');
}

/** A fresh temp name beside `path` (a file or a directory), recognisable by removeStaleTemps. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.bigproc-${HOST}-${process.pid}-${tempSuffix()}.tmp`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove temp files (or directories) for `path` left by killed bigproc processes of this host. Those of
 * other hosts (a shared filesystem) are left alone: their pids mean nothing here.
 */
export function removeStaleTemps(path: string): void {
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || m[1] !== basename(path) || m[2] !== HOST || alive(Number(m[3]))) continue;
    rmSync(join(dirname(path), name), { recursive: true, force: true });
  }
}

export class AtomicFile implements OutputTarget {
  /** the final path (symlinks resolved) */
  readonly path: string;
  readonly tempPath: string;
  readonly label: string;
  fd: number;
  bytes = 0;
  /** bytes written since the last startWriteback */
  private unsent = 0;

  /** `keep`: mode and owner of the file being replaced, given to the new one. */
  constructor(path: string, mode: 'w' | 'w+' = 'w', keep?: { mode: number; uid: number; gid: number }, label = path) {
    this.path = path;
    this.label = label;
    removeStaleTemps(path);
    this.tempPath = tempPathFor(path);
    try {
      this.fd = openSync(this.tempPath, mode, 0o644);
    } catch (e) {
      throw new BigprocError(`cannot write --out ${JSON.stringify(label)}: ${describeSystemError(e)}`, EXIT.usage);
    }
    open.add(this);
    if (keep) this.keepAttributes(keep);
  }

  private keepAttributes(keep: { mode: number; uid: number; gid: number }): void {
    try {
      fchmodSync(this.fd, keep.mode);
    } catch (e) {
      this.abort();
      throw writeError(this.label, e);
    }
    // Only root may give a file away; others keep their own ownership, as cp does.
    try {
      fchownSync(this.fd, keep.uid, keep.gid);
    } catch {
      /* not permitted: the new file is ours */
    }
  }

  /** Written synchronously, so never full (undefined, not false). */
  write(bytes: Uint8Array): undefined {
    try {
      let done = 0;
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    } catch (e) {
      throw writeError(this.label, e);
    }
    this.bytes += bytes.length;
    this.unsent += bytes.length;
    if (this.unsent >= WRITEBACK_EVERY) this.startWriteback();
  }

  /** Queue what was written since the last call for the disk now (a hint: failures show at fsync). */
  private startWriteback(): void {
    loadAddon()?.startWriteback(this.fd, this.bytes - this.unsent, this.unsent);
    this.unsent = 0;
  }

  /** Flush and rename into place. */
  commit(): void {
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      renameSync(this.tempPath, this.path);
    } catch (e) {
      this.abort();
      throw writeError(this.label, e);
    }
    open.delete(this);
  }

  abort(): void {
    if (!open.delete(this)) return;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(this.tempPath);
    } catch {
      /* already gone */
    }
  }
}

/** `--out -` (or /dev/stdout): records stream to stdout in file order; a full pipe pauses the run. */
export class StdoutSink implements OutputTarget {
  bytes = 0;
  write(bytes: Uint8Array): boolean {
    const failed = stdoutError();
    if (failed) throw failed;
    this.bytes += bytes.length;
    return process.stdout.write(bytes);
  }
  drained(): Promise<void> {
    return stdoutDrained();
  }
  async commit(): Promise<void> {
    await flushStdout();
    const failed = stdoutError();
    if (failed) throw failed;
  }
  abort(): void {}
}

/** A FIFO, a character device or an open descriptor other than stdout: written as it comes, streamed. */
export class StreamOutput implements OutputTarget {
  bytes = 0;
  private readonly stream: WriteStream;
  private failure: BigprocError | null = null;
  private readonly label: string;

  constructor(target: { path: string } | { fd: number }, label: string) {
    this.label = label;
    // Opening a FIFO waits for its reader: the stream opens it off the main thread, so Ctrl-C still works.
    this.stream =
      'fd' in target
        ? createWriteStream('', { fd: target.fd, autoClose: false })
        : createWriteStream(target.path, { flags: 'w' });
    this.stream.on('error', (e) => (this.failure ??= writeError(label, e)));
    open.add(this);
  }

  write(bytes: Uint8Array): boolean {
    if (this.failure) throw this.failure;
    this.bytes += bytes.length;
    return this.stream.write(bytes);
  }

  drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const done = (e?: Error) => {
        this.stream.off('drain', done);
        this.stream.off('error', done);
        if (e) reject(this.failure ?? writeError(this.label, e));
        else resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('error', done);
    });
  }

  commit(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.stream.end((e?: Error | null) => {
        open.delete(this);
        if (e || this.failure) reject(this.failure ?? writeError(this.label, e));
        else resolve();
      });
    });
  }

  abort(): void {
    if (open.delete(this)) this.stream.destroy();
  }
}

/** Open what resolveOutTarget decided (a directory target is the op's own business: see OpDef.openOutput). */
export function openOutTarget(t: OutTarget): OutputTarget {
  if (t.kind === 'fd') return t.fd === 1 ? new StdoutSink() : new StreamOutput({ fd: t.fd }, t.label);
  if (t.kind === 'stream') return new StreamOutput({ path: t.path }, t.label);
  if (t.kind === 'file') return new AtomicFile(t.path, 'w', t.existing, t.label);
  throw new Error(`internal: --out ${t.label} is a directory target`);
}

/**
 * --out PATH for writers that need a regular file (gen maps it; a manifest run assembles its parts
 * into it): symlinks followed, the replaced file's mode kept; anything else is refused.
 */
export function openAtomicFile(
  path: string,
  mode: 'w' | 'w+' = 'w',
  why = 'this command writes a regular file',
): AtomicFile {
  const t = resolveOutTarget(path);
  if (t.kind !== 'file')
    throw new BigprocError(
      `Expected a regular file (or nothing) for --out but received ${JSON.stringify(path)}: ${why}`,
      EXIT.usage,
    );
  return new AtomicFile(t.path, mode, t.existing, path);
}
