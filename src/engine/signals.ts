// Signals that end a run: SIGINT (Ctrl-C), SIGTERM (kill, systemd, Kubernetes), SIGHUP (the terminal
// or SSH session went away) and SIGQUIT (Ctrl-\). Each raises the cancel flag (workers stop within a
// block), removes any temp --out file, and exits promptly with 128 + the signal's number (130 for
// Ctrl-C, as the contract says). A second signal exits at once.
import { constants } from 'node:os';
import { abortAllOutputs } from './output.js';

export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** The exit status a shell reports for a process ended by this signal: 128 + its number. */
export function exitCodeFor(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 2);
}

/** Listen for every stop signal until the returned function is called. */
export function onStopSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}

export function onInterrupt(cancel: () => void): () => void {
  let count = 0;
  return onStopSignals((signal) => {
    count++;
    cancel();
    abortAllOutputs();
    if (count === 1) process.stderr.write(`bigproc: interrupted (${signal})\n`);
    process.exit(exitCodeFor(signal));
  });
}
