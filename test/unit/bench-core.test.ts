// bench's pure parts: the sweep's order, the statistics, the significance rule, the recommendation,
// and the --ops grammar.
import { describe, expect, it } from 'vitest';
import { expandGrid, planRuns } from '../../src/bench/plan.js';
import { median, quantile, significantlyFaster, spreadOf } from '../../src/bench/stats.js';
import { recommendOp } from '../../src/bench/recommend.js';
import { summarize } from '../../src/bench/summary.js';
import { parseOps } from '../../src/bench/ops.js';
import { defaultWorkers } from '../../src/bench/request.js';
import type { BenchCase, CaseSummary, Limit, RunSample } from '../../src/bench/types.js';

const MiB = 2 ** 20;

describe('sweep planner', () => {
  it('expands op × workers × chunk × backend in that nesting, with a NumPy case after each compared op', () => {
    const [stats, hist] = parseOps('stats,hist:field=price');
    const cases = expandGrid({
      ops: [stats!, hist!],
      workers: [1, 2],
      chunkSizes: [64 * MiB],
      backends: ['native', 'js'],
      numpyOps: [hist!],
    });
    expect(cases.map((c) => `${c.op.op}/${c.workers}/${c.backend}`)).toEqual([
      'stats/1/native',
      'stats/1/js',
      'stats/2/native',
      'stats/2/js',
      'hist/1/native',
      'hist/1/js',
      'hist/2/native',
      'hist/2/js',
      'hist/1/numpy.memmap',
    ]);
    expect(cases.map((c) => c.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('interleaves: every case once per round (A B C A B C …), warm-up rounds first and marked', () => {
    const plan = planRuns(3, 1, 2);
    expect(plan.map((p) => p.case_id)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(plan.map((p) => p.round)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    expect(plan.map((p) => p.warmup)).toEqual([true, true, true, false, false, false, false, false, false]);
    expect(planRuns(2, 0, 1)).toEqual([
      { case_id: 0, round: 0, warmup: false },
      { case_id: 1, round: 0, warmup: false },
    ]);
  });

  it('default workers: powers of two below the cores, then the cores', () => {
    expect(defaultWorkers(1)).toEqual([1]);
    expect(defaultWorkers(2)).toEqual([1, 2]);
    expect(defaultWorkers(6)).toEqual([1, 2, 4, 6]);
    expect(defaultWorkers(8)).toEqual([1, 2, 4, 8]);
  });
});

describe('statistics', () => {
  it('median of odd and even counts, quantiles as NumPy has them, spread = IQR / median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75); // numpy.quantile([1,2,3,4], .25)
    expect(quantile([5], 0.75)).toBe(5);
    expect(spreadOf([2, 4, 3])).toEqual({ median: 3, min: 2, max: 4, spread: 1 / 3, n: 3 });
    // one outlier in five moves the range, hardly the spread
    expect(spreadOf([10, 10.2, 10.1, 9.9, 5])!.spread).toBeCloseTo(0.2 / 10, 12);
    expect(spreadOf([])).toBeNull();
    expect(() => median([])).toThrow();
  });

  it('a margin counts only when it is larger than either case’s spread', () => {
    const a = spreadOf([10, 10.5, 11])!; // spread 0.048
    const b = spreadOf([8, 8.2, 8.4])!; // margin 0.28
    expect(significantlyFaster(a, b)).toMatchObject({ significant: true });
    expect(significantlyFaster(a, b).margin).toBeCloseTo(10.5 / 8.2 - 1, 12);
    const noisy = spreadOf([7, 9.8, 12])!; // spread 0.26 swallows the margin 0.07
    expect(significantlyFaster(a, noisy)).toMatchObject({ significant: false });
    expect(significantlyFaster(a, noisy).spread).toBeCloseTo(2.5 / 9.8, 12);
  });
});

function row(id: number, workers: number, gbps: number[] | null, extra: Partial<CaseSummary> = {}): CaseSummary {
  return {
    case_id: id,
    label: 'stats',
    tool: 'bigproc',
    workers,
    chunk_size: 64 * MiB,
    backend: 'native',
    ok: gbps !== null,
    error: gbps ? null : 'bigproc: boom (exit 1)',
    gbps: gbps ? spreadOf(gbps) : null,
    seconds: null,
    ratio_to_memory: null,
    speedup: null,
    efficiency: null,
    ...extra,
  };
}
const prefs = { defaultChunkSize: 64 * MiB, backends: ['native', 'js'] };

describe('recommendation', () => {
  it('the fastest when its margin beats the spread', () => {
    const r = recommendOp([row(0, 1, [2, 2.1, 2.2]), row(1, 2, [3.9, 4, 4.1])], prefs)!;
    expect(r).toMatchObject({ case_id: 1, workers: 2, best_case_id: 1, significant: true, gbps: 4 });
    expect(r.reason).toMatch(/faster than the next best/);
  });

  it('no significant difference: the simplest within the spread — fewer workers, then the default chunk size', () => {
    const r = recommendOp([row(0, 1, [3.5, 3.9, 4.2]), row(1, 2, [3.8, 4, 4.3]), row(2, 4, [1, 1, 1])], prefs)!;
    expect(r).toMatchObject({ case_id: 0, workers: 1, best_case_id: 1, significant: false });
    expect(r.reason).toMatch(/^no significant difference/);
    const chunks = recommendOp([row(0, 2, [4, 4.1, 4.3], { chunk_size: 16 * MiB }), row(1, 2, [3.9, 4, 4.2])], prefs)!;
    expect(chunks).toMatchObject({ case_id: 1, chunk_size: 64 * MiB, significant: false });
  });

  it('failed and NumPy cases are never recommended; all failed is no recommendation', () => {
    const r = recommendOp(
      [row(0, 1, null), row(1, 2, [1, 1, 1]), row(2, 1, [9, 9, 9], { tool: 'numpy', backend: 'numpy.memmap' })],
      prefs,
    )!;
    expect(r).toMatchObject({ case_id: 1, margin: null, significant: false });
    expect(recommendOp([row(0, 1, null)], prefs)).toBeNull();
  });
});

describe('summary', () => {
  const [stats] = parseOps('stats');
  const cases: BenchCase[] = [1, 2].map((w, id) => ({
    id,
    op: stats!,
    tool: 'bigproc',
    workers: w,
    chunk_size: 64 * MiB,
    backend: 'native',
  }));
  const sample = (case_id: number, gbps: number, warmup = false, ok = true): RunSample => ({
    case_id,
    round: 0,
    warmup,
    ok,
    seconds: 1 / gbps,
    gbps: ok ? gbps : null,
    inner_gbps: null,
    error: ok ? null : 'bigproc: x (exit 1)',
  });
  const limits: Limit[] = [{ kind: 'mem', ok: true, error: null, threads: 2, gbps: spreadOf([10]) }];

  it('warm-ups are not counted; ratio to the memory limit, speed-up and efficiency', () => {
    const s = summarize(cases, [sample(0, 100, true), sample(0, 2), sample(0, 2), sample(1, 3), sample(1, 3)], limits);
    expect(s[0]).toMatchObject({ ok: true, ratio_to_memory: 0.2, speedup: 1, efficiency: 1 });
    expect(s[0]!.gbps!.median).toBe(2);
    expect(s[1]).toMatchObject({ speedup: 1.5, efficiency: 0.75 });
    expect(s[1]!.ratio_to_memory).toBeCloseTo(0.3, 12);
  });

  it('a case with a failed run (even a warm-up) is failed, with its error', () => {
    const s = summarize(cases, [sample(0, 2), sample(1, 3, true, false), sample(1, 3)], limits);
    expect(s[1]).toMatchObject({ ok: false, gbps: null, error: 'bigproc: x (exit 1)', speedup: null });
  });
});

describe('--ops grammar', () => {
  it('ops with options; an item with = before any : continues the op before it; a bare word is a boolean option', () => {
    expect(parseOps('stats, hist:field=price,range=80:120,bins=40')).toEqual([
      { label: 'stats', op: 'stats', options: {} },
      {
        label: 'hist:field=price,range=80:120,bins=40',
        op: 'hist',
        options: { field: 'price', range: '80:120', bins: '40' },
      },
    ]);
    expect(parseOps('top:by=price,asc,filter:where=price > 110 && side == 1').map((o) => o.options)).toEqual([
      { by: 'price', asc: 'true' },
      { where: 'price > 110 && side == 1' },
    ]);
  });

  it('refuses a list that does not start with an op, and empty lists', () => {
    expect(() => parseOps('field=price')).toThrow(/starting with an op/);
    expect(() => parseOps('nope')).toThrow(/starting with an op/);
    expect(() => parseOps(' , ')).toThrow(/at least one op/);
    expect(() => parseOps('stats:Bad Name=1')).toThrow(/name=value/);
  });
});
