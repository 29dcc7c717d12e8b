// GET /metrics: the Prometheus text exposition format (version 0.0.4). One family per quantity, a
// `run` label on every sample; counters end in _total and are counts from the audit trail (they only
// grow while the trail does), gauges are the state now.
import type { ManifestEvent, EventType } from '../manifest/types.js';
import type { RunSummary } from './read.js';

export interface RunMetrics {
  summary: RunSummary;
  events: ManifestEvent[];
  now: number;
}

interface Family {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  /** samples of one run: labels beyond `run`, and the value; none to leave the run out */
  samples(m: RunMetrics): { labels?: Record<string, string>; value: number }[];
}

const count = (m: RunMetrics, type: EventType) => m.events.reduce((n, e) => n + (e.type === type ? 1 : 0), 0);
const one = (value: number) => [{ value }];
const trailCounter = (name: string, type: EventType, help: string): Family => ({
  name,
  type: 'counter',
  help,
  samples: (m) => one(count(m, type)),
});

const FAMILIES: Family[] = [
  {
    name: 'bigproc_run_info',
    type: 'gauge',
    help: "Always 1; the run's op, file, manifest and state as labels.",
    samples: (m) => [
      {
        labels: { op: m.summary.op, file: m.summary.file, manifest: m.summary.manifest, state: m.summary.state },
        value: 1,
      },
    ],
  },
  {
    name: 'bigproc_shards',
    type: 'gauge',
    help: 'Shards of the run by state.',
    samples: (m) =>
      (['pending', 'running', 'done', 'failed'] as const).map((state) => ({
        labels: { state },
        value: m.summary.shards[state],
      })),
  },
  {
    name: 'bigproc_shards_expired',
    type: 'gauge',
    help: 'Running shards whose lease has expired (their holder stopped renewing).',
    samples: (m) => one(m.summary.shards.expired),
  },
  {
    name: 'bigproc_bytes_processed_total',
    type: 'counter',
    help: 'Bytes of the input covered by committed shards.',
    samples: (m) => one(m.summary.bytes_done),
  },
  {
    name: 'bigproc_records_processed_total',
    type: 'counter',
    help: 'Records covered by committed shards.',
    samples: (m) => one(m.summary.records_done),
  },
  {
    name: 'bigproc_input_bytes',
    type: 'gauge',
    help: "Size of the run's input file.",
    samples: (m) => one(m.summary.file_bytes),
  },
  trailCounter('bigproc_claims_total', 'claimed', 'Shard claims (each with a new fencing token).'),
  trailCounter('bigproc_commits_total', 'committed', 'Shard commits accepted.'),
  trailCounter(
    'bigproc_commits_rejected_total',
    'commit_rejected',
    'Commits refused because their fencing token was stale (a zombie holder).',
  ),
  trailCounter('bigproc_lease_expiries_total', 'expired', 'Leases that expired and were taken over.'),
  trailCounter('bigproc_releases_total', 'released', 'Leases given back unfinished (graceful shutdown).'),
  trailCounter('bigproc_failures_total', 'failed', 'Failed shard attempts (retried or final).'),
  trailCounter('bigproc_retries_total', 'retried', 'Failed shards reset by `bigproc retry`.'),
  {
    name: 'bigproc_hosts_alive',
    type: 'gauge',
    help: 'Host processes holding a live lease or heard from in the last minute.',
    samples: (m) => one(m.summary.hosts_alive),
  },
  {
    name: 'bigproc_hosts',
    type: 'gauge',
    help: "Host processes seen in the run's trail.",
    samples: (m) => one(m.summary.hosts),
  },
  {
    name: 'bigproc_throughput_bytes_per_second',
    type: 'gauge',
    help: 'Bytes committed per second over the last minute.',
    samples: (m) => one(m.summary.bytes_per_s),
  },
  {
    name: 'bigproc_seconds_since_last_commit',
    type: 'gauge',
    help: "Seconds since the run's latest commit (absent before the first).",
    samples: (m) =>
      m.summary.last_commit === null ? [] : one(Math.max(0, (m.now - Date.parse(m.summary.last_commit)) / 1000)),
  },
];

/** A label value as the format wants it: backslash, double quote and newline escaped. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Record<string, string>, scrub: (text: string) => string): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(scrub(v))}"`)
    .join(',')}}`;
}

/**
 * The whole exposition for these runs, families in a fixed order. Only label values come from the
 * manifest, so only they are scrubbed (a password that happens to be a word of a metric name must not
 * mangle the names).
 */
export function prometheusText(runs: RunMetrics[], scrub: (text: string) => string): string {
  const out: string[] = [];
  for (const f of FAMILIES) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const m of runs) {
      for (const s of f.samples(m))
        out.push(`${f.name}${labelText({ run: m.summary.id, ...s.labels }, scrub)} ${s.value}`);
    }
  }
  return `${out.join('\n')}\n`;
}
