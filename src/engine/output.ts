// --out files are written to a temp name in the same folder and renamed into place only when the run
// succeeds, so an interrupted or failed run never leaves a half-written file behind.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BigprocError, EXIT } from '../errors.js';
import { describeSystemError } from '../report/system-error.js';

/** What a run writes --out PATH through: the chunks' output bytes in file order, then commit or abort. */
export interface OutputTarget {
  write(bytes: Uint8Array): boolean | void;
  /** make the output final (rename into place) */
  commit(): void;
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

export class AtomicFile implements OutputTarget {
  readonly path: string;
  readonly tempPath: string;
  fd: number;
  bytes = 0;

  constructor(path: string, mode: 'w' | 'w+' = 'w') {
    this.path = path;
    this.tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      this.fd = openSync(this.tempPath, mode, 0o644);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new BigprocError(`cannot write --out ${JSON.stringify(path)}: ${describeSystemError(err)}`, EXIT.usage);
    }
    open.add(this);
  }

  write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done);
    this.bytes += bytes.length;
  }

  /** Flush and rename into place. */
  commit(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tempPath, this.path);
    open.delete(this);
  }

  abort(): void {
    if (!open.delete(this)) return;
    try { closeSync(this.fd); } catch { /* already closed */ }
    try { unlinkSync(this.tempPath); } catch { /* already gone */ }
  }
}

/** Remove every temp file still open (on SIGINT or a fatal error). Synchronous: safe in signal handlers. */
export function abortAllOutputs(): void {
  for (const f of [...open]) f.abort();
}

/** `--out -`: records stream to stdout in file order; a full pipe pauses the run (backpressure). */
export class StdoutSink {
  bytes = 0;
  write(bytes: Uint8Array): boolean {
    this.bytes += bytes.length;
    return process.stdout.write(bytes);
  }
  drained(): Promise<void> {
    return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
  }
}
