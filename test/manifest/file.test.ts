// The manifest contract against the directory backend (file:DIR): several FileStore handles on one
// directory stand in for hosts sharing it over NFS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStore } from '../../src/manifest/file.js';
import { EpochDir } from '../../src/manifest/epochs.js';
import type { Lease, RunManifest } from '../../src/manifest/types.js';
import { descriptor, manifestSuite } from './suite.js';

const root = mkdtempSync(join(tmpdir(), 'bigproc-filestore-'));

manifestSuite('file:DIR', async () => ({
  store: async () => new FileStore(root),
  cleanup: async () => rmSync(root, { recursive: true, force: true }),
}));

describe('directory manifest specifics', () => {
  const A = { host: 'a', pid: 1 };
  const B = { host: 'b', pid: 2 };
  const claimed = (c: Awaited<ReturnType<RunManifest['claim']>>) => {
    if (c.kind !== 'claimed') throw new Error(JSON.stringify(c));
    return c;
  };

  it('claims never-claimed shards without a scan, passing over those another host took; a released one is picked up once none is left', async () => {
    const id = `fresh-${Date.now()}`;
    const a = new FileStore(root).run(id);
    const b = new FileStore(root).run(id);
    await a.open(descriptor(id, 5), A);
    expect(claimed(await a.claim(A, 30_000)).lease).toMatchObject({ shard: 0, token: 1 });
    const b1 = claimed(await b.claim(B, 30_000)).lease;
    expect(b1).toMatchObject({ shard: 1, token: 1 });
    const b2 = claimed(await b.claim(B, 30_000)).lease;
    expect(b2).toMatchObject({ shard: 2, token: 1 });
    await b.release(b1, B);
    // A's next claims go on from where it knows nothing was claimed (shard 1), find 1 and 2 taken,
    // and take 3 and 4 — the released shard 1 is not seen without a scan
    expect(claimed(await a.claim(A, 30_000)).lease).toMatchObject({ shard: 3, token: 1 });
    expect(claimed(await a.claim(A, 30_000)).lease).toMatchObject({ shard: 4, token: 1 });
    // none left that was never claimed: a scan, which finds the released shard
    expect(claimed(await a.claim(A, 30_000)).lease).toMatchObject({ shard: 1, token: 2 });
    expect((await a.claim(A, 30_000)).kind).toBe('wait');
    const claims = (await a.events()).filter((e) => e.type === 'claimed').map((e) => `${e.shard}.${e.token}`);
    expect(claims.sort()).toEqual(['0.1', '1.1', '1.2', '2.1', '3.1', '4.1']);
  });

  it('a scan that takes one released shard and sees another scans again at the next claim, before any fresh shard', async () => {
    const id = `again-${Date.now()}`;
    const a = new FileStore(root).run(id);
    const b = new FileStore(root).run(id);
    const c = new FileStore(root).run(id);
    await a.open(descriptor(id, 5), A);
    expect(claimed(await a.claim(A, 30_000)).lease.shard).toBe(0);
    const l1 = claimed(await b.claim(B, 30_000)).lease;
    const l2 = claimed(await b.claim(B, 30_000)).lease;
    await b.release(l1, B);
    await b.release(l2, B);
    expect(claimed(await c.claim(B, 30_000)).lease).toMatchObject({ shard: 1, token: 2 });
    expect(claimed(await c.claim(B, 30_000)).lease).toMatchObject({ shard: 2, token: 2 });
    expect(claimed(await c.claim(B, 30_000)).lease).toMatchObject({ shard: 3, token: 1 });
  });

  it('scans again once a lease it saw may have expired, and takes it over before any fresh shard', async () => {
    const id = `expiry-${Date.now()}`;
    const a = new FileStore(root).run(id);
    const b = new FileStore(root).run(id);
    await a.open(descriptor(id, 4), A);
    const a0 = claimed(await a.claim(A, 150)).lease;
    expect(a0.shard).toBe(0);
    expect(claimed(await b.claim(B, 30_000)).lease.shard).toBe(1);
    await new Promise((r) => setTimeout(r, 250));
    // B's scan saw A's lease expire within B's window: B scans again rather than take shard 2
    const t = claimed(await b.claim(B, 30_000));
    expect(t).toMatchObject({ takeover: true, lease: { shard: 0, token: 2 } });
    expect(await a.commit(a0, A, 'stale')).toBe(false);
  });

  it('events(): an epoch file whose event a killed process never logged is still in the trail, once', async () => {
    const id = `recover-${Date.now()}`;
    const a = new FileStore(root).run(id);
    await a.open(descriptor(id, 2), A);
    const l0 = claimed(await a.claim(A, 30_000)).lease;
    expect(await a.commit(l0, A, 'p0')).toBe(true);
    // shard 1: claimed and committed by a process killed right after each file was made, before its
    // log line (made here through the epoch files alone, stamped a little later than shard 0's)
    const epochs = new EpochDir(join(root, id));
    expect(
      epochs.claim('1', 1, { host: 'b', pid: 2, lease_ms: 30_000, claimed_at: Date.now() + 50, attempts: 0 }),
    ).toBe(true);
    expect(
      epochs.end('1', 1, { kind: 'committed', host: 'b', pid: 2, time: Date.now() + 100, attempts: 0, partial: 'p1' }),
    ).toBe(true);
    const evs = (await a.events()).filter((e) => e.type !== 'created');
    expect(evs.map((e) => `${e.type}:${e.shard}:${e.token}:${e.detail ? 'recovered' : 'logged'}`)).toEqual([
      'claimed:0:1:logged',
      'committed:0:1:logged',
      'claimed:1:1:recovered',
      'committed:1:1:recovered',
    ]);
    expect(evs[3]).toMatchObject({ host: 'b', pid: 2, detail: { recovered: true } });
    expect(await a.partials()).toEqual(['p0', 'p1']);
  });

  it('changed(): wakes on a commit, a release or the stored result — not on a claim or a renewal', async () => {
    const id = `watch-${Date.now()}`;
    const sa = new FileStore(root);
    const a = sa.run(id);
    const b = new FileStore(root).run(id);
    await a.open(descriptor(id, 3), A);
    const woke = async (act: () => Promise<unknown>) => {
      let fired = false;
      const w = a.changed!().then(() => (fired = true));
      await act();
      await Promise.race([w, new Promise((r) => setTimeout(r, 300))]);
      return fired;
    };
    const l0 = claimed(await b.claim(B, 30_000)).lease;
    let l1: Lease | undefined;
    expect(await woke(async () => (l1 = claimed(await b.claim(B, 30_000)).lease))).toBe(false);
    expect(await woke(() => b.renew(l0, B))).toBe(false);
    expect(await woke(() => b.commit(l0, B, 'p0'))).toBe(true);
    expect(await woke(() => b.release(l1!, B))).toBe(true);
    // closed: the watches are gone (nothing keeps the process alive), so a waiter is left to its timer
    let fired = false;
    void a.changed!().then(() => (fired = true));
    await sa.close();
    const l2 = claimed(await b.claim(B, 30_000)).lease;
    expect(await b.commit(l2, B, 'p2')).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(fired).toBe(false);
    expect(await woke(() => b.storeResult('r', B))).toBe(true);
  });
});
