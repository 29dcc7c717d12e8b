// The HTML report: one self-contained page (inline CSS and SVG, nothing fetched), with a chart per op
// of GB/s against workers — one line per chunk size and backend, min–max bars, the limits as
// horizontal lines, the recommended point ringed — then the table and the recommendations.
import { formatReport, LIMIT_NAMES } from './table.js';
import { describeCase, formatSize } from './recommend.js';
import type { BenchDocument, CaseSummary, Limit, Recommendation } from './types.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const W = 420;
const H = 280;
const M = { l: 52, r: 14, t: 18, b: 40 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const LIMIT_COLORS: Record<Limit['kind'], string> = { mem: '#444', read: '#888', cold: '#b58900' };

interface Axes {
  x: (workers: number) => number;
  y: (gbps: number) => number;
  workers: number[];
  top: number;
  step: number;
}

function axesFor(rows: CaseSummary[], limits: Limit[]): Axes {
  const workers = [...new Set(rows.map((r) => r.workers))].sort((a, b) => a - b);
  const values = [
    ...rows.flatMap((r) => (r.gbps ? [r.gbps.max] : [])),
    ...limits.flatMap((l) => (l.gbps ? [l.gbps.median] : [])),
  ];
  const step = niceStep((Math.max(0.1, ...values) * 1.08) / 4);
  const top = Math.ceil((Math.max(0.1, ...values) * 1.08) / step) * step;
  const plotW = W - M.l - M.r;
  const plotH = H - M.t - M.b;
  return {
    workers,
    top,
    step,
    x: (w) => M.l + ((workers.indexOf(w) + 0.5) * plotW) / workers.length,
    y: (g) => M.t + plotH - (g / top) * plotH,
  };
}

/** The smallest of 1, 2, 5 × 10^k at least v: grid lines at round numbers. */
function niceStep(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= v)!;
}

function gridAndAxes(a: Axes): string {
  const ticks = Array.from({ length: Math.round(a.top / a.step) + 1 }, (_, i) => i * a.step);
  const y = ticks.map(
    (g) =>
      `<line class="grid" x1="${M.l}" x2="${W - M.r}" y1="${a.y(g)}" y2="${a.y(g)}"/><text x="${M.l - 6}" y="${a.y(g) + 4}" text-anchor="end">${+g.toFixed(2)}</text>`,
  );
  const x = a.workers.map((w) => `<text x="${a.x(w)}" y="${H - M.b + 16}" text-anchor="middle">${w}</text>`);
  return [
    `<rect class="frame" x="${M.l}" y="${M.t}" width="${W - M.l - M.r}" height="${H - M.t - M.b}"/>`,
    ...y,
    ...x,
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" text-anchor="middle">workers</text>`,
    `<text x="12" y="${(M.t + H - M.b) / 2}" text-anchor="middle" transform="rotate(-90 12 ${(M.t + H - M.b) / 2})">GB/s</text>`,
  ].join('');
}

function limitLines(a: Axes, limits: Limit[]): string {
  return limits
    .filter((l) => l.gbps)
    .map((l) => {
      const y = a.y(l.gbps!.median);
      return (
        `<line class="limit" data-limit="${l.kind}" x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="${LIMIT_COLORS[l.kind]}"/>` +
        `<text class="limit-label" x="${W - M.r - 4}" y="${y - 4}" text-anchor="end">${escapeHtml(`${LIMIT_NAMES[l.kind].split(' (')[0]!.split(',')[0]} ${l.gbps!.median.toFixed(2)}`)}</text>`
      );
    })
    .join('');
}

function seriesOf(rows: CaseSummary[]): Map<string, CaseSummary[]> {
  const series = new Map<string, CaseSummary[]>();
  for (const r of rows.filter((x) => x.gbps)) {
    const key = r.tool === 'numpy' ? 'numpy.memmap' : `${formatSize(r.chunk_size)} ${r.backend}`;
    series.set(key, [...(series.get(key) ?? []), r]);
  }
  return series;
}

