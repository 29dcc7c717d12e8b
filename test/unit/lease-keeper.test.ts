// A held lease is renewed every lease/3 and declared lost — work on the shard stops — as soon as the
// manifest says so, a renewal fails, or the lease runs out with no renewal through (one stuck retrying).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keepLease } from '../../src/cluster/lease-keeper.js';
import type { RenewResult } from '../../src/manifest/types.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const LEASE = 900;

function keeper(renew: () => Promise<RenewResult>) {
  const seen = { lost: 0, late: 0, renewals: 0 };
  const k = keepLease({
    leaseMs: LEASE,
    renew: () => {
      seen.renewals++;
      return renew();
    },
    onLost: () => seen.lost++,
    onLate: () => seen.late++,
  });
  return { k, seen };
}

describe('keepLease', () => {
  it('renews every lease/3 and keeps the lease while renewals go through', async () => {
    const { k, seen } = keeper(async () => 'ok');
    await vi.advanceTimersByTimeAsync(LEASE * 5);
    expect(seen.renewals).toBe(15);
    expect(seen.lost).toBe(0);
    k.end();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a renewal that never answers: lost exactly when the lease runs out, not at a later heartbeat', async () => {
    const { k, seen } = keeper(() => new Promise(() => {}));
    await vi.advanceTimersByTimeAsync(LEASE - 1);
    expect(seen.lost).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen.lost).toBe(1);
    // and it stops renewing a lease it has given up
    const renewals = seen.renewals;
    await vi.advanceTimersByTimeAsync(LEASE * 3);
    expect(seen.renewals).toBe(renewals);
    expect(seen.lost).toBe(1);
    k.end();
  });

  it('the lease runs out a lease period after the last renewal that went through was sent', async () => {
    let answer: 'ok' | 'hang' = 'ok';
    const { seen } = keeper(() => (answer === 'ok' ? Promise.resolve('ok') : new Promise(() => {})));
    await vi.advanceTimersByTimeAsync(LEASE / 3); // renewal sent at 300 goes through
    answer = 'hang';
    await vi.advanceTimersByTimeAsync(LEASE - 1); // now 1199
    expect(seen.lost).toBe(0);
    await vi.advanceTimersByTimeAsync(1); // 1200 = 300 + LEASE
    expect(seen.lost).toBe(1);
  });

  it('lost at once when the manifest says the lease is gone, or a renewal fails', async () => {
    const a = keeper(async () => 'lost');
    await vi.advanceTimersByTimeAsync(LEASE / 3);
    expect(a.seen.lost).toBe(1);
    const b = keeper(() => Promise.reject(new Error('database unreachable')));
    await vi.advanceTimersByTimeAsync(LEASE / 3);
    expect(b.seen.lost).toBe(1);
  });

  it('reports a late renewal and keeps the lease', async () => {
    const { k, seen } = keeper(async () => 'late');
    await vi.advanceTimersByTimeAsync(LEASE / 3);
    expect(seen.late).toBe(1);
    expect(seen.lost).toBe(0);
    k.end();
  });

  it('after end(): no loss reported, no timer left, even when a renewal answers afterwards', async () => {
    let answer: (r: RenewResult) => void = () => {};
    const { k, seen } = keeper(() => new Promise((r) => (answer = r)));
    await vi.advanceTimersByTimeAsync(LEASE / 3);
    k.end();
    answer('ok');
    await vi.advanceTimersByTimeAsync(LEASE * 2);
    expect(seen.lost).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('keepLease: a renewal that fails', () => {
  it('is a lost lease by default', async () => {
    const { k, seen } = keeper(() => Promise.reject(new Error('unreachable')));
    await vi.advanceTimersByTimeAsync(LEASE / 3 + 1);
    expect(seen.lost).toBe(1);
    k.end();
  });

  it('with onRenewError saying keep: held until the lease runs out with no renewal through, then lost', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const seen = { lost: 0 };
    const k = keepLease({
      leaseMs: LEASE,
      renew: () => (fail ? Promise.reject(new Error('unreachable')) : Promise.resolve('ok' as const)),
      onLost: () => seen.lost++,
      onRenewError: (e) => {
        errors.push(e);
        return true;
      },
    });
    await vi.advanceTimersByTimeAsync(LEASE / 3 + 1);
    expect(errors).toHaveLength(1);
    expect(seen.lost).toBe(0);
    // a renewal that gets through in time keeps the lease
    fail = false;
    await vi.advanceTimersByTimeAsync(LEASE);
    expect(seen.lost).toBe(0);
    // failing for a whole lease: lost
    fail = true;
    await vi.advanceTimersByTimeAsync(LEASE * 2);
    expect(seen.lost).toBe(1);
    k.end();
  });
});
