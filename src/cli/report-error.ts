// How an error that ends a command is printed: one line on stderr (credentials masked, long values
// clipped, system errors in words) and the exit code. main.ts's one catch hands everything here.
import { CommanderError } from 'commander';
import { BigprocError, EXIT, errorLine } from '../errors.js';
import { redact } from '../redact.js';
import { isSystemError, systemError } from '../sys-errors.js';

/** The text for stderr (empty for --help and --version) and the exit code for a thrown e. */
export function reportError(e: unknown, debug: boolean): { text: string; exitCode: number } {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
      return { text: '', exitCode: EXIT.ok };
    return { text: errorLine(e.message.replace(/^error: /, '')), exitCode: EXIT.usage };
  }
  const stack = debug && (e as Error)?.stack ? `${redact((e as Error).stack!)}\n` : '';
  // a failed system call (EACCES, ENOSPC, …) reads like every other error: what, which path, why
  const known = isSystemError(e) ? systemError(e) : e;
  if (known instanceof BigprocError) return { text: errorLine(known.message) + stack, exitCode: known.exitCode };
  const message = (e as Error)?.message ?? String(e);
  return {
    text: errorLine(`internal error: ${message}${debug ? '' : ' (run with --debug for details)'}`) + stack,
    exitCode: EXIT.runtime,
  };
}
