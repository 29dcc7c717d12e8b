// The one-line run summary printed on stderr after a human-readable result.
import type { RunMetrics } from '../engine/metrics.js';

export function formatSummary(m: RunMetrics, out?: string): string {
  const gb = (m.bytes / 1e9).toFixed(m.bytes >= 1e9 ? 2 : 4);
  const detail = m.backend_detail ?? m.dispatch;
  let backend = detail ? `${m.backend} (${detail})` : m.backend;
  // The circuit breaker moved work: each backend's share, so a partly-CPU run is never taken for a GPU one.
  if (m.backends)
    backend = Object.entries(m.backends)
      .map(([name, n]) => `${name === m.backend ? backend : name} ${n.chunks} chunks`)
      .join(', ');
  const parts = [
    `${gb} GB, ${m.records} records in ${m.seconds.toFixed(3)} s (${m.gbps.toFixed(2)} GB/s)`,
    `${m.chunks} chunks, chunk p50 ${m.chunk_ms.p50} ms p99 ${m.chunk_ms.p99} ms`,
    `${backend}, ${m.workers} workers`,
  ];
  if (out) parts.push(`wrote ${out}`);
  return parts.join(' | ');
}