function seriesMarks(
  a: Axes,
  key: string,
  rows: CaseSummary[],
  color: string,
  rec: Recommendation | undefined,
): string {
  const pts = [...rows].sort((p, q) => p.workers - q.workers);
  const line =
    pts.length > 1
      ? `<polyline class="series" fill="none" stroke="${color}" points="${pts.map((p) => `${a.x(p.workers)},${a.y(p.gbps!.median)}`).join(' ')}"/>`
      : '';
  const marks = pts.map((p) => {
    const x = a.x(p.workers);
    const bar = `<line class="range" x1="${x}" x2="${x}" y1="${a.y(p.gbps!.min)}" y2="${a.y(p.gbps!.max)}" stroke="${color}"/>`;
    const title = `<title>${escapeHtml(`${p.label}, ${key}, ${p.workers} workers: ${p.gbps!.median.toFixed(2)} GB/s (min ${p.gbps!.min.toFixed(2)}, max ${p.gbps!.max.toFixed(2)})`)}</title>`;
    const ring =
      rec?.case_id === p.case_id
        ? `<circle class="recommended" cx="${x}" cy="${a.y(p.gbps!.median)}" r="9" fill="none" stroke="#000"/>`
        : '';
    return `${bar}<circle class="point" cx="${x}" cy="${a.y(p.gbps!.median)}" r="4.5" fill="${color}">${title}</circle>${ring}`;
  });
  return line + marks.join('');
}

function chart(op: string, rows: CaseSummary[], limits: Limit[], rec: Recommendation | undefined): string {
  const a = axesFor(rows, limits);
  const series = [...seriesOf(rows)];
  const legend = series
    .map(([key], i) => `<span><i style="background:${COLORS[i % COLORS.length]}"></i>${escapeHtml(key)}</span>`)
    .join('');
  const marks = series.map(([key, pts], i) => seriesMarks(a, key, pts, COLORS[i % COLORS.length]!, rec)).join('');
  const recLine = rec
    ? `<p class="rec">recommended: <b>${escapeHtml(describeCase({ ...rows.find((r) => r.case_id === rec.case_id)! }))}</b> — ${rec.gbps.toFixed(2)} GB/s. ${escapeHtml(rec.reason[0]!.toUpperCase() + rec.reason.slice(1))}.</p>`
    : `<p class="rec">every configuration failed: ${escapeHtml(rows.find((r) => r.error)?.error ?? 'no runs')}</p>`;
  return `<section class="op"><h2>${escapeHtml(op)}</h2><svg class="chart" data-op="${escapeHtml(op)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="GB/s against workers for ${escapeHtml(op)}">${gridAndAxes(a)}${limitLines(a, limits)}${marks}</svg><div class="legend">${legend}</div>${recLine}</section>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:8px 0}.meta{color:#555;margin:0 0 12px}
.ops{display:flex;flex-wrap:wrap;gap:16px}.op{border:1px solid #ddd;border-radius:6px;padding:8px 12px;background:#fff}
svg text{font-size:11px;fill:#333}.frame{fill:#fafafa;stroke:#ccc}.grid{stroke:#e6e6e6}
.limit{stroke-dasharray:6 4;stroke-width:1.5}.series{stroke-width:2}.range{stroke-width:2;opacity:.55}
.legend span{margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.rec{font-size:13px;max-width:420px}pre{background:#f6f6f6;padding:10px;overflow-x:auto;font-size:12px}`;

export function renderHtml(doc: BenchDocument): string {
  const labels = [...new Set(doc.summary.map((c) => c.label))];
  const charts = labels.map((l) =>
    chart(
      l,
      doc.summary.filter((c) => c.label === l),
      doc.limits,
      doc.recommendations.find((r) => r.op === l),
    ),
  );
  const m = doc.machine;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bigproc bench — ${escapeHtml(m.cpu_model)}</title><style>${CSS}</style></head><body>
<h1>bigproc bench</h1><p class="meta">${escapeHtml(`${doc.date} · ${m.cpu_model} · ${m.cores} cores · ${(m.memory_bytes / 2 ** 30).toFixed(1)} GiB · ${m.kernel} · Node ${m.node} · dispatch ${m.dispatch ?? 'none'}`)}<br>${escapeHtml(`${doc.file.path} · ${(doc.file.bytes / 2 ** 30).toFixed(2)} GiB · ${doc.settings.warmup} warm-up + ${doc.settings.repeat} runs per configuration, interleaved`)}</p>
<div class="ops">${charts.join('')}</div>
<h2>All runs</h2><pre>${escapeHtml(formatReport(doc))}</pre>
</body></html>
`;
}
