// The human report: the machine, the limits, one row per case, and the recommendation per op.
import { table } from '../report/format.js';
import { formatSize } from './recommend.js';
import type { BenchDocument, CaseSummary, Limit } from './types.js';

const f2 = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(2));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(0)}%`);

export const LIMIT_NAMES: Record<Limit['kind'], string> = {
  mem: 'memory read (mmap + sum u64)',
  read: 'read(2), 16 MiB buffer',
  cold: 'storage, cold (read(2) after dropping the page cache)',
};

function limitLine(l: Limit): string {
  const name = `${LIMIT_NAMES[l.kind]}${l.kind === 'mem' ? `, ${l.threads} threads` : ''}`;
  if (!l.ok || !l.gbps) return `  ${name}: not measured: ${l.error}`;
  const note = l.note ? ` — ${l.note}` : '';
  return `  ${name}: ${f2(l.gbps.median)} GB/s (min ${f2(l.gbps.min)}, max ${f2(l.gbps.max)})${note}`;
}

function caseRow(c: CaseSummary, recommended: Set<number>): string[] {
  const mark = recommended.has(c.case_id) ? '*' : '';
  const chunk = c.tool === 'numpy' ? '-' : formatSize(c.chunk_size);
  if (!c.ok || !c.gbps)
    return [c.label, c.backend, String(c.workers), chunk, 'failed', '-', '-', '-', '-', '-', '-', ''];
  return [
    c.label,
    c.backend,
    String(c.workers),
    chunk,
    f2(c.gbps.median),
    f2(c.gbps.min),
    f2(c.gbps.max),
    pct(c.gbps.spread),
    f2(c.ratio_to_memory),
    c.speedup === null ? '-' : `${c.speedup.toFixed(2)}x`,
    pct(c.efficiency),
    mark,
  ];
}

export function formatReport(doc: BenchDocument): string {
  const m = doc.machine;
  const recommended = new Set(doc.recommendations.map((r) => r.case_id));
  const lines = [
    `machine: ${m.cpu_model}, ${m.cores} cores, ${(m.memory_bytes / 2 ** 30).toFixed(1)} GiB, ${m.kernel}, Node ${m.node}, dispatch ${m.dispatch ?? 'none (no native addon)'}`,
    `file: ${doc.file.path} (${(doc.file.bytes / 2 ** 30).toFixed(2)} GiB${doc.file.generated ? ', generated, removed at the end' : ''}; ${doc.file.layout})`,
    `runs: ${doc.settings.warmup} warm-up + ${doc.settings.repeat} counted per configuration, interleaved, whole processes`,
    'limits:',
    ...doc.limits.map(limitLine),
    '',
    table(
      [
        'op',
        'backend',
        'workers',
        'chunk',
        'GB/s',
        'min',
        'max',
        'spread',
        'vs memory',
        'speed-up',
        'efficiency',
        'rec',
      ],
      doc.summary.map((c) => caseRow(c, recommended)),
      2,
      11,
    ),
  ];
  const failed = doc.summary.filter((c) => !c.ok);
  if (failed.length)
    lines.push(
      '',
      'failed:',
      ...failed.map((c) => `  ${c.label} (${c.workers} worker${c.workers === 1 ? '' : 's'}, ${c.backend}): ${c.error}`),
    );
  if (doc.compare_note) lines.push('', doc.compare_note);
  lines.push('', 'recommendation (* above):');
  for (const r of doc.recommendations) {
    lines.push(
      `  ${r.op}: --workers ${r.workers} --chunk-size ${formatSize(r.chunk_size)} --backend ${r.backend} (${f2(r.gbps)} GB/s) — ${r.reason}`,
    );
  }
  return lines.join('\n');
}
