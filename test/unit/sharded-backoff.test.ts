// A failing shard's retry delay grows with its failed attempts on every host, as the manifest records
// them — not with this process's own count, which starts again at 1 on each new host or cron run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSchema } from '../../src/layout/schema.js';
import { kernel } from '../../src/ops/kernel.js';
import { planChunks } from '../../src/plan/chunks.js';
import { runSharded, type StopRequest } from '../../src/cluster/shard-host.js';
import { FileStore } from '../../src/manifest/file.js';
import type { BatchClaimResult, FailOptions, RunManifest } from '../../src/manifest/types.js';
import { descriptor } from '../manifest/suite.js';
import { genFields, genJs } from '../../src/gen/generate.js';

const layout = parseSchema('ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16');
const never: StopRequest = { requested: false, on: () => () => {} };
let dir: string;
let file: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bigproc-backoff-'));
  file = join(dir, 'ticks.bin');
  const buf = new Uint8Array(1000 * layout.recordSize);
  genJs(
    buf,
    0,
    1000,
    layout.recordSize,
    genFields(layout, new Map([['ts', { kind: 'seq', start: 1700000000000000000n, step: 1000n }]])),
    5n,
  );
  writeFileSync(file, buf);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('retry backoff across hosts', () => {
  it('a shard that already failed twice elsewhere waits 4x the base delay (with jitter), not 1x', async () => {
    const plan = planChunks({
      fileSize: 1000 * layout.recordSize,
      headerBytes: 0,
      recordSize: layout.recordSize,
      chunkSize: 1000 * layout.recordSize,
      allowPartial: false,
      fileLabel: file,
    });
    const spec = await kernel.prepare({ kernel: join(__dirname, '..', 'fixtures', 'slow-sum.mjs') }, layout, () =>
      Promise.reject(new Error('no pre-pass')),
    );
    const real = new FileStore(join(dir, 'manifest')).run('backoff');
    await real.open(descriptor('backoff', 1), { host: 'h', pid: 1 });
    const fails: FailOptions[] = [];
    // the manifest says the shard has failed twice before (on other hosts)
    const twice = (c: BatchClaimResult): BatchClaimResult =>
      c.kind === 'claimed' ? { ...c, claims: c.claims.map((x) => ({ ...x, attempts: 2 })) } : c;
    const run = new Proxy(real, {
      get(t, k) {
        if (k === 'commitAndClaim')
          return async (...a: Parameters<RunManifest['commitAndClaim']>) => {
            const r = await t.commitAndClaim(...a);
            return { ...r, next: twice(r.next) };
          };
        // record the delay asked for, and end the shard there (as out of attempts) so the run ends now
        if (k === 'fail')
          return (lease: never, owner: never, error: string, opts: FailOptions) => {
            fails.push(opts);
            return t.fail(lease, owner, error, { ...opts, permanent: true });
          };
        const v = Reflect.get(t, k) as unknown;
        return typeof v === 'function' ? v.bind(t) : v;
      },
    }) as RunManifest;
    const st = statSync(file);
    const before = process.env.FAIL_TS;
    process.env.FAIL_TS = String(1700000000000000000n); // the first record's ts: the only shard fails
    try {
      const out = await runSharded({
        file,
        layout,
        plan,
        op: kernel as never,
        spec,
        backend: 'js',
        workers: 1,
        identity: { size: st.size, mtimeMs: st.mtimeMs },
        run,
        owner: { host: 'h', pid: 1 },
        perShard: 1,
        leaseMs: 30_000,
        maxAttempts: 4,
        backoffMs: 1000,
        graceMs: 1000,
        stop: never,
        log: () => {},
      });
      expect(out.share.failures).toBe(1);
      expect(out.failed).toHaveLength(1);
    } finally {
      if (before === undefined) delete process.env.FAIL_TS;
      else process.env.FAIL_TS = before;
    }
    expect(fails).toHaveLength(1);
    // third failure: 1000 * 2^2 = 4000 ms, times a jitter of 0.5-1.5
    expect(fails[0]!.retryInMs).toBeGreaterThanOrEqual(2000);
    expect(fails[0]!.retryInMs).toBeLessThanOrEqual(6000);
  }, 20_000);
});
