// Waiting for a change: the timeout, a sibling's news, the manifest's wake-up, a stop request.
import { describe, expect, it } from 'vitest';
import { ChangeWaiter, Siblings, type StopRequest } from '../../src/cluster/waiter.js';

function stopper(): StopRequest & { fire(): void } {
  const fns = new Set<() => void>();
  const s = {
    requested: false,
    on(fn: () => void) {
      if (s.requested) {
        fn();
        return () => {};
      }
      fns.add(fn);
      return () => fns.delete(fn);
    },
    fire() {
      s.requested = true;
      for (const f of fns) f();
    },
  };
  return s;
}

const timed = async (p: Promise<void>) => {
  const t = performance.now();
  await p;
  return performance.now() - t;
};

describe('ChangeWaiter', () => {
  it('ends at the timeout when nothing changes', async () => {
    const w = new ChangeWaiter({}, new Siblings(), stopper());
    const ms = await timed(w.or(60));
    expect(ms).toBeGreaterThanOrEqual(50);
  });

  it("ends at a sibling's news, long before the timeout", async () => {
    const siblings = new Siblings();
    const w = new ChangeWaiter({}, siblings, stopper());
    setTimeout(() => siblings.wake(), 20);
    expect(await timed(w.or(5000))).toBeLessThan(2000);
  });

  it('ends at a stop request, and at once when one was made already', async () => {
    const stop = stopper();
    const w = new ChangeWaiter({}, new Siblings(), stop);
    setTimeout(() => stop.fire(), 20);
    expect(await timed(w.or(5000))).toBeLessThan(2000);
    expect(await timed(w.or(5000))).toBeLessThan(100);
  });

  it("ends at the manifest's change; one that comes between two waits is not missed", async () => {
    let tell = () => {};
    let asked = 0;
    const run = {
      changed: () => {
        asked++;
        return new Promise<void>((r) => {
          tell = r;
        });
      },
    };
    const w = new ChangeWaiter(run, new Siblings(), stopper());
    w.watch(); // listening before the caller looks
    tell(); // the change arrives before the first wait
    expect(await timed(w.or(5000))).toBeLessThan(100);
    // the next wait listens anew
    setTimeout(() => tell(), 20);
    expect(await timed(w.or(5000))).toBeLessThan(2000);
    expect(asked).toBe(2);
  });
});

describe('Siblings', () => {
  it('wakes every slot waiting now, not later ones', async () => {
    const s = new Siblings();
    let woken = 0;
    const a = s.next().then(() => woken++);
    const b = s.next().then(() => woken++);
    s.wake();
    await Promise.all([a, b]);
    expect(woken).toBe(2);
    let late = false;
    void s.next().then(() => (late = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(late).toBe(false);
  });
});
