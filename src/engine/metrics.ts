// What a run reports about itself (--json "metrics", the summary line): built here only, for a run on
// one host and for one host's share of a run shared with others.
import { latencySummary } from '../report/percentiles.js';

export interface RunMetrics {
  bytes: number;
  records: number;
  seconds: number;
  gbps: number;
  workers: number;
  backend: string;
  chunks: number;
  chunk_ms: { p50: number; p90: number; p99: number; max: number };
  passes: number;
  /** more about the backend: the CPU dispatch level, the gpu.js kernel class and mode, the WebGPU adapter */
  backend_detail?: string;
  /** the native kernels' CPU dispatch level, where they ran (kept from before backend_detail) */
  dispatch?: string;
  /** when a GPU's circuit breaker moved work to the CPU: chunks and bytes each backend ran */
  backends?: Record<string, { chunks: number; bytes: number }>;
  /** with --max-memory: what it allowed and the most bytes held for records in flight */
  memory?: MemoryMetrics;
}

/** --max-memory's effect: its bound, the chunking that fits it, and the peak measured in the pass. */
export interface MemoryMetrics {
  max_bytes: number;
  /** the most the chosen chunks and window can hold (≤ max_bytes) */
  bound_bytes: number;
  records_per_chunk: number;
  window: number;
  /** the most bytes held at once: chunks dispatched and not merged (input + output) + output a writer still drains */
  peak_bytes: number;
  /** a GPU run: the device's share of the bound (in bound_bytes), for its buffers (storage, staging, tables) */
  device_bound_bytes?: number;
  /** a GPU run: the most bytes the device's buffers held at once (peak_bytes + this ≤ max_bytes) */
  device_peak_bytes?: number;
}

export interface MetricsInput {
  bytes: number;
  records: number;
  /** performance.now() when the run began */
  t0: number;
  /** threads that ran chunks (0 when none ran) */
  workers: number;
  backend: string;
  chunks: number;
  /** each chunk's wall time */
  chunkMs: number[];
  passes: number;
  /** metrics.backend_detail: e.g. 'avx2' for native, the adapter for webgpu */
  backendDetail?: string;
  /** the native kernels' dispatch path, where they ran */
  dispatch?: string;
  backends?: Record<string, { chunks: number; bytes: number }>;
}

/** The metrics of a run that began at t0 and ends now: seconds to the microsecond, GB/s to 3 decimals. */
export function runMetrics(m: MetricsInput): RunMetrics {
  const seconds = (performance.now() - m.t0) / 1000;
  return {
    bytes: m.bytes,
    records: m.records,
    seconds: Math.round(seconds * 1e6) / 1e6,
    gbps: seconds > 0 ? Math.round((m.bytes / seconds / 1e9) * 1000) / 1000 : 0,
    workers: m.workers,
    backend: m.backend,
    chunks: m.chunks,
    chunk_ms: latencySummary(m.chunkMs),
    passes: m.passes,
    ...(m.backendDetail ? { backend_detail: m.backendDetail } : {}),
    ...(m.dispatch ? { dispatch: m.dispatch } : {}),
    ...(m.backends ? { backends: m.backends } : {}),
  };
}
