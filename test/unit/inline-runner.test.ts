// --workers 1 on a mapped file runs the chunks on the main thread (src/engine/inline.ts): the same
// results as running each task directly, one chunk per turn of the event loop (so timers, signals and
// lease heartbeats are served between chunks), and only where no user code or pipe is involved.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSchema } from '../../src/layout/schema.js';
import { stats } from '../../src/ops/stats.js';
import { getOp, OPS } from '../../src/ops/registry.js';
import { planChunks, type ChunkPlan } from '../../src/plan/chunks.js';
import { Control } from '../../src/engine/control.js';
import { runPass } from '../../src/engine/pass.js';
import { inlineRunner } from '../../src/engine/inline.js';
import { createTaskHost } from '../../src/engine/tasks.js';
import { runsInline } from '../../src/engine/pool.js';
import type { Backend, ChunkDone, ChunkTask, TaskRunner } from '../../src/engine/protocol.js';
import { loadAddon } from '../../src/native/addon.js';
import { genFields, genJs } from '../../src/gen/generate.js';

const layout = parseSchema('ts:i64,price:f64,qty:i32,side:u8,flags:u8,venue:u16');
const RECORDS = 200_000;
let dir: string;
let file: string;
let plan: ChunkPlan;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bigproc-inline-'));
  file = join(dir, 'ticks.bin');
  const buf = new Uint8Array(RECORDS * layout.recordSize);
  genJs(buf, 0, RECORDS, layout.recordSize, genFields(layout, new Map()), 7n);
  writeFileSync(file, buf);
  // 40 chunks of 5,000 records
  plan = planChunks({
    fileSize: buf.length,
    headerBytes: 0,
    recordSize: layout.recordSize,
    chunkSize: 5000 * layout.recordSize,
    allowPartial: false,
    fileLabel: file,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const backends: Backend[] = loadAddon() ? ['native', 'js'] : ['js'];

function task(spec: unknown, backend: Backend, ctl: Control, i: number): ChunkTask {
  const c = plan.chunks[i]!;
  return {
    kind: 'chunk',
    file,
    op: 'stats',
    spec,
    backend,
    recordSize: layout.recordSize,
    ctl: ctl.sab,
    wantOutput: false,
    index: c.index,
    offset: c.offset,
    firstRecord: c.firstRecord,
    records: c.records,
  };
}

describe('the inline runner', () => {
  it.each(backends)('gives the same result as running every task directly (%s)', async (backend) => {
    const spec = await stats.prepare({}, layout, () => Promise.reject(new Error('no pre-pass')));
    const host = createTaskHost();
    let direct = stats.init(spec);
    const ctl = new Control();
    for (let i = 0; i < plan.chunks.length; i++)
      direct = stats.merge(spec, direct, (await host.run(task(spec, backend, ctl, i))).partial as never);
    host.closeAll();

    const runner = inlineRunner();
    const r = await runPass({
      pool: runner,
      file,
      plan,
      op: getOp('stats'),
      spec,
      backend,
      ctl: new Control(),
      window: 4,
    });
    await runner.destroy();
    expect(r.cancelled).toBe(false);
    expect(r.chunkMs).toHaveLength(plan.chunks.length);
    expect(
      JSON.stringify(stats.finalize(spec, r.partial as never), (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
    ).toBe(JSON.stringify(stats.finalize(spec, direct), (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
  });

  it('lets timers run between chunks rather than after the whole pass', async () => {
    const spec = await stats.prepare({}, layout, () => Promise.reject(new Error('no pre-pass')));
    const inner = inlineRunner();
    const order: string[] = [];
    let timer: Promise<void> | undefined;
    const runner: TaskRunner = {
      run: (t) =>
        inner.run(t).then((d) => {
          order.push('chunk');
          // Set once the pass is under way. With the JS backend each of the 40 chunks takes a fraction
          // of a millisecond or more, so this 1 ms timer falls due well before the last one ends.
          timer ??= new Promise<void>((resolve) =>
            setTimeout(() => {
              order.push('timer');
              resolve();
            }, 1),
          );
          return d;
        }),
      destroy: () => inner.destroy(),
    };
    await runPass({
      pool: runner,
      file,
      plan,
      op: getOp('stats'),
      spec,
      backend: 'js',
      ctl: new Control(),
      window: plan.chunks.length,
    });
    await timer;
    await runner.destroy();
    expect(order.filter((o) => o === 'chunk')).toHaveLength(plan.chunks.length);
    expect(order.indexOf('timer')).toBeLessThan(plan.chunks.length);
  });

  it('stops at once when cancelled, and a destroyed runner ends what was queued as cancelled', async () => {
    const spec = await stats.prepare({}, layout, () => Promise.reject(new Error('no pre-pass')));
    const runner = inlineRunner();
    const ctl = new Control();
    const done: ChunkDone[] = [];
    const all = plan.chunks.map((_c, i) =>
      (runner.run(task(spec, 'js', ctl, i)) as Promise<ChunkDone>).then((d) => {
        done.push(d);
        if (done.length === 3) ctl.cancel();
        return d;
      }),
    );
    await Promise.all(all);
    // Chunks after the third see the flag before they start.
    expect(done.filter((d) => !d.cancelled)).toHaveLength(3);

    const later = inlineRunner();
    const queued = [0, 1, 2].map((i) => later.run(task(spec, 'js', new Control(), i)) as Promise<ChunkDone>);
    await later.destroy();
    expect((await Promise.all(queued)).every((d) => d.cancelled)).toBe(true);
    await expect(later.run(task(spec, 'js', new Control(), 0))).rejects.toThrow(/closed/);
  });
});

describe('runsInline', () => {
  it('only for one thread of native kernels on a mapped file, chunks of at most 64 MiB, no user code', () => {
    const base = { threads: 1, op: getOp('stats'), stream: false, backend: 'native' as const, chunkBytes: 64 << 20 };
    expect(runsInline(base)).toBe(true);
    expect(runsInline({ ...base, op: null })).toBe(true); // gen
    expect(runsInline({ ...base, threads: 2 })).toBe(false);
    expect(runsInline({ ...base, stream: true })).toBe(false);
    expect(runsInline({ ...base, op: getOp('kernel') })).toBe(false);
    // a whole chunk delays Ctrl-C on the main thread: the JS kernels and big chunks keep a thread
    expect(runsInline({ ...base, backend: 'js' })).toBe(false);
    expect(runsInline({ ...base, chunkBytes: (64 << 20) + 1 })).toBe(false);
    const jsOnly = Object.values(OPS).find((o) => o.jsOnly);
    if (jsOnly) expect(runsInline({ ...base, op: jsOnly })).toBe(false);
  });
});
