// A user kernel's module in the thread that runs it (a chunk worker, or the kernel host thread that
// folds its states: engine/kernel-host-worker.ts) — never in the main thread, whose event loop must
// stay free to serve Ctrl-C however long the user's code runs. Loaded once per thread.
import { BigprocError, EXIT, usage } from '../../errors.js';
import { importEsm } from '../../esm-import.js';
import type { RecordView } from './record-view.js';
import { describeFound, findUnclonable, STATE_KINDS } from './kernel-values.js';

/** What identifies a kernel: the module's URL, and the --kernel value as the user typed it (for messages). */
export interface KernelRef {
  url: string;
  label: string;
}

export interface KernelModule {
  associative?: unknown;
  init(): unknown;
  chunk(view: RecordView, state: unknown): unknown;
  merge(a: unknown, b: unknown): unknown;
  finalize(state: unknown): unknown;
}

const modules = new Map<string, KernelModule>();

/** The first stack frame in the user's file, e.g. "my-kernel.mjs:12:7", so errors point at their line. */
function whereInKernel(e: unknown, url: string): string {
  const stack = e instanceof Error ? (e.stack ?? '') : '';
  const line = stack.split('\n').find((l) => l.includes(url));
  const m = line && /(file:\/\/[^\s)]+):(\d+):(\d+)/.exec(line);
  return m ? ` (at ${decodeURIComponent(m[1]!.replace('file://', ''))}:${m[2]}:${m[3]})` : '';
}

export function kernelError(k: KernelRef, what: string, e: unknown): BigprocError {
  if (e instanceof BigprocError) return e;
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new BigprocError(`--kernel ${k.label}: ${what} threw ${msg}${whereInKernel(e, k.url)}`, EXIT.runtime);
}

/** Import the module (once per thread) and check its exports: exit 2 for one that does not load. */
export async function loadKernel(k: KernelRef): Promise<KernelModule> {
  let m = modules.get(k.url);
  if (m) return m;
  let mod: Record<string, unknown>;
  try {
    mod = (await importEsm(k.url)) as Record<string, unknown>;
  } catch (e) {
    // A syntax error's position is in its stack's first line ("file:///…/k.mjs:3").
    const first = e instanceof Error ? (e.stack ?? '').split('\n')[0] : '';
    const at = first?.startsWith('file://') ? ` (at ${decodeURIComponent(first.replace('file://', ''))})` : '';
    throw new BigprocError(`--kernel ${k.label}: cannot load the module: ${(e as Error).message}${at}`, EXIT.usage);
  }
  for (const name of ['init', 'chunk', 'merge', 'finalize']) {
    if (typeof mod[name] !== 'function')
      throw usage(
        `--kernel ${k.label} must export a function ${name}() (exports: ${Object.keys(mod).join(', ') || 'none'})`,
      );
  }
  m = mod as unknown as KernelModule;
  modules.set(k.url, m);
  return m;
}

/** The module already loaded in this thread. */
export function loadedKernel(k: KernelRef): KernelModule {
  const m = modules.get(k.url);
  if (!m) throw new Error(`internal: --kernel ${k.label} is not loaded in this thread`);
  return m;
}

/** Call one of the user's exports; an exception becomes one line naming the export, file and line. */
export function callKernel<T>(k: KernelRef, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw kernelError(k, what, e);
  }
}

/** A state about to cross threads: refuse one that cannot, naming the export that returned it and where. */
export function cloneableError(k: KernelRef, what: string, state: unknown): BigprocError | null {
  const found = findUnclonable(state);
  if (!found) return null;
  return new BigprocError(
    `--kernel ${k.label}: ${what} ${describeFound(found, 'state')}, which cannot cross threads (${STATE_KINDS})`,
    EXIT.runtime,
  );
}
