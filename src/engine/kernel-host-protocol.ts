// The messages between the main thread and the kernel host thread (kernel-host.ts, kernel-host-worker.ts).
// Requests are handled one at a time, in the order sent; those with an id get exactly one reply.
import type { KernelRef } from '../ops/lib/kernel-module.js';

export type HostRequest =
  /** import the module and check its exports; replies { associative } */
  | { t: 'load'; id: number; kernel: KernelRef }
  /** a new fold, its state the module's init() */
  | { t: 'open'; fold: number; kernel: KernelRef }
  /** merge these partials into the fold, in order; no reply (a failure is sent as 'failed') */
  | { t: 'add'; fold: number; partials: unknown[] }
  /** replies with a copy of the fold's state */
  | { t: 'state'; id: number; fold: number }
  /** replies with finalize(state), as JSON data ready to print */
  | { t: 'result'; id: number; fold: number }
  | { t: 'close'; fold: number };

export interface HostFailure {
  message: string;
  exit: 1 | 2;
}

export type HostReply =
  | { t: 'ok'; id: number; value: unknown }
  | { t: 'error'; id: number; error: HostFailure }
  /** a fold's add failed: the fold is dead, its later requests answer with the same error */
  | { t: 'failed'; fold: number; error: HostFailure };
