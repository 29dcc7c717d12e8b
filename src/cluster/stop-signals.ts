// SIGTERM/SIGINT during a shared run: the first asks the host to claim nothing more and finish (or,
// past --grace, give back) the shard in hand; the second aborts at once.
import { abortAllOutputs } from '../engine/output.js';
import { exitCodeFor, onStopSignals } from '../engine/signals.js';
import type { StopRequest } from './waiter.js';

export function stopOnSignals(
  log: (s: string) => void,
  graceMs: number,
): { stop: StopRequest; signal: () => NodeJS.Signals | null; release: () => void } {
  const listeners = new Set<() => void>();
  let first: NodeJS.Signals | null = null;
  const stop: StopRequest = {
    requested: false,
    on(fn) {
      if (stop.requested) {
        fn();
        return () => {};
      }
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  const handler = (signal: NodeJS.Signals) => {
    if (stop.requested) {
      // The second signal: abort at once; held leases expire on their own.
      abortAllOutputs();
      process.stderr.write(`bigproc: aborted (${signal})\n`);
      process.exit(exitCodeFor(signal));
    }
    stop.requested = true;
    first = signal;
    log(
      `bigproc: ${signal}: claiming no more shards; finishing the one in hand within ${graceMs / 1000} s (again to abort)`,
    );
    for (const fn of [...listeners]) fn();
    listeners.clear();
  };
  return { stop, signal: () => first, release: onStopSignals(handler) };
}
