// Waiting for something to change: a stop request, the manifest saying so (run.changed), or news
// from a sibling slot of this host — whichever comes first, or a timeout.
import type { RunManifest } from '../manifest/types.js';

export interface StopRequest {
  /** set on the first SIGTERM/SIGINT: claim nothing more */
  requested: boolean;
  /** call fn when a stop is requested (at once if it already was); returns a function that unsubscribes */
  on(fn: () => void): () => void;
}

/**
 * News between the slots of one host. A slot waiting for shards held elsewhere wakes as soon as a
 * sibling gives a shard back or finds the run finished: that may be what it waits for, and the
 * manifest's own wake-up (run.changed), where there is one, comes later or only in the run's tail.
 */
export class Siblings {
  private waiting: (() => void)[] = [];

  /** Resolves at the next wake(). */
  next(): Promise<void> {
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Wake every slot waiting now. */
  wake(): void {
    const ws = this.waiting;
    this.waiting = [];
    for (const w of ws) w();
  }
}

/**
 * Waiting `ms`, cut short by a stop request, by the manifest saying something changed (run.changed)
 * or by a sibling slot's news, whichever comes first; the timer and the stop listener go with it.
 * One pending change at a time: a wait that ends first leaves it pending for the next. `watch()`
 * starts listening before the caller first looks, so a change between that look and the first wait
 * is not missed.
 */
export class ChangeWaiter {
  private pending: Promise<void> | undefined;
  private local: Promise<void> | undefined;

  constructor(
    private readonly run: Pick<RunManifest, 'changed'>,
    private readonly siblings: Siblings,
    private readonly stop: StopRequest,
  ) {}

  watch(): void {
    if (this.run.changed) this.pending ??= this.run.changed().finally(() => (this.pending = undefined));
  }

  /** Resolves after `ms`, or sooner at the first change. */
  or(ms: number): Promise<void> {
    this.watch();
    this.local ??= this.siblings.next().finally(() => (this.local = undefined));
    const pending = this.pending;
    const local = this.local;
    return new Promise<void>((resolve) => {
      let over = false;
      let off = () => {};
      const end = () => {
        if (over) return;
        over = true;
        clearTimeout(timer);
        off();
        resolve();
      };
      const timer = setTimeout(end, ms);
      // (called at once when a stop was requested already)
      off = this.stop.on(end);
      if (over) off();
      void pending?.then(end);
      void local.then(end);
    });
  }
}
