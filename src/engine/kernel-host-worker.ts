// The kernel host thread (dist/kernel-host.cjs): imports a user kernel's module and runs its init,
// merge and finalize for the main thread, which only sends states and awaits answers — so its event
// loop stays free for signals however long (or forever) the user's code runs, and it can end this
// thread by exiting. Requests are handled strictly in order (see kernel-host-protocol.ts).
import { parentPort } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import { BigprocError, EXIT } from '../errors.js';
import { callKernel, cloneableError, loadKernel, type KernelModule, type KernelRef } from '../ops/lib/kernel-module.js';
import { ResultError, toResultJson } from '../ops/lib/kernel-values.js';
import type { HostFailure, HostReply, HostRequest } from './kernel-host-protocol.js';

interface FoldState {
  kernel: KernelRef;
  m: KernelModule | null;
  acc: unknown;
  /** the export that returned acc, for messages about it */
  by: string;
  error: HostFailure | null;
}

/**
 * What the user's code prints (console.log in finalize, say) goes straight to the process's stdout and
 * stderr, in order with its work: a worker's streams are otherwise relayed through the main thread
 * later, and lost when the CLI exits right after printing the result.
 */
function writeThrough(stream: NodeJS.WriteStream, fd: number): void {
  const relay = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const cb = rest.find((r) => typeof r === 'function') as ((e?: Error | null) => void) | undefined;
    try {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
      cb?.();
      return true;
    } catch {
      // a non-blocking pipe that is full (EAGAIN), a closed one: the ordinary, asynchronous way
      return relay(chunk as never, ...(rest as never[]));
    }
  }) as typeof stream.write;
}
writeThrough(process.stdout, 1);
writeThrough(process.stderr, 2);

const folds = new Map<number, FoldState>();
const port = parentPort!;

function failure(e: unknown): HostFailure {
  if (e instanceof BigprocError) return { message: e.message, exit: e.exitCode === EXIT.usage ? 2 : 1 };
  return { message: e instanceof Error ? e.message : String(e), exit: 1 };
}

const send = (r: HostReply) => port.postMessage(r);

/** Run one step of a fold; the first failure is kept and answers all later requests of the fold. */
function step(f: FoldState, run: () => void): void {
  if (f.error) return;
  try {
    run();
  } catch (e) {
    f.error = failure(e);
  }
}

/** A copy of the state to the main thread; one that cannot be cloned is named, with its export. */
function sendState(id: number, f: FoldState): void {
  try {
    send({ t: 'ok', id, value: f.acc });
  } catch (e) {
    const named = cloneableError(f.kernel, f.by, f.acc);
    const why = `--kernel ${f.kernel.label}: ${f.by} returned a state that cannot cross threads: ${e instanceof Error ? e.message : String(e)}`;
    send({ t: 'error', id, error: named ? failure(named) : { message: why, exit: 1 } });
  }
}

/** finalize() as JSON data: the tool's encoding of NaN, Map, Date…; a function or a cycle is an error. */
function finalResult(f: FoldState): unknown {
  const r = callKernel(f.kernel, 'finalize()', () => f.m!.finalize(f.acc));
  let json: unknown;
  try {
    json = toResultJson(r);
  } catch (e) {
    if (e instanceof ResultError)
      throw new BigprocError(`--kernel ${f.kernel.label}: finalize() ${e.message}`, EXIT.runtime);
    if (e instanceof RangeError)
      throw new BigprocError(
        `--kernel ${f.kernel.label}: finalize() returned a result nested too deeply to print as JSON`,
        EXIT.runtime,
      );
    throw e;
  }
  return json !== null && typeof json === 'object' && !Array.isArray(json) ? json : { value: json ?? null };
}

function reply(id: number, f: FoldState | undefined, value: (f: FoldState) => unknown): void {
  if (!f) {
    send({ t: 'error', id, error: { message: 'internal: no such fold', exit: 1 } });
    return;
  }
  if (!f.error) {
    try {
      send({ t: 'ok', id, value: value(f) });
      return;
    } catch (e) {
      f.error = failure(e);
    }
  }
  send({ t: 'error', id, error: f.error! });
}

async function handle(msg: HostRequest): Promise<void> {
  switch (msg.t) {
    case 'load':
      try {
        const m = await loadKernel(msg.kernel);
        send({ t: 'ok', id: msg.id, value: { associative: m.associative === true } });
      } catch (e) {
        send({ t: 'error', id: msg.id, error: failure(e) });
      }
      return;
    case 'open': {
      const f: FoldState = { kernel: msg.kernel, m: null, acc: undefined, by: 'init()', error: null };
      folds.set(msg.fold, f);
      try {
        f.m = await loadKernel(msg.kernel);
      } catch (e) {
        f.error = failure(e);
      }
      step(f, () => (f.acc = callKernel(f.kernel, 'init()', () => f.m!.init())));
      if (f.error) send({ t: 'failed', fold: msg.fold, error: f.error });
      return;
    }
    case 'add': {
      const f = folds.get(msg.fold);
      if (!f || f.error) return;
      step(f, () => {
        for (const p of msg.partials) f.acc = callKernel(f.kernel, 'merge()', () => f.m!.merge(f.acc, p));
        f.by = 'merge()';
      });
      if (f.error) send({ t: 'failed', fold: msg.fold, error: f.error });
      return;
    }
    case 'state': {
      const f = folds.get(msg.fold);
      if (f && !f.error) return sendState(msg.id, f);
      return reply(msg.id, f, () => undefined);
    }
    case 'result':
      return reply(msg.id, folds.get(msg.fold), finalResult);
    case 'close':
      folds.delete(msg.fold);
      return;
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: HostRequest) => {
  queue = queue.then(() => handle(msg));
});
