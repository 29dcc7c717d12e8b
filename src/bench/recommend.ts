// The recommendation per op: the fastest configuration by median GB/s — unless it is not faster than
// others by more than the spread of the runs, in which case the simplest of those it cannot be told
// apart from (fewer workers, then the default chunk size, then the first backend listed).
import { significantlyFaster } from './stats.js';
import type { CaseSummary, Recommendation, Spread } from './types.js';

type Ranked = CaseSummary & { gbps: Spread };

export interface Preferences {
  defaultChunkSize: number;
  /** backends in the order given: earlier is simpler */
  backends: string[];
}

/** Negative when a is simpler than b. */
export function simplerFirst(prefs: Preferences): (a: CaseSummary, b: CaseSummary) => number {
  const chunkRank = (c: CaseSummary) => (c.chunk_size === prefs.defaultChunkSize ? -1 : c.chunk_size);
  const backendRank = (c: CaseSummary) => {
    const i = prefs.backends.indexOf(c.backend);
    return i < 0 ? prefs.backends.length : i;
  };
  return (a, b) => a.workers - b.workers || chunkRank(a) - chunkRank(b) || backendRank(a) - backendRank(b);
}

export function describeCase(c: CaseSummary): string {
  return `${c.workers} worker${c.workers === 1 ? '' : 's'}, ${formatSize(c.chunk_size)} chunks, ${c.backend}`;
}

export function formatSize(bytes: number): string {
  for (const [unit, size] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** One recommendation for the bigproc cases of one op; null when every one of them failed. */
export function recommendOp(cases: CaseSummary[], prefs: Preferences): Recommendation | null {
  const ranked = cases
    .filter((c): c is Ranked => c.tool === 'bigproc' && c.ok && c.gbps !== null)
    .sort((a, b) => b.gbps.median - a.gbps.median);
  const best = ranked[0];
  if (!best) return null;
  const next = ranked[1];
  if (!next) return pick(best, best, null, null, false, `the only configuration of ${best.label} that ran`);
  const { margin, spread, significant } = significantlyFaster(best.gbps, next.gbps);
  if (significant) {
    return pick(
      best,
      best,
      margin,
      spread,
      true,
      `${describeCase(best)} is ${pct(margin)} faster than the next best (${describeCase(next)}), more than the runs' spread (${pct(spread)})`,
    );
  }
  const alike = ranked.filter((c) => !significantlyFaster(best.gbps, c.gbps).significant).sort(simplerFirst(prefs));
  const chosen = alike[0]!;
  return pick(
    chosen,
    best,
    margin,
    spread,
    false,
    `no significant difference: the fastest (${describeCase(best)}) leads by ${pct(margin)}, within the runs' spread (${pct(spread)}); recommending the simplest of the ${alike.length} configurations within the spread`,
  );
}

function pick(
  chosen: Ranked,
  best: Ranked,
  margin: number | null,
  spread: number | null,
  significant: boolean,
  reason: string,
): Recommendation {
  return {
    op: chosen.label,
    case_id: chosen.case_id,
    workers: chosen.workers,
    chunk_size: chosen.chunk_size,
    backend: chosen.backend,
    gbps: chosen.gbps.median,
    best_case_id: best.case_id,
    margin,
    spread,
    significant,
    reason,
  };
}

/** One recommendation per op label, in the order the ops were given. */
export function recommendAll(summary: CaseSummary[], prefs: Preferences): Recommendation[] {
  const labels = [...new Set(summary.map((c) => c.label))];
  return labels.flatMap(
    (l) =>
      recommendOp(
        summary.filter((c) => c.label === l),
        prefs,
      ) ?? [],
  );
}
