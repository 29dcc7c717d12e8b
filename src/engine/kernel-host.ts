// The main thread's side of the kernel host thread (kernel-host-worker.ts): one thread per process,
// started when a kernel is first prepared, that loads the user's module and folds its states. The
// main thread only posts messages and awaits replies, so SIGINT/SIGTERM are served at once even while
// the user's merge() spins; exiting the process ends the thread. It is unref'd while nothing is asked
// of it, so an idle host never keeps the process alive.
import type { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BigprocError, runtime } from '../errors.js';
import { packageRoot } from '../package-root.js';
import type { KernelRef } from '../ops/lib/kernel-module.js';
import type { Fold } from './fold.js';
import type { HostFailure, HostReply, HostRequest } from './kernel-host-protocol.js';

function hostFile(): string {
  const root = packageRoot();
  if (root === null) throw runtime('cannot find the bigproc package root');
  const file = join(root, 'dist', 'kernel-host.cjs');
  if (!existsSync(file)) throw runtime(`missing ${file}: run "npm run build"`);
  return file;
}

const toError = (f: HostFailure) => new BigprocError(f.message, f.exit);

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

class KernelHost {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly failedListeners = new Map<number, (e: Error) => void>();
  private nextId = 1;
  private dead: Error | null = null;

  /** the --kernel value of the module loaded last, for a message should the thread fail */
  label = '';

  constructor() {
    // node:worker_threads costs ~5 ms to load at every start; only a run with a user kernel needs it here
    const { Worker: WorkerThread } = createRequire(import.meta.url)(
      'node:worker_threads',
    ) as typeof import('node:worker_threads');
    this.worker = new WorkerThread(hostFile());
    this.worker.unref();
    this.worker.on('message', (r: HostReply) => this.onReply(r));
    this.worker.on('error', (e) => this.die(e));
    this.worker.on('exit', (code) => this.die(new Error(`it exited with code ${code}`)));
  }

  get alive(): boolean {
    return this.dead === null;
  }

  newId(): number {
    return this.nextId++;
  }

  /** Post a request that gets no reply. */
  post(msg: HostRequest): void {
    if (this.dead) throw this.dead;
    this.worker.postMessage(msg);
  }

  /** Post a request and await its reply; the thread is ref'd meanwhile, so the process waits for it. */
  request(msg: HostRequest & { id: number }): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(msg);
    });
  }

  /** Called with a fold's first failure of an add. */
  watch(fold: number, cb: (e: Error) => void): void {
    this.failedListeners.set(fold, cb);
  }

  unwatch(fold: number): void {
    this.failedListeners.delete(fold);
  }

  private onReply(r: HostReply): void {
    if (r.t === 'failed') {
      this.failedListeners.get(r.fold)?.(toError(r.error));
      return;
    }
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) this.worker.unref();
    if (r.t === 'ok') p.resolve(r.value);
    else p.reject(toError(r.error));
  }

  /** The thread failed outside the user's calls (e.g. an error thrown from a timer the module set). */
  private die(e: Error): void {
    if (this.dead) return;
    this.dead = runtime(`--kernel ${this.label}: the thread running merge() and finalize() stopped: ${e.message}`);
    if (host === this) host = null;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
    for (const cb of this.failedListeners.values()) cb(this.dead);
    this.failedListeners.clear();
  }
}

let host: KernelHost | null = null;

function kernelHost(k: KernelRef): KernelHost {
  if (!host?.alive) host = new KernelHost();
  host.label = k.label;
  return host;
}

/**
 * Start the host thread while the command line is still being parsed (see prestartForArgs): its
 * boot then overlaps the main thread's. Unused (the command fails first), it is unref'd and ends
 * with the process.
 */
export function prestartKernelHost(): void {
  if (!host?.alive) host = new KernelHost();
}

/** Import the module in the host thread (its top level runs there, interruptible), check its exports. */
export async function loadInHost(k: KernelRef): Promise<{ associative: boolean }> {
  const h = kernelHost(k);
  return (await h.request({ t: 'load', id: h.newId(), kernel: k })) as { associative: boolean };
}

/**
 * A fold held by the host thread. Partials added in one turn of the event loop go over in one
 * message (a pass merges a run of ready chunks at once), not one round trip per chunk.
 */
export function hostFold(k: KernelRef): Fold {
  const h = kernelHost(k);
  const fold = h.newId();
  let queued: unknown[] = [];
  let error: Error | null = null;
  let closed = false;
  let onError: (e: Error) => void = () => {};
  const fail = (e: Error) => {
    if (error) return;
    error = e;
    onError(e);
  };
  const flush = () => {
    if (queued.length === 0 || error) return;
    const partials = queued;
    queued = [];
    try {
      h.post({ t: 'add', fold, partials });
    } catch (e) {
      fail(
        e instanceof BigprocError
          ? e
          : runtime(`--kernel ${k.label}: cannot hand a state to merge(): ${(e as Error).message}`),
      );
    }
  };
  h.watch(fold, fail);
  h.post({ t: 'open', fold, kernel: k });
  const ask = (t: 'state' | 'result') => {
    flush();
    return error ? Promise.reject(error) : h.request({ t, id: h.newId(), fold });
  };
  return {
    add(partial) {
      if (error) throw error;
      if (queued.length === 0) queueMicrotask(flush);
      queued.push(partial);
    },
    state: () => ask('state'),
    result: () => ask('result'),
    onError(cb) {
      onError = cb;
      if (error) cb(error);
    },
    close() {
      if (closed) return;
      closed = true;
      h.unwatch(fold);
      if (h.alive) h.post({ t: 'close', fold });
    },
  };
}
