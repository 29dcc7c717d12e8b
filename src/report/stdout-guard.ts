// Failed writes to stdout are errors, not silence: `--json > /dev/full` must not exit 0 with an empty
// file. A closed pipe (EPIPE: `| head` stopped reading) is a normal end, as in ripgrep, and exits 0.
// Every other error is remembered; whoever waits for stdout to drain is told at once, and the CLI
// exits 1 with one line once the command is done.
import { runtime, type BigprocError } from '../errors.js';
import { describeSystemError } from './system-error.js';

let failure: NodeJS.ErrnoException | null = null;
const waiters = new Set<(e: Error) => void>();
let installed = false;

/** Watch stdout once per process. `onClosedPipe` ends the process quietly (exit 0). */
export function guardStdout(onClosedPipe: () => void): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') return onClosedPipe();
    failure ??= e;
    for (const w of [...waiters]) w(stdoutError()!);
    waiters.clear();
  });
}

/** The first failed write to stdout, as the one-line error the CLI prints; null when none failed. */
export function stdoutError(): BigprocError | null {
  return failure ? runtime(`cannot write to stdout: ${describeSystemError(failure)}`) : null;
}

/** Resolves when stdout drains; rejects as soon as a write to it fails. */
export function stdoutDrained(): Promise<void> {
  const failed = stdoutError();
  if (failed) return Promise.reject(failed);
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      waiters.delete(onFail);
      resolve();
    };
    const onFail = (e: Error) => {
      process.stdout.off('drain', onDrain);
      reject(e);
    };
    waiters.add(onFail);
    process.stdout.once('drain', onDrain);
  });
}

/** Resolves once everything written so far has been handed to the system (or failed). */
export async function flushStdout(): Promise<void> {
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  // A synchronous stream (a file, /dev/full) reports its error on the next tick.
  await new Promise<void>((resolve) => setImmediate(resolve));
}
