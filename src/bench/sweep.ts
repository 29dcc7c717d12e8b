// Executing the planned runs one after the other (never two at once: they would compete for the
// cores they measure), each a whole process, timed from spawn to exit.
import { failureLine, runChild } from './child.js';
import type { BenchProgress } from './progress.js';
import type { BenchCase, PlannedRun, RunSample } from './types.js';

export interface Invocation {
  command: string;
  args: string[];
}

export async function runSweep(
  plan: PlannedRun[],
  cases: BenchCase[],
  fileBytes: number,
  invocationFor: (c: BenchCase) => Invocation,
  progress: BenchProgress,
): Promise<RunSample[]> {
  const samples: RunSample[] = [];
  const t0 = performance.now();
  for (const [i, planned] of plan.entries()) {
    const c = cases[planned.case_id]!;
    progress.run(i, plan.length, caseLabel(c), (performance.now() - t0) / 1000);
    const { command, args } = invocationFor(c);
    const r = await runChild(command, args);
    const ok = r.code === 0;
    samples.push({
      case_id: c.id,
      round: planned.round,
      warmup: planned.warmup,
      ok,
      seconds: r.seconds,
      gbps: ok ? fileBytes / r.seconds / 1e9 : null,
      inner_gbps: ok ? innerGbps(r.stdout) : null,
      error: ok ? null : failureLine(r),
    });
  }
  progress.run(plan.length, plan.length, 'done', (performance.now() - t0) / 1000);
  progress.done();
  return samples;
}

export function caseLabel(c: BenchCase): string {
  return c.tool === 'numpy' ? `${c.op.label} numpy` : `${c.op.label} ${c.workers}w ${c.backend}`;
}

/** `bigproc run --json` reports its scan's own GB/s; the NumPy program prints no metrics. */
function innerGbps(stdout: string): number | null {
  try {
    const g = (JSON.parse(stdout) as { metrics?: { gbps?: unknown } }).metrics?.gbps;
    return typeof g === 'number' ? g : null;
  } catch {
    return null;
  }
}
