// The data of one `bigproc bench`: what it measured and what it concluded. Plain data, shared by the
// planner, the sweep, the statistics and the reports; its JSON form is checked by schema.ts in tests.

/** One op to sweep: its name and the `bigproc run` flags it needs (`--field price` …). */
export interface BenchOp {
  /** the name shown in reports: the op, or "op:key=value,…" when options were given */
  label: string;
  op: string;
  /** option name (without --) → value, passed to `bigproc run` as --name value */
  options: Record<string, string>;
}

/** One point of the grid: a whole `bigproc run` process, or the NumPy program for the same op. */
export interface BenchCase {
  id: number;
  op: BenchOp;
  tool: 'bigproc' | 'numpy';
  workers: number;
  /** bytes, as given to --chunk-size */
  chunk_size: number;
  backend: string;
}

/** One planned execution of a case: warm-up runs are executed but not counted. */
export interface PlannedRun {
  case_id: number;
  round: number;
  warmup: boolean;
}

export interface RunSample {
  case_id: number;
  round: number;
  warmup: boolean;
  ok: boolean;
  /** wall time of the whole process, start to exit */
  seconds: number;
  /** file bytes / seconds */
  gbps: number | null;
  /** the run's own metrics.gbps (the scan without the process's start and exit), where it says */
  inner_gbps: number | null;
  /** the first line of the failure, for a failed run */
  error: string | null;
}

/** Median, min and max of the counted runs, and the relative spread: interquartile range / median. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  spread: number;
  n: number;
}

export interface CaseSummary {
  case_id: number;
  label: string;
  tool: 'bigproc' | 'numpy';
  workers: number;
  chunk_size: number;
  backend: string;
  ok: boolean;
  error: string | null;
  gbps: Spread | null;
  seconds: Spread | null;
  /** median GB/s over the memory-read limit's median */
  ratio_to_memory: number | null;
  /** median GB/s over the same op, chunk size and backend at the fewest workers swept */
  speedup: number | null;
  /** speedup / (workers / fewest workers) */
  efficiency: number | null;
}

export interface Limit {
  kind: 'mem' | 'read' | 'cold';
  ok: boolean;
  error: string | null;
  threads: number;
  gbps: Spread | null;
  /** --cold: the share of the file's pages still resident after dropping them, per rep */
  resident_after_drop?: number[];
  /** --cold: null when the drop worked, else why the figures are not cold */
  note?: string | null;
}

export interface Recommendation {
  op: string;
  case_id: number;
  workers: number;
  chunk_size: number;
  backend: string;
  gbps: number;
  /** the fastest case by median, which may differ from the recommended one */
  best_case_id: number;
  /** (best − next best) / next best, by median GB/s; null with a single case */
  margin: number | null;
  /** the larger relative spread of the two */
  spread: number | null;
  significant: boolean;
  reason: string;
}

export interface Machine {
  cpu_model: string;
  cores: number;
  memory_bytes: number;
  kernel: string;
  node: string;
  dispatch: string | null;
}

export interface BenchDocument {
  version: 1;
  date: string;
  machine: Machine;
  file: { path: string; bytes: number; generated: boolean; layout: string };
  settings: { warmup: number; repeat: number; cold: boolean; compare: boolean };
  limits: Limit[];
  cases: BenchCase[];
  runs: RunSample[];
  summary: CaseSummary[];
  recommendations: Recommendation[];
  /** why --compare measured nothing, where it did not */
  compare_note: string | null;
  seconds: number;
}
