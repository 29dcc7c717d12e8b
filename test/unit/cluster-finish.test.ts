// The end of a shared run on its own, against a real directory manifest: failed shards reported, the
// stored result found, or every shard's partial merged in shard order and stored once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../../src/manifest/file.js';
import type { RunManifest } from '../../src/manifest/types.js';
import type { AnyOp } from '../../src/ops/types.js';
import { finishRun, type FinishInput } from '../../src/cluster/finish.js';
import { ChangeWaiter, Siblings, type StopRequest } from '../../src/cluster/waiter.js';
import { encodePartial } from '../../src/cluster/partial-codec.js';
import { descriptor } from '../manifest/suite.js';

// merge as a polynomial hash: the order partials are folded in shows in the result
const hashOp = {
  name: 'h',
  init: () => 0,
  merge: (_s: unknown, a: number, b: number) => a * 31 + b,
  finalize: (_s: unknown, p: number) => ({ h: p }),
} as unknown as AnyOp;
const A = { host: 'a', pid: 1 };
const B = { host: 'b', pid: 2 };
const never: StopRequest = { requested: false, on: () => () => {} };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bigproc-finish-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A run of `values.length` shards, each committed (shard i with partial values[i]) unless it is in `fail`. */
async function runWith(id: string, values: number[], fail: number[] = []): Promise<RunManifest> {
  const run = new FileStore(join(dir, 'm')).run(id);
  await run.open(descriptor(id, values.length), A);
  for (let i = 0; i < values.length; i++) {
    const c = await run.claim(A, 30_000);
    if (c.kind !== 'claimed') throw new Error('expected a claim');
    if (fail.includes(c.lease.shard))
      await run.fail(c.lease, A, 'boom', { permanent: true, maxAttempts: 1, retryInMs: 0 });
    else await run.commit(c.lease, A, encodePartial(values[c.lease.shard]));
  }
  return run;
}

const input = (run: RunManifest, owner = A, stop = never): FinishInput => ({
  run,
  owner,
  op: hashOp,
  spec: null,
  leaseMs: 300,
  stop,
  waiter: () => new ChangeWaiter(run, new Siblings(), stop),
});

describe('finishRun', () => {
  it('the host that completed the run merges in shard order and stores the result; a later host only reads it', async () => {
    const run = await runWith('merge', [3, 1, 4]);
    const first = await finishRun(input(run), { completed: true, committed: true });
    expect(first).toEqual({ result: { h: (3 * 31 + 1) * 31 + 4 }, merged: true, failed: [], stopped: false });
    expect(JSON.parse((await run.result())!)).toEqual(first.result);
    // a re-run that had nothing to do finds the stored result, merges nothing
    const later = await finishRun(input(run, B), { completed: false, committed: false });
    expect(later).toEqual({ result: first.result, merged: false, failed: [], stopped: false });
  });

  it('a host that took part but did not complete the run merges itself once the completer stays silent for a third of a lease', async () => {
    const run = await runWith('silent', [2, 7]);
    const t = Date.now();
    const end = await finishRun(input(run, B), { completed: false, committed: true });
    expect(Date.now() - t).toBeGreaterThanOrEqual(90);
    expect(end).toEqual({ result: { h: 2 * 31 + 7 }, merged: true, failed: [], stopped: false });
  });

  it('reports shards out of attempts, and merges nothing', async () => {
    const run = await runWith('failed', [1, 2, 3], [1]);
    const end = await finishRun(input(run), { completed: true, committed: true });
    expect(end.result).toBeNull();
    expect(end.merged).toBe(false);
    expect(end.failed.map((r) => r.shard)).toEqual([1]);
    expect(await run.result()).toBeNull();
  });

  it('stopped: no merge, no wait', async () => {
    const run = await runWith('stopped', [5]);
    const stop: StopRequest = {
      requested: true,
      on: (fn) => {
        fn();
        return () => {};
      },
    };
    expect(await finishRun(input(run, A, stop), { completed: true, committed: true })).toEqual({
      result: null,
      merged: false,
      failed: [],
      stopped: true,
    });
    expect(await run.result()).toBeNull();
  });
});
