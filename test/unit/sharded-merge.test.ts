// The end of a multi-host run: the host whose commit completed the run merges; the others wait for its
// result rather than download and merge every partial again — and merge it themselves if that host
// dies before storing it. Two hosts run in this process against one real manifest directory.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSchema } from '../../src/layout/schema.js';
import { stats } from '../../src/ops/stats.js';
import { planChunks, type ChunkPlan } from '../../src/plan/chunks.js';
import { runSharded, type StopRequest } from '../../src/cluster/shard-host.js';
import { FileStore } from '../../src/manifest/file.js';
import type { RunManifest } from '../../src/manifest/types.js';
import { descriptor } from '../manifest/suite.js';
import { genFields, genJs } from '../../src/gen/generate.js';
import { loadAddon } from '../../src/native/addon.js';

const layout = parseSchema('ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16');
let dir: string;
let file: string;
let plan: ChunkPlan;
const never: StopRequest = { requested: false, on: () => () => {} };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bigproc-merge-'));
  file = join(dir, 'ticks.bin');
  const records = 24_000;
  const buf = new Uint8Array(records * layout.recordSize);
  genJs(buf, 0, records, layout.recordSize, genFields(layout, new Map()), 3n);
  writeFileSync(file, buf);
  // 12 chunks, one per shard
  plan = planChunks({
    fileSize: buf.length,
    headerBytes: 0,
    recordSize: layout.recordSize,
    chunkSize: 2000 * layout.recordSize,
    allowPartial: false,
    fileLabel: file,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Count the hosts' partials() calls (each is a merge), and hold up the first merger's store: `hang`, it
 * never returns (as if that host died there); else it takes 150 ms, long enough for the other host to
 * find every shard done and no result yet.
 */
function instrument(run: RunManifest, merges: string[], host: string, hang: boolean): RunManifest {
  return new Proxy(run, {
    get(target, key) {
      if (key === 'partials') {
        return () => {
          merges.push(host);
          return target.partials();
        };
      }
      if (key === 'storeResult') {
        return async (result: string, owner: never) => {
          if (merges[0] === host) {
            if (hang) return new Promise(() => {});
            await new Promise((r) => setTimeout(r, 150));
          }
          return target.storeResult(result, owner);
        };
      }
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

async function twoHosts(runId: string, leaseMs: number, hang: boolean) {
  const spec = await stats.prepare({}, layout, () => Promise.reject(new Error('no pre-pass')));
  const merges: string[] = [];
  const st = statSync(file);
  const host = async (name: string) => {
    const run = new FileStore(join(dir, 'manifest')).run(runId);
    await run.open(descriptor(runId, plan.chunks.length), { host: name, pid: 1 });
    return runSharded({
      file,
      layout,
      plan,
      op: stats as never,
      spec,
      backend: 'js',
      workers: 1,
      identity: { size: st.size, mtimeMs: st.mtimeMs },
      run: instrument(run, merges, name, hang),
      owner: { host: name, pid: 1 },
      perShard: 1,
      leaseMs,
      maxAttempts: 3,
      backoffMs: 10,
      graceMs: 1000,
      stop: never,
      log: () => {},
    });
  };
  const outcomes = hang
    ? // the hung merger never returns: take the other host's outcome
      [await Promise.race([host('a'), host('b')])]
    : await Promise.all([host('a'), host('b')]);
  return { outcomes, merges };
}

describe('the end of a sharded run', () => {
  it('one merge: the host that completed the run; the other waits for its result', async () => {
    const { outcomes, merges } = await twoHosts('one-merge', 30_000, false);
    expect(merges).toHaveLength(1);
    expect(outcomes.filter((o) => o.merged)).toHaveLength(1);
    expect(outcomes[0]!.result).toEqual(outcomes[1]!.result);
    expect(outcomes.map((o) => o.share.shards).reduce((a, b) => a + b)).toBe(plan.chunks.length);
    expect(outcomes.every((o) => o.share.shards > 0)).toBe(true);
  });

  it('a merger that dies before storing: the other host merges after a third of a lease', async () => {
    const t0 = Date.now();
    const { outcomes, merges } = await twoHosts('merger-dies', 600, true);
    expect(merges).toHaveLength(2);
    expect(outcomes[0]!.merged).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
  });
});

describe('slots of one host', () => {
  // the main-thread runner (native kernels only) keeps this test free of worker threads
  it.skipIf(!loadAddon())(
    "a slot waiting for its sibling slot's shard wakes when that one finishes the run, not at its next poll; neither asks again",
    async () => {
      const spec = await stats.prepare({}, layout, () => Promise.reject(new Error('no pre-pass')));
      const st = statSync(file);
      const runId = `siblings-${Date.now()}`;
      const real = new FileStore(join(dir, 'manifest')).run(runId);
      // the whole file is one shard, so the host's second slot finds nothing to claim and waits
      await real.open(descriptor(runId, 1), { host: 'h', pid: 1 });
      // no word from the manifest (run.changed): only the sibling slot can wake the waiting one
      const calls: string[] = [];
      const run = new Proxy(real, {
        get: (t, k) => {
          if (k === 'changed') return undefined;
          const v = Reflect.get(t, k) as unknown;
          if (typeof v !== 'function') return v;
          return (...args: unknown[]) => {
            calls.push(String(k));
            return (v as (...a: unknown[]) => unknown).apply(t, args);
          };
        },
      }) as RunManifest;
      // polling timers never fire: a run that finishes did so without one
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        const out = await runSharded({
          file,
          layout,
          plan,
          op: stats as never,
          spec,
          backend: 'native',
          workers: 1,
          identity: { size: st.size, mtimeMs: st.mtimeMs },
          run,
          owner: { host: 'h', pid: 1 },
          perShard: plan.chunks.length,
          leaseMs: 60_000,
          maxAttempts: 3,
          backoffMs: 10,
          graceMs: 1000,
          stop: never,
          log: () => {},
        });
        expect(out).toMatchObject({ merged: true, stopped: false, share: { shards: 1 } });
        // slot 1 claims, slot 2 finds nothing yet, slot 1 commits and finds the run finished; slot 2,
        // woken, stops without asking; the host that completed the run merges without looking for a
        // result first
        expect(calls.filter((c) => c === 'commitAndClaim')).toHaveLength(3);
        expect(calls).not.toContain('result');
        expect(calls).toContain('storeResult');
      } finally {
        vi.useRealTimers();
      }
    },
    5_000,
  );
});
