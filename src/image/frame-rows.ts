// framestats rows narrowed after the pass: `--where 'mean < 10'` keeps the rows that match (dark or
// broken frames), `--by mean -k 5` keeps the k rows with the largest value of a column (--asc: the
// smallest), best first, ties to the earlier frame. Rows are few (one per frame), so this runs once on
// the merged rows with the same predicate language and JS evaluator as --where on records: each row
// is laid out as a record of f64 columns named as in the result (index, mean, mean_r, min_g, …).
import type { Layout } from '../layout/types.js';
import { usage, expected } from '../errors.js';
import { parsePositiveInt } from '../config/units.js';
import { compileWhere } from '../ops/lib/where.js';
import { type Instr, programToTest } from '../ops/lib/predicate.js';
import { TOP_MAX_K } from '../ops/top.js';
import { frameStatsColumns, type FrameRow } from './reduce.js';
import type { ImageChain } from './steps.js';

export interface RowSelect {
  where?: { text: string; program: Instr[] };
  top?: { by: string; k: number; asc: boolean };
}

/** A record layout of the rows' columns, each an f64, for compiling --where against. */
function rowLayout(columns: string[]): Layout {
  return {
    recordSize: 8 * columns.length,
    bigEndian: false,
    fields: columns.map((name, i) => ({ name, type: 'f64', offset: 8 * i, size: 8 })),
    headerBytes: 0,
    source: 'framestats',
  };
}

/** --where, --by, --top-k and --asc for `chain`; refused unless it ends in framestats. */
export function rowSelect(options: Record<string, unknown>, chain: ImageChain): RowSelect {
  const given = ['where', 'by', 'topK', 'asc'].filter((k) => options[k] !== undefined && options[k] !== false);
  if (given.length === 0) return {};
  const flag = (k: string) => `--${k === 'topK' ? 'top-k' : k}`;
  if (chain.reduce !== 'framestats')
    throw usage(
      `${flag(given[0]!)} selects framestats rows, but --op ${JSON.stringify(chain.text)} does not end in framestats`,
    );
  const columns = frameStatsColumns(chain.shapes[chain.shapes.length - 1]!.channels);
  const out: RowSelect = {};
  if (options.where !== undefined) {
    const text = String(options.where);
    if (text.trim() === '') throw usage("--where needs an expression, e.g. --where 'mean < 10'");
    out.where = { text, program: compileWhere(text, rowLayout(columns)) };
  }
  if (options.by !== undefined) {
    const by = String(options.by);
    if (!columns.includes(by)) throw expected('--by', `a framestats column (${columns.join(', ')})`, by);
    const k = parsePositiveInt((options.topK as string | number | undefined) ?? 10, '--top-k', TOP_MAX_K);
    out.top = { by, k, asc: options.asc === true || options.asc === 'true' };
  } else if (options.topK !== undefined || options.asc !== undefined) {
    throw usage(
      `${flag(given.find((k) => k !== 'where')!)} ranks framestats rows: give --by COLUMN too, e.g. --by mean`,
    );
  }
  return out;
}

function matching(rows: FrameRow[], where: NonNullable<RowSelect['where']>): FrameRow[] {
  if (rows.length === 0) return rows;
  const columns = Object.keys(rows[0]!);
  const test = programToTest(where.program);
  const dv = new DataView(new ArrayBuffer(8 * columns.length));
  return rows.filter((row) => {
    for (const [i, c] of columns.entries()) dv.setFloat64(8 * i, row[c]!, true);
    return test(dv, 0);
  });
}

/** The rows --where keeps, then the --by/--top-k best of them (best first; ties: earlier frame). */
export function selectRows(rows: FrameRow[], select: RowSelect): FrameRow[] {
  const kept = select.where ? matching(rows, select.where) : rows;
  if (!select.top) return kept;
  const { by, k, asc } = select.top;
  const sign = asc ? 1 : -1;
  return [...kept].sort((a, b) => sign * (a[by]! - b[by]!) || a.index! - b.index!).slice(0, k);
}
