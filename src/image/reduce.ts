// The results of the reduce ops. A partial holds exact integers only: per frame [Σv, Σv², min, max]
// per channel (framestats), or 256 counts per channel — summed over the file, or per frame with
// --per-frame. Per-frame values are concatenated in chunk order, so a frame's index is its position.
import { table } from '../report/format.js';
import type { ReduceName, Shape } from './steps.js';

export interface ImagePartial {
  frames: number;
  /** framestats rows, per-frame histograms, or the file's histogram (see above); empty for map chains */
  values: number[];
}

const SUFFIX: Record<number, string[]> = { 1: [''], 3: ['_r', '_g', '_b'], 4: ['_r', '_g', '_b', '_a'] };

export function mergePartials(a: ImagePartial, b: ImagePartial, summed: boolean): ImagePartial {
  if (!summed) return { frames: a.frames + b.frames, values: a.values.concat(b.values) };
  if (a.values.length === 0) return { frames: a.frames + b.frames, values: b.values };
  return {
    frames: a.frames + b.frames,
    values: b.values.length === 0 ? a.values : a.values.map((v, i) => v + b.values[i]!),
  };
}

/** Population standard deviation from exact Σv and Σv² over n values: √((nΣv² − (Σv)²) / n²). */
function std(sum: number, sumsq: number, n: number): number {
  const num = BigInt(n) * BigInt(sumsq) - BigInt(sum) * BigInt(sum);
  return Math.sqrt(Number(num) / (n * n));
}

export type FrameRow = Record<string, number>;

const STATS = ['mean', 'min', 'max', 'std'] as const;

/** A framestats row's columns: index, then (C > 1) the mean over all channels, then per channel stats. */
export function frameStatsColumns(channels: number): string[] {
  const per = STATS.flatMap((name) => SUFFIX[channels]!.map((sfx) => name + sfx));
  return ['index', ...(channels > 1 ? ['mean'] : []), ...per];
}

/**
 * One row per frame: index, then mean, min, max, std for each channel (suffixed _r _g _b _a when
 * C > 1, and then also `mean`, over every channel: Σv / (W·H·C)).
 */
export function frameStatsRows(values: number[], s: Shape): FrameRow[] {
  const n = s.width * s.height;
  const per = 4 * s.channels;
  const rows: FrameRow[] = [];
  for (let f = 0; f * per < values.length; f++) {
    const row: FrameRow = { index: f };
    if (s.channels > 1) {
      let sum = 0;
      for (let ch = 0; ch < s.channels; ch++) sum += values[f * per + ch * 4]!;
      row.mean = sum / (n * s.channels);
    }
    const cols: [string, (b: number) => number][] = [
      ['mean', (b) => values[b]! / n],
      ['min', (b) => values[b + 2]!],
      ['max', (b) => values[b + 3]!],
      ['std', (b) => std(values[b]!, values[b + 1]!, n)],
    ];
    for (const [name, get] of cols) {
      SUFFIX[s.channels]!.forEach((sfx, ch) => {
        row[name + sfx] = get(f * per + ch * 4);
      });
    }
    rows.push(row);
  }
  return rows;
}

/** Counts split into 256 bins per channel. */
export function histogramChannels(values: number[], channels: number, at = 0): number[][] {
  return Array.from({ length: channels }, (_, ch) => values.slice(at + ch * 256, at + (ch + 1) * 256));
}

export function reduceResult(
  reduce: ReduceName,
  p: ImagePartial,
  s: Shape,
  perFrame: boolean,
): Record<string, unknown> {
  if (reduce === 'framestats') return { channels: s.channels, frames: frameStatsRows(p.values, s) };
  if (!perFrame)
    return {
      channels: s.channels,
      counts: histogramChannels(p.values.length ? p.values : new Array(256 * s.channels).fill(0), s.channels),
    };
  const per = 256 * s.channels;
  const frames = Array.from({ length: p.values.length / per }, (_, f) => ({
    index: f,
    counts: histogramChannels(p.values, s.channels, f * per),
  }));
  return { channels: s.channels, frames };
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3));

/** framestats as a table; histograms as the non-empty bins, one column per channel. */
export function formatReduce(reduce: ReduceName, r: Record<string, unknown>): string {
  if (reduce === 'framestats') {
    const rows = r.frames as FrameRow[];
    if (rows.length === 0) return '(no frames)';
    const head = Object.keys(rows[0]!);
    return table(
      head,
      rows.map((row) => head.map((k) => fmt(row[k]!))),
      0,
    );
  }
  const lines = (counts: number[][]) => {
    const bins = [...Array(256).keys()].filter((b) => counts.some((ch) => ch[b]! > 0));
    return table(
      ['bin', ...counts.map((_, ch) => `count${SUFFIX[counts.length]![ch]}`)],
      bins.map((b) => [String(b), ...counts.map((ch) => String(ch[b]))]),
      0,
    );
  };
  if (r.counts) return lines(r.counts as number[][]);
  return (
    (r.frames as { index: number; counts: number[][] }[])
      .map((f) => `frame ${f.index}\n${lines(f.counts)}`)
      .join('\n') || '(no frames)'
  );
}
