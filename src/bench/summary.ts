// From the raw runs to one row per case: GB/s statistics, the ratio to the memory-read limit, and the
// worker scaling (speed-up over the fewest workers swept, and parallel efficiency).
import { spreadOf } from './stats.js';
import type { BenchCase, CaseSummary, Limit, RunSample } from './types.js';

export function summarize(cases: BenchCase[], runs: RunSample[], limits: Limit[]): CaseSummary[] {
  const memory = limits.find((l) => l.kind === 'mem' && l.ok)?.gbps?.median ?? null;
  const rows = cases.map((c) =>
    summarizeCase(
      c,
      runs.filter((r) => r.case_id === c.id && !r.warmup),
      runs,
      memory,
    ),
  );
  for (const row of rows) addScaling(row, rows);
  return rows;
}

function summarizeCase(c: BenchCase, counted: RunSample[], all: RunSample[], memory: number | null): CaseSummary {
  // A case is failed when any of its runs failed, warm-ups included: a configuration that fails
  // now and then is not one to recommend.
  const failed = all.find((r) => r.case_id === c.id && !r.ok);
  const gbps = failed ? null : spreadOf(counted.map((r) => r.gbps!));
  return {
    case_id: c.id,
    label: c.op.label,
    tool: c.tool,
    workers: c.workers,
    chunk_size: c.chunk_size,
    backend: c.backend,
    ok: !failed,
    error: failed?.error ?? null,
    gbps,
    seconds: failed ? null : spreadOf(counted.map((r) => r.seconds)),
    ratio_to_memory: gbps && memory ? gbps.median / memory : null,
    speedup: null,
    efficiency: null,
  };
}

function addScaling(row: CaseSummary, rows: CaseSummary[]): void {
  if (!row.gbps || row.tool !== 'bigproc') return;
  const peers = rows.filter(
    (r) =>
      r.tool === 'bigproc' &&
      r.label === row.label &&
      r.chunk_size === row.chunk_size &&
      r.backend === row.backend &&
      r.gbps,
  );
  const base = peers.reduce<CaseSummary | null>((m, r) => (m === null || r.workers < m.workers ? r : m), null);
  if (!base?.gbps) return;
  row.speedup = row.gbps.median / base.gbps.median;
  row.efficiency = row.speedup / (row.workers / base.workers);
}
