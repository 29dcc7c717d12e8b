// The manifest contract (src/manifest/types.ts), for any backend: a test file calls manifestSuite
// with a setup that hands out stores on one shared location. Several stores on the same location
// stand in for several hosts. Leases are a few hundred ms so the timing cases stay fast; each test
// uses its own run id, so tests never see each other's shards.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type {
  ClaimResult,
  Lease,
  ManifestEvent,
  ManifestStore,
  Owner,
  RunDescriptor,
  RunManifest,
} from '../../src/manifest/types.js';

export interface SuiteSetup {
  /** a new handle on the shared location (each one is a separate "host") */
  store: () => Promise<ManifestStore>;
  cleanup: () => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function descriptor(runId: string, shards: number): RunDescriptor {
  return {
    run_id: runId,
    file: { name: '/data/ticks.bin', size: 123_456_789, mtime_ms: 1_712_345_678_901.25, sample_hash: 'ab12cd34' },
    // keys deliberately not in sorted order: the stored layout must read back as the same JSON text
    layout: {
      record: 32,
      fields: [
        { name: 'ts', type: 'u64', offset: 0 },
        { name: 'px', type: 'f64', offset: 8 },
      ],
      endian: 'little',
    },
    op: 'stats',
    spec: 'eyJmaWVsZCI6InB4In0=',
    records_per_chunk: 65_536,
    chunks: shards * 2,
    shard_chunks: 2,
    shards,
    out: 'none',
  };
}

function claimed(r: ClaimResult): Extract<ClaimResult, { kind: 'claimed' }> {
  if (r.kind !== 'claimed') throw new Error(`expected a claim, got ${JSON.stringify(r)}`);
  return r;
}

const types = (evs: ManifestEvent[]) => evs.map((e) => e.type);

export function manifestSuite(name: string, setup: () => Promise<SuiteSetup>): void {
  describe(`manifest contract (${name})`, () => {
    let ctx: SuiteSetup;
    let opened: ManifestStore[] = [];

    beforeAll(async () => {
      ctx = await setup();
    });
    afterEach(async () => {
      await Promise.all(opened.map((s) => s.close()));
      opened = [];
    });
    afterAll(async () => {
      await ctx?.cleanup();
    });

    const store = async () => {
      const s = await ctx.store();
      opened.push(s);
      return s;
    };
    const newId = () => `r-${randomBytes(5).toString('hex')}`;
    const host = (h: string, pid = 100): Owner => ({ host: h, pid });
    const A = host('alpha', 11);
    const B = host('beta', 22);

    /** A fresh run of n shards, opened by A; returns A's view of it. */
    async function freshRun(n: number): Promise<RunManifest> {
      const id = newId();
      const run = (await store()).run(id);
      await run.open(descriptor(id, n), A);
      return run;
    }
    async function row(run: RunManifest, shard: number) {
      return (await run.shards()).find((r) => r.shard === shard)!;
    }

    describe('open', () => {
      it('creates the run once, then joins it with the stored descriptor', async () => {
        const id = newId();
        const desc = descriptor(id, 5);
        const s1 = await store();
        expect(await s1.run(id).descriptor()).toBeNull();
        const first = await s1.run(id).open(desc, A);
        expect(first.created).toBe(true);
        expect(first.stored).toEqual(desc);
        const second = await (await store()).run(id).open(desc, B);
        expect(second.created).toBe(false);
        expect(second.stored).toEqual(desc);
        // checkSameRun compares the layout as JSON text, so key order must survive storage
        expect(JSON.stringify(second.stored.layout)).toBe(JSON.stringify(desc.layout));
        expect(await s1.run(id).descriptor()).toEqual(desc);
        const rows = await s1.run(id).shards();
        expect(rows.map((r) => [r.shard, r.state, r.token, r.attempts])).toEqual(
          [0, 1, 2, 3, 4].map((s) => [s, 'pending', 0, 0]),
        );
        const evs = await s1.run(id).events();
        expect(types(evs)).toEqual(['created']);
        expect(evs[0]).toMatchObject({ host: A.host, pid: A.pid, shard: null });
      });

      it('lets exactly one of four simultaneous openers create the run', async () => {
        const id = newId();
        const stores = await Promise.all([0, 1, 2, 3].map(() => store()));
        const res = await Promise.all(stores.map((s, i) => s.run(id).open(descriptor(id, 7), host(`h${i}`))));
        expect(res.filter((r) => r.created)).toHaveLength(1);
        for (const r of res) expect(r.stored).toEqual(descriptor(id, 7));
        expect(await stores[0]!.run(id).shards()).toHaveLength(7);
        expect(types(await stores[0]!.run(id).events())).toEqual(['created']);
      });

      it('lists runs oldest first', async () => {
        const s = await store();
        const ids = [newId(), newId()];
        for (const id of ids) {
          await s.run(id).open(descriptor(id, 1), A);
          await sleep(20);
        }
        const runs = await (await store()).runs();
        expect(runs.filter((r) => ids.includes(r))).toEqual(ids);
      });
    });

    describe('claim', () => {
      it('hands each shard to exactly one of many concurrent claimers, with tokens from 1', async () => {
        const id = newId();
        const stores = await Promise.all(Array.from({ length: 8 }, () => store()));
        await stores[0]!.run(id).open(descriptor(id, 40), A);
        const got: { shard: number; token: number; who: number }[] = [];
        await Promise.all(
          stores.map(async (s, who) => {
            const run = s.run(id);
            const me = host(`claimer${who}`, 1000 + who);
            for (;;) {
              const r = await run.claim(me, 30_000);
              if (r.kind === 'finished') return;
              if (r.kind === 'wait') {
                // the others' leases are long: poll briefly for the end instead (as the engine does)
                await sleep(Math.min(r.ms, 30));
                continue;
              }
              expect(r.takeover).toBe(false);
              got.push({ shard: r.lease.shard, token: r.lease.token, who });
              expect(await run.commit(r.lease, me, `p${r.lease.shard}`)).toBe(true);
            }
          }),
        );
        expect(got.map((g) => g.shard).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
        for (const g of got) expect(g.token).toBeGreaterThanOrEqual(1);
        const run = stores[0]!.run(id);
        expect((await run.shards()).every((r) => r.state === 'done')).toBe(true);
        expect(await run.partials()).toEqual(Array.from({ length: 40 }, (_, i) => `p${i}`));
        const commits = (await run.events()).filter((e) => e.type === 'committed');
        expect(commits).toHaveLength(40);
      });

      it('says wait while others hold live leases, finished when every shard is done or failed', async () => {
        const run = await freshRun(2);
        const runB = (await store()).run(run.runId);
        const l0 = claimed(await run.claim(A, 5_000)).lease;
        const l1 = claimed(await run.claim(A, 5_000)).lease;
        const w = await runB.claim(B, 300);
        expect(w.kind).toBe('wait');
        if (w.kind === 'wait') {
          expect(w.ms).toBeGreaterThanOrEqual(50);
          expect(w.ms).toBeLessThanOrEqual(300);
        }
        const r0 = await row(run, 0);
        expect(r0).toMatchObject({ state: 'running', token: 1, owner: A });
        expect(r0.lease_expires_at).toBeGreaterThan(Date.now() + 3_000);
        expect(await run.commit(l0, A, 'x')).toBe(true);
        expect(await run.fail(l1, A, 'bad input', { permanent: true, maxAttempts: 3, retryInMs: 0 })).toBe('failed');
        expect(await runB.claim(B, 300)).toEqual({ kind: 'finished' });
      });

      it('takes over an expired lease with a larger token; the old holder is fenced off', async () => {
        const run = await freshRun(1);
        const runB = (await store()).run(run.runId);
        const old = claimed(await run.claim(A, 200)).lease;
        expect((await runB.claim(B, 200)).kind).toBe('wait');
        await sleep(350);
        const c = claimed(await runB.claim(B, 5_000));
        expect(c.takeover).toBe(true);
        expect(c.previous).toEqual(A);
        expect(c.lease.shard).toBe(old.shard);
        expect(c.lease.token).toBeGreaterThan(old.token);
        expect(await run.renew(old, A)).toBe('lost');
        expect(await run.commit(old, A, 'stale')).toBe(false);
        expect(await run.fail(old, A, 'stale', { permanent: false, maxAttempts: 3, retryInMs: 0 })).toBe('lost');
        expect(await runB.commit(c.lease, B, 'fresh')).toBe(true);
        expect(await run.partials()).toEqual(['fresh']);
        const evs = await run.events({ shard: 0 });
        const t = types(evs);
        expect(t.indexOf('expired')).toBeGreaterThan(-1);
        expect(t.lastIndexOf('claimed')).toBeGreaterThan(t.indexOf('expired'));
        const expired = evs.find((e) => e.type === 'expired')!;
        expect(expired).toMatchObject({ host: B.host, token: old.token });
        expect(expired.detail).toMatchObject({ holder: A });
        const rejected = evs.find((e) => e.type === 'commit_rejected')!;
        expect(rejected).toMatchObject({ host: A.host, pid: A.pid, token: old.token });
        // expiry is not the shard's fault: no attempt counted
        expect((await row(run, 0)).attempts).toBe(0);
      });
    });

    describe('batches', () => {
      it('claimBatch takes up to max shards, lowest first, each with its own lease and claimed event', async () => {
        const run = await freshRun(5);
        const runB = (await store()).run(run.runId);
        const a = await run.claimBatch(A, 5_000, 3);
        if (a.kind !== 'claimed') throw new Error(JSON.stringify(a));
        expect(a.claims.map((c) => c.lease.shard)).toEqual([0, 1, 2]);
        for (const c of a.claims)
          expect(c).toMatchObject({ takeover: false, previous: null, lease: { token: 1, leaseMs: 5_000 } });
        // fewer left than asked: what is left
        const b = await runB.claimBatch(B, 5_000, 10);
        if (b.kind !== 'claimed') throw new Error(JSON.stringify(b));
        expect(b.claims.map((c) => c.lease.shard)).toEqual([3, 4]);
        expect((await runB.claimBatch(B, 300, 4)).kind).toBe('wait');
        for (const r of await run.shards()) expect(r).toMatchObject({ state: 'running', owner: r.shard < 3 ? A : B });
        expect(types(await run.events()).filter((t) => t === 'claimed')).toHaveLength(5);
      });

      it('commitBatch commits the current leases and rejects a stale one, verdicts in order', async () => {
        const run = await freshRun(3);
        const runB = (await store()).run(run.runId);
        const a = await run.claimBatch(A, 200, 3);
        if (a.kind !== 'claimed') throw new Error(JSON.stringify(a));
        // shard 1 expires and B takes it over while A still "works" on it
        await sleep(350);
        for (const l of [a.claims[0]!.lease, a.claims[2]!.lease]) expect(await run.renew(l, A)).toBe('late');
        const t = claimed(await runB.claim(B, 5_000));
        expect(t.lease.shard).toBe(1);
        const verdicts = await run.commitBatch(
          A,
          a.claims.map((c) => ({ lease: c.lease, partial: `a${c.lease.shard}` })),
        );
        expect(verdicts).toEqual([true, false, true]);
        expect(await runB.commitBatch(B, [{ lease: t.lease, partial: 'b1' }])).toEqual([true]);
        expect(await run.partials()).toEqual(['a0', 'b1', 'a2']);
        expect(await run.commitBatch(A, [])).toEqual([]);
        const evs = await run.events({ shard: 1 });
        expect(evs.find((e) => e.type === 'commit_rejected')).toMatchObject({
          host: A.host,
          token: a.claims[1]!.lease.token,
        });
        expect(evs.filter((e) => e.type === 'committed')).toHaveLength(1);
      });

      it('commitAndClaim commits (verdicts in order) and claims the next shards, never one it is committing', async () => {
        const run = await freshRun(5);
        const runB = (await store()).run(run.runId);
        const a = await run.claimBatch(A, 200, 2);
        if (a.kind !== 'claimed') throw new Error(JSON.stringify(a));
        // A's shard 1 expires and B takes it over; A's shard 0 expires too, but nobody takes it
        await sleep(350);
        const t = claimed(await runB.claim(B, 5_000));
        expect(t.lease.shard).toBe(0);
        // (B took shard 0, the lowest claimable; A's late shard 1 is still A's to commit)
        const items = a.claims.map((c) => ({ lease: c.lease, partial: `a${c.lease.shard}` }));
        const { verdicts, next } = await run.commitAndClaim(A, items, 5_000, 2);
        expect(verdicts).toEqual([false, true]);
        if (next.kind !== 'claimed') throw new Error(JSON.stringify(next));
        expect(next.claims.map((c) => c.lease.shard)).toEqual([2, 3]);
        for (const c of next.claims) expect(c).toMatchObject({ takeover: false, lease: { token: 1, leaseMs: 5_000 } });
        expect(await row(run, 1)).toMatchObject({ state: 'done', owner: A });
        // the commit comes before the claim in the trail
        const evs = (await run.events({ host: A.host })).map((e) => `${e.type}:${e.shard}`);
        expect(evs.indexOf('committed:1')).toBeLessThan(evs.indexOf('claimed:2'));
        expect(evs).toContain('commit_rejected:0');
        // committing 2 and 3 claims the last pending shard; B, committing 0, then finds nothing to claim
        const last = await run.commitAndClaim(
          A,
          next.claims.map((c) => ({ lease: c.lease, partial: `a${c.lease.shard}` })),
          5_000,
          4,
        );
        expect(last.verdicts).toEqual([true, true]);
        if (last.next.kind !== 'claimed') throw new Error(JSON.stringify(last.next));
        expect(last.next.claims.map((c) => c.lease.shard)).toEqual([4]);
        expect((await runB.commitAndClaim(B, [{ lease: t.lease, partial: 'b0' }], 5_000, 1)).next.kind).toBe('wait');
        const end = await run.commitAndClaim(A, [{ lease: last.next.claims[0]!.lease, partial: 'a4' }], 5_000, 1);
        expect(end).toEqual({ verdicts: [true], next: { kind: 'finished' } });
        expect(await run.partials()).toEqual(['b0', 'a1', 'a2', 'a3', 'a4']);
        // nothing to commit: a plain claim
        expect((await run.commitAndClaim(A, [], 5_000, 1)).next).toEqual({ kind: 'finished' });
      });
    });

    describe('renew and commit', () => {
      it('renews a live lease, reports late for an expired one nobody took', async () => {
        const run = await freshRun(1);
        const l = claimed(await run.claim(A, 150)).lease;
        expect(await run.renew(l, A)).toBe('ok');
        await sleep(300);
        expect(await run.renew(l, A)).toBe('late');
        expect(await run.renew(l, A)).toBe('ok');
        expect(types(await run.events({ shard: 0 }))).toContain('renewed_late');
        expect(await run.commit(l, A, 'p')).toBe(true);
        expect(await run.renew(l, A)).toBe('lost');
      });

      it('commits a lease once; a second commit of it is rejected', async () => {
        const run = await freshRun(1);
        const l = claimed(await run.claim(A, 5_000)).lease;
        expect(await run.commit(l, A, 'first')).toBe(true);
        expect(await run.commit(l, A, 'second')).toBe(false);
        expect(await run.partials()).toEqual(['first']);
        const r = await row(run, 0);
        expect(r).toMatchObject({ state: 'done', token: l.token, owner: A, lease_expires_at: null });
        expect(r.committed_at).toBeGreaterThan(Date.now() - 60_000);
        expect(types(await run.events({ shard: 0 }))).toEqual(['claimed', 'committed', 'commit_rejected']);
      });
    });

    describe('fail, release, retry', () => {
      it('puts a failed shard back to pending, not claimable before retryInMs', async () => {
        const run = await freshRun(1);
        const l = claimed(await run.claim(A, 5_000)).lease;
        expect(await run.fail(l, A, 'disk hiccup', { permanent: false, maxAttempts: 3, retryInMs: 400 })).toBe('retry');
        const r = await row(run, 0);
        expect(r).toMatchObject({ state: 'pending', attempts: 1, last_error: 'disk hiccup' });
        expect(r.retry_at).toBeGreaterThan(Date.now() - 1_000);
        const w = await run.claim(B, 5_000);
        expect(w.kind).toBe('wait');
        await sleep(550);
        const again = claimed(await run.claim(B, 5_000));
        expect(again.lease.shard).toBe(0);
        expect(again.lease.token).toBeGreaterThan(l.token);
        expect(again.takeover).toBe(false);
        const failed = (await run.events({ shard: 0 })).find((e) => e.type === 'failed')!;
        expect(failed.detail).toEqual({ error: 'disk hiccup', attempts: 1, permanent: false, final: false });
      });

      it('fails a shard for good when the failure is permanent', async () => {
        const run = await freshRun(1);
        const l = claimed(await run.claim(A, 5_000)).lease;
        expect(await run.fail(l, A, 'corrupt record', { permanent: true, maxAttempts: 5, retryInMs: 0 })).toBe(
          'failed',
        );
        expect(await row(run, 0)).toMatchObject({
          state: 'failed',
          attempts: 1,
          last_error: 'corrupt record',
          retry_at: null,
        });
        expect(await run.claim(B, 5_000)).toEqual({ kind: 'finished' });
        expect((await run.events({ shard: 0 })).find((e) => e.type === 'failed')!.detail).toMatchObject({
          permanent: true,
          final: true,
        });
      });

      it('fails a shard for good when attempts reach maxAttempts', async () => {
        const run = await freshRun(1);
        const opts = { permanent: false, maxAttempts: 2, retryInMs: 0 };
        expect(await run.fail(claimed(await run.claim(A, 5_000)).lease, A, 'e1', opts)).toBe('retry');
        expect(await run.fail(claimed(await run.claim(A, 5_000)).lease, A, 'e2', opts)).toBe('failed');
        expect(await row(run, 0)).toMatchObject({ state: 'failed', attempts: 2, last_error: 'e2' });
        expect(await run.claim(A, 5_000)).toEqual({ kind: 'finished' });
      });

      it('release gives the shard back at once without counting an attempt', async () => {
        const run = await freshRun(1);
        const l = claimed(await run.claim(A, 60_000)).lease;
        await run.release(l, A);
        expect(await row(run, 0)).toMatchObject({ state: 'pending', attempts: 0, lease_expires_at: null });
        const c = claimed(await (await store()).run(run.runId).claim(B, 5_000));
        expect(c.takeover).toBe(false);
        expect(c.lease.token).toBeGreaterThan(l.token);
        expect(types(await run.events({ shard: 0 }))).toEqual(['claimed', 'released', 'claimed']);
        // releasing a lease that is no longer current changes nothing
        await run.release(l, A);
        expect((await row(run, 0)).state).toBe('running');
      });

      it('retryFailed resets failed shards to pending with no attempts', async () => {
        const run = await freshRun(3);
        const perm = { permanent: true, maxAttempts: 3, retryInMs: 0 };
        const l0 = claimed(await run.claim(A, 5_000)).lease;
        const l1 = claimed(await run.claim(A, 5_000)).lease;
        const l2 = claimed(await run.claim(A, 5_000)).lease;
        await run.fail(l0, A, 'bad 0', perm);
        expect(await run.commit(l1, A, 'ok')).toBe(true);
        await run.fail(l2, A, 'bad 2', perm);
        expect(await run.claim(A, 5_000)).toEqual({ kind: 'finished' });
        expect(await run.retryFailed(B)).toBe(2);
        const rows = await run.shards();
        expect(rows.map((r) => [r.state, r.attempts])).toEqual([
          ['pending', 0],
          ['done', 0],
          ['pending', 0],
        ]);
        const retried = (await run.events()).filter((e) => e.type === 'retried');
        expect(retried.map((e) => [e.shard, e.host])).toEqual([
          [0, B.host],
          [2, B.host],
        ]);
        expect(await run.retryFailed(B)).toBe(0);
        const again = claimed(await run.claim(A, 5_000));
        expect(again.lease.shard).toBe(0);
        expect(again.lease.token).toBeGreaterThan(l0.token);
      });
    });

    describe('partials and result', () => {
      it('returns partials in shard order, and refuses while shards are not done', async () => {
        const run = await freshRun(4);
        const leases: Lease[] = [];
        for (let i = 0; i < 4; i++) leases.push(claimed(await run.claim(A, 5_000)).lease);
        for (const l of [...leases].reverse().slice(0, 3)) expect(await run.commit(l, A, `part-${l.shard}`)).toBe(true);
        await expect(run.partials()).rejects.toThrow();
        expect(await run.commit(leases[0]!, A, 'part-0')).toBe(true);
        expect(await run.partials()).toEqual(['part-0', 'part-1', 'part-2', 'part-3']);
      });

      it('keeps partials of any size whole (the file backend stores small ones in the commit record, large ones apart)', async () => {
        const run = await freshRun(4);
        const leases: Lease[] = [];
        for (let i = 0; i < 4; i++) leases.push(claimed(await run.claim(A, 5_000)).lease);
        // (multi-byte characters: the limit is in bytes)
        const sizes = [10, 8 * 1024 - 40, 8 * 1024, 300_000];
        const texts = sizes.map((n, i) => JSON.stringify({ shard: i, pad: (i === 2 ? '×' : 'x').repeat(n) }));
        for (const [i, l] of leases.entries()) expect(await run.commit(l, A, texts[i]!)).toBe(true);
        // A repeated commit of a token, large or small, changes nothing.
        expect(await run.commit(leases[3]!, A, 'y'.repeat(200_000))).toBe(false);
        expect(await run.commit(leases[0]!, A, 'z')).toBe(false);
        expect(await run.partials()).toEqual(texts);
      });

      it('stores only the first result', async () => {
        const run = await freshRun(1);
        const runB = (await store()).run(run.runId);
        expect(await run.result()).toBeNull();
        expect(await run.storeResult('{"sum":1}', A)).toBe(true);
        expect(await runB.storeResult('{"sum":2}', B)).toBe(false);
        expect(await runB.result()).toBe('{"sum":1}');
        const merged = (await run.events()).filter((e) => e.type === 'merged');
        expect(merged).toHaveLength(1);
        expect(merged[0]).toMatchObject({ host: A.host, pid: A.pid });
      });
    });

    describe('events', () => {
      it('records who did what, filterable by shard and host, oldest first', async () => {
        const run = await freshRun(3);
        const runB = (await store()).run(run.runId);
        const la = claimed(await run.claim(A, 5_000)).lease;
        const lb = claimed(await runB.claim(B, 5_000)).lease;
        await run.commit(la, A, 'a');
        await runB.commit(lb, B, 'b');
        const all = await run.events();
        expect(types(all)).toEqual(['created', 'claimed', 'claimed', 'committed', 'committed']);
        for (const e of all) {
          expect(new Date(e.time).toISOString()).toBe(e.time);
        }
        const times = all.map((e) => Date.parse(e.time));
        expect([...times].sort((a, b) => a - b)).toEqual(times);
        const byB = await run.events({ host: B.host });
        expect(byB.map((e) => [e.type, e.shard, e.pid, e.token])).toEqual([
          ['claimed', lb.shard, B.pid, lb.token],
          ['committed', lb.shard, B.pid, lb.token],
        ]);
        const s0 = await run.events({ shard: la.shard });
        expect(s0.every((e) => e.shard === la.shard)).toBe(true);
        expect(types(s0)).toEqual(['claimed', 'committed']);
        expect(await run.events({ shard: la.shard, host: B.host })).toEqual([]);
      });
    });

    describe('guard', () => {
      it('is held by one owner at a time and can be taken after release', async () => {
        const name = `g-${randomBytes(4).toString('hex')}`;
        const s1 = await store();
        const s2 = await store();
        const g = await s1.guard(name, A, 5_000);
        expect(g.kind).toBe('held');
        const busy = await s2.guard(name, B, 5_000);
        expect(busy.kind).toBe('busy');
        if (busy.kind === 'busy') {
          expect(busy.holder).toEqual(A);
          expect(busy.since).toBeGreaterThan(Date.now() - 60_000);
          expect(busy.since).toBeLessThanOrEqual(Date.now() + 5_000);
        }
        if (g.kind !== 'held') return;
        expect(await g.guard.renew()).toBe(true);
        await g.guard.release();
        const mine = await s2.guard(name, B, 5_000);
        expect(mine.kind).toBe('held');
        // the released guard stays released
        expect(await g.guard.renew()).toBe(false);
        expect((await s1.guard(name, A, 5_000)).kind).toBe('busy');
      });

      it('takes over an expired guard; the old holder learns it lost it', async () => {
        const name = `g-${randomBytes(4).toString('hex')}`;
        const s1 = await store();
        const s2 = await store();
        const g = await s1.guard(name, A, 150);
        if (g.kind !== 'held') throw new Error('guard not taken');
        await sleep(300);
        const taken = await s2.guard(name, B, 5_000);
        expect(taken.kind).toBe('held');
        expect(await g.guard.renew()).toBe(false);
        await g.guard.release(); // a stale release must not free the new holder's guard
        expect((await s1.guard(name, A, 5_000)).kind).toBe('busy');
      });
    });
  });
}
