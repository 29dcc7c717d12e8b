// The sweep's grid and its order. Runs are interleaved — every case once per round, A B C A B C … —
// so that the machine's drift (another job starting, the CPU clocking down) hits every case alike
// instead of whichever came last. Warm-up rounds come first and are not counted.
import type { BenchCase, BenchOp, PlannedRun } from './types.js';

export interface Grid {
  ops: BenchOp[];
  workers: number[];
  chunkSizes: number[];
  backends: string[];
  /** ops that also get a NumPy case (--compare); one case per op, single-threaded */
  numpyOps?: BenchOp[];
}

/** Every op × workers × chunk size × backend, in that nesting order, numbered from 0. */
export function expandGrid(grid: Grid): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const op of grid.ops) {
    for (const workers of grid.workers) {
      for (const chunk_size of grid.chunkSizes) {
        for (const backend of grid.backends)
          cases.push({ id: cases.length, op, tool: 'bigproc', workers, chunk_size, backend });
      }
    }
    const numpy = grid.numpyOps?.find((o) => o.label === op.label);
    if (numpy)
      cases.push({ id: cases.length, op: numpy, tool: 'numpy', workers: 1, chunk_size: 0, backend: 'numpy.memmap' });
  }
  return cases;
}

/** `warmup` rounds then `repeat` rounds, each running every case once in grid order. */
export function planRuns(caseCount: number, warmup: number, repeat: number): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (let round = 0; round < warmup + repeat; round++) {
    for (let id = 0; id < caseCount; id++) runs.push({ case_id: id, round, warmup: round < warmup });
  }
  return runs;
}
