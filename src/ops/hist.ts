// `hist`: counts of one field in equal-width bins with NumPy's convention (edges from linspace,
// half-open bins except the last, which is closed). Without --range the range is the field's min
// and max, found by a first pass (the minmax op), as numpy.histogram does.
import type { OpDef } from './types.js';
import type { Ctl, KernelSpan } from '../native/addon.js';
import { type FieldArg, type FieldSpec, fieldSpec, numericField, numberReader } from './lib/fields.js';
import { expected, usage } from '../errors.js';
import { parsePositiveInt } from '../config/units.js';
import { formatNumber, table } from '../report/format.js';
import type { MinMaxResult } from './minmax.js';

export interface HistSpec {
  name: string;
  field: FieldSpec;
  lo: number;
  hi: number;
  bins: number;
}

/** Counts per bin (NumPy's binning, last bin closed); values outside [lo, hi] and NaN counted apart. */
export interface HistPartial {
  counts: number[];
  below: number;
  above: number;
  nan: number;
}

/** native/hist.cc: the span's histogram (null when cancelled through ctl). */
export interface HistKernel {
  hist(
    ...args: [...KernelSpan, field: FieldArg, lo: number, hi: number, bins: number, ctl?: Ctl | null]
  ): HistPartial | null;
}

export interface HistResult {
  field: string;
  bins: number;
  range: [number, number];
  counts: number[];
  below: number;
  above: number;
  nan: number;
}

/** numpy.linspace(lo, hi, bins + 1) */
export function binEdges(lo: number, hi: number, bins: number): Float64Array {
  const edges = new Float64Array(bins + 1);
  const delta = hi - lo;
  const step = delta / bins;
  for (let i = 0; i < bins; i++) edges[i] = step === 0 ? (i / bins) * delta + lo : i * step + lo;
  edges[bins] = hi;
  return edges;
}

/** The bin of x in [lo, hi] exactly as numpy.histogram computes it (guess, then fix against the edges). */
export function binIndex(x: number, lo: number, hi: number, bins: number, edges: Float64Array): number {
  let k = Math.trunc(((x - lo) / (hi - lo)) * bins);
  if (k === bins) k = bins - 1;
  if (x < edges[k]!) k -= 1;
  else if (k !== bins - 1 && x >= edges[k + 1]!) k += 1;
  return k;
}

function parseRange(text: string): [number, number] {
  const m = /^\s*([^:]+):([^:]+)\s*$/.exec(text);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo <= hi)) {
    throw expected('--range', 'LO:HI with finite numbers and LO <= HI, e.g. 80:120', text);
  }
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

function asNumber(v: number | string | null): number {
  return typeof v === 'string' ? Number(v) : (v ?? NaN);
}

export const hist: OpDef<HistSpec, HistPartial, HistResult, HistKernel> = {
  name: 'hist',
  summary: 'histogram of --field F in --bins N (default 10) over --range LO:HI (default: min:max)',
  flags: [
    { flags: '--field <name>', description: 'hist: the field to bin' },
    { flags: '--bins <n>', description: 'hist: number of bins (default 10)' },
    { flags: '--range <lo:hi>', description: 'hist: the range to bin (default: the field min:max)' },
  ],
  async prepare(options, layout, prePass) {
    if (options.field === undefined) throw usage('--op hist needs --field NAME');
    const f = numericField(layout, String(options.field), '--field');
    const bins = parsePositiveInt((options.bins as string | number | undefined) ?? 10, '--bins', 1 << 24);
    let lo: number, hi: number;
    if (options.range !== undefined) {
      [lo, hi] = parseRange(String(options.range));
    } else {
      // minmax, not stats: the same min and max (NaN left out, −0 below +0) without stats' exact sums.
      const s = (await prePass('minmax', { fields: f.name })) as MinMaxResult;
      const fs = s.fields[f.name]!;
      if (fs.count === 0) {
        [lo, hi] = [0, 1];
      } else {
        lo = asNumber(fs.min);
        hi = asNumber(fs.max);
        if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
          throw expected(
            '--range',
            `an explicit range: the autodetected range of ${f.name} [${fs.min}, ${fs.max}] is not finite`,
            null,
          );
        }
        if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
      }
    }
    return { name: f.name, field: fieldSpec(layout, f), lo, hi, bins };
  },
  init(spec) {
    return { counts: new Array<number>(spec.bins).fill(0), below: 0, above: 0, nan: 0 };
  },
  js(spec, chunk) {
    const { lo, hi, bins } = spec;
    const edges = binEdges(lo, hi, bins);
    const read = numberReader(spec.field.type, spec.field.bigEndian);
    const p: HistPartial = hist.init(spec);
    const counts = p.counts;
    for (let i = 0, pos = spec.field.offset; i < chunk.records; i++, pos += chunk.recordSize) {
      const x = read(chunk.bytes, pos);
      if (Number.isNaN(x)) p.nan++;
      else if (x < lo) p.below++;
      else if (x > hi) p.above++;
      else counts[binIndex(x, lo, hi, bins, edges)]++;
    }
    return { partial: p };
  },
  native(spec, c) {
    const r = c.addon.hist(
      c.mapping,
      c.byteOffset,
      c.records,
      c.recordSize,
      spec.field,
      spec.lo,
      spec.hi,
      spec.bins,
      c.ctl,
    );
    return r === null ? null : { partial: r };
  },
  merge(_spec, a, b) {
    return {
      counts: a.counts.map((v, i) => v + b.counts[i]!),
      below: a.below + b.below,
      above: a.above + b.above,
      nan: a.nan + b.nan,
    };
  },
  finalize(spec, p) {
    return {
      field: spec.name,
      bins: spec.bins,
      range: [spec.lo, spec.hi],
      counts: p.counts,
      below: p.below,
      above: p.above,
      nan: p.nan,
    };
  },
  format(spec, r) {
    const edges = binEdges(spec.lo, spec.hi, spec.bins);
    const peak = Math.max(1, ...r.counts);
    const rows = r.counts.map((c, i) => [
      `[${formatNumber(edges[i]!)}, ${formatNumber(edges[i + 1]!)}${i === spec.bins - 1 ? ']' : ')'}`,
      String(c),
      '#'.repeat(Math.round((c / peak) * 40)),
    ]);
    const extra = [`below ${r.below}`, `above ${r.above}`, r.nan ? `nan ${r.nan}` : ''].filter(Boolean).join(', ');
    return `${table([`${r.field} bin`, 'count', ''], rows, 1, 2)}\n${extra}`;
  },
};
